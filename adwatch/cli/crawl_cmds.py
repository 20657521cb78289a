"""Crawl commands: crawl, sources, schedule, runs."""

import click

from adwatch.errors import AdWatchError

TODO = "not built yet"


@click.command()
def crawl() -> None:
    """Crawl a configured source now, or an ad-hoc site with --url."""
    raise AdWatchError(TODO)


@click.group()
def sources() -> None:
    """Manage crawl sources: list, add, show, validate."""


@click.group()
def schedule() -> None:
    """The scheduler daemon: `schedule run` starts due crawls."""


@click.command()
def runs() -> None:
    """Crawl runs, newest first, with the tail of each run's log."""
    raise AdWatchError(TODO)


COMMANDS = [crawl, sources, schedule, runs]

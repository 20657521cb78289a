"""Review commands: users, serve, approvals."""

import click

from adwatch.errors import AdWatchError

TODO = "not built yet"


@click.group()
def users() -> None:
    """Users and roles: `users add NAME --role ROLE`."""


@click.command()
def serve() -> None:
    """The web app (default 127.0.0.1:8000)."""
    raise AdWatchError(TODO)


@click.group()
def approvals() -> None:
    """Advertising-approval records: `approvals import FILE`."""


COMMANDS = [users, serve, approvals]

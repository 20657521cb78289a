"""``adwatch demo``: the main job on the embedded default (owned by the crawl issue, extended later)."""

import click

from adwatch.errors import AdWatchError


@click.command()
def demo() -> None:
    """Bundled demo site → crawl → classify → queue → web UI, with demo users printed."""
    raise AdWatchError("demo is not built yet")


COMMANDS = [demo]

"""Evidence commands: export, evidence, stats."""

import click

from adwatch.errors import AdWatchError

TODO = "not built yet"


@click.command()
def export() -> None:
    """Export the evidence list (XLSX/CSV) or a bundle (ZIP)."""
    raise AdWatchError(TODO)


@click.group()
def evidence() -> None:
    """Evidence files: `evidence verify [BUNDLE.zip]`."""


@click.command()
def stats() -> None:
    """Counts by label, source, status and week."""
    raise AdWatchError(TODO)


COMMANDS = [export, evidence, stats]

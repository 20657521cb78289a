"""Document commands: documents export."""

import click


@click.group()
def documents() -> None:
    """Stored documents: `documents export --output F.jsonl`."""


COMMANDS = [documents]

"""Classifier commands: classify, train, evaluate."""

import click

from adwatch.errors import AdWatchError

TODO = "not built yet"


@click.command()
def classify() -> None:
    """Classify JSONL posts (`-` = stdin/stdout)."""
    raise AdWatchError(TODO)


@click.command()
def train() -> None:
    """Build a new model version from the corpus and reviewed decisions."""
    raise AdWatchError(TODO)


@click.command()
def evaluate() -> None:
    """Per-label precision, recall and F1 of the model in use."""
    raise AdWatchError(TODO)


COMMANDS = [classify, train, evaluate]

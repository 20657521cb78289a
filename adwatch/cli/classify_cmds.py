"""Classifier commands: classify, train, evaluate (CONTRACT.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from adwatch.errors import AdWatchError


def _open_in(path: str):
    if path == "-":
        return sys.stdin.buffer
    try:
        return open(path, "rb")  # noqa: SIM115 - closed by the caller
    except OSError as exc:
        raise AdWatchError(f"cannot read --input {path}: {exc.strerror}") from exc


def _open_out(path: str):
    if path == "-":
        return sys.stdout.buffer
    try:
        return open(path, "wb")  # noqa: SIM115 - closed by the caller
    except OSError as exc:
        raise AdWatchError(f"cannot write --output {path}: {exc.strerror}") from exc


@click.command()
@click.option(
    "--input",
    "input_path",
    default="-",
    show_default=True,
    help="JSONL file of {id, text, title?}; - = stdin",
)
@click.option(
    "--output", "output_path", default="-", show_default=True, help="JSONL file for the results; - = stdout"
)
@click.option("--model", "version", default=None, help="a model version other than the one in use")
def classify(input_path: str, output_path: str, version: str | None) -> None:
    """Classify JSONL posts (`-` = stdin/stdout): labels, scores, evidence spans, model version."""
    # adwatch.cli.common would import the database layer (SQLAlchemy, Alembic): classify needs
    # none of it, and start-up time counts when a scheduler pipes small files through it.
    from adwatch.settings import get_settings
    from classifiers.api import Classifier
    from classifiers.stream import classify_stream

    clf = Classifier.load(get_settings(), version=version)
    source, sink = _open_in(input_path), _open_out(output_path)
    try:
        report = classify_stream(
            clf, source, sink, lambda msg: click.echo(f"adwatch classify: {msg}", err=True)
        )
    finally:
        sink.flush()
        if source is not sys.stdin.buffer:
            source.close()
        if sink is not sys.stdout.buffer:
            sink.close()
    if report.failed:
        raise AdWatchError(
            f"{report.failed} of {report.lines} lines could not be classified (reported above); "
            f"{report.classified} were classified with model {clf.version}"
        )


@click.command()
@click.option(
    "--ship", is_flag=True, help="write the version into the package as the shipped default (developers)"
)
@click.option("--no-reviews", is_flag=True, help="train on the corpus only, ignoring reviewers' decisions")
def train(ship: bool, no_reviews: bool) -> None:
    """Build a new model version from the corpus and reviewed decisions; print its metrics."""
    from adwatch.cli.common import database, settings
    from classifiers.evaluation import check_targets, format_report
    from classifiers.training import train as train_model

    s = settings()
    db = None if (ship or no_reviews) else database()
    mv = train_model(s, db=db, ship=ship, progress=lambda msg: click.echo(msg, err=True))
    test = mv.metrics["test"] | {"data": "test split of the corpus"}
    test["targets"] = check_targets(test)
    click.echo(format_report(test))
    where = "shipped in the package" if ship else "now in use"
    click.echo(f"\nmodel {mv.version} saved to {mv.folder} ({where})")


@click.command()
@click.option(
    "--input",
    "input_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="labelled JSONL (corpus format) instead of the corpus's test split",
)
@click.option("--split", type=click.Choice(["train", "dev", "test"]), default="test", show_default=True)
@click.option("--model", "version", default=None, help="a model version other than the one in use")
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON")
def evaluate(input_path: Path | None, split: str, version: str | None, as_json: bool) -> None:
    """Per-label precision, recall and F1, micro-F1, hard-negative FPR, evasion recall."""
    from adwatch.cli.common import settings
    from classifiers.evaluation import evaluate as run_evaluation
    from classifiers.evaluation import format_report

    try:
        report = run_evaluation(settings(), input_path=input_path, split=split, version=version)
    except ValueError as exc:
        raise AdWatchError(f"cannot evaluate: {exc}") from exc
    click.echo(json.dumps(report, ensure_ascii=False, indent=1) if as_json else format_report(report))


COMMANDS = [classify, train, evaluate]

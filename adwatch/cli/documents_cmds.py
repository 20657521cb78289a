"""Document commands: documents export."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import click

from adwatch.cli.common import database
from adwatch.errors import AdWatchError


@click.group()
def documents() -> None:
    """Stored documents: `documents export --output F.jsonl`."""


@contextlib.contextmanager
def _output(path: str) -> Iterator[TextIO]:
    """stdout for ``-``; otherwise a temporary file renamed into place only when complete."""
    if path == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    target = Path(path)
    if target.is_dir():
        raise AdWatchError(f"--output {path} is a directory; give a file name such as {path}/documents.jsonl")
    partial = target.with_name(target.name + ".partial")
    try:
        fh = open(partial, "w", encoding="utf-8")  # noqa: SIM115 - closed below, renamed on success
    except OSError as exc:
        raise AdWatchError(
            f"cannot write {path}: {exc.strerror} (check the directory exists and is writable)"
        ) from exc
    try:
        with fh:
            yield fh
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


@documents.command("export")
@click.option("--output", "-o", "output", required=True, help="JSONL file to write, or - for stdout.")
def export_cmd(output: str) -> None:
    """Every stored document, one JSON object a line (CONTRACT.md format)."""
    from pipelines.export import count_documents, export_documents

    db = database()
    try:
        with db.session() as session, _output(output) as out:
            if sys.stderr.isatty():
                from rich.console import Console
                from rich.progress import Progress

                with Progress(transient=True, console=Console(stderr=True)) as bar:
                    task = bar.add_task("exporting documents", total=count_documents(session))
                    written = export_documents(session, out, lambda n: bar.advance(task, n))
            else:
                written = export_documents(session, out)
    finally:
        db.dispose()
    if output != "-":
        click.echo(f"exported {written} documents to {output}", err=True)


COMMANDS = [documents]

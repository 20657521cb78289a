"""The ``adwatch`` command: one click group; each command family lives in its own module.

Commands are thin: they parse options, call the stage functions of crawler/, pipelines/,
classifiers/, review_ui/ and adwatch/, and print. Any AdWatchError becomes one line on stderr
and a non-zero exit status (CONTRACT.md).
"""

from __future__ import annotations

import sys

import click

from adwatch.cli import classify_cmds, crawl_cmds, demo_cmd, documents_cmds, evidence_cmds, review_cmds
from adwatch.errors import AdWatchError


class AdWatchGroup(click.Group):
    """Turns AdWatchError into a one-line message and exit status 1."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except AdWatchError as exc:
            click.echo(f"adwatch: error: {exc}", err=True)
            sys.exit(1)


@click.group(cls=AdWatchGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="adwatch")
def main() -> None:
    """AdWatch: find, classify, review and evidence illegal medical-aesthetic advertising."""


for module in (demo_cmd, crawl_cmds, documents_cmds, classify_cmds, review_cmds, evidence_cmds):
    for command in module.COMMANDS:
        main.add_command(command)

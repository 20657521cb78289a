"""Evidence commands: export, evidence verify|capture, stats."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from adwatch.cli.common import database, settings
from adwatch.errors import AdWatchError
from adwatch.exports.filters import FORMATS, STATUSES, ExportFilters, parse_moment

if TYPE_CHECKING:
    from rich.console import Console

    from adwatch.exports.verify import VerifyReport

PROGRESS_EVERY = 1000


def _progress(verb: str):  # type: ignore[no-untyped-def]
    def report(n: int) -> None:
        if n % PROGRESS_EVERY == 0:
            click.echo(f"{verb} {n}…", err=True)

    return report


@click.command()
@click.option(
    "--format", "fmt", type=click.Choice(FORMATS), required=True, help="xlsx/csv: the list; zip: the bundle."
)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True, help="File to write."
)
@click.option(
    "--status",
    type=click.Choice(tuple(STATUSES)),
    default="confirmed",
    show_default=True,
    help="pending includes escalated items; all includes rejected ones.",
)
@click.option("--label", help="Only items with this label or approval finding (id or Chinese name).")
@click.option("--source", help="Only items from this source (name).")
@click.option("--since", help="Found on or after this day (YYYY-MM-DD, China time) or ISO time.")
@click.option("--until", help="Found on or before this day (YYYY-MM-DD, China time) or before this ISO time.")
@click.option("--institution", help="Only items whose institution name contains this text.")
@click.option(
    "--user",
    "user_name",
    help="Export as this AdWatch user (role enforcement or admin); default cli:<os user>.",
)
def export(
    fmt: str,
    output: Path,
    status: str,
    label: str | None,
    source: str | None,
    since: str | None,
    until: str | None,
    institution: str | None,
    user_name: str | None,
) -> None:
    """Export the evidence list (XLSX/CSV) or a bundle (ZIP) with manifest and extraction record."""
    from adwatch.exports.service import Exporter, export_evidence, exporter_named

    filters = ExportFilters.from_options(status, label, source, since, until, institution)
    db = database()
    exporter = exporter_named(db, user_name) if user_name else Exporter.command_line()
    result = export_evidence(db, settings(), fmt, output, filters, exporter, progress=_progress("exported"))
    if result.items == 0:
        click.echo("no items matched the filters; the file holds only the header", err=True)
    click.echo(
        f"exported {result.items} items to {result.path} ({result.bytes} bytes)\n"
        f"SHA-256 {result.sha256}  (audit event {result.audit_id}, by {exporter.name})"
    )


@click.group()
def evidence() -> None:
    """Evidence files: `evidence verify [BUNDLE.zip]`, `evidence capture`."""


def _print_report(report: VerifyReport) -> None:
    for problem in report.problems:
        click.echo(str(problem))
    for note in report.notes:
        click.echo(note)
    if not report.ok:
        changed = len({p.path for p in report.problems})
        raise AdWatchError(
            f"{changed} file(s) changed, missing or unexpected in {report.target} ({report.checked} checked)"
        )
    click.echo(f"OK: {report.checked} files verified in {report.target}")


@evidence.command("verify")
@click.argument("bundle", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--extract",
    "extract_to",
    type=click.Path(file_okay=False, path_type=Path),
    help="After a bundle verifies, unpack it into this (new or empty) directory.",
)
def verify(bundle: Path | None, extract_to: Path | None) -> None:
    """Re-hash every stored artifact, or every file of BUNDLE against its manifest; exit 1 if any changed."""
    from adwatch.exports.verify import extract_bundle, verify_bundle, verify_store

    if bundle is None:
        if extract_to is not None:
            raise AdWatchError("--extract needs a BUNDLE.zip")
        _print_report(verify_store(database(), settings(), progress=_progress("verified")))
        return
    _print_report(verify_bundle(bundle, progress=_progress("verified")))
    if extract_to is not None:
        files = extract_bundle(bundle, extract_to)
        click.echo(f"extracted {len(files)} files into {extract_to}")


@evidence.command("capture")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many captures per kind of artifact.")
@click.option("--no-screenshots", is_flag=True, help="Only raw bodies and WARC files (no browser).")
def capture(limit: int | None, no_screenshots: bool) -> None:
    """Make the evidence flagged pages lack: raw body, WARC file, and (in one offline Chromium) screenshots."""
    from pipelines.evidence import capture_missing, render_pending

    db, s = database(), settings()
    made = capture_missing(db, s, limit)
    click.echo(
        f"raw body and WARC made for {made.done} captures"
        + (f"; {len(made.failed)} failed:" if made.failed else "")
    )
    for failure in made.failed:
        click.echo(f"  {failure}", err=True)
    if not no_screenshots:
        click.echo(f"screenshots rendered: {render_pending(db, s, limit)}")
    if made.failed:
        raise AdWatchError(f"evidence for {len(made.failed)} captures could not be made (see above)")


def _table(console: Console, title: str, columns: list[str], rows: list[list[object]]) -> None:
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for i, name in enumerate(columns):
        table.add_column(name, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*[("" if v is None else str(v)) for v in row])
    console.print(table)


@click.command()
@click.option("--since", help="Items found on or after this day (YYYY-MM-DD, China time).")
@click.option("--until", help="Items found on or before this day.")
@click.option("--source", help="Only this source.")
@click.option("--json", "as_json", is_flag=True, help="Print the numbers as JSON.")
@click.option(
    "--charts",
    "charts_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the charts as SVG files here.",
)
@click.option(
    "--summary-xlsx",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the 监督检查工作信息汇总表 here.",
)
@click.option("--unit", default="", help="填报单位 for the 汇总表.")
@click.option("--user", "user_name", help="Export the 汇总表 as this AdWatch user (enforcement or admin).")
def stats(
    since: str | None,
    until: str | None,
    source: str | None,
    as_json: bool,
    charts_dir: Path | None,
    summary_xlsx: Path | None,
    unit: str,
    user_name: str | None,
) -> None:
    """Counts by label, source, status and week; approval findings; reviewers and their agreement."""
    from rich.console import Console

    from adwatch.exports.rows import resolve_source
    from adwatch.exports.service import Exporter, export_summary, exporter_named
    from adwatch.exports.stats import compute_stats, stats_charts

    start = parse_moment(since) if since else None
    end = parse_moment(until, end_of_day=True) if until else None
    db = database()
    with db.session() as s:
        numbers = compute_stats(s, start, end, resolve_source(s, source) if source else None)
    if as_json:
        click.echo(json.dumps(numbers, ensure_ascii=False, indent=2))
    else:
        console = Console(soft_wrap=False)
        t = numbers["totals"]
        console.print(
            f"items {t['items']}: confirmed {t['confirmed']}, pending {t['pending']}, "
            f"escalated {t['escalated']}, rejected {t['rejected']}"
        )
        cols = ["total", "confirmed", "pending", "rejected"]
        _table(
            console,
            "By label",
            ["label", *cols],
            [[r["name"], *[r[c] for c in cols]] for r in numbers["by_label"]],
        )
        _table(
            console,
            "Approval findings",
            ["finding", *cols],
            [[r["name"], *[r[c] for c in cols]] for r in numbers["findings"]],
        )
        _table(
            console,
            "By source",
            ["source", "pages", *cols],
            [[r["source"], r["pages"], *[r[c] for c in cols]] for r in numbers["by_source"]],
        )
        _table(
            console,
            "By week (China time)",
            ["week", *cols],
            [[r["week"], *[r[c] for c in cols]] for r in numbers["by_week"]],
        )
        _table(
            console,
            "Reviewers",
            ["reviewer", "decisions", "confirm", "reject", "escalate", "per active day"],
            [
                [r["name"], r["decisions"], r["confirm"], r["reject"], r["escalate"], r["per_active_day"]]
                for r in numbers["reviewers"]
            ],
        )
        a = numbers["agreement"]
        console.print(
            f"agreement: {a['items']} items seen by two reviewers; same action {a['action_rate']}, "
            f"same labels {a['label_rate']}, Cohen's kappa {a['kappa']}"
        )
    if charts_dir is not None:
        charts_dir.mkdir(parents=True, exist_ok=True)
        for name, svg in stats_charts(numbers).items():
            (charts_dir / f"{name}.svg").write_text(svg, encoding="utf-8")
        click.echo(f"charts written to {charts_dir}", err=True)
    if summary_xlsx is not None:
        exporter = exporter_named(db, user_name) if user_name else Exporter.command_line()
        result = export_summary(db, summary_xlsx, exporter, start, end, source, unit)
        click.echo(
            f"汇总表 written to {result.path} (SHA-256 {result.sha256}, audit event {result.audit_id})",
            err=True,
        )


COMMANDS = [export, evidence, stats]

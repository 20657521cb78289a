"""Crawl commands: crawl, sources (list, add, show, validate), schedule run, runs."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from urllib.parse import urlsplit

import click
import yaml

from adwatch.cli.common import database, settings
from adwatch.errors import AdWatchError
from adwatch.timeutil import fmt_china


def _sync_sources(db, s) -> None:  # type: ignore[no-untyped-def]
    """Import sources/*.yaml; on errors warn and go on with the sources as last imported."""
    from crawler.source_store import sync_yaml_sources
    from crawler.sources import SourcesInvalid

    try:
        result = sync_yaml_sources(db, s)
    except SourcesInvalid as exc:
        click.echo(f"adwatch: warning: {exc}\n  (using the sources as last imported)", err=True)
        return
    for name in result.disabled:
        click.echo(f"adwatch: note: source {name!r} has no YAML file any more; disabled", err=True)


def _human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def print_summary(summary) -> None:  # type: ignore[no-untyped-def]
    """The plain end-of-crawl summary (always printed, terminal or not)."""
    if summary.status == "skipped":
        click.echo(f"{summary.source}: skipped: {summary.stop_reason}")
        return
    click.echo(
        f"run {summary.run_id}  {summary.source}  {summary.status} ({summary.stop_reason})  "
        f"in {summary.seconds:.1f}s"
    )
    without = f", {summary.without_text} without text" if summary.without_text else ""
    line = (
        f"  pages {summary.pages} ({summary.rate:.1f}/s)  stored {summary.items} (new {summary.new_items}{without})  "
        f"errors {summary.errors}  {_human_bytes(summary.bytes)}"
    )
    if summary.replayed:
        line += f"  resumed past {summary.replayed} stored pages"
    click.echo(line)
    if summary.labels:
        click.echo("  labels: " + ", ".join(f"{k} {v}" for k, v in sorted(summary.labels.items())))
    if summary.error_samples:
        click.echo("  errors:")
        for sample in summary.error_samples[:10]:
            click.echo(f"    {sample}")
        if summary.errors > 10:
            click.echo(f"    … {summary.errors - min(10, len(summary.error_samples))} more in the log")
    if summary.log_path:
        click.echo(f"  log: {summary.log_path}")


def exit_code(summaries) -> int:  # type: ignore[no-untyped-def]
    statuses = {s.status for s in summaries}
    if "failed" in statuses:
        return 1
    if "cancelled" in statuses:
        return 130
    if "skipped" in statuses:
        return 3
    return 0


# ---------------------------------------------------------------------------------------------
# crawl
# ---------------------------------------------------------------------------------------------


@click.command()
@click.argument("source", required=False)
@click.option("--url", help="Crawl this site ad hoc (same host only) instead of a configured source.")
@click.option("--max-pages", type=click.IntRange(1), help="With --url: stop after this many pages.")
@click.option("--max-depth", type=click.IntRange(0, 50), help="With --url: link hops from the start page.")
@click.option(
    "--render", type=click.Choice(["static", "browser"]), help="With --url: fetch or render in Chromium."
)
@click.option("--ignore-robots", is_flag=True, help="With --url: do not obey robots.txt (authority only).")
@click.option("--fresh", is_flag=True, help="Start over instead of resuming an interrupted run.")
@click.option(
    "--worker",
    "as_worker",
    is_flag=True,
    help="Serve crawls queued in Redis until stopped (needs ADWATCH_REDIS_URL).",
)
@click.option("--sources", "only_sources", help="With --worker: serve only these sources (comma-separated).")
@click.option("--trigger", default="manual", hidden=True)
@click.option("-v", "--verbose", is_flag=True, help="Also print the crawl log on stderr.")
def crawl(
    source, url, max_pages, max_depth, render, ignore_robots, fresh, as_worker, only_sources, trigger, verbose
) -> None:  # type: ignore[no-untyped-def]
    """Crawl a configured SOURCE now, or an ad-hoc site with --url; or serve as a --worker.

    Shows live progress on a terminal and a summary at the end. A run interrupted (Ctrl-C, SIGTERM,
    a crash) is resumed by the next crawl of the same source without refetching stored pages.

    With ADWATCH_REDIS_URL set, the crawl is queued in Redis and shared by every worker
    (`adwatch crawl --worker`); this command works on it as one more worker and returns when
    the crawl is drained.
    """
    from crawler.runner import CrawlJob, run_crawls
    from crawler.runs import reap_dead_runs

    if as_worker:
        if source or url:
            raise click.UsageError("--worker serves queued crawls; give no SOURCE or --url")
        serve_worker(only_sources, verbose)
        return
    if only_sources:
        raise click.UsageError("--sources goes with --worker")
    if bool(source) == bool(url):
        raise click.UsageError("give either SOURCE or --url URL")
    if source and any(v is not None for v in (max_pages, max_depth, render)) or (source and ignore_robots):
        raise click.UsageError(
            "--max-pages, --max-depth, --render and --ignore-robots go with --url; "
            "change a configured source in its definition"
        )
    s = settings()
    db = database()
    reap_dead_runs(db, s)
    if url:
        name = adhoc(db, url, max_pages, max_depth, render, ignore_robots)
        trigger = "adhoc" if trigger == "manual" else trigger
    else:
        _sync_sources(db, s)
        name = source
    progress = sys.stderr.isatty() and not verbose
    if s.redis_url:
        summaries = [distributed_crawl(db, s, name, trigger, progress, verbose)]
    else:
        summaries = run_crawls(
            db, s, [CrawlJob(name, trigger=trigger, fresh=fresh)], progress=progress, log_to_stderr=verbose
        )
    for summary in summaries:
        print_summary(summary)
    code = exit_code(summaries)
    if code:
        reason = {1: "crawl failed", 130: "crawl cancelled; run it again to resume", 3: "crawl skipped"}[code]
        click.echo(f"adwatch: {reason}", err=True)
        sys.exit(code)


def serve_worker(only_sources: str | None, verbose: bool) -> None:
    """``crawl --worker``: serve the runs queued in Redis until SIGTERM/SIGINT."""
    from crawler.distributed.worker import run_worker

    s = settings()
    if not s.redis_url:
        raise click.UsageError("--worker needs ADWATCH_REDIS_URL (the Redis server the workers share)")
    names = {n.strip() for n in only_sources.split(",") if n.strip()} if only_sources else None
    db = database()
    from crawler.distributed.connection import connect_redis
    from crawler.distributed.frontier import Frontier

    frontier = Frontier(connect_redis(s))
    _sync_sources(db, s)
    click.echo(
        f"worker {frontier.worker_id}: serving {', '.join(sorted(names)) if names else 'every source'} "
        f"from Redis {s.redis_url_safe}; Ctrl-C to stop",
        err=True,
    )
    worker = run_worker(db, s, sources=names, frontier=frontier, log_to_stderr=verbose)
    click.echo(f"worker {frontier.worker_id} stopped; log: {worker.log_path}", err=True)


def distributed_crawl(db, s, name: str, trigger: str, progress: bool, verbose: bool):  # type: ignore[no-untyped-def]
    """Queue the crawl of ``name`` in Redis, work on it as one more worker until it is drained."""
    from crawler.context import RunSummary
    from crawler.distributed.connection import connect_redis
    from crawler.distributed.frontier import Frontier
    from crawler.distributed.seed import seed_run
    from crawler.distributed.worker import run_summary, run_worker
    from crawler.runs import RunAlreadyActive

    frontier = Frontier(connect_redis(s))
    try:
        run_id = seed_run(db, s, frontier, name, trigger)
    except RunAlreadyActive as exc:
        return RunSummary(source=name, run_id=0, status="skipped", stop_reason=str(exc))
    log_path = str(s.logs_dir / f"run-{run_id}.log")
    worker = run_worker(
        db, s, only_run=run_id, frontier=frontier, log_path=log_path, progress=progress, log_to_stderr=verbose
    )
    summary = run_summary(db, run_id, name, log_path)
    if summary.status == "running":  # stopped before the crawl was drained: the other workers go on
        mine = worker.summaries.get(run_id)
        summary.status = "cancelled"
        summary.stop_reason = (
            f"this process stopped ({mine.stop_reason if mine else 'before crawling'}); "
            "the crawl goes on with the other workers"
        )
    return summary


def adhoc(db, url, max_pages, max_depth, render, ignore_robots) -> str:  # type: ignore[no-untyped-def]
    """The ad-hoc source for ``crawl --url``: a list crawl of that one host."""
    from crawler.source_store import adhoc_source
    from crawler.sources import check_url, source_from_mapping

    try:
        check_url(url)
    except ValueError as exc:
        raise AdWatchError(f"--url: {exc}") from None
    host = urlsplit(url).hostname or ""
    data: dict = {
        "name": f"adhoc-{host}"[:100],
        "kind": "list",
        "start_urls": [url],
        "allowed_domains": [host],
    }
    for key, value in (("max_pages", max_pages), ("max_depth", max_depth), ("render", render)):
        if value is not None:
            data[key] = value
    if ignore_robots:
        data["ignore_robots"] = True
    return adhoc_source(db, source_from_mapping(data, "--url")).name


# ---------------------------------------------------------------------------------------------
# sources
# ---------------------------------------------------------------------------------------------


@click.group()
def sources() -> None:
    """Manage crawl sources: list, add, show, validate.

    Sources are YAML files under sources/ (imported automatically) or rows made by `sources add`.
    """


@sources.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per source.")
def sources_list(as_json: bool) -> None:
    """Every source with its schedule, next and last fire time (China time) and last run."""
    from sqlalchemy import select

    from adwatch.models import CrawlRun
    from crawler.runs import reap_dead_runs
    from crawler.source_store import all_sources, next_fire, origin_label

    s = settings()
    db = database()
    _sync_sources(db, s)
    reap_dead_runs(db, s)
    with db.session() as session:
        rows = all_sources(session)
        last_runs = {}
        for row in rows:
            last_runs[row.id] = session.scalar(
                select(CrawlRun).where(CrawlRun.source_id == row.id).order_by(CrawlRun.id.desc()).limit(1)
            )
    if as_json:
        for row in rows:
            run = last_runs[row.id]
            click.echo(
                json.dumps(
                    {
                        "name": row.name,
                        "kind": row.kind,
                        "origin": origin_label(row),
                        "enabled": row.enabled,
                        "schedule": row.schedule,
                        "next_fire_at": row.next_fire_at.isoformat() if row.next_fire_at else None,
                        "last_fire_at": row.last_fire_at.isoformat() if row.last_fire_at else None,
                        "last_run": {"id": run.id, "status": run.status} if run else None,
                    },
                    ensure_ascii=False,
                )
            )
        return
    if not rows:
        click.echo(f"no sources (add YAML files to {s.sources_dir} or use `adwatch sources add`)")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="sources (times in China time, UTC+8)", title_justify="left")
    for col in ("name", "kind", "origin", "enabled", "schedule", "next fire", "last fire", "last run"):
        table.add_column(col, overflow="fold")
    for row in rows:
        run = last_runs[row.id]
        nxt = row.next_fire_at
        if nxt is None and row.enabled and row.schedule:
            nxt = next_fire(row.schedule)
        table.add_row(
            row.name,
            row.kind,
            origin_label(row),
            "yes" if row.enabled else "no",
            row.schedule or "-",
            fmt_china(nxt, with_seconds=False) if row.enabled and row.schedule else "-",
            fmt_china(row.last_fire_at, with_seconds=False) or "-",
            f"#{run.id} {run.status} {fmt_china(run.started_at, with_seconds=False)}" if run else "-",
        )
    Console(width=max(120, Console().width)).print(table)


@sources.command("show")
@click.argument("name")
def sources_show(name: str) -> None:
    """A source's full definition (as YAML), schedule and recent runs."""
    from crawler.runs import recent_runs
    from crawler.source_store import get_source, origin_label

    s = settings()
    db = database()
    _sync_sources(db, s)
    with db.session() as session:
        row = get_source(session, name)
        click.echo(f"# {row.name}: {origin_label(row)}{'' if row.enabled else ' (disabled)'}")
        if row.schedule:
            click.echo(
                f"# schedule {row.schedule} (China time); next {fmt_china(row.next_fire_at) or '-'}, "
                f"last {fmt_china(row.last_fire_at) or '-'}"
            )
        click.echo(yaml.safe_dump(row.definition, allow_unicode=True, sort_keys=False).rstrip())
    runs = recent_runs(db, limit=5, source=name)
    if runs:
        click.echo("# recent runs:")
        for run, _ in runs:
            click.echo(
                f"#   {run.id}  {run.status:<9} {fmt_china(run.started_at)}  pages {run.pages}  "
                f"items {run.items}  errors {run.errors}  {run.stop_reason or ''}"
            )


@sources.command("validate")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
def sources_validate(files: tuple[Path, ...]) -> None:
    """Check source files (default: every file in sources/); name every error with file, line, field."""
    from crawler.sources import load_source_file, load_sources_dir

    s = settings()
    if files:
        checked = list(files)
        problems = []
        for f in files:
            problems += load_source_file(f)[1]
    else:
        loaded, problems = load_sources_dir(s.sources_dir)
        checked = [p for p, _ in loaded]
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        raise AdWatchError(f"{len(problems)} problem(s) found; fix them and validate again")
    click.echo(f"{len(checked)} source file(s) OK")


@sources.command("add")
@click.option(
    "--file", "file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="A YAML definition."
)
@click.option("--name")
@click.option("--kind", type=click.Choice(["list", "sitemap", "feed", "search"]))
@click.option("--url", "urls", multiple=True, help="A start URL (repeat for more).")
@click.option("--search-url", help="kind search: URL with {keyword}.")
@click.option("--keyword", "keywords", multiple=True, help="kind search: a keyword (repeat for more).")
@click.option("--allow", multiple=True, help="Follow only links matching this regex (repeatable).")
@click.option("--deny", multiple=True, help="Never follow links matching this regex (repeatable).")
@click.option("--render", type=click.Choice(["static", "browser"]))
@click.option("--schedule", help='Cron expression in China time, e.g. "0 3 * * *".')
@click.option("--max-pages", type=int)
@click.option("--max-depth", type=int)
@click.option("--delay", type=float, help="Seconds between requests to the site.")
@click.option("--concurrency", type=int, help="Parallel requests to the site.")
@click.option("--ignore-robots", is_flag=True)
@click.option("--disabled", is_flag=True)
@click.option("--replace", is_flag=True, help="Overwrite an existing source added earlier.")
def sources_add(
    file,
    name,
    kind,
    urls,
    search_url,
    keywords,
    allow,
    deny,
    render,
    schedule,
    max_pages,
    max_depth,
    delay,
    concurrency,
    ignore_robots,
    disabled,
    replace,
) -> None:  # type: ignore[no-untyped-def]
    """Add a source from options or from a YAML file (validated; all or nothing)."""
    from crawler.source_store import add_source
    from crawler.sources import SourcesInvalid, load_source_file, source_from_mapping

    db = database()
    if file:
        fields = click.get_current_context().params
        if any(value for key, value in fields.items() if key not in ("file", "replace")):
            raise click.UsageError("--file takes the whole definition; give no other fields")
        defn, problems = load_source_file(file)
        if defn is None:
            raise SourcesInvalid(problems)
    else:
        if not name or not kind:
            raise click.UsageError("give --name and --kind (and --url or --search-url), or --file")
        data: dict = {"name": name, "kind": kind}
        optional = {
            "start_urls": list(urls),
            "search_url": search_url,
            "keywords": list(keywords),
            "render": render,
            "schedule": schedule,
            "max_pages": max_pages,
            "max_depth": max_depth,
            "delay": delay,
            "concurrency": concurrency,
        }
        data.update({k: v for k, v in optional.items() if v not in (None, [])})
        if allow or deny:
            data["follow"] = {"allow": list(allow), "deny": list(deny)}
        if ignore_robots:
            data["ignore_robots"] = True
        if disabled:
            data["enabled"] = False
        defn = source_from_mapping(data, "options")
    row = add_source(db, defn, replace=replace)
    click.echo(
        f"source {row.name!r} added ({row.kind}{', schedule ' + row.schedule if row.schedule else ''})"
    )


# ---------------------------------------------------------------------------------------------
# schedule
# ---------------------------------------------------------------------------------------------


@click.group()
def schedule() -> None:
    """The scheduler daemon: `schedule run` starts due crawls."""


@schedule.command("run")
@click.option(
    "--reload-seconds",
    type=click.IntRange(5),
    default=60,
    show_default=True,
    help="How often sources are re-read (edits take effect without a restart).",
)
def schedule_run(reload_seconds: int) -> None:
    """Run the scheduler until stopped: each due crawl runs in its own process.

    Cron expressions are read in China time; a crawl missed while the daemon was down runs once
    on start if it is no later than the misfire grace time (ADWATCH_MISFIRE_GRACE_SECONDS).
    """
    from crawler.scheduler import Scheduler

    s = settings()
    db = database()
    Scheduler(db, s, reload_seconds=reload_seconds).run_forever()


# ---------------------------------------------------------------------------------------------
# runs
# ---------------------------------------------------------------------------------------------


@click.command()
@click.option("--source", help="Only this source's runs.")
@click.option("--limit", type=click.IntRange(1), default=20, show_default=True)
@click.option(
    "--tail",
    "tail_lines",
    type=click.IntRange(0),
    default=3,
    show_default=True,
    help="Log lines to show per run.",
)
def runs(source: str | None, limit: int, tail_lines: int) -> None:
    """Crawl runs, newest first, with the tail of each run's log (times in China time)."""
    from crawler.runs import reap_dead_runs, recent_runs, tail

    s = settings()
    db = database()
    reap_dead_runs(db, s)
    found = recent_runs(db, limit=limit, source=source)
    if not found:
        click.echo("no runs yet")
        return
    for run, name in found:
        ended = fmt_china(run.ended_at) if run.ended_at else "…"
        click.echo(
            f"#{run.id}  {name}  {run.status}  {fmt_china(run.started_at)} → {ended}  "
            f"pages {run.pages}  items {run.items}  errors {run.errors}  {_human_bytes(run.bytes)}  "
            f"[{run.trigger}]"
        )
        if run.stop_reason:
            click.echo(f"    stop reason: {run.stop_reason}")
        for line in tail(run.log_path, tail_lines):
            click.echo(f"    | {line}")


COMMANDS = [crawl, sources, schedule, runs]

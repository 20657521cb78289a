"""``adwatch demo``: the main job on the embedded default (owned by the crawl issue, extended later).

This first version serves the bundled demo site on 127.0.0.1, registers one demo source of each
kind for it, crawls them all (the JavaScript pages through Chromium) and prints what was stored.
"""

from __future__ import annotations

import sys

import click

from adwatch.cli.common import database, settings


@click.command()
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Port for the demo site on 127.0.0.1 (0: any free port).",
)
def demo(port: int) -> None:
    """Bundled demo site → crawl → classify → queue → web UI, with demo users printed."""
    from sqlalchemy import func, select

    from adwatch.cli.crawl_cmds import print_summary
    from adwatch.demo_site import DemoSite
    from adwatch.models import Capture, Document
    from crawler.demo_sources import demo_sources
    from crawler.runner import CrawlJob, run_crawls
    from crawler.runs import reap_dead_runs
    from crawler.source_store import add_source

    s = settings()
    db = database()
    reap_dead_runs(db, s)
    with DemoSite.serve(port=port) as site:
        click.echo(f"demo site: {site.base_url}/ (served while the demo runs)")
        sources = demo_sources(site.base_url)
        for defn in sources:
            add_source(db, defn, origin="demo", replace=True)
        click.echo(f"crawling {len(sources)} demo sources: {', '.join(d.name for d in sources)}")
        jobs = [CrawlJob(d.name, trigger="demo", fresh=True) for d in sources]
        summaries = run_crawls(db, s, jobs, progress=sys.stderr.isatty())
    click.echo("")
    for summary in summaries:
        print_summary(summary)
    with db.session() as session:
        captures = session.scalar(select(func.count(Capture.id)))
        documents = session.scalar(select(func.count(Document.id)))
    click.echo("")
    click.echo(f"stored: {captures} captures, {documents} documents in {s.database_url_safe}")
    failed = [x for x in summaries if x.status not in ("finished",)]
    if failed:
        click.echo(f"adwatch: {len(failed)} demo crawl(s) did not finish; see the logs above", err=True)
        sys.exit(1)


COMMANDS = [demo]

"""``adwatch demo``: the main job on the embedded default, end to end.

Serves the bundled demo site on 127.0.0.1, imports its sample 《医疗广告审查证明》 records, crawls
every demo source (the JavaScript pages through Chromium), classifies and queues what it stored,
renders the evidence screenshots still due, makes one demo user per role with a fresh password,
and serves the web app until Ctrl-C. ``--no-serve`` stops after the crawl (for scripts and tests).
"""

from __future__ import annotations

import secrets
import sys
from collections import Counter

import click

from adwatch.cli.common import database, settings

DEMO_USERS = (
    ("demo_admin", "admin"),
    ("demo_staff", "crawl_staff"),
    ("demo_reviewer", "reviewer"),
    ("demo_enforcer", "enforcement"),
)


def ensure_demo_users(db: object) -> list[tuple[str, str, str]]:
    """(name, role, password) of each demo user; existing ones get a new password, so the printed one works."""
    from sqlalchemy import select

    from adwatch.models import User
    from review_ui.accounts import create_user, set_password

    made = []
    with db.session() as s:  # type: ignore[attr-defined]
        for name, role in DEMO_USERS:
            password = secrets.token_urlsafe(9)
            user = s.scalar(select(User).where(User.name == name))
            if user is None:
                create_user(s, name, role, password)
            else:
                user.role, user.active = role, True
                set_password(s, name, password)
            made.append((name, role, password))
    return made


def queue_summary(db: object) -> tuple[int, Counter[str]]:
    """Pending review items and how many carry each label."""
    from sqlalchemy import func, select

    from adwatch.models import ReviewItem, ReviewItemLabel

    with db.session() as s:  # type: ignore[attr-defined]
        pending = s.scalar(select(func.count(ReviewItem.id)).where(ReviewItem.status == "pending")) or 0
        rows = s.execute(select(ReviewItemLabel.label, func.count()).group_by(ReviewItemLabel.label)).all()
    return pending, Counter({label: n for label, n in rows})


@click.command()
@click.option(
    "--site-port",
    "--port",
    "site_port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Port for the demo site on 127.0.0.1 (0: any free port).",
)
@click.option(
    "--web-port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Web app port (default ADWATCH_PORT, 8000).",
)
@click.option(
    "--serve/--no-serve", default=True, show_default=True, help="Serve the web app when the crawl is done."
)
def demo(site_port: int, web_port: int | None, serve: bool) -> None:
    """Bundled demo site → crawl → classify → queue → web UI, with demo users printed."""
    from sqlalchemy import func, select

    from adwatch.cli.crawl_cmds import print_summary
    from adwatch.demo_site import SAMPLE_APPROVALS, DemoSite
    from adwatch.labels import label_zh
    from adwatch.models import Capture, Document
    from crawler.demo_sources import demo_sources
    from crawler.runner import CrawlJob, run_crawls
    from crawler.runs import reap_dead_runs
    from crawler.source_store import add_source
    from pipelines.approvals_import import import_approvals
    from pipelines.evidence.screenshots import render_pending

    s = settings()
    db = database()
    reap_dead_runs(db, s)
    with db.session() as session:
        report = import_approvals(session, SAMPLE_APPROVALS)
    click.echo(
        f"approval records: {report.created} imported, {report.updated} updated, "
        f"{report.unchanged} unchanged ({SAMPLE_APPROVALS.name})"
    )
    with DemoSite.serve(port=site_port) as site:
        click.echo(f"demo site: {site.base_url}/")
        sources = demo_sources(site.base_url)
        for defn in sources:
            add_source(db, defn, origin="demo", replace=True)
        click.echo(f"crawling {len(sources)} demo sources: {', '.join(d.name for d in sources)}")
        jobs = [CrawlJob(d.name, trigger="demo", fresh=True) for d in sources]
        summaries = run_crawls(db, s, jobs, progress=sys.stderr.isatty())
        click.echo("")
        for summary in summaries:
            print_summary(summary)
        click.echo("rendering evidence screenshots of flagged pages …")
        shots = render_pending(db, s)
        with db.session() as session:
            captures = session.scalar(select(func.count(Capture.id)))
            documents = session.scalar(select(func.count(Document.id)))
        pending, by_label = queue_summary(db)
        click.echo("")
        click.echo(f"stored: {captures} captures, {documents} documents in {s.database_url_safe}")
        click.echo(f"review queue: {pending} pending; {shots} screenshots rendered")
        for label, n in sorted(by_label.items(), key=lambda x: -x[1]):
            click.echo(f"  {label_zh(label)} ({label}): {n}")
        failed = [x for x in summaries if x.status != "finished"]
        if failed:
            click.echo(f"adwatch: {len(failed)} demo crawl(s) did not finish; see the logs above", err=True)
            sys.exit(1)
        if not serve:
            return
        _serve(s, db, web_port)


def _serve(s: object, db: object, web_port: int | None) -> None:
    import uvicorn

    from review_ui.app import create_app

    users = ensure_demo_users(db)
    host, port = s.web_host, web_port or s.web_port  # type: ignore[attr-defined]
    click.echo("")
    click.echo("demo users (passwords are new on every run):")
    for name, role, password in users:
        click.echo(f"  {name:<15} {role:<12} {password}")
    click.echo("")
    click.echo(f"AdWatch web app: http://{host}:{port}/   (Ctrl-C stops the demo)")
    app = create_app(s, db)
    uvicorn.run(app, host=host, port=port, proxy_headers=False, server_header=False, log_level="warning")


COMMANDS = [demo]

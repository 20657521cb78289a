"""Running crawls in this process: one or more sources, one after another, each a CrawlRun.

Scrapy's reactor can start once per process, so a process runs one batch of crawls and exits;
the scheduler starts a fresh process (``python -m crawler crawl NAME``) for each due crawl.

Stopping: the first SIGTERM or SIGINT stops the current crawl gracefully (pages in flight are
stored, the run ends ``cancelled``) and skips the crawls not started yet; a second one stops at
once (the run ends ``failed``). Either way the next crawl of the source resumes where it stopped.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import signal
import sys
from dataclasses import dataclass
from typing import Any

from adwatch.db import Database
from adwatch.errors import AdWatchError
from adwatch.settings import Settings
from crawler.context import RunContext, RunSummary
from crawler.pipeline_worker import make_worker, until_ready
from crawler.runs import RunAlreadyActive, finish_run, resume_chain, start_run, stored_pages
from crawler.source_store import get_source, source_def

logger = logging.getLogger(__name__)

LOG_FORMAT = "%(asctime)s [%(name)s] %(levelname)s: %(message)s"


@dataclass
class CrawlJob:
    source: str  # Source.name
    trigger: str = "manual"  # manual | schedule | demo | adhoc
    fresh: bool = False  # do not resume an interrupted run


def prepare_run(db: Database, settings: Settings, job: CrawlJob, progress: bool = False) -> RunContext:
    """Create the run row and everything the crawl needs; RunAlreadyActive if the source is busy."""
    with db.session() as s:
        row = get_source(s, job.source)
        source_id = row.id
        defn = source_def(row)
    run = start_run(db, settings, source_id, job.trigger)
    replay: dict[str, int] = {}
    if not job.fresh:
        chain = resume_chain(db, source_id, run.id, dt.timedelta(seconds=settings.resume_max_age_seconds))
        replay = stored_pages(db, chain)
        if chain:
            logger.info("run %d continues interrupted run(s) %s: %d stored pages", run.id, chain, len(replay))
    return RunContext(
        settings=settings,
        db=db,
        source=defn,
        source_id=source_id,
        run_id=run.id,
        log_path=run.log_path or str(settings.logs_dir / f"run-{run.id}.log"),
        replay=replay,
        progress=progress,
    )


class _Stop:
    """The signal handlers' state: first signal = graceful, second = at once."""

    def __init__(self, process: Any) -> None:
        self.process = process
        self.requested = False
        self.forced = False

    def install(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self.handle)

    def handle(self, signum: int, _frame: Any) -> None:
        from scrapy.utils.defer import deferred_from_coro
        from twisted.internet import reactor

        # Nothing here may log or block: it runs between two arbitrary bytecodes.
        if self.requested:
            self.forced = True
            reactor.callFromThread(reactor.stop)
            return
        self.requested = True
        reactor.callFromThread(lambda: deferred_from_coro(self.process.stop()))


def run_crawls(
    db: Database,
    settings: Settings,
    jobs: list[CrawlJob],
    progress: bool = False,
    log_to_stderr: bool = False,
) -> list[RunSummary]:
    """Crawl each job's source in turn, in this process; return one summary per job started."""
    from scrapy.crawler import AsyncCrawlerProcess, Crawler

    from crawler.scrapy_settings import base_settings, scrapy_settings
    from crawler.spiders import SPIDERS

    settings.ensure_dirs()
    with db.session() as s:  # fail before starting anything if a source is unknown
        for job in jobs:
            get_source(s, job.source)
    process = AsyncCrawlerProcess(base_settings())  # installs the asyncio reactor
    from twisted.internet import reactor

    root = logging.getLogger()
    # Not DEBUG: Scrapy logs every response and every item (with its body) at DEBUG.
    root.setLevel(logging.INFO)
    logging.getLogger("scrapy").setLevel(logging.INFO)
    console = None
    if log_to_stderr:
        console = logging.StreamHandler(sys.stderr)
        console.setFormatter(logging.Formatter(LOG_FORMAT))
        root.addHandler(console)
    stop = _Stop(process)
    summaries: list[RunSummary] = []
    started: list[RunContext] = []

    async def crawl_one(job: CrawlJob) -> None:
        try:
            ctx = prepare_run(db, settings, job, progress)
        except RunAlreadyActive as exc:
            logger.warning("%s", exc)
            summaries.append(RunSummary(source=job.source, run_id=0, status="skipped", stop_reason=str(exc)))
            return
        except AdWatchError as exc:
            logger.error("%s", exc)
            summaries.append(RunSummary(source=job.source, run_id=0, status="failed", stop_reason=str(exc)))
            return
        started.append(ctx)
        ctx.worker = make_worker(settings, db, ctx.log_path)
        ctx.worker_ready = ctx.worker.warm_up()
        handler = logging.FileHandler(ctx.log_path, encoding="utf-8")
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        root.addHandler(handler)
        logger.info(
            "run %d: crawling source %r (%s, trigger %s)",
            ctx.run_id,
            ctx.source.name,
            ctx.source.kind,
            job.trigger,
        )
        try:
            crawler = Crawler(SPIDERS[ctx.source.kind], scrapy_settings(settings, ctx.source))
            await until_ready(ctx.worker_ready)
            await process.crawl(crawler, ctx=ctx)
        except Exception as exc:
            logger.exception("run %d crashed", ctx.run_id)
            if ctx.summary is None:
                _record_crash(ctx, f"crashed: {exc!r}"[:500])
        finally:
            await asyncio.get_running_loop().run_in_executor(None, ctx.worker.close)
            if ctx.summary is not None:
                x = ctx.summary
                logger.info(
                    "run %d %s (%s): %d pages, %d stored, %d errors in %.1fs",
                    x.run_id, x.status, x.stop_reason, x.pages, x.items, x.errors, x.seconds,
                )  # fmt: skip
            root.removeHandler(handler)
            handler.close()
        if ctx.summary is not None:
            summaries.append(ctx.summary)

    async def main() -> None:
        try:
            for job in jobs:
                if stop.requested:
                    break
                await crawl_one(job)
        finally:
            if reactor.running:
                reactor.stop()

    def begin() -> None:
        from scrapy.utils.defer import deferred_from_coro

        stop.install()
        deferred_from_coro(main())

    reactor.callWhenRunning(begin)
    try:
        process.start(stop_after_crawl=False, install_signal_handlers=False)
    finally:
        if console is not None:
            root.removeHandler(console)
    # A forced stop leaves the reactor before the runs could record their end.
    for ctx in started:
        if ctx.summary is None:
            reason = "stopped at once (second signal)" if stop.forced else "crawl ended without closing"
            _record_crash(ctx, reason)
            summaries.append(ctx.summary)  # type: ignore[arg-type]
    return summaries


def _record_crash(ctx: RunContext, reason: str) -> None:
    try:
        finish_run(ctx.db, ctx.run_id, "failed", reason)
    except Exception:
        logger.exception("could not record the end of run %d", ctx.run_id)
    ctx.summary = RunSummary(
        source=ctx.source.name, run_id=ctx.run_id, status="failed", stop_reason=reason, log_path=ctx.log_path
    )

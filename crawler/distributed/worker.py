"""A crawl worker process: serves the runs queued in Redis, one Scrapy crawler per run.

Every half second the worker beats its ``alive`` key, reaps dead workers' ledgers (every few
seconds) and starts a crawler for each active run it serves and is not crawling yet. A crawler
closes when its run is drained; a crawler that stops for another reason (the database or Redis
went away, say) is restarted after a growing back-off. ``adwatch crawl --worker`` serves until
stopped; ``adwatch crawl SOURCE`` with Redis serves only the run it seeded and returns when it is
drained.

Stopping: the first SIGTERM/SIGINT stops every crawler gracefully (pages in flight are stored),
and the worker puts what it had not finished back into the queues; a second one stops at once
(the reaper requeues its ledger once its ``alive`` key expires).
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from pathlib import Path
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import select

from adwatch.db import Database
from adwatch.models import CrawlRun
from adwatch.settings import Settings
from crawler.context import RunContext, RunSummary
from crawler.distributed.connection import connect_redis
from crawler.distributed.frontier import Frontier
from crawler.distributed.scrapy_parts import Backoff
from crawler.pipeline_worker import make_worker, until_ready
from crawler.runner import LOG_FORMAT, _Stop
from crawler.source_store import get_source, source_def

logger = logging.getLogger(__name__)

LOOP_SECONDS = 0.5
REAP_SECONDS = 5.0


class Worker:
    """The state of one worker process; :meth:`main` runs inside Scrapy's reactor."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        frontier: Frontier,
        process: Any,
        sources: set[str] | None = None,
        only_run: int | None = None,
        log_path: str = "",
        progress: bool = False,
    ) -> None:
        self.db = db
        self.settings = settings
        self.frontier = frontier
        self.process = process
        self.sources = sources
        self.only_run = only_run
        self.log_path = log_path
        self.progress = progress
        self.tasks: dict[int, asyncio.Future[Any]] = {}
        self.finished: set[int] = set()  # runs this worker saw drained: never restarted
        self.retry: dict[int, Backoff] = {}
        self.summaries: dict[int, RunSummary] = {}
        self.stop: _Stop | None = None

    def serves(self, run_id: int, source: str) -> bool:
        if self.only_run is not None:
            return run_id == self.only_run
        return self.sources is None or source in self.sources

    def context(self, run_id: int, source: str) -> RunContext:
        with self.db.session() as s:
            row = get_source(s, source)
            return RunContext(
                settings=self.settings,
                db=self.db,
                source=source_def(row),
                source_id=row.id,
                run_id=run_id,
                log_path=self.log_path,
                progress=self.progress,
                frontier=self.frontier,
            )

    async def crawl_run(self, run_id: int, source: str) -> None:
        from scrapy.crawler import Crawler

        from crawler.scrapy_settings import distributed_settings
        from crawler.spiders import SPIDERS

        ctx: RunContext | None = None
        try:
            ctx = await asyncio.get_running_loop().run_in_executor(None, self.context, run_id, source)
            logger.info("run %d: serving source %r (%s)", run_id, source, ctx.source.kind)
            ctx.worker = make_worker(self.settings, self.db, ctx.log_path)
            ctx.worker_ready = ctx.worker.warm_up()
            crawler = Crawler(
                SPIDERS[ctx.source.kind], distributed_settings(self.settings, ctx.source, run_id)
            )
            await until_ready(ctx.worker_ready)
            await self.process.crawl(crawler, ctx=ctx)
        except Exception:
            logger.exception("run %d: crawler crashed", run_id)
        finally:
            if ctx is not None and ctx.worker is not None:
                await asyncio.get_running_loop().run_in_executor(None, ctx.worker.close)
        summary = ctx.summary if ctx is not None else None
        if summary is not None:
            self.summaries[run_id] = summary
            logger.info(
                "run %d: this worker's crawler ended %s (%s); run totals so far: %d pages, %d stored",
                run_id, summary.status, summary.stop_reason, summary.pages, summary.items,
            )  # fmt: skip
        if summary is not None and summary.status == "finished":
            self.finished.add(run_id)
            self.retry.pop(run_id, None)
        elif not (self.stop and self.stop.requested):
            wait = self.retry.setdefault(run_id, Backoff(first=2.0, most=60.0)).failed()
            logger.warning("run %d: will serve it again in %.0fs", run_id, wait)

    def tick(self) -> dict[int, str]:
        """Beat, reap, and list the runs to serve (Redis calls; may raise RedisError)."""
        self.frontier.beat()
        now = time.monotonic()
        if now - getattr(self, "_last_reap", 0.0) >= REAP_SECONDS:
            self._last_reap = now
            for worker, n in self.frontier.reap().items():
                logger.warning(
                    "worker %s stopped beating: %d unfinished request(s) put back in the queue", worker, n
                )
        return self.frontier.active_runs()

    async def main(self) -> None:
        backoff = Backoff(first=1.0)
        try:
            while not (self.stop and self.stop.requested):
                try:
                    runs = self.tick()
                    backoff.ok()
                except RedisError as exc:
                    wait = backoff.failed()
                    logger.warning("Redis unavailable (%s); retrying in %.1fs", exc, wait)
                    await asyncio.sleep(wait)
                    continue
                for run_id in [r for r, task in self.tasks.items() if task.done()]:
                    del self.tasks[run_id]
                for run_id, source in runs.items():
                    if run_id in self.tasks or run_id in self.finished or not self.serves(run_id, source):
                        continue
                    if run_id in self.retry and self.retry[run_id].waiting:
                        continue
                    self.tasks[run_id] = asyncio.ensure_future(self.crawl_run(run_id, source))
                if self.only_run is not None and self.only_run not in runs and not self.tasks:
                    break  # our run is drained (or was dropped)
                await asyncio.sleep(LOOP_SECONDS)
        finally:
            if self.tasks:
                await self.process.stop()
                await asyncio.gather(*self.tasks.values(), return_exceptions=True)
            try:
                n = self.frontier.release()
                if n:
                    logger.info("put %d unfinished request(s) back in the queue", n)
            except RedisError as exc:
                logger.warning("could not hand back unfinished requests (%s); the reaper will", exc)


def run_summary(db: Database, run_id: int, source: str, log_path: str) -> RunSummary:
    """A run's summary as the database has it (whichever worker recorded its end)."""
    with db.session() as s:
        run = s.scalar(select(CrawlRun).where(CrawlRun.id == run_id))
    if run is None:
        return RunSummary(source=source, run_id=run_id, status="failed", stop_reason="run not found")
    stats = run.stats or {}
    end = run.ended_at or run.heartbeat_at or run.started_at
    return RunSummary(
        source=source,
        run_id=run_id,
        status=run.status,
        stop_reason=run.stop_reason or "",
        pages=run.pages,
        items=run.items,
        new_items=int(stats.get("adwatch/items_new", 0)),
        without_text=int(stats.get("adwatch/items_without_text", 0)),
        errors=run.errors,
        bytes=run.bytes,
        seconds=(end - run.started_at).total_seconds(),
        log_path=log_path,
        labels={k.rsplit("/", 1)[1]: int(v) for k, v in stats.items() if k.startswith("adwatch/labels/")},
    )


def run_worker(
    db: Database,
    settings: Settings,
    sources: set[str] | None = None,
    only_run: int | None = None,
    frontier: Frontier | None = None,
    log_path: str | None = None,
    progress: bool = False,
    log_to_stderr: bool = False,
) -> Worker:
    """Serve runs from Redis in this process until stopped (or, with ``only_run``, until that run
    is drained). Returns the worker with what it did (``summaries``)."""
    from scrapy.crawler import AsyncCrawlerProcess
    from scrapy.utils.defer import deferred_from_coro

    from crawler.scrapy_settings import base_settings

    settings.ensure_dirs()
    frontier = frontier or Frontier(connect_redis(settings))
    path = log_path or str(settings.logs_dir / f"worker-{frontier.worker_id.replace(':', '-')}.log")
    process = AsyncCrawlerProcess(base_settings())
    from twisted.internet import reactor

    root = logging.getLogger()
    root.setLevel(logging.INFO)
    logging.getLogger("scrapy").setLevel(logging.INFO)
    handlers: list[logging.Handler] = [logging.FileHandler(Path(path), encoding="utf-8")]
    if log_to_stderr:
        handlers.append(logging.StreamHandler(sys.stderr))
    for handler in handlers:
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        root.addHandler(handler)
    worker = Worker(db, settings, frontier, process, sources, only_run, path, progress)
    worker.stop = _Stop(process)
    logger.info("worker %s started (Redis %s)", frontier.worker_id, settings.redis_url_safe)

    async def main() -> None:
        try:
            await worker.main()
        finally:
            if reactor.running:
                reactor.stop()

    def begin() -> None:
        assert worker.stop is not None
        worker.stop.install()
        deferred_from_coro(main())

    reactor.callWhenRunning(begin)
    try:
        process.start(stop_after_crawl=False, install_signal_handlers=False)
    finally:
        for handler in handlers:
            root.removeHandler(handler)
            handler.close()
    return worker

"""Scrapy extensions that tie a crawl to its CrawlRun row and show its progress.

RunTracker beats the run's heartbeat (with live counts) every ``run_heartbeat_seconds``, and
records how the crawl ended: status, Scrapy's finish reason, Scrapy's stats. Progress draws one
live line (pages, items, errors, rate) on a terminal.
"""

from __future__ import annotations

import datetime as dt
import logging
import resource
import time
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.utils.defer import deferred_from_coro
from twisted.internet import threads
from twisted.internet.task import LoopingCall

from crawler.context import ERRORS, NEW_ITEMS, REPLAYED, SKIPPED, RunContext, RunSummary, counts_from_stats
from crawler.middlewares import MAX_PAGES_REASON, REPLAYED_BYTES
from crawler.runs import RunCounts, beat, finish_run

logger = logging.getLogger(__name__)

FINISHED_REASONS = {"finished", MAX_PAGES_REASON}
CANCELLED_REASONS = {"shutdown", "cancelled"}
REAPED_REASON = "reaped: heartbeat was missed and the run was marked failed"


def run_status(reason: str) -> str:
    if reason in FINISHED_REASONS or reason.startswith("closespider_"):
        return "finished"
    if reason in CANCELLED_REASONS:
        return "cancelled"
    return "failed"


def json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)


def run_counts(stats: dict[str, Any]) -> RunCounts:
    counts = counts_from_stats(stats)
    counts.bytes = max(0, counts.bytes - int(stats.get(REPLAYED_BYTES, 0)))
    return counts


class RunTracker:
    def __init__(self, crawler: Crawler, ctx: RunContext) -> None:
        self.crawler = crawler
        self.ctx = ctx
        self.started = time.monotonic()
        self.heartbeat: LoopingCall | None = None
        self.cpu_at_open = 0.0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunTracker:
        assert crawler.spider is not None
        ext = cls(crawler, crawler.spider.ctx)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.spider_error, signal=signals.spider_error)
        return ext

    def spider_opened(self) -> None:
        self.started = time.monotonic()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        self.cpu_at_open = usage.ru_utime + usage.ru_stime
        self.heartbeat = LoopingCall(self._beat)
        self.heartbeat.start(self.ctx.settings.run_heartbeat_seconds, now=False)

    def _beat(self) -> Any:
        counts = run_counts(self.crawler.stats.get_stats())
        d = threads.deferToThread(beat, self.ctx.db, self.ctx.run_id, counts)
        d.addCallbacks(self._after_beat, lambda f: logger.warning("heartbeat not recorded: %s", f.value))
        return None  # never hold the LoopingCall on a slow database

    def _after_beat(self, alive: bool) -> None:
        if not alive and self.crawler.engine.running:
            logger.error("run %d is no longer 'running' in the database; stopping", self.ctx.run_id)
            deferred_from_coro(self.crawler.engine.close_spider_async(reason=REAPED_REASON))

    def spider_error(self, failure: Any, response: Any, spider: Any) -> None:
        stats = self.crawler.stats
        stats.inc_value(ERRORS)
        stats.inc_value(f"{ERRORS}/spider_exception")
        url = getattr(response, "url", "?")
        self.ctx.note_error(f"{url}: processing failed: {failure.value!r}")

    def spider_closed(self, reason: str) -> None:
        if self.heartbeat is not None and self.heartbeat.running:
            self.heartbeat.stop()
        # CPU used by this process and by the pipeline workers (joined by now): for benchmarks.
        mine = resource.getrusage(resource.RUSAGE_SELF)
        workers = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.crawler.stats.set_value(
            "adwatch/cpu_seconds", round(mine.ru_utime + mine.ru_stime - self.cpu_at_open, 3)
        )
        self.crawler.stats.set_value(
            "adwatch/worker_cpu_seconds", round(workers.ru_utime + workers.ru_stime, 3)
        )
        raw = self.crawler.stats.get_stats()
        counts = run_counts(raw)
        status = run_status(reason)
        if reason == REAPED_REASON:
            status = "failed"
        try:
            finish_run(self.ctx.db, self.ctx.run_id, status, reason, counts, json_safe(raw))
        except Exception:
            logger.exception("could not record the end of run %d", self.ctx.run_id)
        labels = {k.rsplit("/", 1)[1]: int(v) for k, v in raw.items() if k.startswith("adwatch/labels/")}
        self.ctx.summary = RunSummary(
            source=self.ctx.source.name,
            run_id=self.ctx.run_id,
            status=status,
            stop_reason=reason,
            pages=counts.pages,
            items=counts.items,
            new_items=int(raw.get(NEW_ITEMS, 0)),
            without_text=int(raw.get(SKIPPED, 0)),
            errors=counts.errors,
            bytes=counts.bytes,
            replayed=int(raw.get(REPLAYED, 0)),
            seconds=time.monotonic() - self.started,
            log_path=self.ctx.log_path,
            error_samples=list(self.ctx.error_samples),
            labels=labels,
        )


class Progress:
    """One live status line on stderr while crawling (only when stderr is a terminal)."""

    def __init__(self, crawler: Crawler, ctx: RunContext) -> None:
        from rich.console import Console

        self.crawler = crawler
        self.ctx = ctx
        self.console = Console(stderr=True)
        self.live: Any = None
        self.loop: LoopingCall | None = None
        self.started = time.monotonic()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        from scrapy.exceptions import NotConfigured

        assert crawler.spider is not None
        ctx: RunContext = crawler.spider.ctx
        if not ctx.progress:
            raise NotConfigured("progress display is off")
        ext = cls(crawler, ctx)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def line(self) -> str:
        stats = self.crawler.stats.get_stats()
        counts = run_counts(stats)
        elapsed = max(time.monotonic() - self.started, 1e-6)
        replayed = int(stats.get(REPLAYED, 0))
        extra = f"  resumed {replayed}" if replayed else ""
        return (
            f"[bold]{self.ctx.source.name}[/] run {self.ctx.run_id}  pages {counts.pages}  "
            f"items {counts.items}  errors {counts.errors}{extra}  "
            f"{counts.pages / elapsed:.1f} pages/s  {int(elapsed)}s"
        )

    def spider_opened(self) -> None:
        from rich.live import Live

        self.started = time.monotonic()
        self.live = Live(self.line(), console=self.console, refresh_per_second=4, transient=True)
        self.live.start()
        self.loop = LoopingCall(lambda: self.live.update(self.line()))
        self.loop.start(0.5, now=False)

    def spider_closed(self) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        if self.live is not None:
            self.live.stop()

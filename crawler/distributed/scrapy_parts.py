"""Thin Scrapy adapters over :mod:`crawler.distributed.frontier`, one Scrapy crawler per run.

* :class:`LedgerScheduler` — scrapy-redis's scheduler (persisted: a worker leaving never clears
  the shared queue) that pops through the ledger and marks a request finished once Scrapy's
  engine has let go of it (downloaded, parsed, its page stored, its links queued). Redis going
  away is survived: requests that cannot be queued wait in memory, pops pause with back-off.
* :class:`LedgerQueue` — scrapy-redis's PriorityQueue with the JSON codec and the ledger pop.
* :class:`RunDupeFilter` — scrapy-redis's dupefilter keyed per run, on Scrapy's own request
  fingerprint plus the render mode (a browser fetch and a static fetch of a URL differ).
* :class:`SharedBudget` — the page budget (``max_pages``) counted in Redis across workers.
* :class:`DistributedRunTracker` — heartbeats the shared CrawlRun, keeps the spider open while
  other workers may still add work, and records the run's end once, by whoever sees it drained.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError
from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.misc import load_object
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler
from twisted.internet import threads
from twisted.internet.task import LoopingCall

from crawler.context import BYTES, ERRORS, NEW_ITEMS, OVER_BUDGET, REPLAYED, SKIPPED, RunContext, RunSummary
from crawler.distributed import codec
from crawler.distributed.frontier import Frontier
from crawler.extensions import REAPED_REASON, json_safe
from crawler.middlewares import BUDGETED, MAX_PAGES_REASON, OverBudget
from crawler.runs import RunCounts, beat, finish_run

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.5  # how often an idle worker looks for work other workers queued
MAX_BACKOFF = 30.0
DRAINED = "finished"


def render_mode(request: Request) -> str:
    return "browser" if request.meta.get("playwright") else "static"


def request_fingerprint(request: Request, fingerprinter: Any) -> str:
    """Scrapy's request fingerprint plus the render mode."""
    return f"{fingerprinter.fingerprint(request).hex()}:{render_mode(request)}"


def shared_counts(stats: dict[str, Any]) -> dict[str, int]:
    """The stats every worker adds to the run's totals in Redis."""
    return {
        k: int(v)
        for k, v in stats.items()
        if (k.startswith("adwatch/") or k == BYTES) and isinstance(v, int) and not isinstance(v, bool)
    }


def run_counts_of(totals: dict[str, int]) -> RunCounts:
    from crawler.context import ITEMS, PAGES

    return RunCounts(
        pages=totals.get(PAGES, 0),
        items=totals.get(ITEMS, 0),
        errors=totals.get(ERRORS, 0),
        bytes=totals.get(BYTES, 0),
    )


@dataclass
class Flush:
    """Finished ledger entries and the counts they added, sent to Redis as one named batch."""

    name: str
    finished: list[bytes]
    counts: dict[int, dict[str, int]]


class Backoff:
    """Doubling waits after failures, reset by a success."""

    def __init__(self, first: float = 0.5, most: float = MAX_BACKOFF) -> None:
        self.first, self.most = first, most
        self.wait = 0.0
        self.until = 0.0

    def failed(self) -> float:
        self.wait = min(self.most, self.wait * 2 if self.wait else self.first)
        self.until = time.monotonic() + self.wait
        return self.wait

    def ok(self) -> None:
        self.wait = 0.0
        self.until = 0.0

    @property
    def waiting(self) -> bool:
        return time.monotonic() < self.until


def frontier_of(crawler: Crawler) -> Frontier:
    return crawler.spider.ctx.frontier  # type: ignore[union-attr]


class RunDupeFilter(RFPDupeFilter):
    def __init__(self, server: Any, key: str, fingerprinter: Any, debug: bool = False) -> None:
        super().__init__(server, key, debug)
        self.fingerprinter = fingerprinter

    @classmethod
    def from_spider(cls, spider: Spider) -> RunDupeFilter:
        crawler = spider.crawler
        return cls(
            frontier_of(crawler).redis,
            crawler.settings["SCHEDULER_DUPEFILTER_KEY"],
            crawler.request_fingerprinter,
            crawler.settings.getbool("DUPEFILTER_DEBUG"),
        )

    def request_fingerprint(self, request: Request) -> str:
        return request_fingerprint(request, self.fingerprinter)

    def close(self, reason: str = "") -> None:
        """Never clear the shared set: other workers are still using it."""


class LedgerQueue(PriorityQueue):
    def _encode_request(self, request: Request) -> bytes:
        return codec.encode_request(request, self.spider)

    def _decode_request(self, encoded_request: bytes) -> Request:
        return codec.decode_request(encoded_request, self.spider)

    def pop_raw(self) -> bytes | None:
        return frontier_of(self.spider.crawler).pop(self.spider.ctx.run_id)


class LedgerScheduler(Scheduler):
    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LedgerScheduler:
        s = crawler.settings
        scheduler = cls(
            server=frontier_of(crawler).redis,
            persist=True,
            queue_key=s["SCHEDULER_QUEUE_KEY"],
            queue_cls=s["SCHEDULER_QUEUE_CLASS"],
            dupefilter_key=s["SCHEDULER_DUPEFILTER_KEY"],
            dupefilter_cls=s["DUPEFILTER_CLASS"],
            serializer=codec,
        )
        scheduler.stats = crawler.stats
        scheduler.crawler = crawler
        return scheduler

    def open(self, spider: Spider) -> None:
        self.spider = spider
        self.queue = load_object(self.queue_cls)(
            server=self.server, spider=spider, key=self.queue_key, serializer=self.serializer
        )
        self.df = load_object(self.dupefilter_cls).from_spider(spider)
        self.ctx: RunContext = spider.ctx  # type: ignore[attr-defined]
        self.frontier = frontier_of(self.crawler)
        self.popped: dict[Request, bytes] = {}  # requests this worker holds, with their ledger entry
        self.finished: list[bytes] = []  # ledger entries to clear at the next flush
        self.unsent: list[Request] = []  # requests Redis could not take yet
        self.pop_unanswered = False  # a pop failed: Redis may still have run it (see _reclaim)
        self.flushed_counts: dict[str, int] = {}
        self.flush: Flush | None = None  # a flush Redis has not acknowledged yet
        self.backoff = Backoff()
        self.poll = LoopingCall(self._wake)
        self.poll.start(POLL_SECONDS, now=False)

    def _wake(self) -> None:
        """Let the engine ask for work again: other workers may have queued some."""
        self.sweep()
        slot = getattr(self.crawler.engine, "_slot", None)
        if slot is not None:
            slot.nextcall.schedule()

    def close(self, reason: str) -> None:
        if self.poll.running:
            self.poll.stop()
        self.sweep(final=True)
        if self.unsent or self.popped:
            logger.warning(
                "run %d: %d request(s) unsent and %d unfinished at close; they stay in the ledger "
                "and are requeued when this worker exits",
                self.ctx.run_id,
                len(self.unsent),
                len(self.popped),
            )

    # -- redis, with back-off ----------------------------------------------------------------

    def _redis_failed(self, exc: Exception, doing: str) -> None:
        wait = self.backoff.failed()
        logger.warning(
            "run %d: Redis unavailable while %s (%s); retrying in %.1fs", self.ctx.run_id, doing, exc, wait
        )

    def enqueue_request(self, request: Request) -> bool:
        if self.unsent or self.backoff.waiting:
            self.unsent.append(request)
            return True
        try:
            if not request.dont_filter and self.df.request_seen(request):
                self.df.log(request, self.spider)
                return False
            self.queue.push(request)
            self.crawler.stats.inc_value("scheduler/enqueued/redis")
            return True
        except codec.CodecError as exc:
            logger.error("run %d: request not queued: %s (%s)", self.ctx.run_id, exc, request.url)
            self.crawler.stats.inc_value(ERRORS)
            self.crawler.stats.inc_value(f"{ERRORS}/unqueueable_request")
            return False
        except RedisError as exc:
            self._redis_failed(exc, "queueing a request")
            self.unsent.append(request)
            return True

    def _flush_unsent(self) -> None:
        while self.unsent:
            self.queue.push(self.unsent[0])  # its fingerprint was checked (or could not be): push
            self.unsent.pop(0)

    def sweep(self, final: bool = False) -> None:
        """Clear finished requests from the ledger, with the counts they added to the run.

        A flush that fails is retried as it was, under its name, before anything newer: Redis
        may have applied it and lost only the reply, and the name makes the retry a no-op then.
        """
        if self.backoff.waiting and not final:
            return
        if self.flush is None:
            in_progress = getattr(getattr(self.crawler.engine, "_slot", None), "inprogress", None)
            for request in list(self.popped):
                # The engine holds a request from its download until its page is stored and its
                # links are queued; once it lets go, the request is finished.
                if in_progress is None or request not in in_progress:
                    self.finished.append(self.popped.pop(request))
            stats = shared_counts(self.crawler.stats.get_stats())
            deltas = {k: v - self.flushed_counts.get(k, 0) for k, v in stats.items()}
            if not self.finished and not self.unsent and not any(deltas.values()):
                return
            self.flush = Flush(uuid.uuid4().hex, self.finished, {self.ctx.run_id: deltas})
            self.finished = []
            self.flushed_counts = stats
        try:
            self._flush_unsent()  # children first: a parent leaves the ledger after its links are queued
            self.frontier.done(self.flush.finished, self.flush.counts, batch=self.flush.name)
        except RedisError as exc:
            self._redis_failed(exc, "recording finished requests")
            return
        self.backoff.ok()
        self.flush = None

    def _reclaim(self) -> bool:
        """After a failed pop, requeue what Redis popped into the ledger without telling us."""
        held = [*self.popped.values(), *self.finished, *(self.flush.finished if self.flush else [])]
        try:
            n = self.frontier.requeue_unheld(held)
        except RedisError as exc:
            self._redis_failed(exc, "checking the ledger after a lost reply")
            return False
        self.pop_unanswered = False
        if n:
            logger.warning(
                "run %d: %d request(s) popped while Redis was not answering went back to the queue",
                self.ctx.run_id,
                n,
            )
        return True

    def next_request(self) -> Request | None:
        self.sweep()
        if self.backoff.waiting:
            return None
        if self.pop_unanswered and not self._reclaim():
            return None
        while True:
            try:
                raw = self.queue.pop_raw()
            except RedisError as exc:
                self.pop_unanswered = True
                self._redis_failed(exc, "taking a request")
                return None
            if raw is None:
                return None
            try:
                request = self.queue._decode_request(raw)
            except codec.CodecError as exc:
                logger.error("run %d: dropped a queued request: %s", self.ctx.run_id, exc)
                self.crawler.stats.inc_value(ERRORS)
                self.crawler.stats.inc_value(f"{ERRORS}/bad_queued_request")
                self.finished.append(raw)
                continue
            self.popped[request] = raw
            self.crawler.stats.inc_value("scheduler/dequeued/redis")
            return request

    def has_pending_requests(self) -> bool:
        self.sweep()
        if self.unsent or self.backoff.waiting or self.pop_unanswered:
            return True
        try:
            return len(self.queue) > 0
        except RedisError as exc:
            self._redis_failed(exc, "counting queued requests")
            return True


class SharedBudget:
    """``max_pages`` across every worker: a page request goes out only if the run's shared
    budget (a Redis set of fingerprints, so a requeued request is not counted twice) has room."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.ctx: RunContext = crawler.spider.ctx  # type: ignore[union-attr]
        self.frontier = self.ctx.frontier

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedBudget:
        return cls(crawler)

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        meta = request.meta
        if meta.get("adwatch_role") != "page" or meta.get(BUDGETED):
            return
        fp = request_fingerprint(request, self.crawler.request_fingerprinter)
        try:
            allowed = self.frontier.take_budget(self.ctx.run_id, fp, self.ctx.source.max_pages)
        except RedisError as exc:  # fetch it: a page too many beats a page lost
            logger.warning("page budget not checked (Redis unavailable: %s): %s", exc, request.url)
            allowed = True
        if not allowed:
            self.crawler.stats.inc_value(OVER_BUDGET)
            raise OverBudget(f"max_pages ({self.ctx.source.max_pages}) reached")
        meta[BUDGETED] = True


class DistributedRunTracker:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.ctx: RunContext = crawler.spider.ctx  # type: ignore[union-attr]
        self.frontier = self.ctx.frontier
        self.started = time.monotonic()
        self.heartbeat: LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DistributedRunTracker:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.spider_error, signal=signals.spider_error)
        return ext

    def spider_opened(self) -> None:
        self.started = time.monotonic()
        self.heartbeat = LoopingCall(self._beat)
        self.heartbeat.start(self.ctx.settings.run_heartbeat_seconds, now=True)

    def _beat(self) -> None:
        def work() -> bool:
            counts = run_counts_of(self.frontier.counts(self.ctx.run_id))
            return beat(self.ctx.db, self.ctx.run_id, counts)

        d = threads.deferToThread(work)
        d.addCallbacks(self._after_beat, lambda f: logger.warning("run heartbeat not recorded: %s", f.value))

    def _after_beat(self, alive: bool) -> None:
        if not alive and self.crawler.engine.running:
            logger.error("run %d is no longer 'running' in the database; dropping it", self.ctx.run_id)
            with contextlib.suppress(RedisError):
                self.frontier.forget_run(self.ctx.run_id)
            deferred_from_coro(self.crawler.engine.close_spider_async(reason=REAPED_REASON))

    def spider_error(self, failure: Any, response: Any, spider: Any) -> None:
        stats = self.crawler.stats
        stats.inc_value(ERRORS)
        stats.inc_value(f"{ERRORS}/spider_exception")
        self.ctx.note_error(f"{getattr(response, 'url', '?')}: processing failed: {failure.value!r}")

    def spider_idle(self) -> None:
        """Idle here is not the end: other workers may still queue links. Close only when drained."""
        try:
            drained = self.frontier.drained(self.ctx.run_id)
        except RedisError:
            drained = False
        if not drained:
            raise DontCloseSpider

    def spider_closed(self, reason: str) -> None:
        if self.heartbeat is not None and self.heartbeat.running:
            self.heartbeat.stop()
        status = "finished" if reason == DRAINED else ("failed" if reason == REAPED_REASON else "cancelled")
        totals: dict[str, int] = {}
        stop_reason = reason
        try:
            totals = self.frontier.counts(self.ctx.run_id)
            if reason == DRAINED:
                if self.frontier.budget_spent(self.ctx.run_id) >= self.ctx.source.max_pages:
                    stop_reason = MAX_PAGES_REASON
                if self.frontier.claim_finish(self.ctx.run_id):
                    counts = run_counts_of(totals)
                    finish_run(
                        self.ctx.db, self.ctx.run_id, "finished", stop_reason, counts, json_safe(totals)
                    )
                    self.frontier.forget_run(self.ctx.run_id)
                    logger.info("run %d finished (%s): recorded by this worker", self.ctx.run_id, stop_reason)
        except Exception:
            logger.exception("could not record the end of run %d", self.ctx.run_id)
        counts = run_counts_of(totals)
        labels = {k.rsplit("/", 1)[1]: v for k, v in totals.items() if k.startswith("adwatch/labels/")}
        self.ctx.summary = RunSummary(
            source=self.ctx.source.name,
            run_id=self.ctx.run_id,
            status=status,
            stop_reason=stop_reason,
            pages=counts.pages,
            items=counts.items,
            new_items=totals.get(NEW_ITEMS, 0),
            without_text=totals.get(SKIPPED, 0),
            errors=counts.errors,
            bytes=counts.bytes,
            replayed=totals.get(REPLAYED, 0),
            seconds=time.monotonic() - self.started,
            log_path=self.ctx.log_path,
            error_samples=list(self.ctx.error_samples),
            labels=labels,
        )

"""The Scrapy item pipeline: a thin adapter handing FetchedPages to ``pipelines`` in batches.

Group commit: while the worker is busy, pages pile up; when a worker slot frees, everything
waiting (up to ``MAX_BATCH``) goes as one batch. The batch size follows the load, and a page waits
no longer than one batch's processing. Each item completes only when its page is stored, so
Scrapy's own back-pressure (the scraper's active-size limit) stops downloading when storage falls
behind, and a graceful stop (SIGTERM) flushes every page fetched before it ends.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures.process import BrokenProcessPool
from concurrent.futures.thread import BrokenThreadPool
from typing import Any

from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.utils.defer import deferred_from_coro

from crawler.context import ERRORS, ITEMS, NEW_ITEMS, SKIPPED, RunContext
from crawler.pipeline_worker import PipelineWorker, make_worker
from pipelines.page import FetchedPage

logger = logging.getLogger(__name__)

MAX_BATCH = 64
BrokenExecutor = (BrokenProcessPool, BrokenThreadPool)


class StorePages:
    def __init__(self, crawler: Crawler, ctx: RunContext) -> None:
        self.crawler = crawler
        self.ctx = ctx
        self.worker: PipelineWorker | None = None
        self.waiting: list[tuple[FetchedPage, asyncio.Future[Any]]] = []
        self.busy = 0
        self.failed = False
        self.owns_worker = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePages:
        spider: Spider | None = crawler.spider
        assert spider is not None
        return cls(crawler, spider.ctx)

    def open_spider(self) -> None:
        # The runner starts the worker before Scrapy sets up (a process takes a second or two
        # to import the pipeline); without a runner, start one here.
        if self.ctx.worker is None:
            self.ctx.worker = make_worker(self.ctx.settings, self.ctx.db, self.ctx.log_path)
            self.ctx.worker_ready = self.ctx.worker.warm_up()
            self.owns_worker = True
        self.worker = self.ctx.worker
        asyncio.wrap_future(self.ctx.worker_ready).add_done_callback(self._warmed_up)

    def _warmed_up(self, future: asyncio.Future[list[Any]]) -> None:
        if future.exception() is not None:
            self._broken(future.exception())

    def _broken(self, exc: BaseException | None) -> None:
        """The pipeline cannot run at all (say, its database is unreachable): stop the crawl
        rather than fetch pages that cannot be stored; the next run resumes from here."""
        if self.failed:
            return
        self.failed = True
        logger.error("the page pipeline cannot run: %r; stopping the crawl", exc)
        reason = f"pipeline_failed: {type(exc).__name__}: {exc}"[:300]
        if self.crawler.engine.spider is not None:
            deferred_from_coro(self.crawler.engine.close_spider_async(reason=reason))

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, FetchedPage):
            return item
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.waiting.append((item, done))
        self._dispatch()
        outcome = await done
        self._account(item, outcome)
        return item

    def _dispatch(self) -> None:
        assert self.worker is not None
        while self.waiting and self.busy < self.worker.slots:
            batch, self.waiting = self.waiting[:MAX_BATCH], self.waiting[MAX_BATCH:]
            self.busy += 1
            future = asyncio.wrap_future(self.worker.submit([page for page, _ in batch]))
            future.add_done_callback(lambda f, batch=batch: self._finished(f, batch))

    def _finished(
        self, future: asyncio.Future[list[Any]], batch: list[tuple[FetchedPage, asyncio.Future[Any]]]
    ) -> None:
        self.busy -= 1
        try:
            outcomes = future.result()
            if len(outcomes) != len(batch):
                raise RuntimeError(f"pipeline returned {len(outcomes)} outcomes for {len(batch)} pages")
        except BrokenExecutor as exc:  # the worker process died or could not start
            self._broken(exc)
            outcomes = [exc] * len(batch)
        except Exception as exc:  # a failing batch fails its pages, not the crawl
            logger.error("page pipeline failed on a batch of %d pages: %r", len(batch), exc, exc_info=exc)
            outcomes = [exc] * len(batch)
        for (_, done), outcome in zip(batch, outcomes, strict=True):
            if not done.done():
                done.set_result(outcome)
        self._dispatch()

    def _account(self, page: FetchedPage, outcome: Any) -> None:
        stats = self.crawler.stats
        error = outcome if isinstance(outcome, Exception) else getattr(outcome, "error", None)
        if error:
            stats.inc_value(ERRORS)
            stats.inc_value(f"{ERRORS}/pipeline")
            # The pipeline keeps the raw capture of a page it could not process; say which it was.
            kept = "raw page kept" if getattr(outcome, "capture_id", None) else "not stored"
            self.ctx.note_error(f"{page.url}: {kept}: {error}")
            logger.warning("error [pipeline] %s: %s: %s", page.url, kept, error)
            return
        stats.inc_value(ITEMS)
        skipped = getattr(outcome, "skipped", None)
        if skipped:
            stats.inc_value(SKIPPED)
            logger.info("stored without text: %s (%s)", page.url, skipped)
        if getattr(outcome, "new", False):
            stats.inc_value(NEW_ITEMS)
        for label in getattr(outcome, "labels", None) or ():
            stats.inc_value(f"adwatch/labels/{label}")

    async def close_spider(self) -> None:
        # Scrapy closes pipelines after every in-progress request (and so every item) is done;
        # this only has to release a worker it started itself.
        if self.owns_worker and self.worker is not None:
            worker, self.worker = self.worker, None
            await asyncio.get_running_loop().run_in_executor(None, worker.close)

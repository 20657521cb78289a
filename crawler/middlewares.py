"""The crawl frontier's downloader middleware: the page budget, and resuming from the store.

Budget: a source's ``max_pages`` bounds the page requests that go out (not the responses that
come back), so a crawl never fetches more than that, however many requests are in flight; the
spider is closed with reason ``max_pages`` once the last budgeted request is done.

Resume: when a run continues an interrupted one, a page already stored by that run is not
fetched again: its stored capture is handed to the spider as the response (flagged
``adwatch_replayed``), the spider follows its links as if it had just been fetched, and nothing is
stored twice. So a crawl killed at any point — SIGTERM or SIGKILL — rebuilds its frontier from the
database, the one place that survives the kill.
"""

from __future__ import annotations

import contextlib
import logging
import zlib
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes
from scrapy.utils.defer import deferred_from_coro
from sqlalchemy import select

from adwatch.models import Capture
from crawler.context import OVER_BUDGET, RunContext
from pipelines.store import decompress_body

logger = logging.getLogger(__name__)

REPLAYED_FLAG = "adwatch_replayed"
REPLAYED_BYTES = "adwatch/replayed_bytes"
BUDGETED = "adwatch_budgeted"
MAX_PAGES_REASON = "max_pages"


class OverBudget(IgnoreRequest):
    """The source's max_pages is spent; the request is dropped quietly."""


def stored_response(ctx: RunContext, capture_id: int, request: Request) -> Response | None:
    """A capture read back as a Scrapy response to the request that would have fetched it."""
    with ctx.db.session() as s:
        row = s.execute(
            select(Capture.final_url, Capture.status, Capture.headers, Capture.body).where(
                Capture.id == capture_id
            )
        ).one_or_none()
    if row is None:
        return None
    final_url, status, headers, body = row
    with contextlib.suppress(zlib.error):  # else it was stored uncompressed
        body = decompress_body(body)
    headers = {
        k: v for k, v in (headers or {}).items() if k.lower() not in ("content-encoding", "content-length")
    }
    scrapy_headers = Headers(headers)
    cls = responsetypes.from_args(headers=scrapy_headers, url=final_url, body=body)
    return cls(
        url=final_url,
        status=status,
        headers=scrapy_headers,
        body=body,
        request=request,
        flags=[REPLAYED_FLAG],
    )


class FrontierMiddleware:
    def __init__(self, crawler: Crawler, ctx: RunContext) -> None:
        self.crawler = crawler
        self.ctx = ctx
        self.max_pages = ctx.source.max_pages
        self.budgeted = 0
        self.done = 0
        self.closing = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FrontierMiddleware:
        spider = crawler.spider
        assert spider is not None
        mw = cls(crawler, spider.ctx)
        crawler.signals.connect(mw.spider_closed, signal=signals.spider_closed)
        return mw

    def spider_closed(self) -> None:
        self.closing = True

    def process_request(self, request: Request, spider: Spider | None = None) -> Response | None:
        meta = request.meta
        if meta.get("adwatch_role") != "page":
            return None
        if not meta.get(BUDGETED):
            if self.budgeted >= self.max_pages:
                self.crawler.stats.inc_value(OVER_BUDGET)
                raise OverBudget(f"max_pages ({self.max_pages}) reached")
            self.budgeted += 1
            meta[BUDGETED] = True
            if self.budgeted == self.max_pages:
                logger.info("max_pages (%d) reached: no new pages will be requested", self.max_pages)
        capture_id = self.ctx.replay.pop(request.url, None)
        if capture_id is not None:
            response = stored_response(self.ctx, capture_id, request)
            if response is not None:
                self.crawler.stats.inc_value(REPLAYED_BYTES, len(response.body))
                return response
        return None

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Response:
        self._done(request)
        return response

    def process_exception(self, request: Request, exception: Exception, spider: Spider | None = None) -> Any:
        self._done(request)
        return None

    def _done(self, request: Request) -> None:
        if not request.meta.get(BUDGETED):
            return
        self.done += 1
        if self.done >= self.max_pages and not self.closing:
            self.closing = True
            deferred_from_coro(self.crawler.engine.close_spider_async(reason=MAX_PAGES_REASON))

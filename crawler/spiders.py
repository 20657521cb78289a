"""The config-driven spiders: one per source kind, none per site.

Each spider reads everything from its SourceDef: entry URLs, allowed domains, follow rules, depth
limit, render mode. A page response becomes a :class:`pipelines.page.FetchedPage` item (the item
pipeline stores it); links are followed by the source's rules. Navigation documents (sitemaps,
feeds) are read for their links and not stored. Every failure is logged with its URL and counted
on the run, and the crawl goes on.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.linkextractors import IGNORED_EXTENSIONS
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots
from twisted.python.failure import Failure

from adwatch.timeutil import utcnow
from crawler import browser
from crawler.context import ERRORS, PAGES, REPLAYED, ROBOTS_DENIED, RunContext
from crawler.middlewares import REPLAYED_FLAG, OverBudget
from crawler.selectors import select_fields
from crawler.sources import FollowRules
from pipelines.page import FetchedPage

logger = logging.getLogger(__name__)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SCREENSHOTS = "adwatch/screenshots"
MAX_REMEMBERED_URLS = 500_000
ROLE = "adwatch_role"  # "page" (stored, counts toward max_pages) or "nav" (sitemap, feed)
DEPTH = "adwatch_depth"  # link hops from the entry page


def _header_dict(headers: Any) -> dict[str, str]:
    """Scrapy headers as {lower-case name: values joined by ", "}; bytes read as Latin-1 (lossless)."""
    out: dict[str, str] = {}
    for name, values in headers.items():
        key = name.decode("latin-1").lower()
        out[key] = ", ".join(v.decode("latin-1") for v in values)
    return out


def fetched_page(response: Response, ctx: RunContext) -> FetchedPage:
    """The hand-over object for one page response."""
    request = response.request
    assert request is not None
    redirects = request.meta.get("redirect_urls") or []
    headers = _header_dict(response.headers)
    body = response.body
    render = "browser" if "playwright" in response.flags else "static"
    screenshot = None
    if render == "browser" and isinstance(response, TextResponse):
        # The body is the rendered DOM; store it as UTF-8 and say so in the header that travels
        # with it, keeping what the server declared.
        body = response.text.encode("utf-8")
        original = headers.get("content-type", "")
        if original:
            headers["x-adwatch-original-content-type"] = original
        headers["content-type"] = "text/html; charset=utf-8"
        screenshot = browser.screenshot_of(request)
    fields: dict[str, str] = {}
    if ctx.source.selectors is not None and isinstance(response, TextResponse):
        try:
            fields = select_fields(response.text, ctx.source.selectors)
        except Exception as exc:  # hostile markup: the default extractor still runs
            logger.warning("selectors failed on %s: %s", response.url, exc)
    return FetchedPage(
        url=redirects[0] if redirects else request.url,
        final_url=response.url,
        status=response.status,
        headers=headers,
        body=body,
        fetched_at=utcnow(),
        request_headers=_header_dict(request.headers),
        render=render,
        screenshot=screenshot,
        source_id=ctx.source_id,
        run_id=ctx.run_id,
        depth=int(request.meta.get(DEPTH, 0)),
        fields=fields,
    )


SKIPPED_EXTENSIONS = frozenset(IGNORED_EXTENSIONS) - {"pdf"}  # PDFs are kept as evidence
NOT_LINKS = ("#", "javascript:", "mailto:", "tel:", "data:", "sms:", "weixin:")


def extract_links(response: TextResponse, follow: FollowRules) -> list[str]:
    """Absolute http(s) URLs of the page's ``<a>``/``<area>`` links that the follow rules allow,
    without fragments, media or archive files, each once.

    Leaner than Scrapy's LinkExtractor (which checks ~100 extensions by suffix per link): this
    runs for every page of every crawl, on the reactor thread.
    """
    seen: set[str] = set()
    links: list[str] = []
    for href in response.xpath("//a/@href | //area/@href").getall():
        href = href.strip()
        if not href or href.startswith(NOT_LINKS):
            continue
        url = response.urljoin(href).split("#", 1)[0]
        if url in seen or not url.startswith(("http://", "https://")):
            continue
        seen.add(url)
        last = urlsplit(url).path.rsplit("/", 1)[-1]
        if "." in last and last.rsplit(".", 1)[1].lower() in SKIPPED_EXTENSIONS:
            continue
        if follow.allows(url):
            links.append(url)
    return links


def describe_failure(failure: Failure) -> tuple[str, str]:
    """(kind, message) for a failed request, in words a crawl operator understands."""
    exc = failure.value
    name = type(exc).__name__
    if isinstance(exc, HttpError):
        status = exc.response.status
        return f"http_{status}", f"HTTP {status}"
    if isinstance(exc, IgnoreRequest):
        text = str(exc)
        if "max redirections" in text:
            return "redirect_loop", "too many redirects"
        return "ignored", text or "request ignored"
    if "Cancelled" in name or "larger than download max size" in str(exc):
        return "too_large", "body larger than the download size limit (DOWNLOAD_MAXSIZE), not stored"
    if "Resolve" in name or "DNS" in name:
        return "unreachable", f"host name does not resolve ({name})"
    if "ConnectionRefused" in name or "ConnectError" in name:
        return "unreachable", f"connection refused ({name})"
    if "Timeout" in name or "TimedOut" in name:
        return "timeout", f"timed out ({name})"
    if "DataLoss" in name or "ResponseFailed" in name or "ResponseNeverReceived" in name:
        return "broken_response", f"response cut off or malformed ({name})"
    return "download_error", f"{name}: {exc}"[:300]


class SourceSpider(scrapy.Spider):
    """What every kind shares: page handling, link following, error accounting."""

    name = "adwatch"
    # The callbacks a request queued in Redis may name (crawler.distributed.codec refuses others).
    REMOTE_CALLBACKS = frozenset({"parse_page", "parse_sitemap", "parse_feed", "on_error"})

    def __init__(self, ctx: RunContext, **kwargs: Any) -> None:
        super().__init__(name=f"adwatch-{ctx.source.kind}", **kwargs)
        self.ctx = ctx
        self.source = ctx.source
        self.allowed_domains = ctx.source.domains
        self.depth_limit = ctx.source.depth_limit
        self.requested: set[str] = set()  # URLs followed already (the dupefilter stays authoritative)

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> SourceSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.request_dropped, signal=signals.request_dropped)
        return spider

    def request_dropped(self, request: scrapy.Request) -> None:
        """A redirect back to a URL of its own chain is dropped as a duplicate: a redirect loop."""
        chain = request.meta.get("redirect_urls") or []
        if request.url in chain:
            hops = " → ".join([*chain, request.url])
            self.count_error(chain[0], "redirect_loop", f"redirect loop ({hops})")

    # -- requests ----------------------------------------------------------------------------

    def in_domains(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        return any(host == d or host.endswith("." + d) for d in self.allowed_domains)

    def page_request(self, url: str, depth: int) -> scrapy.Request:
        meta: dict[str, Any] = {ROLE: "page", DEPTH: depth}
        if self.source.render == "browser":
            meta.update(browser.request_meta(self.source, self.ctx.settings))
        return scrapy.Request(url, callback=self.parse_page, errback=self.on_error, meta=meta)

    def nav_request(self, url: str, callback: Any) -> scrapy.Request:
        return scrapy.Request(url, callback=callback, errback=self.on_error, meta={ROLE: "nav", DEPTH: 0})

    def local_meta(self, meta: dict[str, Any]) -> dict[str, Any]:
        """Meta a request queued in Redis gets back on arrival: the browser's page methods are
        Python functions, so they are rebuilt from the source instead of travelling."""
        if meta.get(ROLE) == "page" and self.source.render == "browser":
            return browser.request_meta(self.source, self.ctx.settings)
        return {}

    async def start(self) -> AsyncIterator[scrapy.Request]:
        if self.ctx.frontier is not None:
            return  # distributed: the entry requests were queued in Redis when the run was seeded
        for url in self.source.entry_urls:
            yield self.entry_request(url)

    def entry_request(self, url: str) -> scrapy.Request:
        return self.page_request(url, 0)

    # -- pages -------------------------------------------------------------------------------

    def parse_page(self, response: Response) -> Iterator[Any]:
        replayed = REPLAYED_FLAG in response.flags
        stats = self.crawler.stats
        if replayed:
            stats.inc_value(REPLAYED)
        else:
            # Every page goes to storage, HTML or not: a PDF price list or a poster image is
            # evidence too (the pipeline keeps it as a capture without text and says so).
            stats.inc_value(PAGES)
            page = fetched_page(response, self.ctx)
            if page.render == "browser" and self.source.screenshot:
                if page.screenshot and page.screenshot.startswith(PNG_SIGNATURE):
                    stats.inc_value(SCREENSHOTS)
                    stats.inc_value(f"{SCREENSHOTS}_bytes", len(page.screenshot))
                else:
                    self.count_error(
                        response.url, "no_screenshot", "the browser gave no screenshot of this page"
                    )
            yield page
        if isinstance(response, TextResponse):
            yield from self.follow_links(response)

    def follow_links(self, response: TextResponse) -> Iterator[scrapy.Request]:
        depth = int(response.meta.get(DEPTH, 0))
        if depth >= self.depth_limit:
            return
        try:
            links = extract_links(response, self.source.follow)
        except Exception as exc:  # hostile markup must not stop the crawl
            self.count_error(response.url, "bad_markup", f"links could not be read: {exc}")
            return
        for url in links:
            # Most links of a site point at pages already requested; skipping them here saves
            # building a Request only for Scrapy's duplicate filter to drop it.
            if url in self.requested or not self.in_domains(url):
                continue
            if len(self.requested) < MAX_REMEMBERED_URLS:
                self.requested.add(url)
            yield self.page_request(url, depth + 1)

    # -- failures ----------------------------------------------------------------------------

    def count_error(self, url: str, kind: str, message: str) -> None:
        stats = self.crawler.stats
        stats.inc_value(ERRORS)
        stats.inc_value(f"{ERRORS}/{kind}")
        self.ctx.note_error(f"{url}: {message}")
        logger.warning("error [%s] %s: %s", kind, url, message)

    def on_error(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        exc = failure.value
        stats = self.crawler.stats
        if isinstance(exc, OverBudget):
            return
        if isinstance(exc, IgnoreRequest) and "robots.txt" in str(exc):
            stats.inc_value(ROBOTS_DENIED)
            logger.info("skipped (robots.txt forbids it): %s", request.url)
            return
        if isinstance(exc, HttpError) and request.meta.get(ROLE) == "page":
            stats.inc_value(PAGES)
        kind, message = describe_failure(failure)
        self.count_error(request.url, kind, message)


class ListSpider(SourceSpider):
    """``kind: list`` — start pages, then links by the follow rules, to ``max_depth`` hops."""

    name = "adwatch-list"


class SearchSpider(SourceSpider):
    """``kind: search`` — the search URL once per keyword; result pages are entry pages."""

    name = "adwatch-search"


class SitemapSpider(SourceSpider):
    """``kind: sitemap`` — sitemap.xml (or robots.txt's Sitemap: lines), nested indexes, then pages."""

    name = "adwatch-sitemap"
    max_sitemaps = 500

    def entry_request(self, url: str) -> scrapy.Request:
        return self.nav_request(url, self.parse_sitemap)

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        if response.url.endswith("/robots.txt") and isinstance(response, TextResponse):
            for url in sitemap_urls_from_robots(response.text, base_url=response.url):
                yield self.nav_request(url, self.parse_sitemap)
            return
        body = self._sitemap_body(response)
        if body is None:
            self.count_error(response.url, "bad_sitemap", "not a sitemap (XML or gzip expected)")
            return
        try:
            sitemap = Sitemap(body)
        except Exception as exc:
            self.count_error(response.url, "bad_sitemap", f"sitemap could not be parsed: {exc}")
            return
        if sitemap.type == "sitemapindex":
            seen = int(self.crawler.stats.get_value("adwatch/sitemaps", 0))
            for entry in sitemap:
                if seen >= self.max_sitemaps:
                    break
                seen += 1
                url = urljoin(response.url, entry["loc"])
                if self.in_domains(url):
                    yield self.nav_request(url, self.parse_sitemap)
            self.crawler.stats.set_value("adwatch/sitemaps", seen)
        elif sitemap.type == "urlset":
            for entry in sitemap:
                url = urljoin(response.url, entry["loc"])
                if self.in_domains(url) and self.source.follow.allows(url):
                    yield self.page_request(url, 0)
        else:
            self.count_error(response.url, "bad_sitemap", f"unknown sitemap type {sitemap.type!r}")

    def _sitemap_body(self, response: Response) -> bytes | None:
        body = response.body
        if body[:2] == b"\x1f\x8b":
            try:
                return gunzip(body, max_size=self.ctx.settings.download_maxsize)
            except Exception:
                return None
        return body if b"<" in body[:512] else None


class FeedSpider(SourceSpider):
    """``kind: feed`` — RSS or Atom feeds; every entry's link is an entry page."""

    name = "adwatch-feed"

    def entry_request(self, url: str) -> scrapy.Request:
        return self.nav_request(url, self.parse_feed)

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        import feedparser

        parsed = feedparser.parse(response.body, response_headers={"content-location": response.url})
        if not parsed.entries:
            problem = getattr(parsed, "bozo_exception", None)
            self.count_error(
                response.url, "bad_feed", f"no entries in feed{f' ({problem})' if problem else ''}"
            )
            return
        for entry in parsed.entries:
            link = entry.get("link")
            if not link:
                continue
            url = urljoin(response.url, link)
            if self.in_domains(url) and self.source.follow.allows(url):
                yield self.page_request(url, 0)


SPIDERS: dict[str, type[SourceSpider]] = {
    "list": ListSpider,
    "search": SearchSpider,
    "sitemap": SitemapSpider,
    "feed": FeedSpider,
}

"""``render: browser``: pages rendered by Debian's Chromium through scrapy-playwright.

Crawled pages are hostile: the browser may talk to the crawled site only (every other request is
aborted, and other host names do not resolve), never downloads files, runs no service workers,
and every wait is bounded. After load it waits for the content (a configured selector, or network
quiet), then takes a full-page PNG that travels with the page as evidence.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from adwatch.settings import Settings
from crawler.sources import SourceDef

logger = logging.getLogger(__name__)

HANDLER = "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"


def host_allowed(host: str, domains: list[str]) -> bool:
    host = host.lower()
    return any(host == d or host.endswith("." + d) for d in domains)


def abort_outside(domains: list[str]) -> Callable[[Any], bool]:
    """A PLAYWRIGHT_ABORT_REQUEST predicate: abort anything not on the source's own hosts."""

    def abort(request: Any) -> bool:
        url = request.url
        if url.startswith(("data:", "blob:", "about:")):
            return False
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            return True
        return not host_allowed(parts.hostname or "", domains)

    return abort


def resolver_rules(domains: list[str]) -> str:
    """Chromium flag making every other host name unresolvable (covers what routing cannot see)."""
    excludes = []
    for d in domains:
        excludes += [f"EXCLUDE {d}", f"EXCLUDE *.{d}"]
    return "--host-resolver-rules=" + ", ".join(["MAP * ~NOTFOUND", *excludes])


def scrapy_settings(source: SourceDef, settings: Settings) -> dict[str, Any]:
    """The Scrapy settings a browser-rendered source adds (static sources never load Playwright)."""
    return {
        "DOWNLOAD_HANDLERS": {"http": HANDLER, "https": HANDLER},
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_LAUNCH_OPTIONS": {
            "executable_path": settings.chromium_path,
            "args": [*settings.chromium_args, resolver_rules(source.domains)],
            "headless": True,
            "timeout": settings.browser_timeout_ms,
        },
        "PLAYWRIGHT_CONTEXTS": {
            "default": {
                "accept_downloads": False,
                "service_workers": "block",
                "locale": "zh-CN",
                "timezone_id": "Asia/Shanghai",
                "viewport": {"width": 1366, "height": 900},
            }
        },
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": settings.browser_timeout_ms,
        "PLAYWRIGHT_ABORT_REQUEST": abort_outside(source.domains),
        "PLAYWRIGHT_MAX_CONTEXTS": 1,
        "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": min(source.concurrency or settings.default_concurrency, 4),
    }


def _playwright_selector(selector: str) -> str:
    if selector.startswith("xpath:"):
        return "xpath=" + selector[len("xpath:") :]
    return "css=" + selector.removeprefix("css:")


async def settle(page: Any, selector: str | None, timeout_ms: int) -> None:
    """Wait until the content is there: the selector if given, else no network for 500 ms.
    A page that never settles is still captured as it is, with a warning in the log."""
    try:
        if selector:
            await page.wait_for_selector(_playwright_selector(selector), timeout=timeout_ms)
        else:
            await page.wait_for_load_state("networkidle", timeout=timeout_ms)
    except Exception as exc:
        logger.warning("page %s did not settle (%s); capturing it as it is", page.url, type(exc).__name__)


async def full_screenshot(page: Any, timeout_ms: int) -> bytes:
    return await page.screenshot(full_page=True, type="png", timeout=timeout_ms)


def request_meta(source: SourceDef, settings: Settings) -> dict[str, Any]:
    """Request meta that sends one page through the browser."""
    from scrapy_playwright.page import PageMethod

    timeout = settings.browser_timeout_ms
    methods = [PageMethod(settle, source.wait_for, timeout)]
    if source.screenshot:
        methods.append(PageMethod(full_screenshot, timeout))
    return {
        "playwright": True,
        "playwright_page_methods": methods,
        "playwright_page_goto_kwargs": {"wait_until": "load", "timeout": timeout},
    }


def screenshot_of(request: Any) -> bytes | None:
    for method in request.meta.get("playwright_page_methods") or ():
        if getattr(method, "method", None) is full_screenshot:
            result = getattr(method, "result", None)
            return result if isinstance(result, bytes) else None
    return None

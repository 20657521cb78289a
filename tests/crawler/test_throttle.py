"""crawler.throttle: AutoThrottle that drops delays too small to spare a server anything."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.core.downloader import Slot
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from crawler.throttle import NEGLIGIBLE_DELAY, AutoThrottle


def throttle(download_delay: float = 0.0) -> AutoThrottle:
    crawler = get_crawler(
        settings_dict={
            "AUTOTHROTTLE_ENABLED": True,
            "AUTOTHROTTLE_TARGET_CONCURRENCY": 8.0,
            "AUTOTHROTTLE_MAX_DELAY": 60.0,
            "DOWNLOAD_DELAY": download_delay,
        }
    )
    ext = AutoThrottle(crawler)
    ext.mindelay, ext.maxdelay = ext._min_delay(), ext._max_delay()
    return ext


def answer(ext: AutoThrottle, slot: Slot, latency: float, status: int = 200) -> float:
    response = HtmlResponse(
        "http://127.0.0.1/", status=status, body=b"<p>x</p>", request=Request("http://127.0.0.1/")
    )
    ext._adjust_delay(slot, latency, response)
    return slot.delay


def test_a_fast_server_gets_no_delay_only_the_concurrency_limit() -> None:
    ext, slot = throttle(), Slot(concurrency=8, delay=0.05, jitter=0)
    for _ in range(10):
        delay = answer(ext, slot, latency=0.004)  # Scrapy's own would settle at 0.5 ms
    assert delay == 0.0


def test_a_slow_server_is_throttled_as_scrapy_does() -> None:
    ext, slot = throttle(), Slot(concurrency=8, delay=0.0, jitter=0)
    assert answer(ext, slot, latency=0.8) == pytest.approx(0.1)  # latency / target concurrency
    assert answer(ext, slot, latency=8 * NEGLIGIBLE_DELAY * 1.5) >= NEGLIGIBLE_DELAY


def test_a_configured_delay_is_never_dropped() -> None:
    ext, slot = throttle(download_delay=0.002), Slot(concurrency=8, delay=0.002, jitter=0)
    assert answer(ext, slot, latency=0.004) == pytest.approx(0.002)


def test_error_pages_do_not_lower_the_delay() -> None:
    ext, slot = throttle(), Slot(concurrency=8, delay=0.5, jitter=0)
    assert answer(ext, slot, latency=0.001, status=503) == 0.5


def test_crawls_use_it_in_place_of_scrapys() -> None:
    from adwatch.settings import load_settings
    from crawler.scrapy_settings import scrapy_settings
    from crawler.sources import SourceDef

    values = scrapy_settings(
        load_settings({}), SourceDef(name="s", kind="list", start_urls=["http://127.0.0.1/"])
    )
    assert values["AUTOTHROTTLE_ENABLED"] is True
    assert values["EXTENSIONS"]["scrapy.extensions.throttle.AutoThrottle"] is None
    assert values["EXTENSIONS"]["crawler.throttle.AutoThrottle"] == 0

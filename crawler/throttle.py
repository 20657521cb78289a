"""AutoThrottle without its sub-10 ms delays, which slow a fast site's crawl and spare it nothing.

Scrapy's AutoThrottle sets a per-domain delay of ``latency / target concurrency`` so that, on
average, ``target`` requests are in flight. Any delay above zero also changes how Scrapy's
downloader sends requests: one per event-loop turn, each after a timer, instead of all free
slots at once. On a server answering in 4 ms that delay is 0.5 ms — no relief for the server,
but requests then leave only between the crawl's own callbacks (parsing, link extraction,
handing pages to the pipeline). On the benchmark site (``make bench-crawl``) a mean delay of
0.25 ms held the mean concurrency at 2.0 of 8; without such delays it rose to 4.5, and the crawl
from about 115 to about 135 pages/s.

Here a computed delay under ``NEGLIGIBLE_DELAY`` becomes zero, leaving the per-domain
concurrency limit (set equal to AutoThrottle's target in ``crawler.scrapy_settings``) to keep
``target`` requests in flight — the same average AutoThrottle aims for. Slower servers (latency
above ``target × NEGLIGIBLE_DELAY``, 80 ms by default), error responses, ``AUTOTHROTTLE_MAX_DELAY``
and a source's own ``delay`` (``DOWNLOAD_DELAY``, the floor of every delay) behave exactly as
in Scrapy.
"""

from __future__ import annotations

from typing import Any

from scrapy.extensions.throttle import AutoThrottle as ScrapyAutoThrottle

NEGLIGIBLE_DELAY = 0.010  # seconds


class AutoThrottle(ScrapyAutoThrottle):
    def _adjust_delay(self, slot: Any, latency: float, response: Any) -> None:
        super()._adjust_delay(slot, latency, response)
        if self.mindelay == 0 and slot.delay < NEGLIGIBLE_DELAY:
            slot.delay = 0.0

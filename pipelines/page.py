"""The hand-over from crawler to pipelines: one fetched page, as received.

The crawler (Scrapy, or anything else) builds a FetchedPage; every stage after it is a plain
function of this object and the database, so the same stages run without Scrapy.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass
class FetchedPage:
    url: str  # as requested
    final_url: str  # after redirects
    status: int
    headers: dict[str, str]  # response headers, lower-case names, repeated values joined by ", "
    body: bytes  # the body as received (for browser renders: the rendered DOM, UTF-8)
    fetched_at: dt.datetime  # UTC, when the response arrived
    request_headers: dict[str, str] = field(default_factory=dict)
    render: str = "static"  # static | browser
    screenshot: bytes | None = None  # full-page PNG taken by the browser at fetch time
    source_id: int | None = None
    run_id: int | None = None
    depth: int = 0
    # What the source's selectors picked from the page ({"title"|"text"|"published_at"|"author":
    # text}); the extractor's own result is used for every field not given here.
    fields: dict[str, str] = field(default_factory=dict)

"""The extractor on the demo site's 83 hand-written pages (adwatch.demo_site): real layouts of
content farms, Tieba and Discuz (GBK) forums, Q&A, shops, clinics, government sites and a Big5
Taiwanese site, with their expected main text, publish time and publisher."""

from __future__ import annotations

import datetime as dt

import pytest

from adwatch.demo_site.catalogue import DemoPage, load_catalogue, route_key
from adwatch.timeutil import CHINA
from pipelines.decode import decode_body
from pipelines.extract import Extracted, extract

CATALOGUE = load_catalogue()
STATIC = [p for p in CATALOGUE.pages if p.render == "static" and p.kind not in ("index", "portal")]


def run(page: DemoPage) -> tuple[Extracted, str, int]:
    path, _, query = page.path.partition("?")
    rendered = CATALOGUE.rendered[route_key(path, query)]
    decoded = decode_body(rendered.body, {"content-type": rendered.content_type}, page.path)
    fetched = dt.datetime(2026, 11, 3, tzinfo=dt.UTC)
    return (
        extract(decoded.text, "http://127.0.0.1:8765" + page.path, now=fetched),
        decoded.encoding,
        decoded.replaced,
    )


@pytest.mark.parametrize("page", STATIC, ids=lambda p: p.path)
def test_main_text_publish_date_and_decoding(page: DemoPage) -> None:
    extracted, encoding, replaced = run(page)
    assert replaced == 0
    if page.encoding in ("gbk", "gb2312", "gb18030"):
        assert encoding == "gb18030"
    elif page.encoding.startswith("big5"):
        assert encoding in ("big5", "cp950", "big5hkscs")
    assert page.main_excerpt in extracted.text or page.main_excerpt in (extracted.title or "")
    if page.published_at is not None:  # pages show the day; some leave the hour out
        assert extracted.published_at is not None
        assert extracted.published_at.astimezone(CHINA).date() == page.published_at.astimezone(CHINA).date()


def test_publishers_are_found_on_most_pages() -> None:
    with_author = [p for p in STATIC if p.author]
    right = [p for p in with_author if run(p)[0].author == p.author]
    assert len(right) >= 0.9 * len(with_author), sorted(
        {p.path for p in with_author} - {p.path for p in right}
    )

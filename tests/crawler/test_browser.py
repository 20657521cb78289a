"""``render: browser``: pages drawn by JavaScript, through Debian's real Chromium."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest

from adwatch.settings import Settings
from crawler.browser import abort_outside, resolver_rules
from tests.crawler.conftest import Stored, adwatch, assert_ok, write_source
from tests.crawler.sites import Page, Site

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

SHELL = """<!doctype html><html><head><meta charset="utf-8"><title>推广信息流</title></head>
<body><h1>信息流</h1><div id="posts">加载中……</div>
<script>
  fetch("{beacon}").catch(() => {{}});
  setTimeout(() => fetch("/api/posts.json").then(r => r.json()).then(data => {{
    document.getElementById("posts").innerHTML =
      data.posts.map(p => '<article class="post"><p>' + p + '</p></article>').join("");
  }}), 400);
</script></body></html>"""

POSTS = ["零基础学注射，三天拿证，包就业，月入过万！", "韩国原装水光针，私信下单，包邮到家。"]


def test_a_javascript_page_is_captured_after_its_content_arrives_with_a_screenshot(
    sqlite_settings: Settings, stored_sqlite: Stored
) -> None:
    elsewhere = Site({"/beacon": Page(b"ok", headers={"Content-Type": "text/plain"})})
    with elsewhere.serve() as other:
        # Same machine, another host name: the browser must not reach it.
        beacon = other.url("/beacon").replace("127.0.0.1", "localhost")
        site = Site(
            {
                "/robots.txt": Page(b"User-agent: *\nAllow: /\n", headers={"Content-Type": "text/plain"}),
                "/feed/": Page(SHELL.format(beacon=beacon).encode()),
                "/api/posts.json": Page(
                    json.dumps({"posts": POSTS}, ensure_ascii=False).encode(),
                    headers={"Content-Type": "application/json; charset=utf-8"},
                ),
            }
        )
        with site.serve():
            write_source(
                sqlite_settings,
                "feed",
                f"name: feed\nkind: list\nstart_urls: ['{site.url('/feed/')}']\n"
                "render: browser\nwait_for: 'article.post'\nmax_depth: 0\n",
            )
            assert_ok(adwatch(sqlite_settings, "crawl", "feed", timeout=240))
            assert site.hits["/api/posts.json"] == 1  # the page's own script ran
        assert other.hits == {}  # ...and could not call out
    doc = stored_sqlite.document_by_path(site.base_url, "/feed/")
    for post in POSTS:
        assert post in doc.text
    capture = stored_sqlite.captures()[0]
    assert capture.render == "browser"
    assert capture.headers["content-type"] == "text/html; charset=utf-8"
    run = stored_sqlite.last_run()
    assert run.stats["adwatch/screenshots"] == 1
    assert run.stats["adwatch/screenshots_bytes"] > 1000
    assert run.stats.get("playwright/request_count/aborted", 0) >= 1


def test_the_browser_may_talk_to_the_crawled_hosts_only() -> None:
    abort = abort_outside(["example.cn"])

    class Req:
        def __init__(self, url: str) -> None:
            self.url = url

    assert not abort(Req("https://example.cn/a.js"))
    assert not abort(Req("https://m.example.cn/a.js"))
    assert not abort(Req("data:image/png;base64,AAAA"))
    assert abort(Req("https://tracker.example.com/p.gif"))
    assert abort(Req("https://badexample.cn/"))
    assert abort(Req("ws://example.cn/socket"))
    assert abort(Req("file:///etc/passwd"))
    rules = resolver_rules(["example.cn"])
    assert rules.startswith("--host-resolver-rules=MAP * ~NOTFOUND")
    assert "EXCLUDE *.example.cn" in rules and urlsplit("https://example.cn").hostname in rules

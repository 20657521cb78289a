"""Crawled content is hostile: scripts, event handlers, SVG and javascript: links in the title, the text,
the URL and the raw page must never run and never become markup in AdWatch's pages."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import log_in
from tests.review_ui.factories import flag

pytestmark = pytest.mark.e2e

TITLE = '<script>alert("title")</script>"><img src=x onerror=alert("title-img")>'
TEXT = (
    '保证效果<script>alert("text")</script>"><img src=x onerror=alert("text-img")>'
    '<svg onload=alert("text-svg")>无效退款</svg><a href="javascript:alert(\'text-link\')">点此咨询</a>'
)
URL = "javascript:alert('url')//\"><svg/onload=alert('url-svg')>"
RAW = (
    '<html><head><meta http-equiv="refresh" content="0;url=http://127.0.0.1:9/leak">'
    "<script>alert('raw');document.title='pwned'</script></head>"
    "<body onload=\"alert('raw-onload')\"><h1 id=h>原始页面</h1><img src=x onerror=\"alert('raw-img')\">"
    "<script>document.body.setAttribute('data-pwned','1');top.location='http://127.0.0.1:9/'</script>"
    '<a href="javascript:alert(\'raw-link\')" id=l>link</a><form action="http://127.0.0.1:9/"><button id=b>go'
    "</button></form></body></html>"
)


def test_nothing_runs_and_the_markup_shows_as_text(server, page):
    with server.db.session() as s:
        item_id = flag(
            s,
            title=TITLE,
            text=TEXT,
            url=URL,
            html=RAW,
            terms={"false_promise": ["保证效果", "无效退款"], "medical_ad": ["<script>"]},
        ).id
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    leaked: list[str] = []  # a request that reached the advertiser's server would reveal the reviewer
    page.on("requestfinished", lambda r: leaked.append(r.url) if not r.url.startswith(server.url) else None)
    page.on("response", lambda r: leaked.append(r.url) if not r.url.startswith(server.url) else None)
    log_in(page, server, "reviewer")

    page.goto(f"{server.url}/queue")
    expect(page.locator("a.item-title").first).to_contain_text('<script>alert("title")</script>')

    page.goto(f"{server.url}/items/{item_id}")
    expect(page.locator("h1.doc-title")).to_have_text(TITLE)
    expect(page.locator("#doc-text")).to_contain_text('<svg onload=alert("text-svg")>')
    expect(page.locator("#doc-text mark.ev-medical_ad").first).to_have_text("<script>")
    frame = page.frame_locator("iframe.raw-frame")
    expect(frame.locator("#h")).to_have_text("原始页面")
    frame.locator("#l").click()  # a javascript: link in the sandbox does nothing
    frame.locator("#b").click()  # a form in the sandbox cannot submit
    page.wait_for_timeout(1500)  # give any meta refresh or timer its chance

    dom = page.evaluate("""() => ({
        scripts: Array.from(document.scripts).map(s => s.src),
        handlers: Array.from(document.querySelectorAll('*')).filter(
            e => Array.from(e.attributes).some(a => a.name.startsWith('on'))).length,
        svgs: document.querySelectorAll('svg').length,
        imgs: Array.from(document.images).map(i => i.getAttribute('src')),
        jsLinks: Array.from(document.querySelectorAll('a[href]')).filter(
            a => a.href.trim().toLowerCase().startsWith('javascript:')).length,
        title: document.title,
    })""")
    assert dom["scripts"] == [f"{server.url}/static/app.js"]
    assert dom["handlers"] == 0 and dom["svgs"] == 0 and dom["jsLinks"] == 0
    assert "x" not in dom["imgs"]
    assert "pwned" not in dom["title"]
    assert dialogs == [] and leaked == []
    assert page.url == f"{server.url}/items/{item_id}"  # nothing navigated the page away
    # The frame is still the raw page: its meta refresh and top.location did not navigate anything.
    raw_frame = next(f for f in page.frames if f.url.endswith(f"/items/{item_id}/raw"))
    assert raw_frame.locator("body").get_attribute("data-pwned") is None  # the raw page's script never ran

    page.goto(f"{server.url}/items/{item_id}/raw")  # even opened directly, the raw page is sandboxed
    page.wait_for_timeout(1000)
    assert dialogs == [] and leaked == [] and page.locator("body").get_attribute("data-pwned") is None

"""The demo site's special routes: the awkward responses a crawler must survive.

Each route is listed in :data:`SPECIAL_ROUTES` with what it demonstrates; the crawler's tests
start from these paths. Sizes and delays are bounded so a careless request cannot tie the
server up.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import dataclass

from adwatch.demo_site.server import Request, Response

HUGE_DEFAULT_MB = 12  # over the crawler's 10 MB default download limit
HUGE_MAX_MB = 64
SLOW_DEFAULT_SECONDS = 5.0
SLOW_MAX_SECONDS = 120.0
REDIRECT_TARGET = "/news/2026/1028/8766.html"


@dataclass(frozen=True)
class SpecialRoute:
    path: str  # an example request target
    status: int  # what the first response's status is
    demonstrates: str


SPECIAL_ROUTES: tuple[SpecialRoute, ...] = (
    SpecialRoute(
        "/robots.txt",
        200,
        "robots.txt: Disallow /forum/private/ (the members' area), Sitemap line with the absolute URL",
    ),
    SpecialRoute(
        "/sitemap.xml",
        200,
        "a sitemap index pointing at /sitemap-clinic.xml, /sitemap-gov.xml, /sitemap-news.xml",
    ),
    SpecialRoute(
        "/sitemap-news.xml", 200, "a urlset with <lastmod> (also -clinic, -gov): every page with in_sitemap"
    ),
    SpecialRoute("/rss.xml", 200, "RSS 2.0 of the forum threads and news articles (in_feed), newest first"),
    SpecialRoute("/atom.xml", 200, "Atom 1.0 of the same pages as /rss.xml"),
    SpecialRoute(
        "/search?q=%E6%B0%B4%E5%85%89%E9%92%88",
        200,
        "site search (q = UTF-8, URL-encoded; page=N): result lists of links with snippets, 10 a page",
    ),
    SpecialRoute(
        "/feed/api/posts.json?topic=main",
        200,
        "the JSON behind the JS-rendered feed pages (topic=main|skincare)",
    ),
    SpecialRoute(
        "/forum/thread-9001.html",
        404,
        "a deleted thread linked from /forum/thread-1007.html (any unknown path is a 404)",
    ),
    SpecialRoute("/special/error-500.html", 500, "a server error, linked from /news/"),
    SpecialRoute(
        "/special/redirect-301.html",
        301,
        f"a redirect chain 301 -> /special/redirect-302.html -> 302 -> {REDIRECT_TARGET}, linked from /news/",
    ),
    SpecialRoute(
        "/special/loop-a.html", 302, "a redirect loop: /special/loop-a.html <-> /special/loop-b.html"
    ),
    SpecialRoute(
        "/files/qiyun-price-list.pdf",
        200,
        "a non-HTML body (application/pdf, a scanned price list), linked from every /clinic/ page",
    ),
    SpecialRoute(
        "/files/salon-poster.png",
        200,
        "a non-HTML body (image/png, ad text inside an image), shown on /salon/vip.html",
    ),
    SpecialRoute(
        "/special/huge.html",
        200,
        f"a {HUGE_DEFAULT_MB} MB HTML body with Content-Length (?mb=N, at most {HUGE_MAX_MB})",
    ),
    SpecialRoute(
        "/special/huge-chunked.html",
        200,
        f"the same {HUGE_DEFAULT_MB} MB body sent chunked, without Content-Length",
    ),
    SpecialRoute(
        "/special/slow.html?delay=5",
        200,
        f"answers after `delay` seconds (default {SLOW_DEFAULT_SECONDS:g}, at most {SLOW_MAX_SECONDS:g}), for timeout tests",
    ),
    SpecialRoute(
        "/forum/private/vip-group.html",
        200,
        "a page disallowed by robots.txt, linked from /forum/thread-1010.html",
    ),
    SpecialRoute(
        "/forum/thread-1011.html",
        200,
        "hostile markup: <script>, onerror, <svg onload>, javascript: links in title, text and links",
    ),
    SpecialRoute(
        "/bbs/forum.php?mod=viewthread&tid=2004",
        200,
        "HTTP header says charset=utf-8, body is GBK, <meta> says gbk",
    ),
    SpecialRoute(
        "/bbs/forum.php?mod=viewthread&tid=2005",
        200,
        "HTTP header says charset=iso-8859-1, body is GBK, <meta> says gbk",
    ),
    SpecialRoute(
        "/bbs/forum.php?mod=viewthread&tid=2006", 200, "no charset anywhere, body is GBK: detection must win"
    ),
    SpecialRoute(
        "/bbs/forum.php?mod=viewthread&tid=2003", 200, "GB18030, with characters outside GBK (䶮, 𠮷)"
    ),
    SpecialRoute("/tw/clinic-promo.html", 200, "Big5, traditional characters"),
    SpecialRoute("/tw/ruby.html", 200, "ruby pinyin markup: 醫<rt>yī</rt>療"),
    SpecialRoute(
        "/feed/",
        200,
        "JS-rendered: a static fetch sees an empty shell; the posts arrive from JSON ~0.4 s after load",
    ),
)

_PAGE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1>{body}</body></html>
"""


def html_page(title: str, body: str, status: int = 200) -> Response:
    return Response(status, _PAGE.format(title=html.escape(title), body=body).encode("utf-8"))


def not_found() -> Response:
    return html_page(
        "404 页面不存在", '<p>抱歉，您访问的页面不存在或已被删除。</p><p><a href="/">返回首页</a></p>', 404
    )


def _index() -> Response:
    items = "".join(
        f'<li><a href="{html.escape(r.path)}">{html.escape(r.path)}</a>（{r.status}）— {html.escape(r.demonstrates)}</li>'
        for r in SPECIAL_ROUTES
    )
    return html_page("特殊路由测试台", f"<p>爬虫测试用的特殊响应。</p><ul>{items}</ul>")


def _huge(request: Request, chunked: bool) -> Response:
    try:
        megabytes = min(max(float(request.query.get("mb", HUGE_DEFAULT_MB)), 0.001), HUGE_MAX_MB)
    except ValueError:
        megabytes = HUGE_DEFAULT_MB
    size = int(megabytes * 1024 * 1024)
    head = '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8"><title>超大页面</title></head><body>\n'.encode()
    tail = b"\n</body></html>\n"
    paragraph = "<p>这是一个用来测试下载大小上限的超大页面，正文不断重复，直到超过爬虫允许的最大字节数。</p>\n".encode()
    filler = max(size - len(head) - len(tail), 0)
    block = paragraph * (65536 // len(paragraph))

    def stream() -> Iterator[bytes]:
        yield head
        remaining = filler
        while remaining >= len(block):
            yield block
            remaining -= len(block)
        yield block[: remaining - remaining % len(paragraph)] + b" " * (remaining % len(paragraph))
        yield tail

    return Response(stream=stream, length=None if chunked else len(head) + filler + len(tail))


def _slow(request: Request) -> Response:
    try:
        delay = min(max(float(request.query.get("delay", SLOW_DEFAULT_SECONDS)), 0.0), SLOW_MAX_SECONDS)
    except ValueError:
        delay = SLOW_DEFAULT_SECONDS
    response = html_page("慢速页面", f"<p>这个页面等待了 {delay:g} 秒才响应。</p>")
    response.delay = delay
    return response


def special_response(request: Request) -> Response | None:
    """The response for a special route, or None when ``request`` is not one."""
    path = request.path
    if path in ("/special/", "/special/index.html"):
        return _index()
    if path == "/special/error-500.html":
        return html_page("500 服务器内部错误", "<p>服务器开小差了，请稍后再试。</p>", 500)
    if path == "/special/redirect-301.html":
        return Response.redirect(301, "/special/redirect-302.html")
    if path == "/special/redirect-302.html":
        return Response.redirect(302, REDIRECT_TARGET)
    if path == "/special/loop-a.html":
        return Response.redirect(302, "/special/loop-b.html")
    if path == "/special/loop-b.html":
        return Response.redirect(302, "/special/loop-a.html")
    if path == "/special/huge.html":
        return _huge(request, chunked=False)
    if path == "/special/huge-chunked.html":
        return _huge(request, chunked=True)
    if path == "/special/slow.html":
        return _slow(request)
    return None

"""The demo site's search endpoint, ``/search?q=关键词&page=N`` (the crawler's ``search`` sources).

A plain substring search over each page's title and main text, newest first, ten results a page,
each a link with a snippet — what a site search on a forum or portal looks like to a crawler.
Pages disallowed by robots.txt and JS-rendered pages (whose text is not in their HTML) are left out.
"""

from __future__ import annotations

import html
import math
from urllib.parse import quote

from adwatch.demo_site.catalogue import Catalogue, DemoPage, route_key
from adwatch.demo_site.server import Request, Response
from adwatch.demo_site.special import html_page

PER_PAGE = 10
MAX_QUERY_CHARS = 100
SNIPPET_CHARS = 40


def _searchable(catalogue: Catalogue) -> list[tuple[DemoPage, str]]:
    out = []
    for page in catalogue.pages:
        if page.disallowed_by_robots or page.render != "static" or page.kind in ("index", "portal"):
            continue
        path, _, query = page.path.partition("?")
        out.append((page, catalogue.rendered[route_key(path, query)].text))
    out.sort(key=lambda item: item[0].last_modified, reverse=True)
    return out


def _snippet(text: str, query: str) -> str:
    flat = " ".join(text.split())
    at = flat.find(query)
    start = max(at - SNIPPET_CHARS, 0)
    end = at + len(query) + SNIPPET_CHARS
    before, after = html.escape(flat[start:at]), html.escape(flat[at + len(query) : end])
    return ("…" if start else "") + before + "<em>" + html.escape(query) + "</em>" + after + "…"


def search(catalogue: Catalogue, query: str) -> list[tuple[DemoPage, str]]:
    """Pages whose title or main text contains ``query``, newest first, with an HTML snippet."""
    return [(page, _snippet(text, query)) for page, text in _searchable(catalogue) if query in text]


def search_response(catalogue: Catalogue, request: Request) -> Response:
    query = " ".join(request.query.get("q", "").split())[:MAX_QUERY_CHARS]
    form = (
        f'<form action="/search" method="get"><input name="q" value="{html.escape(query)}">'
        "<button>搜索</button></form>"
    )
    if not query:
        return html_page("站内搜索", form + "<p>请输入关键词，例如：水光针、玻尿酸、双眼皮。</p>")
    try:
        page_no = max(int(request.query.get("page", "1")), 1)
    except ValueError:
        page_no = 1
    results = search(catalogue, query)
    pages = max(math.ceil(len(results) / PER_PAGE), 1)
    shown = results[(page_no - 1) * PER_PAGE : page_no * PER_PAGE]
    items = "".join(
        f'<li class="result"><a href="{html.escape(p.path)}">{html.escape(p.title)}</a>'
        f'<p class="snippet">{snippet}</p><span class="date">{p.last_modified:%Y-%m-%d}</span></li>'
        for p, snippet in shown
    )
    links = " ".join(
        f"<b>{n}</b>" if n == page_no else f'<a href="/search?q={quote(query)}&amp;page={n}">{n}</a>'
        for n in range(1, pages + 1)
    )
    body = (
        f'{form}<p class="count">找到约 {len(results)} 条与“{html.escape(query)}”相关的结果</p>'
        f'<ol class="results">{items}</ol><div class="pages">{links}</div>'
    )
    title = f"“{query}”的搜索结果" + (f" - 第{page_no}页" if page_no > 1 else "")
    return html_page(title, body)

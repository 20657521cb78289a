"""A generated site of N linked HTML pages, for crawl benchmarks and the scale test.

``GeneratedSite.serve(pages=2000, seed=1)`` serves exactly ``pages`` HTML pages (``page_paths``):
a home page, list pages of 50 articles each, and articles of 3–6 KB of Chinese text recombined
from ``sentences.yaml`` (about a third read like ads). Every article links to 5–10 other pages
(home, its list, previous/next, related articles), so a crawl from ``/`` reaches all N pages
within depth 3. Pages are made on the fly from ``(seed, page number)`` alone — the same seed
always gives the same bytes — and cached after the first request; nothing is written to disk.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import html
import math
import random
from dataclasses import dataclass

import yaml

from adwatch.demo_site.catalogue import CHINA, PACKAGE_DIR
from adwatch.demo_site.server import Request, Response, SiteServer

PER_LIST = 50
MAX_PAGES = 200_000
AD_SHARE = 0.35
NEWEST = dt.datetime(2026, 11, 2, 9, 0, tzinfo=CHINA)
CITIES = ("江州", "临川", "青浦", "南湖", "钱湖", "云栖", "望江", "新城", "东湖", "西岭")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = ("晓雨", "文静", "子涵", "思远", "佳怡", "浩然", "雨桐", "一鸣", "若溪", "明轩")
SOURCES = ("本站编辑", "网友投稿", "健康频道", "生活频道", "美容频道")


@dataclass(frozen=True)
class _Bank:
    titles_clean: tuple[str, ...]
    titles_ad: tuple[str, ...]
    clean: tuple[str, ...]
    ad: tuple[str, ...]


@functools.cache
def _bank() -> _Bank:
    data = yaml.safe_load((PACKAGE_DIR / "sentences.yaml").read_text(encoding="utf-8"))
    return _Bank(*(tuple(data[k]) for k in ("titles_clean", "titles_ad", "clean", "ad")))


class SiteLayout:
    """Which pages exist and how they link; every answer depends only on (pages, seed)."""

    def __init__(self, pages: int, seed: int) -> None:
        if not 1 <= pages <= MAX_PAGES:
            raise ValueError(f"a generated site has 1 to {MAX_PAGES} pages, not {pages}")
        self.pages = pages
        self.seed = seed
        self.lists = math.ceil((pages - 1) / (PER_LIST + 1)) if pages > 1 else 0
        self.articles = pages - 1 - self.lists
        self.paths = ["/"] + [self.list_path(k) for k in range(1, self.lists + 1)]
        self.paths += [self.article_path(i) for i in range(1, self.articles + 1)]

    @staticmethod
    def list_path(k: int) -> str:
        return f"/list/{k}.html"

    @staticmethod
    def article_path(i: int) -> str:
        return f"/a/{i:06d}.html"

    def rng(self, *parts: object) -> random.Random:
        return random.Random(":".join(map(str, (self.seed, *parts))))

    def is_ad(self, i: int) -> bool:
        return self.rng(i, "kind").random() < AD_SHARE

    def title(self, i: int) -> str:
        bank = _bank()
        titles = bank.titles_ad if self.is_ad(i) else bank.titles_clean
        return f"{self.rng(i, 'title').choice(titles)}（第{i}期）"

    def published(self, i: int) -> dt.datetime:
        return NEWEST - dt.timedelta(minutes=37 * i)

    def list_of(self, i: int) -> int:
        return (i - 1) // PER_LIST + 1

    def links(self, i: int) -> list[int]:
        """The articles an article links to besides home and its list: prev, next, related."""
        rng = self.rng(i, "links")
        wanted = rng.randint(5, 10) - 2
        chosen = [j for j in (i - 1, i + 1) if 1 <= j <= self.articles]
        candidates = self.articles - 1
        while len(chosen) < min(wanted, candidates):
            j = rng.randint(1, self.articles)
            if j != i and j not in chosen:
                chosen.append(j)
        return chosen[:wanted]


_HEAD = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{title} - 江州资讯生成站</title>
<meta name="description" content="江州资讯生成站：用于 AdWatch 基准测试的生成页面"></head>
<body><header class="top"><a href="/">江州资讯生成站</a>　健康｜美容｜生活｜本地</header>
"""
_FOOT = """<footer>江州资讯生成站 ©2026　本站内容为自动生成的测试文本，机构、人物与联系方式均为虚构。</footer>
</body></html>
"""


def _paragraphs(layout: SiteLayout, i: int) -> str:
    bank = _bank()
    rng = layout.rng(i, "text")
    ad = layout.is_ad(i)
    target = rng.randint(2200, 4200)  # bytes of body text, so pages land at 3–6 KB
    paragraphs, size = [], 0
    while size < target:
        city, name = rng.choice(CITIES), rng.choice(SURNAMES) + rng.choice(GIVEN)
        lead = rng.choice((f"{city}的{name}告诉记者，", f"据{city}网友{name}介绍，", "", "", ""))
        sentences = [
            rng.choice(bank.ad) if ad and rng.random() < 0.4 else rng.choice(bank.clean)
            for _ in range(rng.randint(3, 6))
        ]
        text = lead + "".join(sentences)
        paragraphs.append(f"<p>{html.escape(text)}</p>")
        size += len(text.encode())
    return "\n".join(paragraphs)


def render_article(layout: SiteLayout, i: int) -> bytes:
    when = layout.published(i)
    related = layout.links(i)
    k = layout.list_of(i)
    items = "".join(
        f'<li><a href="{layout.article_path(j)}">{html.escape(layout.title(j))}</a></li>' for j in related
    )
    author = layout.rng(i, "author").choice(SOURCES)
    body = (
        f"<main><h1>{html.escape(layout.title(i))}</h1>"
        f'<p class="info">发布时间：{when:%Y-%m-%d %H:%M}　来源：{author}</p>\n'
        f"{_paragraphs(layout, i)}\n</main>\n"
        f"<aside><h3>相关阅读</h3><ul>{items}</ul></aside>\n"
        f'<nav><a href="/">返回首页</a>　<a href="{layout.list_path(k)}">返回列表</a></nav>\n'
    )
    return (_HEAD.format(title=html.escape(layout.title(i))) + body + _FOOT).encode()


def render_list(layout: SiteLayout, k: int) -> bytes:
    first = (k - 1) * PER_LIST + 1
    last = min(k * PER_LIST, layout.articles)
    items = "\n".join(
        f'<li><a href="{layout.article_path(i)}">{html.escape(layout.title(i))}</a>'
        f"<span>{layout.published(i):%m-%d}</span></li>"
        for i in range(first, last + 1)
    )
    pager = []
    if k > 1:
        pager.append(f'<a href="{layout.list_path(k - 1)}">上一页</a>')
    if k < layout.lists:
        pager.append(f'<a href="{layout.list_path(k + 1)}">下一页</a>')
    body = f"<main><h1>文章列表 第{k}页</h1><ul>\n{items}\n</ul><nav>{'　'.join(pager)}</nav></main>\n"
    return (_HEAD.format(title=f"文章列表 第{k}页") + body + _FOOT).encode()


def render_home(layout: SiteLayout) -> bytes:
    lists = "".join(
        f'<li><a href="{layout.list_path(k)}">第{k}页</a></li>' for k in range(1, layout.lists + 1)
    )
    latest = "".join(
        f'<li><a href="{layout.article_path(i)}">{html.escape(layout.title(i))}</a></li>'
        for i in range(1, min(layout.articles, 30) + 1)
    )
    body = (
        "<main><h1>江州资讯生成站</h1><p>每天更新本地健康、美容与生活资讯。</p>"
        f'<h2>最新文章</h2><ul>{latest}</ul><h2>全部文章</h2><ul class="lists">{lists}</ul></main>\n'
    )
    return (_HEAD.format(title="首页") + body + _FOOT).encode()


class GeneratedSite(SiteServer):
    """A deterministic site of ``pages`` linked HTML pages on 127.0.0.1."""

    def __init__(self, pages: int = 2000, seed: int = 1, port: int = 0, verbose: bool = False) -> None:
        self.layout = SiteLayout(pages, seed)
        self.page_paths: list[str] = list(self.layout.paths)
        self._cache: dict[str, bytes] = {}
        super().__init__(self.route, port=port, verbose=verbose)

    @classmethod
    def serve(
        cls, pages: int = 2000, seed: int = 1, port: int = 0, verbose: bool = False
    ) -> contextlib.AbstractContextManager[GeneratedSite]:
        return cls(pages=pages, seed=seed, port=port, verbose=verbose).running()

    def page(self, path: str) -> bytes | None:
        """The bytes of one page (None when the site has no such page)."""
        cached = self._cache.get(path)
        if cached is None:
            cached = self._render(path)
            if cached is not None:
                self._cache[path] = cached
        return cached

    def _render(self, path: str) -> bytes | None:
        layout = self.layout
        if path == "/":
            return render_home(layout)
        number = _number(path, "/list/", ".html", 6) if path.startswith("/list/") else None
        if number is not None and 1 <= number <= layout.lists and path == layout.list_path(number):
            return render_list(layout, number)
        number = _number(path, "/a/", ".html", 6)
        if number is not None and 1 <= number <= layout.articles and path == layout.article_path(number):
            return render_article(layout, number)
        return None

    def route(self, request: Request) -> Response:
        if request.path == "/robots.txt":
            return Response(body=b"User-agent: *\nAllow: /\n", content_type="text/plain; charset=utf-8")
        body = self.page(request.path)
        if body is None:
            return Response(404, "<html><body><h1>404 页面不存在</h1></body></html>".encode())
        return Response(body=body, last_modified=NEWEST)


def _number(path: str, prefix: str, suffix: str, max_digits: int) -> int | None:
    if not (path.startswith(prefix) and path.endswith(suffix)):
        return None
    digits = path[len(prefix) : -len(suffix)]
    if not digits.isdigit() or len(digits) > max_digits:
        return None
    return int(digits)

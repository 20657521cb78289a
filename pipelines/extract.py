"""From HTML to a page's main text, title, publish time, author and links.

Content-farm pages bury a short ad in navigation, "推荐阅读"/"最新更新" lists, sidebars and
footers; forum threads spread their content over many replies. The extractor:

1. parses with lxml (C, linear, no network, comments dropped) after bounding the input size;
2. reads metadata first (``<title>``, ``og:``/``article:`` meta tags, JSON-LD, ``<time>``);
3. removes what is never content: scripts, styles, forms, ``<nav>``/``<aside>``/``<footer>``,
   ruby annotations (``<rt>``/``<rp>``: 醫(yī)療 reads 醫療), elements whose class/id names
   boilerplate (nav, sidebar, footer, recommend, related, hot, share, …) and blocks headed
   by 推荐阅读, 相关文章, 最新更新, 猜你喜欢 and the like;
4. scores paragraphs readability-style (length, Chinese punctuation, low link density) onto
   their parent and grandparent, and takes the best-scoring block; when that block is one of
   several siblings of the same kind (forum posts and their replies) it takes them all;
5. writes the chosen blocks out as text, one block a line, dropping link lists inside them.

Trafilatura was measured against this on the same pages (benchmarks/bench_pipeline.py): about
18 ms of CPU per 20 KB page against about 2 ms, which the crawl's CPU budget cannot afford; on
the test pages it also kept a forum's navigation, pagination and footer, and split ruby
annotations into "醫 ( yī ) 療". This heuristic is the default and there is no trafilatura path.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.etree

from pipelines.dates import first_date, parse_iso, parse_relative

MAX_HTML_CHARS = 3_000_000  # ~10 MB of GBK; larger markup is cut before parsing
MAX_TEXT_CHARS = 200_000
MAX_LINKS = 200
MAX_JSONLD_CHARS = 100_000

_DROP_TAGS = (
    "script", "style", "noscript", "template", "iframe", "frame", "frameset", "svg", "canvas", "object",
    "embed", "applet", "form", "button", "select", "input", "textarea", "nav", "aside", "footer",
    "head", "rt", "rp", "map", "audio", "video", "dialog", "menu",
)  # fmt: skip
_BLOCK_TAGS = (
    "p", "div", "section", "article", "main", "li", "ul", "ol", "dl", "dt", "dd", "tr", "table", "h1",
    "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "header", "figure", "figcaption", "address",
    "center", "tbody", "thead", "hr",
)  # fmt: skip
_PARAGRAPH_TAGS = frozenset({"p", "pre", "td", "blockquote", "dd", "li"})
_CONTAINER_TAGS = frozenset(
    {"div", "section", "article", "main", "td", "font", "span", "center", "body", "table"}
)
# class/id words that always mean boilerplate.
_BOILERPLATE_WORDS = frozenset([
    "nav", "navbar", "navigation", "menu", "menus", "sidebar", "sidebox", "footer", "foot",
    "breadcrumb", "breadcrumbs", "crumb", "crumbs", "copyright", "share", "sharebox",
    "bdsharebuttonbox", "social", "recommend", "recommended", "recommends", "related", "relate",
    "tuijian", "xgwz", "xgyd", "xiangguan", "hot", "hots", "hotnews", "hotlist", "rank", "ranking",
    "toplist", "latest", "zuixin", "newest", "login", "toolbar", "pagination", "pager", "pages", "ad",
    "ads", "advert", "adverts", "advertisement", "banner", "guanggao", "gg", "friendlink", "flink",
    "youqing", "links", "sitemap", "topbar", "siteheader", "cookie",
    "popup", "modal",
])  # fmt: skip
_BOILERPLATE_TAGS = frozenset(
    {"div", "section", "ul", "ol", "dl", "table", "header", "span", "p", "td", "li"}
)
_WORD_SPLIT = re.compile(r"[\s_\-]+")
# Headings of blocks that are lists of other pages, never the page's own content.
_LIST_HEADINGS = re.compile(
    r"^\s*(?:推荐阅读|相关阅读|相关文章|相关推荐|热门推荐|热门文章|热门阅读|热点推荐|热点文章|最新更新|最新文章|最新发布|最新资讯|"
    r"猜你喜欢|大家都在看|延伸阅读|精彩推荐|推荐文章|为你推荐|排行榜|阅读排行|点击排行|热门标签|友情链接|相关标签|"
    r"相關閱讀|相關文章|推薦閱讀|熱門推薦|最新更新|猜你喜歡|延伸閱讀)\s*[:：>»]*\s*$"
)
_HEADING_START = re.compile(
    r"\s*(?:推荐|相关|热门|热点|最新|猜你|大家都在看|延伸|精彩|为你|阅读排行|点击排行|排行榜|友情链接|"
    r"上一篇|下一篇|相關|推薦|熱門|猜你|為你)"
)
_PREV_NEXT = re.compile(r"^\s*(?:上一篇|下一篇|上一篇文章|下一篇文章)\s*[:：]")
_PUNCT_SENTENCE = re.compile(r"[，。！？；]")
_PUNCT = re.compile(r"[，。！？；、,.!?;]")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u3000\u200b-\u200d\ufeff]+")
_BLANK_LINES = re.compile(r" ?\n[\n ]*")
_WITH_CLASS_OR_ID = lxml.etree.XPath(".//*[@class or @id]")
_WECHAT_ACCOUNT = lxml.etree.XPath("//*[@id='js_name']")
_BASE_HREF = lxml.etree.XPath("//base[@href]")
_DATE_LABEL = re.compile(
    r"(?:发布时间|發佈時間|发表时间|發表時間|发布日期|发表于|發表於|发布于|發佈於|更新时间|时间|時間|日期)\s*[:：]?\s*"
)
# Labelled publishers, most specific first: a person, then a shop or account, then an institution.
_NAME = r"(?P<name>[^\s:：|｜,，。;；()（）\[\]【】<>“”\"']{1,30})"
_AUTHOR_LABELS = tuple(
    re.compile("(?:" + labels + r")\s*" + _NAME)
    for labels in (
        r"(?:作者|作\s+者|發文者|发布者|發佈者|发布人|發佈人|楼主|樓主|发帖人|撰文|记者|記者)\s*[:：]|文\s*/",
        r"(?:店铺|店鋪|卖家|賣家|商家|公众号|公眾號|账号|帳號)\s*[:：]",
        r"(?:发布机构|發佈機構|发布单位|發佈單位|来源|來源|出处|出處)\s*[:：]",
    )
)
# Where forum and Q&A layouts put the poster's name (Discuz, Tieba, generic).
_AUTHOR_CLASSES = frozenset(
    {"authi", "d_name", "author", "username", "user-name", "nickname", "poster", "post-author", "byline",
     "writer", "asker", "uname", "user_name", "p_author_name", "author-name"}
)  # fmt: skip
_SITE_SUFFIX = re.compile(r"(?:\s[-–—|｜]\s*|_|｜)([^-–—|｜_]{2,30})\s*$")
_META_DATE_KEYS = (
    "article:published_time", "og:article:published_time", "og:published_time", "published_time",
    "pubdate", "publishdate", "publish_date", "publication_date", "date", "dc.date", "dc.date.issued",
    "dcterms.created", "datepublished", "sailthru.date", "weibo:article:create_at",
)  # fmt: skip
_META_AUTHOR_KEYS = ("author", "article:author", "og:article:author", "dc.creator", "byl", "x-account")
_META_TITLE_KEYS = ("og:title", "twitter:title")


@dataclass
class Extracted:
    """What a page says, as far as the markup tells."""

    title: str | None
    text: str
    published_at: dt.datetime | None = None  # UTC
    author: str | None = None
    links: list[dict[str, str]] = field(default_factory=list)  # [{"url", "text"}] in the main text
    method: str = "heuristic"  # heuristic | fallback | empty
    truncated: bool = False  # markup or text was cut at a size bound


def _words(el: Any) -> set[str]:
    attrs = f"{el.get('class') or ''} {el.get('id') or ''}".lower()
    return set(_WORD_SPLIT.split(attrs)) if attrs.strip() else set()


def _squash(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def _text(el: Any) -> str:
    """All text inside an element (not its tail), in one C call."""
    return lxml.etree.tostring(el, method="text", encoding="unicode", with_tail=False)


def _parse(html: str) -> Any | None:
    """Parse as UTF-8 bytes: libxml2 then ignores encoding declarations and control characters."""
    if not html.strip():
        return None
    parser = lxml.etree.HTMLParser(
        remove_comments=True, remove_pis=True, no_network=True, recover=True, encoding="utf-8"
    )
    try:
        return lxml.etree.fromstring(html.encode("utf-8", "surrogatepass"), parser=parser)
    except (lxml.etree.ParserError, lxml.etree.XMLSyntaxError, ValueError):
        return None


def _metadata(root: Any) -> dict[str, str]:
    """``<meta>`` name/property → content, lower-case keys, first occurrence wins."""
    meta: dict[str, str] = {}
    for el in root.iter("meta"):
        key = (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()
        content = el.get("content")
        if key and content and key not in meta:
            meta[key] = content.strip()[:1000]
    return meta


_SCRIPT_EPOCH = re.compile(
    r"""\b(?:var\s+ct|create_time|publish_time|pubtime)\s*[=:]\s*["']?(1[5-9]\d{8})\b"""
)
_SCRIPT_ACCOUNT = re.compile(r"""\bvar\s+nickname\s*=\s*(?:htmlDecode\()?\s*["']([^"'\n]{1,60})["']""")


def _script_hints(root: Any) -> dict[str, str]:
    """What inline scripts reveal: WeChat articles keep their publish time (``var ct = "…"``, epoch
    seconds) and account name (``var nickname``) there rather than in meta tags."""
    hints: dict[str, str] = {}
    for el in root.iter("script"):
        code = el.text
        if not code or el.get("src") or len(code) > 300_000:
            continue
        if "x-epoch" not in hints and (m := _SCRIPT_EPOCH.search(code)):
            hints["x-epoch"] = m.group(1)
        if "x-account" not in hints and (m := _SCRIPT_ACCOUNT.search(code)):
            hints["x-account"] = m.group(1).strip()
    accounts = _WECHAT_ACCOUNT(root)
    account = accounts[0] if accounts else None
    if account is not None and "x-account" not in hints:
        name = _squash(_text(account))
        if name:
            hints["x-account"] = name[:200]
    return hints


def _jsonld(root: Any) -> list[dict[str, Any]]:
    """The objects in JSON-LD blocks (flattening lists and ``@graph``), malformed blocks ignored."""
    found: list[dict[str, Any]] = []
    for el in root.iter("script"):
        if (el.get("type") or "").strip().lower() != "application/ld+json" or not el.text:
            continue
        if len(el.text) > MAX_JSONLD_CHARS:
            continue
        try:
            data = json.loads(el.text)
        except ValueError:
            continue
        stack = [data]
        while stack and len(found) < 50:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item[:50])
            elif isinstance(item, dict):
                found.append(item)
                if isinstance(item.get("@graph"), list):
                    stack.extend(item["@graph"][:50])
    return found


def _jsonld_author(item: dict[str, Any]) -> str | None:
    author = item.get("author")
    if isinstance(author, list) and author:
        author = author[0]
    if isinstance(author, dict):
        author = author.get("name")
    return author.strip()[:200] if isinstance(author, str) and author.strip() else None


def _boilerplate(body: Any) -> list[Any]:
    """Elements to remove before scoring: boilerplate by class/id, list blocks by their heading."""
    doomed = [
        el
        for el in _WITH_CLASS_OR_ID(body)
        if el.tag in _BOILERPLATE_TAGS and _words(el) & _BOILERPLATE_WORDS
    ]
    for el in body.iter():
        head = el.text
        if not head or not _HEADING_START.match(head) or el.tag in ("body", "html"):
            continue
        text = _text(el) if len(el) else head
        if len(text) > 30:
            continue
        if _LIST_HEADINGS.match(text):
            doomed.append(_list_block(el))
        elif _PREV_NEXT.match(text):
            doomed.append(el)
    return doomed


def _link_text(el: Any) -> int:
    return sum(len(_text(a)) for a in el.iter("a"))


def _list_block(heading: Any) -> Any:
    """The block a 推荐阅读-style heading heads: its parent when that is small and link-heavy."""
    parent = heading.getparent()
    if parent is None or parent.tag in ("body", "html"):
        return heading
    rest = len(_text(parent).strip()) - len(_text(heading))
    if rest <= 0 or _link_text(parent) >= 0.4 * rest or len(parent.findall(".//li")) >= 3:
        return parent
    # The heading sits inside the article container: remove it and the link list after it.
    sibling = heading.getnext()
    while sibling is not None and sibling.tag in ("ul", "ol", "dl", "div", "table"):
        sibling_text = len(_text(sibling).strip())
        if sibling_text and _link_text(sibling) < 0.5 * sibling_text:
            break
        sibling.set("data-adwatch-drop", "1")
        sibling = sibling.getnext()
    return heading


def _drop_tree(el: Any) -> None:
    """Remove an element and its content but keep its tail text (lxml.html's drop_tree)."""
    parent = el.getparent()
    if parent is None:
        return
    if el.tail:
        previous = el.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def _drop(elements: list[Any]) -> None:
    for el in elements:
        _drop_tree(el)


def _measure(body: Any) -> tuple[dict[Any, int], dict[Any, int]]:
    """Text length and link-text length of every element (children before parents)."""
    total: dict[Any, int] = {}
    linked: dict[Any, int] = {}
    elements = list(body.iter())
    for el in reversed(elements):
        t = len(el.text.strip()) if el.text else 0
        link = 0
        for child in el:
            t += total.get(child, 0)
            tail = child.tail
            if tail:
                t += len(tail.strip())
            link += linked.get(child, 0)
        total[el] = t
        linked[el] = t if el.tag == "a" else link
    return total, linked


def _direct_text(el: Any) -> int:
    n = len(el.text.strip()) if el.text else 0
    for child in el:
        if child.tail:
            n += len(child.tail.strip())
    return n


def _score(body: Any, total: dict[Any, int], linked: dict[Any, int]) -> dict[Any, float]:
    """Readability-style: each paragraph credits its parent fully and its grandparent by half."""
    scores: dict[Any, float] = {}
    for el in body.iter():
        tag = el.tag
        if not isinstance(tag, str):
            continue
        if tag in _PARAGRAPH_TAGS:
            own = total.get(el, 0) - linked.get(el, 0)
        elif tag in _CONTAINER_TAGS and _direct_text(el) >= 20:
            own = _direct_text(el)
        else:
            continue
        if own < 20:
            continue
        text = _text(el) if own < 5000 else (el.text or "")
        credit = 1.0 + min(3.0, own / 100) + min(20, len(_PUNCT.findall(text)))
        parent = el if tag in _CONTAINER_TAGS and tag not in _PARAGRAPH_TAGS else el.getparent()
        for target, share in ((parent, 1.0), (parent.getparent() if parent is not None else None, 0.5)):
            if target is None or not isinstance(target.tag, str):
                continue
            scores[target] = scores.get(target, 0.0) + credit * share
    for el, score in scores.items():
        t = total.get(el, 0)
        density = linked.get(el, 0) / t if t else 0.0
        scores[el] = score * (1.0 - density)
    return scores


def _signature(el: Any) -> tuple[str, str]:
    cls = (el.get("class") or "").split()
    return el.tag, cls[0] if cls else ""


def _content_blocks(body: Any, total: dict[Any, int], linked: dict[Any, int]) -> list[Any]:
    """The blocks holding the main text, in document order."""
    scores = _score(body, total, linked)
    if not scores:
        return [body]
    top = max(scores, key=scores.__getitem__)
    # Forum threads: the best block is one post of several alike; take every post.
    node = top
    for _ in range(4):
        parent = node.getparent()
        if parent is None or node.tag in ("body", "html"):
            break
        sig = _signature(node)
        alike = [
            c
            for c in parent
            if isinstance(c.tag, str) and _signature(c) == sig and total.get(c, 0) - linked.get(c, 0) >= 8
        ]
        if len(alike) >= 2 and sig != ("p", "") and sig[0] not in ("li", "tr", "td"):
            # A question above its answers sits beside the answers' container: keep it too.
            outer = parent.getparent()
            before = []
            if outer is not None and parent.tag not in ("body", "html"):
                for sibling in outer:
                    if sibling is parent:
                        break
                    if _prose(sibling, total, linked):
                        before.append(sibling)
            return before + alike
        node = parent
    # A block alone in its container (an answer under "1 个回答") stands for the container.
    top_score = scores[top]
    own = total.get(top, 0) - linked.get(top, 0)
    parent = top.getparent()
    while parent is not None and parent.tag not in ("body", "html"):
        if total.get(parent, 0) - linked.get(parent, 0) - own > 15:
            break
        top, parent = parent, parent.getparent()
    # Articles split over sibling blocks: keep siblings that score well too.
    if parent is None:
        return [top]
    threshold = max(10.0, scores.get(top, top_score) * 0.2)
    blocks = []
    for sibling in parent:
        if sibling is top or scores.get(sibling, 0.0) >= threshold or _prose(sibling, total, linked):
            blocks.append(sibling)
    return blocks


def _prose(el: Any, total: dict[Any, int], linked: dict[Any, int]) -> bool:
    """Sentences, not links or a metadata line: a question above its answers, reviews under an item."""
    if not isinstance(el.tag, str) or el.tag in ("h1", "h2", "h3", "script", "style"):
        return False
    t, link = total.get(el, 0), linked.get(el, 0)
    return t - link >= 15 and link < 0.3 * t and _PUNCT_SENTENCE.search(_text(el)) is not None


def _link_lists(block: Any, total: dict[Any, int], linked: dict[Any, int]) -> list[Any]:
    """Link-heavy blocks inside the content (share bars, tag clouds, "more" lists)."""
    doomed = []
    for el in block.iter("ul", "ol", "dl", "div", "table", "p", "section", "span", "li", "td"):
        if el is block:
            continue
        if el.get("data-adwatch-drop"):
            doomed.append(el)
            continue
        t = total.get(el, 0)
        link = linked.get(el, 0)
        if t and link > 0.5 * t and t - link < 30:
            doomed.append(el)
    return doomed


def _text_of(blocks: list[Any]) -> str:
    """Block-structured text: one line per block element, ``<br>`` as a line break."""
    parts = []
    for block in blocks:
        for el in block.iter(*_BLOCK_TAGS, "br", "td", "th"):
            if el.tag in ("td", "th"):
                el.tail = " " + (el.tail or "")
            else:
                el.tail = "\n" + (el.tail or "")
            if el.tag != "br":
                el.text = "\n" + (el.text or "")
        parts.append(lxml.etree.tostring(block, method="text", encoding="unicode", with_tail=False))
    text = _SPACES.sub(" ", "\n".join(parts))
    return _BLANK_LINES.sub("\n", text).strip()


def _links(blocks: list[Any], base: str) -> list[dict[str, str]]:
    seen: set[str] = set()
    links = []
    for block in blocks:
        for a in block.iter("a"):
            href = (a.get("href") or "").strip()
            if not href or href.startswith(("#", "javascript:", "mailto:", "data:")):
                continue
            try:
                absolute = urljoin(base, href)
            except ValueError:
                continue
            if urlsplit(absolute).scheme not in ("http", "https") or absolute in seen:
                continue
            seen.add(absolute)
            links.append({"url": absolute[:2000], "text": _squash(_text(a))[:200]})
            if len(links) >= MAX_LINKS:
                return links
    return links


def _title(root: Any, meta: dict[str, str], jsonld: list[dict[str, Any]]) -> str | None:
    for h1 in root.iter("h1"):
        text = _squash(_text(h1))
        if 2 <= len(text) <= 200:
            return text
    for key in _META_TITLE_KEYS:
        if meta.get(key):
            return _squash(meta[key])[:500]
    for item in jsonld:
        headline = item.get("headline")
        if isinstance(headline, str) and headline.strip():
            return _squash(headline)[:500]
    title = root.find(".//title")
    if title is not None:
        text = _squash(_text(title))
        return text[:500] or None
    return None


def _published(
    root: Any,
    meta: dict[str, str],
    jsonld: list[dict[str, Any]],
    page_text: str,
    title: str | None,
    now: dt.datetime | None,
) -> dt.datetime | None:
    for key in _META_DATE_KEYS:
        if meta.get(key):
            found = parse_iso(meta[key], now)
            if found:
                return found
    if meta.get("x-epoch"):
        return dt.datetime.fromtimestamp(int(meta["x-epoch"]), dt.UTC)
    for item in jsonld:
        for key in ("datePublished", "dateCreated", "uploadDate"):
            value = item.get(key)
            if isinstance(value, str):
                found = parse_iso(value, now)
                if found:
                    return found
    for el in root.iter("time"):
        value = el.get("datetime") or el.get("pubdate") or ""
        found = parse_iso(value, now) if value else None
        if found:
            return found
    # Labelled: 发布时间：2026-10-28 10:00 / 发表于 3天前.
    for label in _DATE_LABEL.finditer(page_text):
        window = page_text[label.end() : label.end() + 40]
        found = first_date(window, now, anchored=True)
        if found:
            return found
        if now is not None:
            found = parse_relative(window[:12], now)
            if found:
                return found
    # Unlabelled: the first date after the title.
    start = page_text.find(title) + len(title) if title and title in page_text else 0
    found = first_date(page_text[start : start + 1000], now)
    if found:
        return found
    return None


def _author_by_class(body: Any) -> str | None:
    """The first poster named by a forum or Q&A layout's author element."""
    for el in _WITH_CLASS_OR_ID(body):
        if not _words(el) & _AUTHOR_CLASSES:
            continue
        link = el.find(".//a")
        name = _squash(_text(link if link is not None and _text(link).strip() else el))
        name = re.split(r"\s|发表于|發表於|提问于|楼主|樓主", name, maxsplit=1)[0] if name else ""
        if 1 <= len(name) <= 40:
            return name
    return None


def _author(
    meta: dict[str, str], jsonld: list[dict[str, Any]], page_text: str, body: Any, site_title: str | None
) -> str | None:
    """The account, person or institution a page names as its publisher."""
    for key in _META_AUTHOR_KEYS:
        value = meta.get(key, "")
        if value and not value.startswith("http"):
            return _squash(value)[:200]
    for item in jsonld:
        found = _jsonld_author(item)
        if found:
            return found
    head = page_text[:20000]
    for label in _AUTHOR_LABELS[:2]:
        match = label.search(head)
        if match:
            return match.group("name")
    by_class = _author_by_class(body)
    if by_class:
        return by_class
    match = _AUTHOR_LABELS[2].search(head)
    if match:
        return match.group("name")
    # A site's own pages: its name, as the <title> suffix or og:site_name, is the publisher.
    if meta.get("og:site_name"):
        return _squash(meta["og:site_name"])[:200]
    suffix = _SITE_SUFFIX.search(site_title or "")
    return suffix.group(1).strip() if suffix else None


def extract(
    html: str,
    url: str,
    *,
    now: dt.datetime | None = None,
    max_text_chars: int = MAX_TEXT_CHARS,
    max_html_chars: int = MAX_HTML_CHARS,
) -> Extracted:
    """Extract a page's main content. ``now`` (the fetch time) lets "3天前" become a date.

    Never raises on bad markup: unparseable input gives an empty text and ``method="empty"``.
    """
    truncated = len(html) > max_html_chars
    root = _parse(html[:max_html_chars])
    if root is None:
        return Extracted(None, "", method="empty", truncated=truncated)
    meta = _metadata(root)
    meta.update({k: v for k, v in _script_hints(root).items() if k not in meta})
    jsonld = _jsonld(root)
    base = url
    bases = _BASE_HREF(root)
    base_el = bases[0] if bases else None
    if base_el is not None:
        try:
            base = urljoin(url, base_el.get("href", ""))
        except ValueError:
            base = url
    title = _title(root, meta, jsonld)

    body = root.find("body")
    if body is None:
        body = root
    _drop([el for el in body.iter(*_DROP_TAGS)])
    page_text = _squash(_text(body)[:8000]) if len(body) or body.text else ""
    published_at = _published(root, meta, jsonld, page_text, title, now)
    site_title = root.find(".//title")
    author = _author(meta, jsonld, page_text, body, _text(site_title) if site_title is not None else None)

    _drop(_boilerplate(body))
    total, linked = _measure(body)
    blocks = _content_blocks(body, total, linked)
    for block in blocks:
        _drop(_link_lists(block, total, linked))
    links = _links(blocks, base)
    text = _text_of(blocks)
    method = "heuristic"
    if len(text) < 20 and blocks != [body]:
        text = _text_of([body])
        method = "fallback"
    if len(text) > max_text_chars:
        text = text[:max_text_chars]
        truncated = True
    return Extracted(title, text, published_at, author, links, method if text else "empty", truncated)

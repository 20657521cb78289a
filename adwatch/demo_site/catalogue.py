"""The demo site's pages: their metadata (what each should teach AdWatch) and their rendered bytes.

Each sub-site ("section") is one YAML file in ``content/``: the section's name and index, and its
pages — the metadata the tests and evaluations rely on (expected labels and approval findings,
encoding, feeds) right next to the text a reader sees. Jinja2 layouts in ``templates/`` give each
section its look (a 贴吧-like board, a content farm with heavy boilerplate, a government site…).
Everything is rendered once, in memory, encoded in each page's declared encoding.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
import lxml.html
import yaml
from markupsafe import Markup

from adwatch.labels import FINDINGS, LABEL_IDS
from pipelines.approval_numbers import find_approval_numbers

PACKAGE_DIR = Path(__file__).resolve().parent
CONTENT_DIR = PACKAGE_DIR / "content"
TEMPLATES_DIR = PACKAGE_DIR / "templates"
CHINA = ZoneInfo("Asia/Shanghai")
# Navigation pages have no date of their own; they were "last changed" when the demo was written.
SITE_UPDATED = dt.datetime(2026, 11, 2, 10, 0, tzinfo=CHINA)

KINDS = (
    "portal", "index", "forum", "news", "farm", "notice", "qa", "feed", "shop",
    "gov", "salon", "training", "complaint", "review", "hostile",
)  # fmt: skip
RENDERS = ("static", "browser")
# The order sections are listed in (content files not named here come last, alphabetically).
SECTION_ORDER = (
    "portal",
    "forum",
    "news",
    "clinic",
    "shop",
    "feed",
    "gov",
    "qa",
    "salon",
    "training",
    "bbs",
    "tw",
)


@dataclass(frozen=True)
class DemoPage:
    """One page of the demo site and what AdWatch should make of it.

    ``expected_labels`` follow CORPUS_SPEC.md and describe the page's main content as a reader
    sees it (for ``render="browser"`` pages: after the JavaScript has run; a static fetch sees an
    empty shell). Boilerplate around it (navigation, "热门" lists, sidebar ads for unrelated
    goods) is not part of the main content. ``expected_findings`` are the approval-linking
    findings against :data:`adwatch.demo_site.SAMPLE_APPROVALS`.
    """

    path: str  # the request target: path, and query for the Discuz-style pages
    title: str
    section: str
    kind: str
    encoding: str  # the codec the body is written in
    header_charset: str | None  # what the Content-Type header says (None: no charset given)
    meta_charset: str | None  # what the page's <meta> says (None: nothing)
    render: str  # static | browser
    expected_labels: list[str]
    expected_findings: list[str]
    approval_numbers: list[str]  # 文号 as cited on the page
    published_at: dt.datetime | None  # as shown on the page, China time
    author: str | None  # account or institution shown as the publisher
    in_sitemap: bool
    in_feed: bool  # listed in /rss.xml and /atom.xml
    disallowed_by_robots: bool
    note: str  # what the page demonstrates
    main_excerpt: str  # a sentence of the main content that extraction must keep
    last_modified: dt.datetime = field(repr=False, compare=False, default=SITE_UPDATED)

    @property
    def clean(self) -> bool:
        """True when the page carries no violation label (a plain clinic notice is clean)."""
        return not set(self.expected_labels) - {"medical_ad"}


@dataclass(frozen=True)
class Section:
    """One sub-site, configured by crawl staff as a source of its own."""

    name: str  # forum, news, …
    title: str  # the site's Chinese name
    index: str  # where a crawl of this sub-site starts
    description: str


@dataclass(frozen=True)
class Rendered:
    body: bytes
    content_type: str
    last_modified: dt.datetime
    text: str  # title and main content as plain text, for the site search


@dataclass(frozen=True)
class Catalogue:
    sections: dict[str, Section]
    pages: list[DemoPage]
    rendered: dict[str, Rendered]  # by route key (see route_key)
    feed_posts: dict[str, list[dict[str, Any]]]  # the JS feed's JSON, by topic


def route_key(path: str, query: str = "") -> str:
    """Pages are looked up by path plus sorted query, so ``?tid=1&mod=x`` finds ``?mod=x&tid=1``."""
    if not query:
        return path
    pairs = sorted(p for p in query.split("&") if p)
    return path + "?" + "&".join(pairs)


def _parse_time(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime(value.year, value.month, value.day)
    else:
        parsed = dt.datetime.fromisoformat(str(value))
    return parsed.replace(tzinfo=CHINA) if parsed.tzinfo is None else parsed.astimezone(CHINA)


def paragraphs(text: str | None) -> Markup:
    """Plain text to HTML paragraphs: blank lines split paragraphs, single newlines become <br>."""
    if not text:
        return Markup("")
    out = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [html.escape(line.strip()) for line in block.strip().splitlines()]
        out.append("<p>" + "<br>\n".join(lines) + "</p>")
    return Markup("\n".join(out))


def _fmt(fmt: str) -> Any:
    def format_time(raw: Any) -> str:
        value = _parse_time(raw)
        if value is None:
            return ""
        return fmt.format(
            y=value.year, m=value.month, d=value.day, H=value.hour, M=value.minute, roc=value.year - 1911
        )

    return format_time


# The publish-time styles seen on real Chinese sites, one per layout.
DATE_FORMATS = {
    "cn": "{y}年{m:02d}月{d:02d}日 {H:02d}:{M:02d}",
    "cn_day": "{y}年{m}月{d}日",
    "dash": "{y}-{m:02d}-{d:02d} {H:02d}:{M:02d}",
    "dash_day": "{y}-{m:02d}-{d:02d}",
    "discuz": "{y}-{m}-{d} {H:02d}:{M:02d}",
    "slash": "{y}/{m:02d}/{d:02d}",
    "dot": "{y}.{m:02d}.{d:02d} {H:02d}:{M:02d}",
    "roc": "民國{roc}年{m}月{d}日",
}


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["paras"] = paragraphs
    for name, fmt in DATE_FORMATS.items():
        env.filters[f"date_{name}"] = _fmt(fmt)
    return env


def _plain_text(markup: str) -> str:
    """The visible text of an HTML fragment or whole document."""
    if not markup.strip():
        return ""
    if markup.lstrip().lower().startswith(("<!doctype", "<html")):
        root = lxml.html.document_fromstring(markup)
    else:
        root = lxml.html.fragment_fromstring(markup, create_parent="div")
    # What a reader sees: no scripts or styles, and ruby annotations (pinyin in <rt>) left out.
    for element in root.xpath("//script|//style|//head|//noscript|//rt|//rp"):
        element.drop_tree()
    return root.text_content()


def _main_text(entry: dict[str, Any]) -> str:
    """The text a reader sees as the page's content (for the JS feed: after rendering)."""
    parts = [p.get("text") or _plain_text(p.get("html", "")) for p in entry.get("posts", [])]
    parts.extend(p["text"] for p in entry.get("feed_posts", []))
    parts.append(entry.get("text") or "")
    parts.append(_plain_text(entry.get("body_html") or ""))
    return "\n".join(p for p in parts if p)


def _excerpt(text: str) -> str:
    for sentence in re.split(r"[。！？!?\n]", text):
        sentence = " ".join(sentence.split())
        if len(sentence) >= 12 and not sentence.startswith(("<", "http")):
            return sentence
    return text.strip()[:40]


def _check(entry: dict[str, Any], where: str) -> None:
    for label in entry.get("labels", []):
        if label not in LABEL_IDS:
            raise ValueError(f"{where}: unknown label {label!r}")
    for finding in entry.get("findings", []):
        if finding not in FINDINGS:
            raise ValueError(f"{where}: unknown finding {finding!r}")
    if entry.get("kind") not in KINDS:
        raise ValueError(f"{where}: unknown kind {entry.get('kind')!r}")
    if entry.get("render", "static") not in RENDERS:
        raise ValueError(f"{where}: unknown render {entry.get('render')!r}")


def _load_sections() -> list[tuple[Section, dict[str, Any], list[dict[str, Any]]]]:
    loaded = []
    files = sorted(
        CONTENT_DIR.glob("*.yaml"),
        key=lambda f: (SECTION_ORDER.index(f.stem) if f.stem in SECTION_ORDER else 99, f.stem),
    )
    for path in files:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ValueError(f"demo content file {path} is not valid YAML: {exc}") from exc
        section = Section(data["section"], data["title"], data["index"], data["description"])
        defaults = data.get("defaults", {})
        entries = []
        for i, raw in enumerate(data["pages"]):
            entry = {**defaults, **raw}
            entry.setdefault("section", section.name)
            _check(entry, f"{path.name} page {i + 1} ({entry.get('path')})")
            entries.append(entry)
        loaded.append((section, data, entries))
    return loaded


def _page(entry: dict[str, Any]) -> DemoPage:
    encoding = entry.get("encoding", "utf-8")
    text = entry["title"] + "\n" + _main_text(entry)
    numbers = [n.raw for n in find_approval_numbers(text)]
    published = _parse_time(entry.get("published"))
    labels = [label for label in LABEL_IDS if label in entry.get("labels", [])]
    return DemoPage(
        path=entry["path"],
        title=entry["title"],
        section=entry["section"],
        kind=entry["kind"],
        encoding=encoding,
        header_charset=entry.get("header_charset", encoding),
        meta_charset=entry.get("meta_charset", encoding),
        render=entry.get("render", "static"),
        expected_labels=labels,
        expected_findings=sorted(entry.get("findings", [])),
        approval_numbers=numbers,
        published_at=published,
        author=entry.get("author"),
        in_sitemap=bool(entry.get("in_sitemap", False)),
        in_feed=bool(entry.get("in_feed", False)),
        disallowed_by_robots=bool(entry.get("disallowed_by_robots", False)),
        note=entry.get("note", ""),
        main_excerpt=_excerpt(_main_text(entry)),
        last_modified=published or SITE_UPDATED,
    )


@functools.cache
def load_catalogue() -> Catalogue:
    """Read every section, render every page once; raises ValueError on a bad content file."""
    env = _environment()
    loaded = _load_sections()
    sections = {s.name: s for s, _, _ in loaded}
    all_pages: list[DemoPage] = []
    rendered: dict[str, Rendered] = {}
    feed_posts: dict[str, list[dict[str, Any]]] = {}
    for section, data, entries in loaded:
        pages = [_page(e) for e in entries]
        all_pages.extend(pages)
        listed = [(e, p) for e, p in zip(entries, pages, strict=True) if e.get("listed", True)]
        for entry, page in zip(entries, pages, strict=True):
            if not page.path.startswith(section.index.split("?")[0]):
                raise ValueError(f"{page.path} is outside its section's index {section.index}")
            context = {
                "page": page,
                "entry": entry,
                "section": section,
                "site": data,
                "listed": listed,
                "sections": sections,
            }
            template = env.get_template(entry["layout"] + ".html")
            html_text = template.render(**context)
            try:
                body = html_text.encode(page.encoding)
            except UnicodeEncodeError as exc:
                bad = exc.object[exc.start : exc.end]
                raise ValueError(f"{page.path}: {bad!r} cannot be written in {page.encoding}") from exc
            content_type = "text/html" + (f"; charset={page.header_charset}" if page.header_charset else "")
            key = route_key(*(page.path.split("?", 1) + [""])[:2])
            if key in rendered:
                raise ValueError(f"two pages have the path {page.path}")
            text = page.title + "\n" + _main_text(entry)
            rendered[key] = Rendered(body, content_type, page.last_modified, text)
            if entry.get("feed_topic"):
                feed_posts[entry["feed_topic"]] = entry["feed_posts"]
    return Catalogue(sections, all_pages, rendered, feed_posts)

"""robots.txt, sitemaps, RSS 2.0 and Atom for the demo site, built from the page metadata.

They need absolute URLs, so they are built per server (its base URL) rather than stored as files.
Which pages they list is decided by each page's ``in_sitemap`` / ``in_feed`` /
``disallowed_by_robots`` flags, so the metadata and what the crawler sees cannot drift apart.
"""

from __future__ import annotations

import email.utils
from collections.abc import Iterable

from lxml import etree

from adwatch.demo_site.catalogue import SITE_UPDATED, DemoPage

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
ATOM_NS = "http://www.w3.org/2005/Atom"
FEED_TITLE = "AdWatch 演示站点 · 论坛与资讯更新"


def disallowed_prefixes(pages: Iterable[DemoPage]) -> list[str]:
    """One Disallow line per directory holding a page marked ``disallowed_by_robots``."""
    return sorted({p.path.rsplit("/", 1)[0] + "/" for p in pages if p.disallowed_by_robots})


def robots_txt(base_url: str, pages: Iterable[DemoPage]) -> str:
    lines = ["# 演示站点的 robots.txt：会员区禁止抓取，其余开放", "User-agent: *"]
    lines += [f"Disallow: {prefix}" for prefix in disallowed_prefixes(pages)]
    lines += ["Allow: /", "", f"Sitemap: {base_url}/sitemap.xml", ""]
    return "\n".join(lines)


def sitemap_sections(pages: Iterable[DemoPage]) -> list[str]:
    return sorted({p.section for p in pages if p.in_sitemap})


def _xml(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)


def sitemap_index(base_url: str, pages: list[DemoPage]) -> bytes:
    root = etree.Element("sitemapindex", nsmap={None: SITEMAP_NS})
    for section in sitemap_sections(pages):
        entry = etree.SubElement(root, "sitemap")
        etree.SubElement(entry, "loc").text = f"{base_url}/sitemap-{section}.xml"
        newest = max(p.last_modified for p in pages if p.section == section and p.in_sitemap)
        etree.SubElement(entry, "lastmod").text = newest.isoformat()
    return _xml(root)


def sitemap(base_url: str, pages: list[DemoPage], section: str) -> bytes | None:
    listed = [p for p in pages if p.section == section and p.in_sitemap]
    if not listed:
        return None
    root = etree.Element("urlset", nsmap={None: SITEMAP_NS})
    for page in listed:
        url = etree.SubElement(root, "url")
        etree.SubElement(url, "loc").text = base_url + page.path
        etree.SubElement(url, "lastmod").text = page.last_modified.isoformat()
        etree.SubElement(url, "changefreq").text = "weekly" if page.kind == "index" else "monthly"
    return _xml(root)


def feed_pages(pages: Iterable[DemoPage]) -> list[DemoPage]:
    """Pages in the feeds, newest first."""
    return sorted((p for p in pages if p.in_feed), key=lambda p: p.last_modified, reverse=True)


def rss(base_url: str, pages: list[DemoPage]) -> bytes:
    root = etree.Element("rss", version="2.0")
    channel = etree.SubElement(root, "channel")
    etree.SubElement(channel, "title").text = FEED_TITLE
    etree.SubElement(channel, "link").text = base_url + "/"
    etree.SubElement(channel, "description").text = "江州变美吧热帖与悦享健康网最新资讯"
    etree.SubElement(channel, "language").text = "zh-cn"
    etree.SubElement(channel, "lastBuildDate").text = email.utils.format_datetime(SITE_UPDATED)
    for page in feed_pages(pages):
        item = etree.SubElement(channel, "item")
        etree.SubElement(item, "title").text = page.title
        etree.SubElement(item, "link").text = base_url + page.path
        etree.SubElement(item, "guid", isPermaLink="true").text = base_url + page.path
        etree.SubElement(item, "description").text = page.main_excerpt
        etree.SubElement(item, "pubDate").text = email.utils.format_datetime(page.last_modified)
    return _xml(root)


def atom(base_url: str, pages: list[DemoPage]) -> bytes:
    root = etree.Element("feed", nsmap={None: ATOM_NS})
    etree.SubElement(root, "title").text = FEED_TITLE
    etree.SubElement(root, "id").text = base_url + "/atom.xml"
    etree.SubElement(root, "link", href=base_url + "/atom.xml", rel="self")
    etree.SubElement(root, "link", href=base_url + "/")
    etree.SubElement(root, "updated").text = SITE_UPDATED.isoformat()
    for page in feed_pages(pages):
        entry = etree.SubElement(root, "entry")
        etree.SubElement(entry, "title").text = page.title
        etree.SubElement(entry, "id").text = base_url + page.path
        etree.SubElement(entry, "link", href=base_url + page.path)
        etree.SubElement(entry, "updated").text = page.last_modified.isoformat()
        author = etree.SubElement(entry, "author")
        etree.SubElement(author, "name").text = page.author or "匿名"
        etree.SubElement(entry, "summary").text = page.main_excerpt
    return _xml(root)

"""The sources ``adwatch demo`` crawls: one of each kind, pointed at the bundled demo site.

The demo site runs on a free port, so these are built for its address each time and stored as
``demo`` sources (replaced on every demo run), not as files under ``sources/``.
"""

from __future__ import annotations

from crawler.sources import SourceDef, source_from_mapping


def demo_source_data(base_url: str) -> list[dict]:
    return [
        {
            "name": "demo-portal",
            "description": "The demo site from its home page: every static sub-site, its links followed",
            "kind": "list",
            "start_urls": [f"{base_url}/"],
            "follow": {"deny": [r"/feed/", r"/special/slow"]},
            "max_depth": 4,
            "max_pages": 300,
        },
        {
            "name": "demo-sitemap",
            "description": "The pages the demo site lists in its sitemaps, found through robots.txt",
            "kind": "sitemap",
            "start_urls": [f"{base_url}/robots.txt"],
        },
        {
            "name": "demo-rss",
            "description": "The forum threads and news articles of the RSS feed",
            "kind": "feed",
            "start_urls": [f"{base_url}/rss.xml"],
        },
        {
            "name": "demo-atom",
            "description": "The same pages through the Atom feed",
            "kind": "feed",
            "start_urls": [f"{base_url}/atom.xml"],
        },
        {
            "name": "demo-search",
            "description": "The site search for procedure names, each result followed",
            "kind": "search",
            "search_url": f"{base_url}/search?q={{keyword}}",
            "keywords": ["水光针", "玻尿酸", "培训"],
            "max_depth": 1,
        },
        {
            "name": "demo-feed-js",
            "description": "The JavaScript-rendered feed, through Chromium, with full-page screenshots",
            "kind": "list",
            "start_urls": [f"{base_url}/feed/", f"{base_url}/feed/topic-skincare.html"],
            "render": "browser",
            "max_depth": 0,
        },
    ]


def demo_sources(base_url: str) -> list[SourceDef]:
    return [source_from_mapping(data, "demo source") for data in demo_source_data(base_url)]

"""The bundled demo site: every sub-site of ``content/``, the special routes, feeds and search.

``with DemoSite.serve() as site:`` serves it on a free 127.0.0.1 port in a background thread;
``site.base_url`` is where it lives and ``site.hits`` counts the request targets served.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import mimetypes

from adwatch.demo_site import feeds
from adwatch.demo_site.catalogue import (
    PACKAGE_DIR,
    SITE_UPDATED,
    Catalogue,
    DemoPage,
    Section,
    load_catalogue,
    route_key,
)
from adwatch.demo_site.search import search_response
from adwatch.demo_site.server import Request, Response, SiteServer
from adwatch.demo_site.special import not_found, special_response

STATIC_DIR = PACKAGE_DIR / "site"
_TEXT_TYPES = {".css": "text/css; charset=utf-8", ".js": "application/javascript; charset=utf-8"}


def _static_files() -> dict[str, tuple[bytes, str]]:
    """Every file under ``site/``, read once; only these paths are served (no path traversal)."""
    files = {}
    for path in sorted(STATIC_DIR.rglob("*")):
        if path.is_file():
            kind = (
                _TEXT_TYPES.get(path.suffix)
                or mimetypes.guess_type(path.name)[0]
                or "application/octet-stream"
            )
            files["/" + path.relative_to(STATIC_DIR).as_posix()] = (path.read_bytes(), kind)
    return files


def _xml(body: bytes, kind: str = "application/xml") -> Response:
    return Response(body=body, content_type=f"{kind}; charset=utf-8", last_modified=SITE_UPDATED)


class DemoSite(SiteServer):
    """The demo site on 127.0.0.1; use ``DemoSite.serve(port=0)`` as a context manager."""

    def __init__(self, port: int = 0, verbose: bool = False) -> None:
        self.catalogue: Catalogue = load_catalogue()
        self._files = _static_files()
        super().__init__(self.route, port=port, verbose=verbose)

    @classmethod
    def serve(cls, port: int = 0, verbose: bool = False) -> contextlib.AbstractContextManager[DemoSite]:
        return cls(port=port, verbose=verbose).running()

    @property
    def pages(self) -> list[DemoPage]:
        return list(self.catalogue.pages)

    @property
    def sections(self) -> dict[str, Section]:
        return dict(self.catalogue.sections)

    def route(self, request: Request) -> Response:
        path = request.path
        pages = self.catalogue.pages
        if path == "/robots.txt":
            body = feeds.robots_txt(self.base_url, pages).encode()
            return Response(body=body, content_type="text/plain; charset=utf-8", last_modified=SITE_UPDATED)
        if path == "/sitemap.xml":
            return _xml(feeds.sitemap_index(self.base_url, pages))
        if path.startswith("/sitemap-") and path.endswith(".xml"):
            body = feeds.sitemap(self.base_url, pages, path[len("/sitemap-") : -len(".xml")])
            return _xml(body) if body else not_found()
        if path == "/rss.xml":
            return _xml(feeds.rss(self.base_url, pages), "application/rss+xml")
        if path == "/atom.xml":
            return _xml(feeds.atom(self.base_url, pages), "application/atom+xml")
        if path == "/search":
            return search_response(self.catalogue, request)
        if path == "/feed/api/posts.json":
            return self._feed_json(request)
        special = special_response(request)
        if special is not None:
            return special
        if path in self._files:
            body, kind = self._files[path]
            return Response(body=body, content_type=kind, last_modified=SITE_UPDATED)
        query = request.target.partition("?")[2]
        rendered = self.catalogue.rendered.get(route_key(path, query)) or self.catalogue.rendered.get(path)
        if rendered is None:
            return not_found()
        return Response(
            body=rendered.body, content_type=rendered.content_type, last_modified=rendered.last_modified
        )

    def _feed_json(self, request: Request) -> Response:
        topic = request.query.get("topic", "main")
        posts = self.catalogue.feed_posts.get(topic)
        if posts is None:
            body = json.dumps({"error": f"unknown topic {topic!r}"}, ensure_ascii=False).encode()
            return Response(404, body, "application/json; charset=utf-8")
        data = {"topic": topic, "posts": [{**p, "time": _iso(p["time"])} for p in posts]}
        body = json.dumps(data, ensure_ascii=False).encode()
        return Response(
            body=body, content_type="application/json; charset=utf-8", headers=[("Cache-Control", "no-store")]
        )


def _iso(value: object) -> str:
    return value.isoformat() if isinstance(value, dt.datetime) else str(value)


def demo_pages() -> list[DemoPage]:
    """Every page of the demo site with what AdWatch should make of it (no server needed)."""
    return list(load_catalogue().pages)


def sections() -> dict[str, Section]:
    """The sub-sites, each a crawl source of its own, by name."""
    return dict(load_catalogue().sections)

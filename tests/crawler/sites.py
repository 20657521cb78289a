"""Small websites served over real HTTP on 127.0.0.1, made by the tests that use them.

A :class:`Site` maps paths to pages (bytes, status, headers) and counts what it served: ``hits``
counts responses written in full, ``started`` counts requests received. A gate can hold page
requests after a number of hits, so a test can kill a crawler at a known point.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass
class Page:
    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "text/html; charset=utf-8"})
    delay: float = 0.0


def html(title: str, text: str = "", links: list[str] = (), charset: str = "utf-8", head: str = "") -> Page:
    anchors = "".join(f'<li><a href="{href}">{href}</a></li>' for href in links)
    doc = (
        f'<!doctype html><html><head><meta charset="{charset}"><title>{title}</title>{head}</head>'
        f"<body><h1>{title}</h1><article><p>{text}</p></article><ul>{anchors}</ul></body></html>"
    )
    return Page(doc.encode(charset), headers={"Content-Type": f"text/html; charset={charset}"})


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a crawler hanging up (size limit, kill) is part of the tests, not a failure


class Site:
    def __init__(self, pages: dict[str, Page | Callable[[str], Page]]) -> None:
        self.pages = pages
        self.hits: Counter[str] = Counter()
        self.started: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.gate_after: int | None = None
        self.gate = threading.Event()
        self.gate.set()
        self.stopping = threading.Event()
        self.base_url = ""

    def page_hits(self) -> int:
        with self.lock:
            return sum(n for path, n in self.hits.items() if path != "/robots.txt")

    def hold_after(self, n: int) -> None:
        """Serve ``n`` pages (robots.txt aside), then hold every further page until release()."""
        self.gate_after = n
        self.gate.clear()

    def release(self) -> None:
        self.gate_after = None
        self.gate.set()

    def url(self, path: str) -> str:
        return self.base_url + path

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                path = urlsplit(self.path).path
                query = urlsplit(self.path).query
                key = path + ("?" + query if query else "")
                with site.lock:
                    site.started[key] += 1
                    held = (
                        site.gate_after is not None
                        and key != "/robots.txt"
                        and sum(site.started.values()) - site.started["/robots.txt"] > site.gate_after
                    )
                if held:
                    while not site.gate.wait(0.1):
                        if site.stopping.is_set():
                            return
                entry = site.pages.get(key, site.pages.get(path))
                page = entry(key) if callable(entry) else entry
                if page is None:
                    page = Page(b"<html><body>not found</body></html>", status=404)
                if page.delay:
                    time.sleep(page.delay)
                try:
                    self.send_response(page.status)
                    for name, value in page.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(page.body)))
                    self.end_headers()
                    self.wfile.write(page.body)
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    return
                with site.lock:
                    site.hits[key] += 1

        return Handler

    @contextlib.contextmanager
    def serve(self) -> Iterator[Site]:
        server = _QuietServer(("127.0.0.1", 0), self._handler())
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self.base_url = f"http://127.0.0.1:{server.server_address[1]}"
        try:
            yield self
        finally:
            self.stopping.set()
            self.gate.set()
            server.shutdown()
            server.server_close()

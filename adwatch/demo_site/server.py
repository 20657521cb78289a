"""A small, quiet, keep-alive HTTP server on 127.0.0.1 that runs in a background thread.

Both bundled sites (the hand-written demo site and the generated benchmark site) are a routing
function ``Request -> Response`` served by :class:`SiteServer`. It speaks HTTP/1.1 with
keep-alive so that it never bounds a ~250 pages/s crawl, logs nothing unless asked, counts every
request target it serves (``hits``, for "no page fetched twice" checks), and can stream large
bodies and delay responses for the crawler's size and timeout tests.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import email.utils
import socket
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self
from urllib.parse import parse_qsl, urlsplit

HOST = "127.0.0.1"
IDLE_TIMEOUT_SECONDS = 30  # a keep-alive connection idle this long is closed


@dataclass(frozen=True)
class Request:
    method: str  # GET or HEAD
    target: str  # the request target as sent: path and query
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str | None = "text/html; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)
    last_modified: dt.datetime | None = None
    # A streamed body (sent in these pieces) instead of ``body``; with ``length`` known the
    # response carries Content-Length, otherwise it is sent chunked.
    stream: Callable[[], Iterable[bytes]] | None = None
    length: int | None = None
    delay: float = 0.0  # seconds to wait before answering

    @classmethod
    def redirect(cls, status: int, location: str) -> Response:
        body = f'<html><body><a href="{location}">{location}</a></body></html>'.encode()
        return cls(status, body, headers=[("Location", location)])


Router = Callable[[Request], Response]


def parse_request(method: str, target: str, headers: dict[str, str]) -> Request:
    parts = urlsplit(target)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    return Request(method, target, parts.path or "/", query, headers)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AdWatchDemo/1.0"
    sys_version = ""
    disable_nagle_algorithm = True  # headers and body go out as separate writes
    timeout = IDLE_TIMEOUT_SECONDS
    server: _HTTPServer

    def do_GET(self) -> None:
        self._serve("GET")

    def do_HEAD(self) -> None:
        self._serve("HEAD")

    def _serve(self, method: str) -> None:
        site = self.server.site
        site._count(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        response = site.router(parse_request(method, self.path, headers))
        if response.delay and site._stopping.wait(response.delay):
            self.close_connection = True
            return
        if response.last_modified is not None and _not_modified(headers, response.last_modified):
            self.send_response(304)
            self.send_header("Last-Modified", _http_date(response.last_modified))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(response.status)
        if response.content_type:
            self.send_header("Content-Type", response.content_type)
        if response.last_modified is not None:
            self.send_header("Last-Modified", _http_date(response.last_modified))
        for name, value in response.headers:
            self.send_header(name, value)
        chunked = response.stream is not None and response.length is None
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            length = response.length if response.stream is not None else len(response.body)
            self.send_header("Content-Length", str(length))
        self.end_headers()
        if method == "HEAD":
            return
        if response.stream is None:
            self.wfile.write(response.body)
            return
        for piece in response.stream():
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")

    def log_message(self, format: str, *args: object) -> None:
        if self.server.site.verbose:
            sys.stderr.write(f"{self.address_string()} - {format % args}\n")


def _http_date(when: dt.datetime) -> str:
    return email.utils.format_datetime(when.astimezone(dt.UTC), usegmt=True)


def _not_modified(headers: dict[str, str], last_modified: dt.datetime) -> bool:
    since = headers.get("if-modified-since")
    if not since:
        return False
    try:
        parsed = email.utils.parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return last_modified.replace(microsecond=0) <= parsed


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    site: SiteServer

    def server_bind(self) -> None:
        # Skip HTTPServer's reverse DNS lookup of the host name: it is slow and useless here.
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(self.server_address)
        self.server_address = self.socket.getsockname()
        self.server_name, self.server_port = self.server_address[:2]

    def process_request(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        self.site._open_connection(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: socket.socket) -> None:  # type: ignore[override]
        self.site._close_connection(request)
        super().shutdown_request(request)

    def handle_error(self, request: object, client_address: object) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError) and not self.site.verbose:
            return  # a client that hung up mid-body (e.g. a crawler enforcing its size limit)
        super().handle_error(request, client_address)


class SiteServer:
    """Serves ``router`` on 127.0.0.1 in a background thread; use :meth:`running` as a context."""

    def __init__(self, router: Router, port: int = 0, verbose: bool = False) -> None:
        self.router = router
        self.verbose = verbose
        self.hits: collections.Counter[str] = collections.Counter()
        self._requested_port = port
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the site is not running")
        return self._httpd.server_port

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def start(self) -> Self:
        self._stopping.clear()
        httpd = _HTTPServer((HOST, self._requested_port), _Handler)
        httpd.site = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening, wake delayed responses and hang up on idle keep-alive connections."""
        if self._httpd is None:
            return
        self._stopping.set()
        self._httpd.shutdown()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None

    def serve_forever(self) -> None:
        """Serve in the foreground until interrupted (for ``python -m adwatch.demo_site``)."""
        if self._httpd is None:
            self.start()
        try:
            while self._thread is not None and self._thread.is_alive():
                self._thread.join(timeout=0.5)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    @contextlib.contextmanager
    def running(self) -> Iterator[Self]:
        self.start()
        try:
            yield self
        finally:
            self.stop()

    def _count(self, target: str) -> None:
        with self._lock:
            self.hits[target] += 1

    def _open_connection(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.add(conn)

    def _close_connection(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.discard(conn)

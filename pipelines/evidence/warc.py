"""A capture as a WARC file (ISO 28500): warcinfo, the response and the request, gzip per record.

Written with warcio from what the crawler stored: the URL, the fetch time (WARC-Date), the status,
the response and request headers and the raw body. The body is kept exactly as stored; since
Scrapy and the browser hand over bodies already decoded, the transfer headers that no longer
describe them (Content-Encoding, Transfer-Encoding, Content-Length) are renamed
``X-Original-…`` so WARC readers do not try to decode the body a second time, and
Content-Length is set to the stored body's length. warcio's own digests are SHA-1; the
SHA-256 of the raw body is carried in the ``WARC-X-Payload-SHA256`` header of the response record
and in the database.
"""

from __future__ import annotations

import datetime as dt
import io
from http import HTTPStatus
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

from adwatch.models import Capture
from pipelines.evidence.tooling import adwatch_version, warcio_version

WARC_MEDIA_TYPE = "application/warc"
_RENAMED = ("content-encoding", "transfer-encoding", "content-length")


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _header_value(value: object) -> str:
    """Header values without line breaks: a hostile server cannot forge WARC headers."""
    text = (
        value
        if isinstance(value, str)
        else ", ".join(map(str, value))
        if isinstance(value, list)
        else str(value)
    )
    return " ".join(text.splitlines())


def _response_headers(capture: Capture, body: bytes) -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = []
    for name, value in (capture.headers or {}).items():
        if name.lower() in _RENAMED:
            headers.append((f"X-Original-{name}", _header_value(value)))
        else:
            headers.append((name, _header_value(value)))
    if capture.content_type and not any(n.lower() == "content-type" for n, _ in headers):
        headers.append(("Content-Type", _header_value(capture.content_type)))
    headers.append(("Content-Length", str(len(body))))
    return headers


def _request_headers(capture: Capture, url: str) -> list[tuple[str, str]]:
    headers = [(name, _header_value(value)) for name, value in (capture.request_headers or {}).items()]
    if not any(n.lower() == "host" for n, _ in headers):
        headers.insert(0, ("Host", urlsplit(url).netloc))
    return headers


def warc_date(moment: dt.datetime) -> str:
    """WARC/1.1 date: UTC with microseconds."""
    return datetime_to_iso_date(moment.astimezone(dt.UTC).replace(tzinfo=None), use_micros=True)


def build_warc(capture: Capture, body: bytes, body_sha256: str) -> bytes:
    """The WARC file of one capture, as bytes (bodies are bounded by the crawler's maximum size)."""
    url = capture.final_url or capture.url
    date = warc_date(capture.fetched_at)
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True, warc_version="1.1")

    info = {
        "software": f"AdWatch/{adwatch_version()} (warcio {warcio_version()})",
        "format": "WARC File Format 1.1",
        "requested-uri": capture.url,
        "render": capture.render,
        "capture-id": str(capture.id),
    }
    warcinfo = writer.create_warcinfo_record(f"capture-{capture.id}.warc.gz", info)
    warcinfo.rec_headers.replace_header("WARC-Date", date)
    writer.write_record(warcinfo)

    split = urlsplit(url)
    target = (split.path or "/") + (f"?{split.query}" if split.query else "")
    response = writer.create_warc_record(
        url,
        "response",
        payload=io.BytesIO(body),
        length=len(body),
        http_headers=StatusAndHeaders(
            f"{capture.status} {_reason(capture.status)}",
            _response_headers(capture, body),
            protocol="HTTP/1.1",
        ),
        warc_headers_dict={"WARC-Date": date, "WARC-X-Payload-SHA256": body_sha256},
    )
    request = writer.create_warc_record(
        url,
        "request",
        http_headers=StatusAndHeaders(
            f"GET {target} HTTP/1.1", _request_headers(capture, url), is_http_request=True
        ),
        warc_headers_dict={"WARC-Date": date},
    )
    writer.write_request_response_pair(request, response)
    return out.getvalue()

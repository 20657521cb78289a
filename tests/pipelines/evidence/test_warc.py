"""WARC files read back with warcio: the right records, URI, date, headers and body."""

import hashlib
import io
import zlib

from warcio.archiveiterator import ArchiveIterator

from adwatch.models import Capture
from pipelines.evidence.warc import build_warc
from tests.pipelines.evidence.builders import FETCHED_AT, chinese_page


def make_capture(headers: dict[str, str]) -> tuple[Capture, bytes]:
    body = chinese_page(charset="gbk").encode("gbk")
    capture = Capture(
        id=7,
        url="http://shop.example.cn/a",
        final_url="http://shop.example.cn/a?from=redirect",
        status=200,
        headers=headers,
        request_headers={"user-agent": "AdWatch/0.1", "accept-language": "zh-CN"},
        fetched_at=FETCHED_AT,
        content_type="text/html",
        encoding="gbk",
        render="static",
        body=zlib.compress(body),
        body_size=len(body),
        sha256=hashlib.sha256(body).hexdigest(),
    )
    return capture, body


def read(warc: bytes) -> list:
    records = []
    for record in ArchiveIterator(io.BytesIO(warc)):
        records.append(
            (record.rec_type, record.rec_headers, record.http_headers, record.content_stream().read())
        )
    return records


def test_warc_holds_warcinfo_response_and_request_of_the_capture():
    capture, body = make_capture({"content-type": "text/html; charset=gbk", "server": "nginx"})
    records = read(build_warc(capture, body, capture.sha256))
    assert [r[0] for r in records] == ["warcinfo", "response", "request"]

    _, rec, http, payload = records[1]
    assert rec.get_header("WARC-Target-URI") == "http://shop.example.cn/a?from=redirect"
    assert rec.get_header("WARC-Date") == "2026-11-20T02:30:15.123456Z"  # the fetch time, UTC
    assert rec.get_header("WARC-X-Payload-SHA256") == capture.sha256
    assert http.get_statuscode() == "200"
    assert http.get_header("Content-Type") == "text/html; charset=gbk"
    assert http.get_header("Content-Length") == str(len(body))
    assert payload == body
    assert "玻尿酸".encode("gbk") in payload

    _, req_rec, req_http, _ = records[2]
    assert req_rec.get_header("WARC-Concurrent-To") == rec.get_header("WARC-Record-ID")
    assert req_rec.get_header("WARC-Date") == rec.get_header("WARC-Date")
    assert req_http.protocol == "GET"
    assert req_http.get_header("User-Agent") == "AdWatch/0.1"
    assert req_http.get_header("Host") == "shop.example.cn"

    info = records[0][3].decode()
    assert "requested-uri: http://shop.example.cn/a" in info and "AdWatch/" in info


def test_decoded_bodies_do_not_claim_a_content_encoding():
    capture, body = make_capture(
        {"content-type": "text/html", "content-encoding": "gzip", "content-length": "12"}
    )
    _, _, http, payload = read(build_warc(capture, body, capture.sha256))[1]
    assert http.get_header("Content-Encoding") is None
    assert http.get_header("X-Original-content-encoding") == "gzip"
    assert http.get_header("Content-Length") == str(len(body))
    assert payload == body  # warcio did not try to gunzip it


def test_a_hostile_header_cannot_forge_warc_headers():
    capture, body = make_capture(
        {"content-type": "text/html", "x-evil": "a\r\nWARC-Target-URI: http://forged/"}
    )
    _, rec, http, _ = read(build_warc(capture, body, capture.sha256))[1]
    assert rec.get_header("WARC-Target-URI") == "http://shop.example.cn/a?from=redirect"
    assert http.get_header("x-evil") == "a WARC-Target-URI: http://forged/"

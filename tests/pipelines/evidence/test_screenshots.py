"""Screenshots rendered offline from stored bytes, in Debian's Chromium with JavaScript and network off.

How "Chinese is rendered, not tofu" is checked: the test page shows thirteen different characters,
each in its own 60×60 cell. Each cell of the screenshot is cut out, trimmed to its ink and scaled
to 24×24; the same character is drawn with Pillow in the CJK font fontconfig picks for Chinese
(the one Chromium falls back to; WenQuanYi Zen Hei here) and treated the same way. Every cell must
correlate best with its own character's reference, and well. Missing-glyph boxes are all alike,
so they fail: a test shows the check rejecting a row of boxes.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import subprocess
import threading
import zlib

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont, ImageOps
from sqlalchemy import select

from adwatch.models import Artifact, AuditEvent, Capture
from pipelines.evidence import render_pending
from pipelines.evidence.screenshots import FAILED_ACTION, MAX_ATTEMPTS, OfflineRenderer, pending_screenshots
from tests.conftest import make_settings
from tests.pipelines.evidence.builders import FETCHED_AT, add_capture, add_document, add_item

# The font fontconfig gives Chinese text: the one Chromium falls back to (WenQuanYi Zen Hei here).
CJK_FONT = subprocess.run(
    ["fc-match", "-f", "%{file}", "sans-serif:lang=zh-cn"], capture_output=True, text=True, check=True
).stdout
CHARS = "医疗美容玻尿酸无效退款永久"
CELL = 60


def glyph_page(height: int = 1500, extra: str = "") -> str:
    cells = "".join(
        f'<span style="display:inline-block;width:{CELL}px;height:{CELL}px;font-size:40px;'
        f'line-height:{CELL}px;text-align:center;vertical-align:top">{c}</span>'
        for c in CHARS
    )
    return (
        '<!DOCTYPE html><html><head><meta charset="gbk"><title>医美广告</title></head>'
        f'<body style="margin:0;background:#fff"><div style="height:{height}px;overflow:hidden">'
        f'<div style="white-space:nowrap;height:{CELL}px">{cells}</div>{extra}</div></body></html>'
    )


def _normalised(image: Image.Image) -> np.ndarray | None:
    ink = ImageOps.invert(image.convert("L"))
    box = ink.getbbox()
    if box is None:
        return None
    return np.asarray(ink.crop(box).resize((24, 24)), dtype=float).ravel()


def _reference(char: str) -> np.ndarray:
    image = Image.new("L", (CELL, CELL), 255)
    ImageDraw.Draw(image).text((10, 5), char, font=ImageFont.truetype(CJK_FONT, 40), fill=0)
    vector = _normalised(image)
    assert vector is not None
    return vector


def glyph_matches(screenshot: Image.Image) -> list[bool]:
    """For each cell: does it look most like its own character, and clearly so?"""
    references = [_reference(c) for c in CHARS]
    matches = []
    for i in range(len(CHARS)):
        cell = _normalised(screenshot.crop((i * CELL, 0, (i + 1) * CELL, CELL)))
        if cell is None:
            matches.append(False)
            continue
        scores = [float(np.corrcoef(cell, ref)[0, 1]) for ref in references]
        matches.append(int(np.argmax(scores)) == i and scores[i] > 0.5)
    return matches


@pytest.fixture
def render_settings(tmp_path):
    s = make_settings(tmp_path / "render")
    s.ensure_dirs()
    return s


@pytest.fixture
def renderer(render_settings):
    with OfflineRenderer(render_settings) as r:
        yield r


def stored_capture(html: str, url: str = "http://clinic.example.cn/ad", encoding: str = "gbk") -> Capture:
    """A capture as stored, not in any database: the renderer needs only its fields."""
    body = html.encode(encoding)
    return Capture(
        id=1,
        url=url,
        final_url=url,
        status=200,
        headers={},
        request_headers={},
        fetched_at=FETCHED_AT,
        content_type="text/html",
        encoding=encoding,
        render="static",
        body=zlib.compress(body),
        body_size=len(body),
        sha256=hashlib.sha256(body).hexdigest(),
    )


def test_a_chinese_page_renders_as_a_png_of_the_page_size_with_real_glyphs(renderer):
    shot = renderer.render(stored_capture(glyph_page(height=1500)))  # GBK bytes, charset from the capture
    image = Image.open(io.BytesIO(shot.png))
    assert image.format == "PNG"
    assert image.size == (1280, 1500) == (shot.width, shot.height)
    assert shot.page_height == 1500 and not shot.truncated
    assert glyph_matches(image) == [True] * len(CHARS)


def test_missing_glyph_boxes_fail_the_glyph_check():
    tofu = Image.new("L", (1280, CELL), 255)
    draw = ImageDraw.Draw(tofu)
    for i in range(len(CHARS)):
        draw.rectangle((i * CELL + 22, 12, i * CELL + 38, 48), outline=0)
    assert not any(glyph_matches(tofu))


class _Counter(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802
        _Counter.hits.append(self.path)
        self.send_response(200)
        self.send_header("content-type", "text/css")
        self.end_headers()
        self.wfile.write(b"body{background:red}")

    def log_message(self, *args):
        pass


@pytest.fixture
def live_server():
    _Counter.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Counter)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_page_is_never_fetched_again_and_its_scripts_never_run(renderer, live_server):
    hostile = (
        f'<link rel="stylesheet" href="{live_server}/style.css"><img src="{live_server}/pixel.png">'
        f'<iframe src="{live_server}/frame"></iframe><link rel="prefetch" href="{live_server}/prefetch">'
        f'<meta http-equiv="refresh" content="0;url={live_server}/elsewhere">'
        "<script>document.body.style.background='red';document.title='RAN'</script>"
        '<div style="background:url(http://evil.example/bg.png);height:10px"></div>'
    )
    shot = renderer.render(stored_capture(glyph_page(height=800, extra=hostile), url=f"{live_server}/page"))
    assert _Counter.hits == []  # not even the page itself: it came from the database
    image = Image.open(io.BytesIO(shot.png)).convert("RGB")
    assert image.getpixel((1000, 700)) == (
        255,
        255,
        255,
    )  # neither the script nor the stylesheet painted it red
    assert glyph_matches(image) == [True] * len(CHARS)


def test_a_very_long_page_is_cut_at_the_maximum_height(render_settings):
    with OfflineRenderer(render_settings.with_(screenshot_max_height=2000)) as short:
        shot = short.render(stored_capture(glyph_page(height=9000)))
    assert (shot.width, shot.height) == (1280, 2000)
    assert shot.page_height == 9000 and shot.truncated


def test_render_pending_stores_each_due_screenshot_once(db, settings):
    with db.session() as s:
        capture = add_capture(s, "http://clinic.example.cn/ad", glyph_page(height=1000), encoding="gbk")
        add_item(s, add_document(s, capture, "医美广告"), ["medical_ad", "false_promise"])
        capture_id = capture.id
    assert render_pending(db, settings) == 1
    with db.session() as s:
        shot = s.scalar(
            select(Artifact).where(Artifact.capture_id == capture_id, Artifact.kind == "screenshot")
        )
        assert shot is not None and shot.media_type == "image/png"
        assert (shot.detail["width"], shot.detail["height"]) == (1280, 1000)
        assert shot.detail["renderer"].startswith("Chromium ")
    image = Image.open(settings.evidence_dir / shot.path)
    assert glyph_matches(image) == [True] * len(CHARS)
    assert render_pending(db, settings) == 0  # nothing due any more


def test_a_page_that_cannot_be_rendered_is_audited_and_given_up_after_some_attempts(db, settings):
    with db.session() as s:
        pdf = add_capture(
            s, "http://clinic.example.cn/brochure.pdf", "%PDF-1.4 …", content_type="application/pdf"
        )
        add_item(s, add_document(s, pdf, "宣传册"), ["medical_ad"])
        capture_id = pdf.id
    assert render_pending(db, settings) == 0
    with db.session() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == FAILED_ACTION)).all()
        assert [e.target_id for e in events] == [str(capture_id)] and "PDF" in events[0].detail["error"]
        assert pending_screenshots(s) == [capture_id]  # tried again next time
        for _ in range(MAX_ATTEMPTS - 1):
            s.add(AuditEvent(action=FAILED_ACTION, target_type="capture", target_id=str(capture_id)))
    with db.session() as s:
        assert pending_screenshots(s) == []

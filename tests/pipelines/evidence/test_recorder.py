"""The page pipeline's evidence hook: raw body and WARC for flagged pages, hashed when made."""

import datetime as dt
import hashlib
import io

import pytest
from sqlalchemy import select
from warcio.archiveiterator import ArchiveIterator

from adwatch.errors import AdWatchError
from adwatch.models import ApprovalFinding, Artifact, Capture
from pipelines.evidence import EvidenceRecorder, capture_missing
from pipelines.evidence.recorder import SCREENSHOT, missing_artifact_ids
from pipelines.evidence.screenshots import pending_screenshots
from tests.pipelines.evidence.builders import add_capture, add_document, add_item, chinese_page, png


def artifacts(db, capture_id):
    with db.session() as s:
        return {a.kind: a for a in s.scalars(select(Artifact).where(Artifact.capture_id == capture_id))}


def test_a_flagged_page_gets_raw_body_and_warc_with_sha256(db, settings):
    recorder = EvidenceRecorder(settings)
    html = chinese_page()
    before = dt.datetime.now(dt.UTC)
    with db.session() as s:
        capture = add_capture(s, "http://clinic.example.cn/ad", html)
        doc = add_document(s, capture, "星悦医美")
        recorder(s, capture, doc, flagged=True)
        capture_id = capture.id
    got = artifacts(db, capture_id)
    assert set(got) == {"raw", "warc"}

    raw = got["raw"]
    raw_bytes = (settings.evidence_dir / raw.path).read_bytes()
    assert raw_bytes == html.encode("utf-8")
    assert raw.sha256 == hashlib.sha256(raw_bytes).hexdigest() == raw.path.rsplit("/", 1)[1].split(".")[0]
    assert raw.media_type == "text/html" and raw.path.endswith(".html") and raw.size == len(raw_bytes)
    assert raw.created_at >= before and raw.created_at.tzinfo is not None
    assert raw.detail["captured_at"] == "2026-11-20T02:30:15.123456+00:00"

    warc = got["warc"]
    warc_bytes = (settings.evidence_dir / warc.path).read_bytes()
    assert warc.sha256 == hashlib.sha256(warc_bytes).hexdigest()
    bodies = [
        r.content_stream().read() for r in ArchiveIterator(io.BytesIO(warc_bytes)) if r.rec_type == "response"
    ]
    assert bodies == [html.encode("utf-8")]


def test_an_unflagged_page_gets_nothing(db, settings):
    with db.session() as s:
        capture = add_capture(s, "http://news.example.cn/1", chinese_page())
        EvidenceRecorder(settings)(s, capture, None, flagged=False)
        capture_id = capture.id
    assert artifacts(db, capture_id) == {}


def test_recording_twice_keeps_the_first_artifacts(db, settings):
    recorder = EvidenceRecorder(settings)
    with db.session() as s:
        capture = add_capture(s, "http://clinic.example.cn/ad", chinese_page())
        recorder(s, capture, None, flagged=True)
        capture_id = capture.id
    first = {k: a.sha256 for k, a in artifacts(db, capture_id).items()}
    with db.session() as s:
        recorder(s, s.get(Capture, capture_id), None, flagged=True)
    assert {k: a.sha256 for k, a in artifacts(db, capture_id).items()} == first


def test_a_body_that_no_longer_matches_its_fetch_hash_is_refused(db, settings):
    with db.session() as s:
        capture = add_capture(s, "http://clinic.example.cn/ad", chinese_page())
        capture.sha256 = "0" * 64
        with pytest.raises(AdWatchError, match="does not match the SHA-256 taken at fetch"):
            EvidenceRecorder(settings)(s, capture, None, flagged=True)


def test_a_screenshot_taken_at_fetch_time_is_stored_and_no_render_is_due(db, settings):
    shot = png(1280, 900)
    with db.session() as s:
        capture = add_capture(s, "http://spa.example.cn/", chinese_page(), render="browser")
        doc = add_document(s, capture, "SPA")
        add_item(s, doc, ["medical_ad", "false_promise"])
        EvidenceRecorder(settings)(s, capture, doc, flagged=True, screenshot=shot)
        capture_id = capture.id
    got = artifacts(db, capture_id)
    assert got[SCREENSHOT].sha256 == hashlib.sha256(shot).hexdigest()
    assert (got[SCREENSHOT].detail["width"], got[SCREENSHOT].detail["height"]) == (1280, 900)
    with db.session() as s:
        assert capture_id not in pending_screenshots(s)


def test_a_screenshot_that_is_not_a_png_is_refused(db, settings):
    with db.session() as s:
        capture = add_capture(s, "http://spa.example.cn/", chinese_page(), render="browser")
        with pytest.raises(AdWatchError, match="not a readable PNG"):
            EvidenceRecorder(settings)(
                s, capture, None, flagged=True, screenshot=b"<html>not an image</html>"
            )


def test_flagged_pages_without_evidence_are_found_and_completed(db, settings):
    with db.session() as s:
        reviewed = add_capture(s, "http://a.example.cn/1", chinese_page())
        add_item(s, add_document(s, reviewed, "一"), ["medical_ad", "false_promise"])
        finding_only = add_capture(s, "http://a.example.cn/2", chinese_page(title="二"))
        doc = add_document(s, finding_only, "二")
        s.add(ApprovalFinding(document_id=doc.id, kind="approval_missing"))
        clean = add_capture(s, "http://a.example.cn/3", chinese_page(title="三"))
        add_document(s, clean, "三")
        ids = {"reviewed": reviewed.id, "finding": finding_only.id, "clean": clean.id}
    with db.session() as s:
        assert set(missing_artifact_ids(s, "raw")) == {ids["reviewed"], ids["finding"]}
        assert set(pending_screenshots(s)) == {ids["reviewed"], ids["finding"]}
    result = capture_missing(db, settings)
    assert result.done == 2 and result.failed == []
    assert set(artifacts(db, ids["reviewed"])) == {"raw", "warc"}
    assert artifacts(db, ids["clean"]) == {}
    assert capture_missing(db, settings).done == 0

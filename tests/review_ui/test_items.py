"""The item page: what a reviewer needs at a glance, and crawled content that can never become markup."""

import re
import zlib

import pytest
from sqlalchemy import select

from adwatch.models import Artifact, Campaign, Capture, Document
from review_ui.highlight import segments
from tests.review_ui.factories import FILLER_AD, flag, make_record, make_source

HOSTILE_TITLE = '<script>alert("title")</script>"><img src=x onerror=alert(1)>'
HOSTILE_TEXT = (
    '玻尿酸<script>alert("text")</script>保证效果"><img src=x onerror=alert(2)>'
    '<svg onload=alert(3)>无效退款</svg><a href="javascript:alert(4)">点我</a>'
)
HOSTILE_URL = "javascript:alert(5)//<svg/onload=alert(6)>"


@pytest.fixture
def item(db):
    with db.session() as s:
        source = make_source(s, "xhs-search")
        make_record(s)
        campaign = Campaign(simhash=42, size=3)
        s.add(campaign)
        s.flush()
        main = flag(
            s,
            source=source,
            campaign=campaign,
            campaign_size=3,
            institutions=["北京美丽人生医疗美容诊所"],
            addresses=["北京市朝阳区建国路88号"],
        )
        flag(s, source=source, campaign=campaign, url="https://weibo.example.cn/p/2", text=FILLER_AD + "转")
        make_document(s, text=FILLER_AD, url="https://blog.example.cn/p/3", campaign=campaign)
        return main.id


def make_document(s, **kw):
    from tests.review_ui.factories import make_document as md

    return md(s, **kw)


def test_the_page_shows_source_time_scores_evidence_campaign_and_approval(browser_for, item):
    html = browser_for("reviewer").get(f"/items/{item}").text
    assert "https://bbs.example.cn/thread/" in html and "xhs-search" in html
    assert "2026-03-01 10:00:00（北京时间）" in html  # 02:00 UTC shown in China time
    assert re.search(r'<mark class="ev ev-false_promise" [^>]*>保证效果</mark>', html)
    assert re.search(r'<mark class="ev ev-unapproved_product" [^>]*>韩国原装</mark>', html)
    assert "6 处证据已标出" in html
    assert '虚假或保证性承诺</th><td class="bar">' in html and "93%" in html
    assert "https://weibo.example.cn/p/2" in html and "https://blog.example.cn/p/3" in html  # the campaign
    assert "审查证明记录" in html and "2025-06-01 至 2026-05-31" in html  # the record beside the ad
    assert 'sandbox=""' in html and f'src="/items/{item}/raw"' in html


def test_the_decision_form_preselects_labels_and_their_legal_bases(browser_for, item):
    client = browser_for("reviewer")
    client.post_form(f"/items/{item}/claim")
    html = client.get(f"/items/{item}").text
    checked = set(re.findall(r'name="labels" value="(\w+)"[^>]* checked', html))
    assert checked == {"medical_ad", "false_promise", "unapproved_product"}
    bases = set(re.findall(r'name="legal_basis" value="(\w+)" checked', html))
    assert bases == {"efficacy_guarantee", "false_ad", "no_review", "techniques_named"}


def test_the_raw_page_is_served_sandboxed_without_scripts(browser_for, db, item):
    with db.session() as s:
        doc = s.scalar(select(Document).join(Capture).where(Document.id == item))
        capture = s.get(Capture, doc.capture_id)
        capture.body = zlib.compress(
            "<html><body><script>alert(1)</script>医美（GBK）</body></html>".encode("gbk")
        )
        capture.encoding = "gbk"
    response = browser_for("reviewer").get(f"/items/{item}/raw")
    csp = response.headers["content-security-policy"]
    assert csp.startswith("sandbox;") and "default-src 'none'" in csp and "script-src" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert (
        response.headers["x-frame-options"] == "SAMEORIGIN"
        and response.headers["referrer-policy"] == "no-referrer"
    )
    assert "医美（GBK）" in response.text  # decoded from GBK, served as UTF-8
    source_view = browser_for("admin").get(f"/items/{item}/raw?view=source")
    assert source_view.headers["content-type"].startswith("text/plain")


def test_hostile_title_text_and_url_are_shown_as_text(browser_for, db):
    with db.session() as s:
        hostile = flag(
            s,
            title=HOSTILE_TITLE,
            text=HOSTILE_TEXT,
            url=HOSTILE_URL,
            terms={"false_promise": ["保证效果", "无效退款"], "medical_ad": ["<script>"]},
        ).id
    client = browser_for("reviewer")
    for html in (client.get(f"/items/{hostile}").text, client.get("/queue").text):
        body = html.split("<body", 1)[1]
        assert "<script>alert" not in body and "<img src=x" not in body and "<svg onload" not in body
        assert "<svg/onload" not in body and 'href="javascript:' not in body.lower()
        assert "&lt;script&gt;alert(" in body
    page = client.get(f"/items/{hostile}").text
    assert "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;" in page
    assert re.search(r'<mark class="ev ev-medical_ad" [^>]*>&lt;script&gt;</mark>', page)
    assert 'class="ext unsafe"' in page  # the javascript: URL is not a link


def test_the_screenshot_is_served_only_from_the_evidence_directory(browser_for, db, settings, item):
    with db.session() as s:
        capture_id = s.scalar(select(Document.capture_id).where(Document.id == item))
        artifact = Artifact(
            capture_id=capture_id,
            kind="screenshot",
            sha256="0" * 64,
            size=8,
            path="../secret.key",
            media_type="image/png",
        )
        s.add(artifact)
    client = browser_for("reviewer")
    assert client.get(f"/items/{item}/screenshot").status_code == 404  # outside evidence_dir
    with db.session() as s:
        s.get(Artifact, artifact.id).path = "shots/a.svg"
        s.get(Artifact, artifact.id).media_type = "image/svg+xml"
    (settings.evidence_dir / "shots").mkdir(parents=True, exist_ok=True)
    (settings.evidence_dir / "shots" / "a.svg").write_text("<svg onload='alert(1)'/>")
    assert client.get(f"/items/{item}/screenshot").status_code == 404  # SVG can carry script
    with db.session() as s:
        s.get(Artifact, artifact.id).path = "shots/a.png"
        s.get(Artifact, artifact.id).media_type = "image/png"
    (settings.evidence_dir / "shots" / "a.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    response = client.get(f"/items/{item}/screenshot")
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert f'src="/items/{item}/screenshot"' in client.get(f"/items/{item}").text


def test_enforcement_sees_only_confirmed_items(browser_for, world):
    client = browser_for("enforcement")
    assert client.get(f"/items/{world['pending']}").status_code == 403
    assert client.get(f"/items/{world['pending']}/raw").status_code == 403
    assert client.get(f"/items/{world['confirmed']}").status_code == 200


def test_unknown_items_are_404(browser_for):
    assert browser_for("reviewer").get("/items/999999").status_code == 404


def test_highlighting_cuts_overlapping_spans_and_ignores_bad_ones():
    text = "保证效果无效退款"
    evidence = [
        {"label": "false_promise", "start": 0, "end": 4, "rule": "a"},
        {"label": "medical_ad", "start": 2, "end": 6, "rule": "b"},
        {"label": "<script>", "start": 0, "end": 2},  # unknown label
        {"label": "false_promise", "start": 5, "end": 99},  # outside the text
        {"label": "false_promise", "start": "0", "end": 2},  # not offsets
        "junk",
    ]
    got = [(seg.text, seg.labels) for seg in segments(text, evidence)]
    assert got == [
        ("保证", ("false_promise",)),
        ("效果", ("false_promise", "medical_ad")),
        ("无效", ("medical_ad",)),
        ("退款", ()),
    ]
    assert "".join(seg.text for seg in segments(text, evidence)) == text

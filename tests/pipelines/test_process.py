"""The whole page pipeline against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from adwatch.db import Database
from adwatch.models import (
    Campaign,
    Capture,
    Classification,
    CrawlRun,
    Document,
    ReviewItem,
    ReviewItemLabel,
    SimhashBand,
    Source,
)
from pipelines.process import PagePipeline
from pipelines.store import is_known, known_urls
from tests.pipelines.pages import ARTICLE, content_farm_page, fetched, forum_thread_page


@dataclass
class Verdict:
    labels: list[str]
    scores: dict[str, float]
    evidence: list[dict[str, Any]] = field(default_factory=list)
    model: str = "test-1"


class KeywordClassifier:
    """A stand-in with the classifier's interface: flags guarantees, nothing else."""

    def __init__(self) -> None:
        self.calls = 0

    def classify(self, text: str, title: str | None = None) -> Verdict:
        self.calls += 1
        if "无效退款" in text:
            start = text.index("无效退款")
            return Verdict(
                ["medical_ad", "false_promise"],
                {"medical_ad": 0.95, "false_promise": 0.9, "disguised_ad": 0.2},
                [
                    {
                        "label": "false_promise",
                        "start": start,
                        "end": start + 4,
                        "text": "无效退款",
                        "rule": "lexicon:guarantee",
                    }
                ],
            )
        return Verdict([], {"medical_ad": 0.1, "false_promise": 0.05})


def count(db: Database, model: type) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_a_new_page_becomes_a_capture_and_a_document(db: Database) -> None:
    page = fetched("http://farm.example/p/2.html?utm_source=wx", content_farm_page())
    [outcome] = PagePipeline(db).process_many([page])
    assert outcome.new and outcome.error is None and outcome.skipped is None
    with db.session() as s:
        capture = s.get(Capture, outcome.capture_id)
        document = s.get(Document, outcome.document_id)
        assert zlib.decompress(capture.body) == page.body
        assert capture.body_size == len(page.body) and capture.encoding == "utf-8"
        assert capture.content_type == "text/html" and capture.fetched_at == page.fetched_at
        assert document.capture_id == capture.id and document.title == "北京做双眼皮哪家医院好？亲身经历分享"
        assert ARTICLE[2] in document.text and "推荐阅读" not in document.text
        assert {"kind": "wechat", "value": "meiyan_2026"}.items() <= document.contacts[0].items()
        assert document.approval_numbers[0]["key"] == "(京)医广[2025]第11-01-0203号"
        assert set(document.approval_numbers[0]) == {"raw", "key", "region", "start", "end"}
        assert document.institutions == ["北京美丽人生医疗美容诊所"]
        assert document.addresses == ["北京市朝阳区建国路88号SOHO现代城A座10层"]
        assert document.platform == "farm.example"
        assert document.published_at == dt.datetime(2026, 10, 28, 2, 15, tzinfo=dt.UTC)


def test_same_url_same_body_is_stored_once(db: Database) -> None:
    pipeline = PagePipeline(db)
    page = fetched("http://farm.example/p/2.html", content_farm_page())
    first = pipeline.process_many([page, page])  # twice in one batch
    again = pipeline.process(fetched("http://farm.example/p/2.html#top", content_farm_page()))
    assert [o.new for o in first] == [True, False] and not again.new
    assert first[0].capture_id == first[1].capture_id == again.capture_id
    assert again.document_id == first[0].document_id
    assert count(db, Capture) == 1 and count(db, Document) == 1


def test_changed_body_gets_a_new_capture(db: Database) -> None:
    pipeline = PagePipeline(db)
    old = pipeline.process(fetched("http://farm.example/p/2.html", content_farm_page()))
    new = pipeline.process(fetched("http://farm.example/p/2.html", content_farm_page(ARTICLE[:3])))
    assert new.new and new.capture_id != old.capture_id
    assert count(db, Capture) == 2 and count(db, Document) == 2


def test_reposts_form_one_campaign(db: Database) -> None:
    edits = [
        ARTICLE,
        (
            ARTICLE[0],
            ARTICLE[1],
            ARTICLE[2].replace("meiyan_2026", "mm_0101").replace("138 1234 5678", "139 8765 4321"),
            ARTICLE[3],
        ),
        ("【转载】" + ARTICLE[0], *ARTICLE[1:], "名额有限，先到先得！"),
    ]
    pipeline = PagePipeline(db)
    outcomes = pipeline.process_many(
        [fetched(f"http://site{i}.example/a.html", content_farm_page(p)) for i, p in enumerate(edits[:2])]
    )
    outcomes += pipeline.process_many([fetched("http://site9.example/b.html", content_farm_page(edits[2]))])
    other = pipeline.process(fetched("http://bbs.example/t1", forum_thread_page()))
    assert len({o.campaign_id for o in outcomes}) == 1
    assert other.campaign_id != outcomes[0].campaign_id
    with db.session() as s:
        campaign = s.get(Campaign, outcomes[0].campaign_id)
        assert campaign.size == 3 and outcomes[-1].campaign_size == 3
        assert (
            s.scalar(select(func.count()).select_from(Document).where(Document.campaign_id == campaign.id))
            == 3
        )
        assert s.scalar(select(func.count()).select_from(SimhashBand)) > 0


def test_classified_pages_enter_the_review_queue(db: Database) -> None:
    classifier = KeywordClassifier()
    pipeline = PagePipeline(db, classifier=classifier)
    flagged, clean = pipeline.process_many(
        [
            fetched("http://farm.example/ad", content_farm_page()),
            fetched("http://bbs.example/t1", forum_thread_page()),
        ]
    )
    assert flagged.labels == ["medical_ad", "false_promise"] and clean.labels == []
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Classification)) == 2
        item = s.scalar(select(ReviewItem))
        assert item.document_id == flagged.document_id and item.status == "pending"
        assert item.labels == ["medical_ad", "false_promise"] and item.max_score == 0.95
        assert item.priority >= 0.9 and item.url == "http://farm.example/ad"
        labels = dict(s.execute(select(ReviewItemLabel.label, ReviewItemLabel.score)).all())
        assert labels == {"medical_ad": 0.95, "false_promise": 0.9}
    # Unchanged pages are not classified again, and report their stored labels.
    again = pipeline.process(fetched("http://farm.example/ad", content_farm_page()))
    assert classifier.calls == 2 and again.labels == ["medical_ad", "false_promise"]


def test_linker_and_evidence_hooks_get_their_calls(db: Database) -> None:
    calls: list[tuple[str, Any]] = []

    def linker(session, document, result):  # type: ignore[no-untyped-def]
        calls.append(("link", document.id))
        return ["approval_unknown"]

    def evidence(session, capture, document, flagged):  # type: ignore[no-untyped-def]
        calls.append(("evidence", (capture.id, document.id if document else None, flagged)))

    pipeline = PagePipeline(db, classifier=KeywordClassifier(), linker=linker, evidence=evidence)
    [outcome] = pipeline.process_many([fetched("http://farm.example/ad", content_farm_page())])
    assert calls == [
        ("link", outcome.document_id),
        ("evidence", (outcome.capture_id, outcome.document_id, True)),
    ]
    assert outcome.findings == ["approval_unknown"]
    with db.session() as s:
        assert s.scalar(select(ReviewItem.findings)) == ["approval_unknown"]


def test_a_failing_hook_loses_nothing(db: Database) -> None:
    def broken(session, capture, document, flagged):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk full")

    [outcome] = PagePipeline(db, classifier=KeywordClassifier(), evidence=broken).process_many(
        [fetched("http://farm.example/ad", content_farm_page())]
    )
    assert (
        outcome.document_id is not None and "evidence capture failed: RuntimeError: disk full" in outcome.note
    )
    assert count(db, Document) == 1


def test_non_html_and_error_statuses_are_captured_without_a_document(db: Database) -> None:
    outcomes = PagePipeline(db).process_many(
        [
            fetched("http://x.example/a.pdf", b"%PDF-1.7 binary", content_type="application/pdf"),
            fetched("http://x.example/img", b"\x89PNG\r\n\x1a\n....", content_type=None),
            fetched("http://x.example/gone", "<html><body>404 页面不存在</body></html>", status=404),
            fetched("http://x.example/empty", b""),
        ]
    )
    assert [o.skipped for o in outcomes] == [
        "not HTML (application/pdf)",
        "not HTML (unknown content type)",
        "HTTP status 404",
        "empty body",
    ]
    assert all(o.capture_id and o.document_id is None and o.error is None for o in outcomes)
    assert count(db, Capture) == 4 and count(db, Document) == 0


def test_oversize_bodies_are_refused_with_a_clear_message(db: Database) -> None:
    pipeline = PagePipeline(db, db.settings.with_(download_maxsize=1000))
    small, big = pipeline.process_many(
        [
            fetched("http://x.example/ok", "<p>" + ARTICLE[0] + "</p>"),
            fetched("http://x.example/big", "<p>" + "医" * 2000 + "</p>"),
        ]
    )
    assert small.document_id and small.error is None
    assert (
        big.capture_id is None
        and "exceeds the size limit of 1000 bytes" in big.error
        and "http://x.example/big" in big.error
    )


def test_undecodable_bytes_are_noted_and_the_page_kept(db: Database) -> None:
    body = content_farm_page(charset="gbk").encode("gb18030").replace(b"<h1>", b"<h1>\xff", 1)
    [outcome] = PagePipeline(db).process_many(
        [fetched("http://x.example/gbk", body, content_type="text/html; charset=gbk")]
    )
    assert outcome.document_id and "1 undecodable bytes replaced" in outcome.note
    with db.session() as s:
        assert ARTICLE[2] in s.get(Document, outcome.document_id).text


def test_an_extraction_crash_keeps_the_capture_and_the_batch(db: Database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import pipelines.process as process

    real = process.extract

    def flaky(html: str, url: str, **kw: Any):  # type: ignore[no-untyped-def]
        if "boom" in url:
            raise RecursionError("maximum recursion depth exceeded")
        return real(html, url, **kw)

    monkeypatch.setattr(process, "extract", flaky)
    bad, good = PagePipeline(db).process_many(
        [
            fetched("http://x.example/boom", content_farm_page()),
            fetched("http://x.example/fine", forum_thread_page()),
        ]
    )
    assert (
        bad.capture_id
        and bad.document_id is None
        and "RecursionError" in bad.error
        and "http://x.example/boom" in bad.error
    )
    assert good.document_id and good.error is None


def test_known_urls_let_a_resumed_crawl_skip_stored_pages(db: Database) -> None:
    with db.session() as s:
        source = Source(name="farm", kind="list")
        s.add(source)
        s.flush()
        run = CrawlRun(source_id=source.id)
        s.add(run)
        s.flush()
        source_id, run_id = source.id, run.id
    PagePipeline(db).process_many(
        [
            fetched(
                "http://farm.example/p/1.html?b=2&a=1",
                content_farm_page(),
                source_id=source_id,
                run_id=run_id,
            ),
            fetched("http://other.example/", forum_thread_page()),
        ]
    )
    with db.session() as s:
        known = known_urls(s)
        mine = known_urls(s, source_id=source_id)
        assert "http://farm.example/p/1.html?a=1&b=2#x" in known and "http://other.example" in known
        assert "http://farm.example/p/9.html" not in known
        assert len(mine) == 1 and "http://other.example/" not in mine
        assert is_known(s, "HTTP://FARM.example/p/1.html?a=1&b=2")
        assert s.scalar(select(Capture.run_id).where(Capture.source_id == source_id)) == run_id


def test_nul_characters_and_lone_surrogates_are_stored_safely(db: Database) -> None:
    """PostgreSQL refuses NUL in text and JSON; JSON-LD can carry both it and broken surrogates."""
    jsonld = '<script type="application/ld+json">{"author": {"name": "\\u0000李\\ud800医生"}, "headline": "标题\\u0000"}</script>'
    html = f"<html><head>{jsonld}</head><body><p>{ARTICLE[0]}</p></body></html>"
    page = fetched("http://x.example/nul", html)
    page.headers["x-odd"] = "a\x00b"
    [outcome] = PagePipeline(db).process_many([page])
    assert outcome.error is None and outcome.document_id
    with db.session() as s:
        document = s.get(Document, outcome.document_id)
        assert document.author == "李?医生" and document.title == "标题"
        assert s.get(Capture, outcome.capture_id).headers["x-odd"] == "ab"


def test_a_page_the_database_refuses_does_not_take_its_batch_down(db: Database) -> None:
    good = fetched("http://x.example/good", content_farm_page())
    orphan = fetched("http://x.example/orphan", forum_thread_page(), source_id=999_999)  # no such source
    outcomes = PagePipeline(db).process_many([good, orphan])
    assert outcomes[0].document_id and outcomes[0].error is None
    assert outcomes[1].capture_id is None and "could not store http://x.example/orphan" in outcomes[1].error
    assert "IntegrityError" in outcomes[1].error or "ForeignKeyViolation" in outcomes[1].error
    assert count(db, Capture) == 1

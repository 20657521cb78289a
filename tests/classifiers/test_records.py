"""Classifications are stored; flagged documents enter the review queue as pending items."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from adwatch.models import Capture, Classification, Document, ReviewItem, ReviewItemLabel
from classifiers.records import record_classification

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def _document(s, n: int, text: str) -> Document:
    capture = Capture(
        url=f"http://x.test/{n}",
        url_key=f"{n:064d}",
        final_url=f"http://x.test/{n}",
        status=200,
        body=b"",
        body_size=0,
        sha256="0" * 64,
    )
    s.add(capture)
    s.flush()
    doc = Document(
        capture_id=capture.id,
        url=capture.url,
        url_key=capture.url_key,
        final_url=capture.url,
        fetched_at=NOW,
        title="标题",
        text=text,
    )
    s.add(doc)
    s.flush()
    return doc


def test_flagged_document_gets_a_pending_item_and_clean_one_does_not(db, clf) -> None:
    ad = "美容院上门打玻尿酸，韩国原装水货，保证效果无效退款，加微信预约"
    with db.session() as s:
        flagged = _document(s, 1, ad)
        clean = _document(s, 2, "市场监管局提醒：选择医美机构要查验资质。")
        record_classification(
            s, flagged, clf.classify(flagged.text, flagged.title), findings=["approval_missing"]
        )
        record_classification(s, clean, clf.classify(clean.text, clean.title))
    with db.session() as s:
        rows = s.scalars(select(Classification).order_by(Classification.document_id)).all()
        assert [r.model_version for r in rows] == [clf.version, clf.version]
        assert rows[0].labels and rows[1].labels == []
        assert all(ad[e["start"] : e["end"]] == e["text"] for e in rows[0].evidence if e["field"] == "text")
        items = s.scalars(select(ReviewItem)).all()
        assert len(items) == 1 and items[0].status == "pending" and items[0].findings == ["approval_missing"]
        assert items[0].priority > items[0].max_score > 0
        labels = {r.label for r in s.scalars(select(ReviewItemLabel))}
        assert labels == set(rows[0].labels)


def test_reclassifying_updates_a_pending_item_but_not_a_decided_one(db, clf) -> None:
    with db.session() as s:
        doc = _document(s, 3, "美容院上门打玻尿酸，加微信预约")
        result = clf.classify(doc.text)
        _, item = record_classification(s, doc, result)
        _, again = record_classification(s, doc, result)
        assert again.id == item.id
        item.status = "confirmed"
        s.flush()
        _, decided = record_classification(s, doc, result)
        assert decided.status == "confirmed"
        assert len(s.scalars(select(ReviewItem)).all()) == 1
        assert len(s.scalars(select(Classification)).all()) == 3

"""record_classification: one verdict row per change, one review item per document."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, update

from adwatch.db import Database
from adwatch.models import Classification, ReviewItem, ReviewItemLabel
from pipelines.process import PagePipeline
from pipelines.queue import priority_of, record_classification
from pipelines.review_queue import compute_priority
from pipelines.store import DocRef
from tests.pipelines.pages import content_farm_page, fetched


@dataclass
class Verdict:
    labels: list[str]
    scores: dict[str, float]
    evidence: list[Any] = field(default_factory=list)
    model: str = "m1"


def stored_document(db: Database) -> DocRef:
    [outcome] = PagePipeline(db).process_many([fetched("http://farm.example/ad", content_farm_page())])
    page = fetched("http://farm.example/ad", "")
    return DocRef(
        outcome.document_id, outcome.capture_id, None, page.url, "t", page.fetched_at, outcome.campaign_id
    )


def rows(db: Database, model: type) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_idempotent_per_document(db: Database) -> None:
    doc = stored_document(db)
    verdict = Verdict(["medical_ad", "false_promise"], {"medical_ad": 0.9, "false_promise": 0.8})
    with db.session() as s:
        first = record_classification(s, doc, verdict)
    with db.session() as s:
        second = record_classification(s, doc, verdict)
    assert first == second
    assert rows(db, Classification) == 1 and rows(db, ReviewItem) == 1 and rows(db, ReviewItemLabel) == 2


def test_a_new_verdict_updates_a_pending_item(db: Database) -> None:
    doc = stored_document(db)
    with db.session() as s:
        item_id = record_classification(s, doc, Verdict(["medical_ad"], {"medical_ad": 0.9}))
    with db.session() as s:
        record_classification(
            s,
            doc,
            Verdict(["medical_ad", "training_pitch"], {"medical_ad": 0.9, "training_pitch": 0.7}, model="m2"),
            findings=["approval_missing"],
        )
    with db.session() as s:
        item = s.get(ReviewItem, item_id)
        assert item.labels == ["medical_ad", "training_pitch"] and item.findings == ["approval_missing"]
        assert item.priority == compute_priority([0.7], ["approval_missing"], 1)
        assert sorted(s.scalars(select(ReviewItemLabel.label))) == ["medical_ad", "training_pitch"]
    assert rows(db, Classification) == 2


def test_a_decided_item_is_left_alone(db: Database) -> None:
    doc = stored_document(db)
    with db.session() as s:
        item_id = record_classification(s, doc, Verdict(["medical_ad"], {"medical_ad": 0.9}))
        s.execute(update(ReviewItem).where(ReviewItem.id == item_id).values(status="confirmed"))
    with db.session() as s:
        assert (
            record_classification(s, doc, Verdict(["false_promise"], {"false_promise": 0.99}, model="m2"))
            == item_id
        )
    with db.session() as s:
        item = s.get(ReviewItem, item_id)
        assert item.status == "confirmed" and item.labels == ["medical_ad"]


def test_clean_verdicts_are_recorded_but_not_queued(db: Database) -> None:
    doc = stored_document(db)
    with db.session() as s:
        assert record_classification(s, doc, Verdict([], {"medical_ad": 0.1})) is None
    assert rows(db, Classification) == 1 and rows(db, ReviewItem) == 0


def test_priority_uses_all_violation_scores_not_medical_ad() -> None:
    assert priority_of(["medical_ad"], {"medical_ad": 0.99, "disguised_ad": 0.4}, [], 1) == compute_priority(
        [0.4], [], 1
    )
    assert priority_of(["medical_ad"], {"medical_ad": 0.99}, ["approval_unknown"], 5) > priority_of(
        ["medical_ad"], {"medical_ad": 0.99}, [], 1
    )


def test_recording_many_fresh_verdicts_at_once_matches_one_by_one(db: Database) -> None:
    """The crawl pipeline's batched path writes what record_classification(fresh=True) writes."""
    from pipelines.queue import record_fresh_classifications

    pipeline = PagePipeline(db)
    urls = [f"http://farm.example/ad{i}" for i in range(3)]
    outcomes = pipeline.process_many([fetched(u, content_farm_page()) for u in urls])
    docs = [
        DocRef(o.document_id, o.capture_id, None, o.url, f"t{i}", fetched(o.url, "").fetched_at, None)
        for i, o in enumerate(outcomes)
    ]
    verdicts = [
        Verdict(["medical_ad", "false_promise"], {"medical_ad": 0.9, "false_promise": 0.8}),
        Verdict([], {"medical_ad": 0.1}),
        Verdict(["medical_ad"], {"medical_ad": 0.7}),
    ]
    with db.session() as s:
        ids = record_fresh_classifications(
            s, [(d, v, ["approval_missing"], 3) for d, v in zip(docs, verdicts, strict=True)]
        )
    assert ids[1] is None and ids[0] is not None and ids[2] is not None
    with db.session() as s:
        items = {i.document_id: i for i in s.scalars(select(ReviewItem))}
        labels = s.execute(select(ReviewItemLabel.item_id, ReviewItemLabel.label)).all()
        verdict_rows = s.scalars(select(Classification)).all()
    assert len(verdict_rows) == 3 and {c.document_id for c in verdict_rows} == {d.id for d in docs}
    first = items[docs[0].id]
    assert (first.id, first.status, first.labels, first.findings, first.campaign_size) == (
        ids[0],
        "pending",
        ["medical_ad", "false_promise"],
        ["approval_missing"],
        3,
    )
    assert first.priority == priority_of(first.labels, verdicts[0].scores, ["approval_missing"], 3)
    assert first.title == "t0" and first.url == docs[0].url
    assert sorted(labels) == sorted(
        [(ids[0], "medical_ad"), (ids[0], "false_promise"), (ids[2], "medical_ad")]
    )

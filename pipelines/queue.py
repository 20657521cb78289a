"""Recording a classifier's verdict and putting flagged documents in the review queue.

``record_classification`` writes a Classification row for a document and, when the verdict
has any label, a pending ReviewItem with one ReviewItemLabel per label, ordered by
``review_queue.compute_priority`` (violation scores, approval findings, campaign size).

It is idempotent per document: the same verdict again adds no row; a pending item is updated
in place (labels, scores, priority); an item a reviewer has already decided is left alone.
The ReviewItem insert is ``ON CONFLICT DO NOTHING`` on its unique document id, so two writers
classifying the same document end with one item. ``record_fresh_classifications`` is the crawl
pipeline's batched form for documents it has just stored, which have no earlier rows to look up.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from adwatch.labels import VIOLATION_LABELS
from adwatch.models import Campaign, Classification, ReviewItem, ReviewItemLabel
from adwatch.timeutil import utcnow
from pipelines.review_queue import compute_priority
from pipelines.store import _insert


class ClassifierVerdict(Protocol):
    """What a classifier returns (classifiers.api.ClassifierResult or anything shaped like it)."""

    labels: Sequence[str]
    scores: dict[str, float]
    evidence: Sequence[Any]
    model: str


class DocumentLike(Protocol):
    id: int
    source_id: int | None
    url: str
    title: str | None
    fetched_at: Any
    campaign_id: int | None


def _plain(result: ClassifierVerdict) -> tuple[list[str], dict[str, float], list[Any], str]:
    labels = [str(label) for label in result.labels]
    scores = {str(k): round(float(v), 6) for k, v in dict(result.scores).items()}
    evidence = [e if isinstance(e, dict) else getattr(e, "__dict__", str(e)) for e in result.evidence]
    return labels, scores, evidence, str(result.model)


def priority_of(
    labels: Iterable[str], scores: dict[str, float], findings: Iterable[str], campaign_size: int
) -> float:
    """The queue priority: every violation label's score counts, not only the labels that passed."""
    violation_scores = [scores.get(label, 0.0) for label in VIOLATION_LABELS]
    return compute_priority(violation_scores, findings, campaign_size)


def _campaign_size(session: Session, document: DocumentLike) -> int:
    if document.campaign_id is None:
        return 1
    return session.scalar(select(Campaign.size).where(Campaign.id == document.campaign_id)) or 1


def _classification_row(
    document: DocumentLike, plain: tuple[list[str], dict[str, float], list[Any], str]
) -> dict[str, Any]:
    labels, scores, evidence, model = plain
    return {
        "document_id": document.id,
        "model_version": model,
        "labels": labels,
        "scores": scores,
        "evidence": evidence,
        "created_at": utcnow(),
    }


def _queue_values(
    labels: list[str], scores: dict[str, float], findings: Sequence[str], size: int
) -> dict[str, Any]:
    """What a pending ReviewItem says of its verdict (set on insert, replaced on a new verdict)."""
    findings = list(dict.fromkeys(findings))
    return {
        "status": "pending",
        "priority": priority_of(labels, scores, findings, size),
        "max_score": max((scores.get(label, 0.0) for label in labels), default=0.0),
        "labels": labels,
        "findings": findings,
        "campaign_size": size,
    }


def _new_item_row(document: DocumentLike, values: dict[str, Any]) -> dict[str, Any]:
    now = utcnow()
    return {
        "document_id": document.id,
        "source_id": document.source_id,
        "title": document.title,
        "url": document.url,
        "captured_at": document.fetched_at,
        "created_at": now,
        "updated_at": now,
        **values,
    }


def _label_rows(item_id: int, labels: list[str], scores: dict[str, float]) -> list[dict[str, Any]]:
    return [
        {"item_id": item_id, "label": label, "score": scores.get(label, 0.0)}
        for label in dict.fromkeys(labels)
    ]


def record_classification(
    session: Session,
    document: DocumentLike,
    result: ClassifierVerdict,
    *,
    findings: Sequence[str] = (),
    campaign_size: int | None = None,
) -> int | None:
    """Store ``result`` for ``document``; queue it if it has labels. Returns the ReviewItem id or None."""
    plain = _plain(result)
    labels, scores, _, model = plain
    latest = session.execute(
        select(Classification.model_version, Classification.labels, Classification.scores)
        .where(Classification.document_id == document.id)
        .order_by(Classification.id.desc())
        .limit(1)
    ).first()
    if latest is None or tuple(latest) != (model, labels, scores):
        session.execute(insert(Classification).values(**_classification_row(document, plain)))
    if not labels:
        return None
    size = campaign_size if campaign_size is not None else _campaign_size(session, document)
    values = _queue_values(labels, scores, findings, size)
    existing = session.execute(
        select(ReviewItem.id, ReviewItem.status).where(ReviewItem.document_id == document.id)
    ).first()
    if existing is not None:
        if existing.status != "pending":
            return existing.id
        session.execute(
            update(ReviewItem).where(ReviewItem.id == existing.id).values(**values, updated_at=utcnow())
        )
        session.execute(delete(ReviewItemLabel).where(ReviewItemLabel.item_id == existing.id))
        item_id = existing.id
    else:
        item_id = session.execute(
            _insert(session, ReviewItem)
            .values(**_new_item_row(document, values))
            .on_conflict_do_nothing(index_elements=["document_id"])
            .returning(ReviewItem.id)
        ).scalar()
        if item_id is None:  # a concurrent writer queued it first
            return session.scalar(select(ReviewItem.id).where(ReviewItem.document_id == document.id))
    session.execute(insert(ReviewItemLabel), _label_rows(item_id, labels, scores))
    return item_id


def record_fresh_classifications(
    session: Session,
    entries: Sequence[tuple[DocumentLike, ClassifierVerdict, Sequence[str], int]],
) -> list[int | None]:
    """``record_classification`` for many documents stored in this very transaction: three statements.

    Each entry is (document, verdict, findings, campaign size). New documents have no earlier
    Classification or ReviewItem, so nothing is looked up. Returns one ReviewItem id (or None
    when unlabelled) per entry, in order.
    """
    if not entries:
        return []
    plain = [_plain(result) for _, result, _, _ in entries]
    session.execute(
        insert(Classification),
        [_classification_row(document, p) for (document, _, _, _), p in zip(entries, plain, strict=True)],
    )
    queued = [i for i, (labels, _, _, _) in enumerate(plain) if labels]
    ids: list[int | None] = [None] * len(entries)
    if not queued:
        return ids
    rows = []
    for i in queued:
        document, _, findings, size = entries[i]
        labels, scores, _, _ = plain[i]
        rows.append(_new_item_row(document, _queue_values(labels, scores, findings, size)))
    item_ids = session.scalars(
        insert(ReviewItem).returning(ReviewItem.id, sort_by_parameter_order=True), rows
    ).all()
    label_rows = []
    for i, item_id in zip(queued, item_ids, strict=True):
        ids[i] = item_id
        labels, scores, _, _ = plain[i]
        label_rows.extend(_label_rows(item_id, labels, scores))
    session.execute(insert(ReviewItemLabel), label_rows)
    return ids

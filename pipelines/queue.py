"""Recording a classifier's verdict and putting flagged documents in the review queue.

``record_classification`` writes a Classification row for a document and, when the verdict
has any label, a pending ReviewItem with one ReviewItemLabel per label, ordered by
``review_queue.compute_priority`` (violation scores, approval findings, campaign size).

It is idempotent per document: the same verdict again adds no row; a pending item is updated
in place (labels, scores, priority); an item a reviewer has already decided is left alone.
The ReviewItem insert is ``ON CONFLICT DO NOTHING`` on its unique document id, so two writers
classifying the same document end with one item.
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


def record_classification(
    session: Session,
    document: DocumentLike,
    result: ClassifierVerdict,
    *,
    findings: Sequence[str] = (),
    campaign_size: int | None = None,
    fresh: bool = False,
) -> int | None:
    """Store ``result`` for ``document``; queue it if it has labels. Returns the ReviewItem id or None.

    ``fresh=True`` (a document created in this transaction) skips the look-ups for earlier rows.
    """
    labels, scores, evidence, model = _plain(result)
    latest = None
    if not fresh:
        latest = session.execute(
            select(Classification.model_version, Classification.labels, Classification.scores)
            .where(Classification.document_id == document.id)
            .order_by(Classification.id.desc())
            .limit(1)
        ).first()
    if latest is None or tuple(latest) != (model, labels, scores):
        session.execute(
            insert(Classification).values(
                document_id=document.id,
                model_version=model,
                labels=labels,
                scores=scores,
                evidence=evidence,
                created_at=utcnow(),
            )
        )
    if not labels:
        return None
    size = campaign_size if campaign_size is not None else _campaign_size(session, document)
    findings = list(dict.fromkeys(findings))
    values = {
        "status": "pending",
        "priority": priority_of(labels, scores, findings, size),
        "max_score": max((scores.get(label, 0.0) for label in labels), default=0.0),
        "labels": labels,
        "findings": findings,
        "campaign_size": size,
    }
    item_id = None
    if not fresh:
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
    if item_id is None:
        now = utcnow()
        item_id = session.execute(
            _insert(session, ReviewItem)
            .values(
                document_id=document.id,
                source_id=document.source_id,
                title=document.title,
                url=document.url,
                captured_at=document.fetched_at,
                created_at=now,
                updated_at=now,
                **values,
            )
            .on_conflict_do_nothing(index_elements=["document_id"])
            .returning(ReviewItem.id)
        ).scalar()
        if item_id is None:  # a concurrent writer queued it first
            return session.scalar(select(ReviewItem.id).where(ReviewItem.document_id == document.id))
    session.execute(
        insert(ReviewItemLabel),
        [
            {"item_id": item_id, "label": label, "score": scores.get(label, 0.0)}
            for label in dict.fromkeys(labels)
        ],
    )
    return item_id


def record_fresh_classifications(
    session: Session,
    entries: Sequence[tuple[DocumentLike, ClassifierVerdict, Sequence[str], int]],
) -> list[int | None]:
    """``record_classification(..., fresh=True)`` for many documents at once: three statements in all.

    Each entry is (document, verdict, findings, campaign size), every document stored in this very
    transaction (so no earlier Classification or ReviewItem can exist). Returns one ReviewItem id
    (or None when unlabelled) per entry, in order.
    """
    if not entries:
        return []
    now = utcnow()
    plain = [_plain(result) for _, result, _, _ in entries]
    session.execute(
        insert(Classification),
        [
            {
                "document_id": document.id,
                "model_version": model,
                "labels": labels,
                "scores": scores,
                "evidence": evidence,
                "created_at": now,
            }
            for (document, _, _, _), (labels, scores, evidence, model) in zip(entries, plain, strict=True)
        ],
    )
    queued = [i for i, (labels, _, _, _) in enumerate(plain) if labels]
    ids: list[int | None] = [None] * len(entries)
    if not queued:
        return ids
    rows = []
    for i in queued:
        document, _, findings, size = entries[i]
        labels, scores, _, _ = plain[i]
        findings = list(dict.fromkeys(findings))
        rows.append(
            {
                "document_id": document.id,
                "source_id": document.source_id,
                "title": document.title,
                "url": document.url,
                "captured_at": document.fetched_at,
                "created_at": now,
                "updated_at": now,
                "status": "pending",
                "priority": priority_of(labels, scores, findings, size),
                "max_score": max((scores.get(label, 0.0) for label in labels), default=0.0),
                "labels": labels,
                "findings": findings,
                "campaign_size": size,
            }
        )
    item_ids = session.scalars(
        insert(ReviewItem).returning(ReviewItem.id, sort_by_parameter_order=True), rows
    ).all()
    label_rows = []
    for i, item_id in zip(queued, item_ids, strict=True):
        ids[i] = item_id
        labels, scores, _, _ = plain[i]
        label_rows.extend(
            {"item_id": item_id, "label": label, "score": scores.get(label, 0.0)}
            for label in dict.fromkeys(labels)
        )
    session.execute(insert(ReviewItemLabel), label_rows)
    return ids

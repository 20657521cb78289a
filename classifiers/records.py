"""Store a classification and, when it has any label, put the document in the review queue.

The crawl pipeline calls :func:`record_classification` for every stored Document; the
Classification row keeps labels, scores, evidence and the model version, and a document with any
label gets a ReviewItem with status ``pending`` (once: a re-classification updates the pending
item's labels and priority, never a decided one).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from adwatch.labels import VIOLATION_LABELS
from adwatch.models import Classification, Document, ReviewItem, ReviewItemLabel
from classifiers.api import ClassifierResult
from pipelines.review_queue import compute_priority


def record_classification(
    session: Session,
    document: Document,
    result: ClassifierResult,
    *,
    findings: Iterable[str] = (),
    campaign_size: int = 1,
) -> tuple[Classification, ReviewItem | None]:
    findings = list(findings)
    row = Classification(
        document_id=document.id,
        model_version=result.model,
        labels=list(result.labels),
        scores=dict(result.scores),
        evidence=[e.to_dict() for e in result.evidence],
    )
    session.add(row)
    if not result.labels:
        return row, None
    violation_scores = [result.scores[label] for label in VIOLATION_LABELS]
    item = session.scalar(select(ReviewItem).where(ReviewItem.document_id == document.id))
    if item is None:
        item = ReviewItem(
            document_id=document.id,
            source_id=document.source_id,
            status="pending",
            url=document.url,
            title=document.title,
            captured_at=document.fetched_at,
        )
        session.add(item)
    elif item.status != "pending":
        return row, item  # a reviewer has decided: the new verdict is kept, the decision stands
    item.labels = list(result.labels)
    item.findings = findings
    item.campaign_size = campaign_size
    item.max_score = max(violation_scores, default=0.0)
    item.priority = compute_priority(violation_scores, findings, campaign_size)
    session.flush()
    existing = {
        r.label: r for r in session.scalars(select(ReviewItemLabel).where(ReviewItemLabel.item_id == item.id))
    }
    for label in result.labels:
        if label in existing:
            existing.pop(label).score = result.scores[label]
        else:
            session.add(ReviewItemLabel(item_id=item.id, label=label, score=result.scores[label]))
    for stale in existing.values():
        session.delete(stale)
    return row, item

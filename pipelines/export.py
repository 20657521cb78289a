"""Stored documents as JSON lines, in CONTRACT.md's ``documents export`` format, streamed.

One object a line: url, final_url, fetched_at, sha256 (of the raw body), title, text,
published_at, author, contacts, approval_numbers, labels, scores (the latest Classification),
approval_findings (ApprovalFinding rows: kind, number, record_id, detail), group (campaign id).
Times are ISO 8601 with offset; absent values are ``null`` or ``[]``/``{}``.

Documents are read in id order, a page of rows at a time (keyset pagination), so memory stays
flat however many documents there are.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, TextIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from adwatch.models import ApprovalFinding, Capture, Classification, Document
from adwatch.timeutil import iso

PAGE_SIZE = 500
FIELDS = (
    "url", "final_url", "fetched_at", "sha256", "title", "text", "published_at", "author", "contacts",
    "approval_numbers", "labels", "scores", "approval_findings", "group",
)  # fmt: skip


def count_documents(session: Session) -> int:
    return session.scalar(select(func.count(Document.id))) or 0


def _latest_classifications(session: Session, ids: list[int]) -> dict[int, tuple[list[str], dict[str, Any]]]:
    latest = (
        select(func.max(Classification.id))
        .where(Classification.document_id.in_(ids))
        .group_by(Classification.document_id)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Classification.document_id, Classification.labels, Classification.scores).where(
            Classification.id.in_(latest)
        )
    )
    return {doc_id: (list(labels or []), dict(scores or {})) for doc_id, labels, scores in rows}


def _findings(session: Session, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = {}
    rows = session.execute(
        select(
            ApprovalFinding.document_id, ApprovalFinding.kind, ApprovalFinding.number,
            ApprovalFinding.record_id, ApprovalFinding.detail,
        )
        .where(ApprovalFinding.document_id.in_(ids))
        .order_by(ApprovalFinding.id)
    )  # fmt: skip
    for doc_id, kind, number, record_id, detail in rows:
        found.setdefault(doc_id, []).append(
            {"kind": kind, "number": number, "record_id": record_id, "detail": detail or {}}
        )
    return found


def iter_documents(session: Session, page_size: int = PAGE_SIZE) -> Iterator[dict[str, Any]]:
    """Every stored document as an export record, in id order."""
    last_id = 0
    while True:
        rows = session.execute(
            select(
                Document.id, Document.url, Document.final_url, Document.fetched_at, Capture.sha256,
                Document.title, Document.text, Document.published_at, Document.author, Document.contacts,
                Document.approval_numbers, Document.campaign_id,
            )
            .join(Capture, Capture.id == Document.capture_id)
            .where(Document.id > last_id)
            .order_by(Document.id)
            .limit(page_size)
        ).all()  # fmt: skip
        if not rows:
            return
        ids = [row.id for row in rows]
        verdicts = _latest_classifications(session, ids)
        findings = _findings(session, ids)
        for row in rows:
            labels, scores = verdicts.get(row.id, ([], {}))
            yield {
                "url": row.url,
                "final_url": row.final_url,
                "fetched_at": iso(row.fetched_at),
                "sha256": row.sha256,
                "title": row.title,
                "text": row.text or "",
                "published_at": iso(row.published_at),
                "author": row.author,
                "contacts": list(row.contacts or []),
                "approval_numbers": list(row.approval_numbers or []),
                "labels": labels,
                "scores": scores,
                "approval_findings": findings.get(row.id, []),
                "group": row.campaign_id,
            }
        last_id = ids[-1]
        session.expunge_all()


def export_documents(session: Session, out: TextIO, progress: Callable[[int], None] | None = None) -> int:
    """Write every document as one JSON line to ``out``; returns how many were written."""
    written = 0
    for record in iter_documents(session):
        out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
        out.write("\n")
        written += 1
        if progress is not None:
            progress(1)
    return written

"""One review item: the page, its raw capture (sandboxed), its screenshot, claim and decisions."""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from adwatch.db import Database
from adwatch.labels import DEFAULT_BASES, LABEL_IDS, LEGAL_BASES, LEGAL_BASIS_BY_KEY
from adwatch.models import (
    ApprovalFinding,
    ApprovalRecord,
    Artifact,
    Capture,
    Classification,
    Decision,
    Document,
    ReviewItem,
    Source,
    User,
)
from adwatch.timeutil import utcnow
from pipelines import link_approvals
from review_ui import audit, claims, decisions, highlight, sessions
from review_ui.deps import DB, Auth, CheckedForm, client_ip, require_role
from review_ui.templating import render

router = APIRouter()

readers = require_role("reviewer", "enforcement")
reviewers_only = require_role("reviewer")

RAW_CSP = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'self'"
MAX_RAW_BYTES = 20 * 1024 * 1024
SCREENSHOT_TYPES = {"image/png", "image/jpeg", "image/webp"}  # never SVG: it can carry script
CAMPAIGN_SHOWN = 50


def _load_item(s: Session, item_id: int, auth: Auth) -> ReviewItem:
    item = s.get(ReviewItem, item_id)
    if item is None:
        raise HTTPException(status_code=404, detail=f"条目 {item_id} 不存在")
    if not auth.has_role("reviewer") and item.status != "confirmed":
        raise HTTPException(status_code=403, detail="执法人员只能查看已确认的条目")
    return item


def _item_context(s: Session, item: ReviewItem, auth: Auth) -> dict:
    document = s.get(Document, item.document_id)
    capture = s.execute(
        select(
            Capture.id,
            Capture.status,
            Capture.content_type,
            Capture.encoding,
            Capture.sha256,
            Capture.body_size,
            Capture.render,
        ).where(Capture.id == document.capture_id)
    ).first()
    classification = s.scalar(
        select(Classification)
        .where(Classification.document_id == document.id)
        .order_by(Classification.id.desc())
        .limit(1)
    )
    evidence = classification.evidence if classification else []
    scores = classification.scores if classification else {}
    findings = list(s.scalars(select(ApprovalFinding).where(ApprovalFinding.document_id == document.id)))
    record_ids = {f.record_id for f in findings if f.record_id}
    records = {r.id: r for r in s.scalars(select(ApprovalRecord).where(ApprovalRecord.id.in_(record_ids)))}
    campaign = []
    if document.campaign_id is not None:
        campaign = s.execute(
            select(
                Document.id,
                Document.url,
                Document.title,
                Document.fetched_at,
                ReviewItem.id.label("item_id"),
                ReviewItem.status,
            )
            .outerjoin(ReviewItem, ReviewItem.document_id == Document.id)
            .where(Document.campaign_id == document.campaign_id, Document.id != document.id)
            .order_by(Document.fetched_at.desc())
            .limit(CAMPAIGN_SHOWN)
        ).all()
    screenshot = s.scalar(
        select(Artifact.id).where(Artifact.capture_id == document.capture_id, Artifact.kind == "screenshot")
    )
    history = s.execute(
        select(Decision, User.name)
        .join(User, User.id == Decision.user_id)
        .where(Decision.item_id == item.id)
        .order_by(Decision.id)
    ).all()
    holder = s.get(User, item.claimed_by) if item.claimed_by else None
    now = utcnow()
    claim_live = (
        item.claimed_by is not None and item.claim_expires_at is not None and item.claim_expires_at > now
    )
    finding_kinds = sorted({f.kind for f in findings})
    checked_labels = [label for label in LABEL_IDS if label in (item.labels or [])]
    checked_bases = {b for key in [*checked_labels, *finding_kinds] for b in DEFAULT_BASES.get(key, ())}
    return {
        "item": item,
        "document": document,
        "capture": capture,
        "source": s.get(Source, document.source_id) if document.source_id else None,
        "segments": highlight.segments(document.text or "", evidence),
        "evidence_count": len(highlight.valid_spans(document.text or "", evidence)),
        "scores": [(label, float(scores[label])) for label in LABEL_IDS if label in scores],
        "model_version": classification.model_version if classification else None,
        "findings": findings,
        "records": records,
        "assessments": link_approvals.assess(s, document),
        "captured_on": link_approvals.captured_on(document),
        "campaign": campaign,
        "campaign_size": item.campaign_size,
        "screenshot": screenshot is not None,
        "history": history,
        "holder": holder,
        "claim_live": claim_live,
        "mine": claim_live and item.claimed_by == auth.user.id,
        "can_decide": auth.has_role("reviewer"),
        "checked_labels": checked_labels,
        "checked_bases": checked_bases,
        "legal_bases": LEGAL_BASES,
        "basis_by_key": LEGAL_BASIS_BY_KEY,
        "default_bases": {k: " ".join(v) for k, v in DEFAULT_BASES.items()},
        "reject_reasons": decisions.REJECT_REASONS,
        "label_ids": LABEL_IDS,
    }


def item_page(
    request: Request,
    auth: Auth,
    db: Database,
    item_id: int,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    with db.session() as s:
        item = _load_item(s, item_id, auth)
        context = _item_context(s, item, auth)
    return render(request, "item.html", {**context, "error": error}, status_code=status_code)


@router.get("/items/{item_id}")
def show_item(request: Request, *, item_id: int, auth: Annotated[Auth, Depends(readers)], db: DB) -> Response:
    return item_page(request, auth, db, item_id)


@router.get("/items/{item_id}/raw")
def raw_capture(
    request: Request, *, item_id: int, view: str = "page", auth: Annotated[Auth, Depends(readers)], db: DB
) -> Response:
    """The stored page as fetched, for the sandboxed iframe: no script can run, nothing is fetched."""
    with db.session() as s:
        item = _load_item(s, item_id, auth)
        row = s.execute(
            select(Capture.body, Capture.encoding)
            .join(Document, Document.capture_id == Capture.id)
            .where(Document.id == item.document_id)
        ).first()
    if row is None:
        raise HTTPException(status_code=404, detail="没有保存原始页面")
    try:
        inflater = zlib.decompressobj()
        raw = inflater.decompress(row.body, MAX_RAW_BYTES)
        truncated = bool(inflater.unconsumed_tail)
    except zlib.error:
        raw, truncated = row.body[:MAX_RAW_BYTES], len(row.body) > MAX_RAW_BYTES
    try:
        html = raw.decode(row.encoding or "utf-8", errors="replace")
    except LookupError:
        html = raw.decode("utf-8", errors="replace")
    if truncated:
        html += "\n<!-- AdWatch: 页面过大，仅显示前 20 MB -->"
    headers = {
        "Content-Security-Policy": RAW_CSP,
        "X-Frame-Options": "SAMEORIGIN",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }
    media_type = "text/plain; charset=utf-8" if view == "source" else "text/html; charset=utf-8"
    return Response(html.encode("utf-8"), media_type=media_type, headers=headers)


@router.get("/items/{item_id}/screenshot")
def screenshot(
    request: Request, *, item_id: int, auth: Annotated[Auth, Depends(readers)], db: DB
) -> Response:
    settings = request.app.state.settings
    with db.session() as s:
        item = _load_item(s, item_id, auth)
        artifact = s.scalar(
            select(Artifact)
            .join(Document, Document.capture_id == Artifact.capture_id)
            .where(Document.id == item.document_id, Artifact.kind == "screenshot")
        )
    if artifact is None or artifact.media_type not in SCREENSHOT_TYPES:
        raise HTTPException(status_code=404, detail="没有截图")
    root = settings.evidence_dir.resolve()
    path = (root / artifact.path).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise HTTPException(status_code=404, detail="截图文件不存在")
    return FileResponse(
        Path(path),
        media_type=artifact.media_type,
        headers={"Content-Security-Policy": "default-src 'none'; frame-ancestors 'self'"},
    )


@router.post("/items/{item_id}/claim")
def claim(
    request: Request,
    *,
    item_id: int,
    auth: Annotated[Auth, Depends(reviewers_only)],
    form: CheckedForm,
    db: DB,
) -> Response:
    with db.session() as s:
        _load_item(s, item_id, auth)
        try:
            lease = claims.claim(s, request.app.state.settings, item_id, auth.user)
        except claims.ClaimRefused as exc:
            refused = str(exc)
        else:
            refused = None
            audit.record(
                s,
                "review.claim",
                user=auth.user,
                ip=client_ip(request),
                target_type="review_item",
                target_id=item_id,
                detail={"expires_at": lease.expires_at.isoformat()},
            )
    if refused:
        return item_page(request, auth, db, item_id, error=refused, status_code=409)
    return RedirectResponse(f"/items/{item_id}", status_code=303)


@router.post("/items/{item_id}/release")
def release(
    request: Request,
    *,
    item_id: int,
    auth: Annotated[Auth, Depends(reviewers_only)],
    form: CheckedForm,
    db: DB,
) -> Response:
    with db.session() as s:
        _load_item(s, item_id, auth)
        if claims.release(s, item_id, auth.user):
            audit.record(
                s,
                "review.release",
                user=auth.user,
                ip=client_ip(request),
                target_type="review_item",
                target_id=item_id,
            )
            sessions.flash(s, auth.session_id, f"已放弃条目 {item_id} 的认领")
    return RedirectResponse(f"/items/{item_id}", status_code=303)


@router.post("/items/{item_id}/decide")
def decide(
    request: Request,
    *,
    item_id: int,
    auth: Annotated[Auth, Depends(reviewers_only)],
    form: CheckedForm,
    db: DB,
) -> Response:
    data = decisions.DecisionInput(
        action=str(form.get("action") or ""),
        labels=[str(x) for x in form.getlist("labels")][:20],
        legal_basis=[str(x) for x in form.getlist("legal_basis")][:40],
        note=str(form.get("note") or ""),
        reason=str(form.get("reason") or "") or None,
    )
    with db.session() as s:
        _load_item(s, item_id, auth)
        try:
            decisions.decide(s, item_id, auth.user, data, client_ip(request))
        except decisions.DecisionRefused as exc:
            s.rollback()
            refused = str(exc)
        else:
            refused = None
            lease = claims.claim_next(s, request.app.state.settings, auth.user, after=item_id)
            done = f"条目 {item_id} 已{decisions.ACTION_ZH[data.action]}"
            if lease is None:
                sessions.flash(s, auth.session_id, f"{done}。队列中已没有可认领的条目")
                target = "/queue"
            else:
                audit.record(
                    s,
                    "review.claim",
                    user=auth.user,
                    ip=client_ip(request),
                    target_type="review_item",
                    target_id=lease.item_id,
                    detail={"via": "next"},
                )
                sessions.flash(s, auth.session_id, f"{done}，已自动认领下一条")
                target = f"/items/{lease.item_id}"
    if refused:
        return item_page(request, auth, db, item_id, error=refused, status_code=409)
    return RedirectResponse(target, status_code=303)

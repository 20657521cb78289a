"""The review queue (reviewers) and the confirmed cases (enforcement), and "claim the next item"."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from adwatch.models import ReviewItemLabel, Source, User
from adwatch.timeutil import utcnow
from review_ui import audit, claims, queue, sessions
from review_ui.deps import DB, Auth, CheckedForm, client_ip, require_role
from review_ui.nav import NavItem
from review_ui.templating import render

router = APIRouter()
NAV = [
    NavItem("审核队列", "/queue", ("reviewer",), 10),
    NavItem("已确认案件", "/cases", ("enforcement", "reviewer"), 20),
]

reviewers_only = require_role("reviewer")
case_readers = require_role("reviewer", "enforcement")


def _page_context(s: Session, filters: queue.QueueFilters, after: str | None, before: str | None) -> dict:
    page = queue.page(s, filters, after=after, before=before)
    ids = [item.id for item in page.items]
    scores: dict[int, list[tuple[str, float]]] = {i: [] for i in ids}
    if ids:
        for row in s.execute(
            select(ReviewItemLabel.item_id, ReviewItemLabel.label, ReviewItemLabel.score)
            .where(ReviewItemLabel.item_id.in_(ids))
            .order_by(ReviewItemLabel.score.desc())
        ):
            scores[row.item_id].append((row.label, row.score))
    user_ids = {i.claimed_by for i in page.items} | {i.decided_by for i in page.items}
    names = dict(s.execute(select(User.id, User.name).where(User.id.in_([u for u in user_ids if u]))).all())
    return {
        "page": page,
        "scores": scores,
        "names": names,
        "sources": dict(s.execute(select(Source.id, Source.name).order_by(Source.name)).all()),
        "reviewers": s.execute(
            select(User.id, User.name).where(User.role.in_(("reviewer", "admin"))).order_by(User.name)
        ).all(),
        "filters": filters,
        "now": utcnow(),
    }


@router.get("/queue")
def queue_page(
    request: Request,
    *,
    after: str | None = None,
    before: str | None = None,
    auth: Annotated[Auth, Depends(reviewers_only)],
    db: DB,
) -> Response:
    filters = queue.QueueFilters.parse(request.query_params)
    with db.session() as s:
        context = _page_context(s, filters, after, before)
    return render(request, "queue.html", {**context, "mode": "queue", "base_path": "/queue"})


@router.get("/cases")
def cases_page(
    request: Request,
    *,
    after: str | None = None,
    before: str | None = None,
    auth: Annotated[Auth, Depends(case_readers)],
    db: DB,
) -> Response:
    filters = queue.QueueFilters.parse(request.query_params, default_status="confirmed").with_(
        status="confirmed"
    )
    with db.session() as s:
        context = _page_context(s, filters, after, before)
    return render(request, "queue.html", {**context, "mode": "cases", "base_path": "/cases"})


@router.post("/queue/next")
def claim_next(
    request: Request, *, auth: Annotated[Auth, Depends(reviewers_only)], form: CheckedForm, db: DB
) -> Response:
    after = queue.parse_int(str(form.get("after") or ""))
    with db.session() as s:
        lease = claims.claim_next(s, request.app.state.settings, auth.user, after=after)
        if lease is None:
            sessions.flash(s, auth.session_id, "队列中没有可认领的待审核条目")
            return RedirectResponse("/queue", status_code=303)
        audit.record(
            s,
            "review.claim",
            user=auth.user,
            ip=client_ip(request),
            target_type="review_item",
            target_id=lease.item_id,
            detail={"via": "next"},
        )
    return RedirectResponse(f"/items/{lease.item_id}", status_code=303)

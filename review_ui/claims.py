"""Claims: a reviewer leases an item before deciding it.

A claim is ``claimed_by`` + ``claim_expires_at`` (now + ``settings.claim_lease_seconds``), taken with
one conditional UPDATE: it succeeds only if nobody else holds a live lease. The database makes
that atomic on both backends (SQLite serialises writers; PostgreSQL re-checks the WHERE clause
after waiting for a concurrent writer's row lock), so two reviewers can never both hold an item.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import or_, select, tuple_, update
from sqlalchemy.orm import Session

from adwatch.errors import AdWatchError
from adwatch.models import ReviewItem, User
from adwatch.settings import Settings
from adwatch.timeutil import fmt_china, utcnow

CLAIMABLE_STATUSES = ("pending", "escalated")
NEXT_CANDIDATES = 25


class ClaimRefused(AdWatchError):
    """Someone else holds the item, or it is already decided. The message is for the reviewer."""


@dataclass(frozen=True)
class Lease:
    item_id: int
    expires_at: dt.datetime


def _free_for(user_id: int, now: dt.datetime):  # noqa: ANN202 - a SQL condition
    return or_(
        ReviewItem.claimed_by.is_(None),
        ReviewItem.claimed_by == user_id,
        ReviewItem.claim_expires_at.is_(None),
        ReviewItem.claim_expires_at <= now,
    )


def claim(session: Session, settings: Settings, item_id: int, user: User) -> Lease:
    """Take (or renew) the lease on one item; ClaimRefused says who holds it or why not."""
    now = utcnow()
    expires = now + dt.timedelta(seconds=settings.claim_lease_seconds)
    result = session.execute(
        update(ReviewItem)
        .where(
            ReviewItem.id == item_id,
            ReviewItem.status.in_(CLAIMABLE_STATUSES),
            _free_for(user.id, now),
        )
        .values(claimed_by=user.id, claim_expires_at=expires)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 1:
        return Lease(item_id, expires)
    raise ClaimRefused(refusal_reason(session, item_id))


def refusal_reason(session: Session, item_id: int) -> str:
    row = session.execute(
        select(ReviewItem.status, ReviewItem.claim_expires_at, User.name)
        .outerjoin(User, User.id == ReviewItem.claimed_by)
        .where(ReviewItem.id == item_id)
    ).first()
    if row is None:
        return f"条目 {item_id} 不存在"
    if row.status not in CLAIMABLE_STATUSES:
        return f"条目 {item_id} 已处理（{STATUS_ZH.get(row.status, row.status)}），不能再认领"
    return f"条目 {item_id} 已被 {row.name} 认领，至 {fmt_china(row.claim_expires_at)} 前他人不能处理"


def release(session: Session, item_id: int, user: User) -> bool:
    """Give the lease back (only the holder can); True if one was released."""
    result = session.execute(
        update(ReviewItem)
        .where(ReviewItem.id == item_id, ReviewItem.claimed_by == user.id)
        .values(claimed_by=None, claim_expires_at=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def holds_live_claim(item: ReviewItem, user: User, now: dt.datetime | None = None) -> bool:
    now = now or utcnow()
    return item.claimed_by == user.id and item.claim_expires_at is not None and item.claim_expires_at > now


def claim_next(session: Session, settings: Settings, user: User, after: int | None = None) -> Lease | None:
    """Claim the highest-priority free pending item, continuing the queue after item ``after``.

    The user's lease on ``after`` (if undecided) is given back, so skipping an item frees it for
    others. Candidates lost to a concurrent reviewer are skipped; None when the queue is empty.
    """
    now = utcnow()
    start = None
    if after is not None:
        release(session, after, user)
        start = session.execute(
            select(ReviewItem.priority, ReviewItem.id).where(ReviewItem.id == after)
        ).first()
    for wrapped in (False, True):
        query = (
            select(ReviewItem.id)
            .where(ReviewItem.status == "pending", _free_for(user.id, now))
            .order_by(ReviewItem.priority.desc(), ReviewItem.id.desc())
            .limit(NEXT_CANDIDATES)
        )
        if start is not None and not wrapped:
            query = query.where(tuple_(ReviewItem.priority, ReviewItem.id) < tuple_(start.priority, start.id))
        elif after is not None:
            query = query.where(ReviewItem.id != after)
        for item_id in session.scalars(query).all():
            try:
                return claim(session, settings, item_id, user)
            except ClaimRefused:
                continue
        if start is None:
            break
    return None


STATUS_ZH = {"pending": "待审核", "confirmed": "已确认", "rejected": "已排除", "escalated": "已上报"}

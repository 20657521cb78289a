"""The review queue: filters, ordering by priority, and keyset pagination.

Ordering is ``priority DESC, id DESC`` and rides the ``(status, priority, id)`` index; pages are
cut with a keyset cursor ``(priority, id)``, so page 2,000 costs what page 1 costs. Text search
goes through :mod:`review_ui.search`.

Label and finding filters are semi-joins on indexed columns, written one of two ways. Counting
(up to :data:`COUNT_CAP`) uses ``IN (SELECT …)`` lists, which the database builds once from an
index. The page itself then uses those lists too when few items match (sorting a few hundred rows
is cheap), but ``EXISTS`` when many do: walking the priority index and testing each row stops after
one page, and with more than COUNT_CAP matches a page is never far away. Either way a filtered
page of 100,000 items costs tens of milliseconds, not a scan.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from sqlalchemy import Select, exists, func, select, tuple_
from sqlalchemy.orm import Session

from adwatch.labels import FINDINGS, LABELS
from adwatch.models import ApprovalFinding, ReviewItem, ReviewItemLabel
from adwatch.timeutil import CHINA
from review_ui import search

PAGE_SIZE = 50
COUNT_CAP = 1_000
STATUSES = ("pending", "escalated", "confirmed", "rejected", "all")


@dataclass(frozen=True)
class QueueFilters:
    status: str = "pending"
    label: str = ""
    finding: str = ""
    source: int | None = None
    reviewer: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    min_score: float | None = None
    q: str = ""

    @classmethod
    def parse(cls, params: Mapping[str, str], default_status: str = "pending") -> QueueFilters:
        """Filters from query parameters; anything malformed is ignored rather than trusted."""
        status = params.get("status") or default_status
        return cls(
            status=status if status in STATUSES else default_status,
            label=params.get("label", "") if params.get("label", "") in LABELS else "",
            finding=params.get("finding", "") if params.get("finding", "") in FINDINGS else "",
            source=parse_int(params.get("source")),
            reviewer=parse_int(params.get("reviewer")),
            date_from=_date(params.get("from")),
            date_to=_date(params.get("to")),
            min_score=_score(params.get("min_score")),
            q=search.normalize_query(params.get("q", "")),
        )

    def query_params(self) -> dict[str, str]:
        out = {
            "status": self.status,
            "label": self.label,
            "finding": self.finding,
            "source": "" if self.source is None else str(self.source),
            "reviewer": "" if self.reviewer is None else str(self.reviewer),
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "min_score": "" if self.min_score is None else f"{self.min_score:g}",
            "q": self.q,
        }
        return {k: v for k, v in out.items() if v}

    def url(self, path: str, **extra: str) -> str:
        params = {**self.query_params(), **{k: v for k, v in extra.items() if v}}
        return f"{path}?{urlencode(params)}" if params else path

    def with_(self, **changes: object) -> QueueFilters:
        return replace(self, **changes)


def parse_int(raw: str | None) -> int | None:
    try:
        return int(raw) if raw else None
    except ValueError:
        return None


def _date(raw: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _score(raw: str | None) -> float | None:
    try:
        value = float(raw) if raw else None
    except ValueError:
        return None
    return None if value is None or not 0.0 <= value <= 1.0 else value


def _china_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=CHINA).astimezone(dt.UTC)


def filtered(session: Session, f: QueueFilters, semi_join: str = "exists") -> Select:
    """SELECT ReviewItem rows matching the filters (unordered); ``semi_join`` is "exists" or "in"."""
    query = select(ReviewItem)
    if f.status != "all":
        query = query.where(ReviewItem.status == f.status)
    if f.label:
        label_rows = [ReviewItemLabel.label == f.label]
        if f.min_score is not None:
            label_rows.append(ReviewItemLabel.score >= f.min_score)
        if semi_join == "in":
            query = query.where(ReviewItem.id.in_(select(ReviewItemLabel.item_id).where(*label_rows)))
        else:
            query = query.where(exists().where(ReviewItemLabel.item_id == ReviewItem.id, *label_rows))
    elif f.min_score is not None:
        query = query.where(ReviewItem.max_score >= f.min_score)
    if f.finding:
        if semi_join == "in":
            query = query.where(
                ReviewItem.document_id.in_(
                    select(ApprovalFinding.document_id).where(ApprovalFinding.kind == f.finding)
                )
            )
        else:
            query = query.where(
                exists().where(
                    ApprovalFinding.document_id == ReviewItem.document_id, ApprovalFinding.kind == f.finding
                )
            )
    if f.source is not None:
        query = query.where(ReviewItem.source_id == f.source)
    if f.reviewer is not None:
        query = query.where(ReviewItem.decided_by == f.reviewer)
    if f.date_from:
        query = query.where(ReviewItem.captured_at >= _china_midnight(f.date_from))
    if f.date_to:
        query = query.where(ReviewItem.captured_at < _china_midnight(f.date_to + dt.timedelta(days=1)))
    if f.q:
        if semi_join == "in":
            query = query.where(ReviewItem.document_id.in_(search.matching_document_ids(session, f.q)))
        else:
            query = query.where(search.document_contains(session, f.q, ReviewItem.document_id))
    return query


def count(session: Session, f: QueueFilters) -> int:
    """How many items match, counted up to COUNT_CAP + 1."""
    capped = filtered(session, f, "in").with_only_columns(ReviewItem.id).limit(COUNT_CAP + 1).subquery()
    return session.scalar(select(func.count()).select_from(capped)) or 0


@dataclass
class Page:
    items: list[ReviewItem]
    total: int
    total_capped: bool
    next_cursor: str | None
    prev_cursor: str | None


def encode_cursor(item: ReviewItem) -> str:
    return f"{item.priority!r}_{item.id}"


def decode_cursor(raw: str | None) -> tuple[float, int] | None:
    if not raw or "_" not in raw:
        return None
    priority, _, item_id = raw.partition("_")
    try:
        return float(priority), int(item_id)
    except ValueError:
        return None


def page(
    session: Session,
    f: QueueFilters,
    after: str | None = None,
    before: str | None = None,
    size: int = PAGE_SIZE,
) -> Page:
    """One page of the queue, after (or before) a cursor; cursors come from the previous page."""
    total = count(session, f)
    base = filtered(session, f, "in" if total <= COUNT_CAP else "exists")
    key = tuple_(ReviewItem.priority, ReviewItem.id)
    after_key, before_key = decode_cursor(after), decode_cursor(before)
    if before_key is not None:
        rows = session.scalars(
            base.where(key > tuple_(*before_key))
            .order_by(ReviewItem.priority.asc(), ReviewItem.id.asc())
            .limit(size + 1)
        ).all()
        has_prev = len(rows) > size
        items = list(reversed(rows[:size]))
        has_next = True
    else:
        query = base
        if after_key is not None:
            query = query.where(key < tuple_(*after_key))
        rows = session.scalars(
            query.order_by(ReviewItem.priority.desc(), ReviewItem.id.desc()).limit(size + 1)
        ).all()
        has_next = len(rows) > size
        items = list(rows[:size])
        has_prev = after_key is not None
    return Page(
        items=items,
        total=min(total, COUNT_CAP),
        total_capped=total > COUNT_CAP,
        next_cursor=encode_cursor(items[-1]) if has_next and items else None,
        prev_cursor=encode_cursor(items[0]) if has_prev and items else None,
    )

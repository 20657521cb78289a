"""Decisions: confirm, reject or escalate a claimed item. Append-only and audited.

Deciding needs a live claim. The status change is one conditional UPDATE that also checks the
claim, so a reviewer whose lease expired and was taken over cannot decide after all. Each action
adds a Decision row (never edits one) and an AuditEvent. Confirmed and rejected decisions are the
training data of ``adwatch train``: ``labels`` holds what the reviewer says the item is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import update
from sqlalchemy.orm import Session

from adwatch.errors import AdWatchError
from adwatch.labels import LABELS, LEGAL_BASIS_BY_KEY
from adwatch.models import Decision, ReviewItem, User
from adwatch.timeutil import utcnow
from review_ui import audit
from review_ui.claims import CLAIMABLE_STATUSES, refusal_reason

ACTIONS = {"confirm": "confirmed", "reject": "rejected", "escalate": "escalated"}
ACTION_ZH = {"confirm": "确认违法", "reject": "排除（误报）", "escalate": "上报"}
REJECT_REASONS: dict[str, str] = {
    "not_ad": "非广告：新闻、科普、警示、投诉或问答",
    "licensed_plain": "持证医疗机构的合规信息",
    "misread": "分类有误：文字被误读",
    "not_medical": "与医疗美容无关",
    "duplicate": "重复条目",
    "other": "其他（见备注）",
}
MAX_NOTE_CHARS = 2000


class DecisionRefused(AdWatchError):
    """The decision is incomplete or the reviewer no longer holds the item. Message for the reviewer."""


@dataclass
class DecisionInput:
    action: str
    labels: list[str] = field(default_factory=list)
    legal_basis: list[str] = field(default_factory=list)
    note: str = ""
    reason: str | None = None


def validate(data: DecisionInput) -> None:
    if data.action not in ACTIONS:
        raise DecisionRefused(f"未知的操作：{data.action}")
    unknown = [x for x in data.labels if x not in LABELS]
    if unknown:
        raise DecisionRefused(f"未知的违法类型：{'、'.join(unknown)}")
    unknown = [x for x in data.legal_basis if x not in LEGAL_BASIS_BY_KEY]
    if unknown:
        raise DecisionRefused(f"未知的法律依据：{'、'.join(unknown)}")
    if len(data.note) > MAX_NOTE_CHARS:
        raise DecisionRefused(f"备注过长（最多 {MAX_NOTE_CHARS} 字）")
    if data.action == "confirm":
        if not data.labels:
            raise DecisionRefused("确认时请至少选择一个违法类型")
        if not data.legal_basis:
            raise DecisionRefused("确认时请至少选择一条法律依据")
    if data.action == "reject":
        if data.reason not in REJECT_REASONS:
            raise DecisionRefused("排除时请选择原因")
        if data.reason == "other" and not data.note.strip():
            raise DecisionRefused("原因为“其他”时请在备注中说明")
    if data.action == "escalate" and not data.note.strip():
        raise DecisionRefused("上报时请在备注中说明原因")


def decide(session: Session, item_id: int, user: User, data: DecisionInput, ip: str | None) -> Decision:
    """Record one decision on an item the user holds a live claim on; DecisionRefused otherwise."""
    validate(data)
    now = utcnow()
    allowed_from = ("pending",) if data.action == "escalate" else CLAIMABLE_STATUSES
    result = session.execute(
        update(ReviewItem)
        .where(
            ReviewItem.id == item_id,
            ReviewItem.status.in_(allowed_from),
            ReviewItem.claimed_by == user.id,
            ReviewItem.claim_expires_at > now,
        )
        .values(
            status=ACTIONS[data.action],
            decided_by=user.id,
            decided_at=now,
            claimed_by=None,
            claim_expires_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise DecisionRefused(_why_not(session, item_id, user, data.action))
    labels = data.labels if data.action == "confirm" else []
    bases = data.legal_basis if data.action == "confirm" else []
    decision = Decision(
        item_id=item_id,
        user_id=user.id,
        action=data.action,
        labels=labels,
        legal_basis=bases,
        note=data.note.strip() or None,
        reason=data.reason if data.action == "reject" else None,
        created_at=now,
    )
    session.add(decision)
    session.flush()
    audit.record(
        session,
        f"review.{data.action}",
        user=user,
        ip=ip,
        target_type="review_item",
        target_id=item_id,
        detail={
            "decision_id": decision.id,
            "labels": labels,
            "legal_basis": bases,
            "reason": decision.reason,
        },
    )
    return decision


def _why_not(session: Session, item_id: int, user: User, action: str) -> str:
    item = session.get(ReviewItem, item_id, populate_existing=True)
    if item is None:
        return f"条目 {item_id} 不存在"
    if action == "escalate" and item.status == "escalated":
        return f"条目 {item_id} 已经上报"
    if item.status not in CLAIMABLE_STATUSES:
        return refusal_reason(session, item_id)
    if item.claimed_by != user.id:
        if item.claimed_by is None or item.claim_expires_at is None or item.claim_expires_at <= utcnow():
            return f"请先认领条目 {item_id} 再作决定"
        return refusal_reason(session, item_id)
    return f"你对条目 {item_id} 的认领已过期，请重新认领"

"""AuditEvent rows: who did what, when, from which address. One call per action."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from adwatch.models import AuditEvent, User
from adwatch.timeutil import utcnow


def record(
    session: Session,
    action: str,
    *,
    user: User | None,
    ip: str | None,
    target_type: str | None = None,
    target_id: object = None,
    detail: dict[str, Any] | None = None,
    username: str | None = None,
) -> AuditEvent:
    event = AuditEvent(
        at=utcnow(),
        user_id=user.id if user else None,
        username=(user.name if user else username),
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        detail=detail or {},
        ip=ip,
    )
    session.add(event)
    return event

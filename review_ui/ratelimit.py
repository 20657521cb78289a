"""Login throttling, persisted in the database.

Attempts are stored (not counted in memory) so the limit holds across several worker processes,
across restarts, and for every app instance that shares a PostgreSQL database. Two limits:
failures for one (address, user name) pair, and failures from one address whatever the name
(guessing many names). Only failures since that pair's last success count.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from adwatch.models import LoginAttempt
from adwatch.settings import Settings
from adwatch.timeutil import utcnow

KEEP_ATTEMPTS = dt.timedelta(days=1)


@dataclass(frozen=True)
class Throttle:
    blocked: bool
    retry_after_seconds: int = 0


def check(session: Session, settings: Settings, ip: str, username: str) -> Throttle:
    now = utcnow()
    window_start = now - dt.timedelta(seconds=settings.login_window_seconds)
    last_success = session.scalar(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.ip == ip, LoginAttempt.username == username, LoginAttempt.success.is_(True)
        )
    )
    since = max(window_start, last_success) if last_success else window_start
    pair = select(LoginAttempt.at).where(
        LoginAttempt.ip == ip,
        LoginAttempt.username == username,
        LoginAttempt.success.is_(False),
        LoginAttempt.at > since,
    )
    per_ip = select(LoginAttempt.at).where(
        LoginAttempt.ip == ip, LoginAttempt.success.is_(False), LoginAttempt.at > window_start
    )
    for query, limit in ((pair, settings.login_max_failures), (per_ip, settings.login_max_failures_per_ip)):
        times = list(session.scalars(query.order_by(LoginAttempt.at.desc()).limit(limit)))
        if len(times) >= limit:
            oldest = times[-1]
            wait = oldest + dt.timedelta(seconds=settings.login_window_seconds) - now
            return Throttle(True, max(1, int(wait.total_seconds()) + 1))
    return Throttle(False)


def record(session: Session, ip: str, username: str, success: bool) -> None:
    now = utcnow()
    session.add(LoginAttempt(at=now, ip=ip, username=username[:100], success=success))
    session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - KEEP_ATTEMPTS))

"""Logins to the web app, kept server-side.

The cookie carries a random token; the database keeps only its SHA-256, the user, the per-session
CSRF token and the expiry. Logging out or disabling a user ends the session at once, which a
signed-cookie session could not do.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from adwatch.models import User, WebSession
from adwatch.settings import Settings
from adwatch.timeutil import utcnow

COOKIE_NAME = "adwatch_session"
LOGIN_COOKIE_NAME = "adwatch_login"  # binds the login form's CSRF token to this browser
TOUCH_EVERY = dt.timedelta(seconds=60)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class ActiveSession:
    row: WebSession
    user: User


def start_session(session: Session, settings: Settings, user: User, ip: str | None) -> str:
    """A new session for ``user``; returns the cookie token (shown once, never stored)."""
    now = utcnow()
    token = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            id=token_digest(token),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + dt.timedelta(hours=settings.session_hours),
            last_seen_at=now,
            ip=ip,
        )
    )
    # Expired sessions of anyone are cleared here, so the table never grows without bound.
    session.execute(delete(WebSession).where(WebSession.expires_at < now))
    return token


def load_session(session: Session, settings: Settings, token: str | None) -> ActiveSession | None:
    """The live session for a cookie token, or None (unknown, expired, idle too long, user disabled)."""
    if not token or len(token) > 200:
        return None
    row = session.get(WebSession, token_digest(token))
    if row is None:
        return None
    now = utcnow()
    idle = dt.timedelta(minutes=settings.session_idle_minutes)
    user = session.get(User, row.user_id)
    if row.expires_at <= now or row.last_seen_at + idle <= now or user is None or not user.active:
        session.delete(row)
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    return ActiveSession(row, user)


def end_session(session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(WebSession).where(WebSession.id == token_digest(token)))


def end_user_sessions(session: Session, user_id: int) -> None:
    session.execute(delete(WebSession).where(WebSession.user_id == user_id))


def csrf_matches(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), given.encode())


def login_form_token(secret: bytes, nonce: str) -> str:
    """The CSRF token of the login form: an HMAC of the browser's login-cookie nonce."""
    return hmac.new(secret, b"login:" + nonce.encode(), hashlib.sha256).hexdigest()


def flash(session: Session, session_id: str, message: str) -> None:
    """A message for the user's next page (one at a time; a newer one replaces an older one)."""
    session.execute(update(WebSession).where(WebSession.id == session_id).values(flash=message[:500]))


def pop_flash(row: WebSession) -> str | None:
    message, row.flash = row.flash, None
    return message

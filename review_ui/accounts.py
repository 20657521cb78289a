"""Users, roles and passwords (argon2id via argon2-cffi).

Kept free of FastAPI so the CLI (`adwatch users add`) and the web app share one implementation.
"""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from adwatch.errors import AdWatchError
from adwatch.models import User

ROLES: dict[str, str] = {
    "admin": "管理员",
    "crawl_staff": "监测人员",
    "reviewer": "审核员",
    "enforcement": "执法人员",
}
MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 256
_NAME = re.compile(r"^[A-Za-z0-9_.\-\u4e00-\u9fff]{2,50}$")

_hasher = PasswordHasher()
# Verified against when the user name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("adwatch-no-such-user")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Constant-time check (argon2 compares digests in constant time); False on any mismatch."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def check_password_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise AdWatchError(
            f"密码太短，至少 {MIN_PASSWORD_CHARS} 位 (password too short: at least {MIN_PASSWORD_CHARS} characters)"
        )
    if len(password) > MAX_PASSWORD_CHARS:
        raise AdWatchError(f"密码太长，最多 {MAX_PASSWORD_CHARS} 位 (password too long)")


def create_user(session: Session, name: str, role: str, password: str) -> User:
    """A new active user; AdWatchError if the name is taken or malformed, the role unknown, the password weak."""
    if role not in ROLES:
        raise AdWatchError(f"未知角色 {role!r} (unknown role: choose one of {', '.join(ROLES)})")
    if not _NAME.match(name):
        raise AdWatchError(f"用户名无效 {name!r}：2-50 个字母、数字、汉字或 _ . - (invalid user name)")
    check_password_policy(password)
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise AdWatchError(f"用户 {name!r} 已存在 (user already exists)")
    user = User(name=name, role=role, password_hash=hash_password(password), active=True)
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, name: str, password: str) -> User:
    """A new password for an existing user; every open session of theirs ends."""
    from review_ui.sessions import end_user_sessions

    check_password_policy(password)
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise AdWatchError(f"用户 {name!r} 不存在 (no such user)")
    user.password_hash = hash_password(password)
    end_user_sessions(session, user.id)
    return user


def authenticate(session: Session, name: str, password: str) -> User | None:
    """The active user with this name and password, or None. Takes the same time for unknown names."""
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        verify_password(_DUMMY_HASH, password)
        return None
    ok = verify_password(user.password_hash, password)
    if not ok or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user

"""Times: stored in UTC, shown in China time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def to_china(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(CHINA)


def fmt_china(value: dt.datetime | None, with_seconds: bool = True) -> str:
    """``2026-11-23 14:05:09`` in China time, or an empty string."""
    local = to_china(value)
    if local is None:
        return ""
    return local.strftime("%Y-%m-%d %H:%M:%S" if with_seconds else "%Y-%m-%d %H:%M")


def iso(value: dt.datetime | None) -> str | None:
    """ISO 8601 with offset (UTC), or None."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.isoformat()

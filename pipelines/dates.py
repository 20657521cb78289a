"""Publish times as Chinese pages write them, read as China time and returned in UTC.

Handles ISO 8601 (meta tags, JSON-LD, ``<time datetime>``), ``2026年11月02日 09:30``,
``2026-10-28``, ``2026/10/28 10:00:05``, ``2026.10.28`` and, given the fetch time, relative
forms: ``刚刚``, ``5分钟前``, ``3小时前``, ``2天前``, ``昨天 10:30``, ``前天``, ``今天 09:00``.
A time without a zone is China time (the pages are Chinese); a date without a time is midnight.
"""

from __future__ import annotations

import datetime as dt
import re

from adwatch.timeutil import CHINA

_DATE = (
    r"(?P<y>(?:19|20)\d\d)\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:\s*(?:T|\s)?\s*(?P<H>\d{1,2})\s*[:：时]\s*(?P<M>\d{1,2})(?:\s*[:：分]\s*(?P<S>\d{1,2}))?)?"
)
DATE_RE = re.compile(r"(?<!\d)" + _DATE + r"(?!\d)")
# Taiwan's Minguo calendar: 民國115年10月3日 is 2026-10-03.
ROC_RE = re.compile(r"民[國国]\s*(?P<y>\d{2,3})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日")
_RELATIVE_RE = re.compile(
    r"(?P<n>\d{1,3})\s*(?P<unit>秒|分钟|分鐘|小时|小時|天|日|周|週|星期|个月|個月)前"
    r"|(?P<word>刚刚|剛剛|今天|昨天|前天)(?:\s*(?P<H>\d{1,2})\s*[:：]\s*(?P<M>\d{2}))?"
)
_UNITS = {
    "秒": dt.timedelta(seconds=1),
    "分钟": dt.timedelta(minutes=1),
    "分鐘": dt.timedelta(minutes=1),
    "小时": dt.timedelta(hours=1),
    "小時": dt.timedelta(hours=1),
    "天": dt.timedelta(days=1),
    "日": dt.timedelta(days=1),
    "周": dt.timedelta(weeks=1),
    "週": dt.timedelta(weeks=1),
    "星期": dt.timedelta(weeks=1),
    "个月": dt.timedelta(days=30),
    "個月": dt.timedelta(days=30),
}
_DAYS_BACK = {"刚刚": 0, "剛剛": 0, "今天": 0, "昨天": 1, "前天": 2}
EARLIEST = dt.datetime(1995, 1, 1, tzinfo=dt.UTC)


def _plausible(value: dt.datetime, now: dt.datetime | None) -> dt.datetime | None:
    latest = (now or dt.datetime.now(dt.UTC)) + dt.timedelta(days=2)
    return value if EARLIEST <= value <= latest else None


def from_match(match: re.Match[str], now: dt.datetime | None = None) -> dt.datetime | None:
    """A DATE_RE match as a UTC datetime (China time assumed), or None if it is no real date."""
    g = match.groupdict()
    try:
        local = dt.datetime(
            int(g["y"]),
            int(g["m"]),
            int(g["d"]),
            int(g["H"] or 0),
            int(g["M"] or 0),
            int(g["S"] or 0),
            tzinfo=CHINA,
        )
    except ValueError:
        return None
    return _plausible(local.astimezone(dt.UTC), now)


def _from_roc(match: re.Match[str], now: dt.datetime | None) -> dt.datetime | None:
    try:
        local = dt.datetime(
            int(match.group("y")) + 1911, int(match.group("m")), int(match.group("d")), tzinfo=CHINA
        )
    except ValueError:
        return None
    return _plausible(local.astimezone(dt.UTC), now)


def first_date(text: str, now: dt.datetime | None = None, anchored: bool = False) -> dt.datetime | None:
    """The first absolute date in ``text`` (Gregorian or Minguo); ``anchored``: only at its start."""
    candidates = []
    for pattern, convert in ((DATE_RE, from_match), (ROC_RE, _from_roc)):
        for match in [pattern.match(text)] if anchored else pattern.finditer(text):
            if match is None:
                continue
            found = convert(match, now)
            if found is not None:
                candidates.append((match.start(), found))
                break
    return min(candidates)[1] if candidates else None


def parse_iso(value: str, now: dt.datetime | None = None) -> dt.datetime | None:
    """An ISO 8601 timestamp (with or without zone, ``Z`` allowed), else any Chinese form."""
    value = value.strip()[:64]
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return parse_text_date(value, now)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=CHINA)
    return _plausible(parsed.astimezone(dt.UTC), now)


def parse_relative(text: str, now: dt.datetime) -> dt.datetime | None:
    """``3天前``, ``昨天 10:30`` and friends, relative to ``now`` (the fetch time)."""
    match = _RELATIVE_RE.search(text)
    if match is None:
        return None
    if match.group("n"):
        return now - int(match.group("n")) * _UNITS[match.group("unit")]
    local_now = now.astimezone(CHINA)
    day = local_now - dt.timedelta(days=_DAYS_BACK[match.group("word")])
    if match.group("H"):
        try:
            day = day.replace(
                hour=int(match.group("H")), minute=int(match.group("M")), second=0, microsecond=0
            )
        except ValueError:
            return None
    elif match.group("word") not in ("刚刚", "剛剛"):
        day = day.replace(hour=0, minute=0, second=0, microsecond=0)
    return day.astimezone(dt.UTC)


def parse_text_date(text: str, now: dt.datetime | None = None) -> dt.datetime | None:
    """The first absolute date in ``text``; else a relative one when ``now`` is known."""
    found = first_date(text, now)
    if found is not None:
        return found
    return parse_relative(text, now) if now is not None else None

"""Which review items an export or a statistics view covers: the filters of `adwatch export`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from adwatch.errors import AdWatchError
from adwatch.labels import FINDINGS, LABELS
from adwatch.timeutil import CHINA, iso

FORMATS = ("xlsx", "csv", "zip")  # evidence list (xlsx, csv) or bundle (zip)

# `--status` values and the review-item statuses each one covers. "pending" means not decided for
# good yet (escalated items are still waiting for a senior reviewer).
STATUSES: dict[str, tuple[str, ...]] = {
    "confirmed": ("confirmed",),
    "pending": ("pending", "escalated"),
    "rejected": ("rejected",),
    "all": ("confirmed", "pending", "escalated", "rejected"),
}
STATUS_ZH = {"confirmed": "已确认", "pending": "待审核", "escalated": "待复核", "rejected": "已排除"}


def parse_label(value: str) -> str:
    """A label or approval-finding id, given as the id or its Chinese name."""
    text = value.strip()
    if text in LABELS or text in FINDINGS:
        return text
    for table in (LABELS, FINDINGS):
        for key, name in table.items():
            if name == text:
                return key
    known = ", ".join([*LABELS, *FINDINGS])
    raise AdWatchError(f"unknown label {value!r}: use one of {known}")


def parse_moment(value: str, *, end_of_day: bool = False) -> dt.datetime:
    """``2026-11-01`` (a China-time day) or an ISO 8601 time; naive times are China time."""
    text = value.strip()
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            start = dt.datetime.combine(day, dt.time(), tzinfo=CHINA)
            return start + dt.timedelta(days=1) if end_of_day else start
        moment = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise AdWatchError(f"cannot read the date {value!r}: write YYYY-MM-DD or an ISO 8601 time") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA)


@dataclass(frozen=True)
class ExportFilters:
    """Filters on review items. ``until`` is exclusive; a day given on the command line includes that day."""

    status: str = "confirmed"
    label: str | None = None
    source: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    institution: str | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise AdWatchError(f"unknown status {self.status!r}: use one of {', '.join(STATUSES)}")
        if self.since and self.until and self.since >= self.until:
            raise AdWatchError("--since must be before --until")

    @classmethod
    def from_options(
        cls,
        status: str = "confirmed",
        label: str | None = None,
        source: str | None = None,
        since: str | None = None,
        until: str | None = None,
        institution: str | None = None,
    ) -> ExportFilters:
        """From command-line or form values (strings, empty meaning absent)."""
        return cls(
            status=status or "confirmed",
            label=parse_label(label) if label else None,
            source=source or None,
            since=parse_moment(since) if since else None,
            until=parse_moment(until, end_of_day=True) if until else None,
            institution=(institution or "").strip() or None,
        )

    @property
    def statuses(self) -> tuple[str, ...]:
        return STATUSES[self.status]

    def to_dict(self) -> dict[str, Any]:
        """For manifests and audit events: every filter, absent ones as null."""
        return {
            "status": self.status,
            "label": self.label,
            "source": self.source,
            "since": iso(self.since),
            "until": iso(self.until),
            "institution": self.institution,
        }

    def describe_zh(self) -> str:
        """The filters in words, for the extraction record."""
        parts = [f"审核状态：{STATUS_ZH.get(self.status, '全部') if self.status != 'all' else '全部'}"]
        if self.label:
            parts.append(f"违法类型：{LABELS.get(self.label) or FINDINGS.get(self.label)}")
        if self.source:
            parts.append(f"监测来源：{self.source}")
        if self.since:
            parts.append(f"发现时间不早于：{self.since.astimezone(CHINA):%Y-%m-%d %H:%M:%S}")
        if self.until:
            parts.append(f"发现时间早于：{self.until.astimezone(CHINA):%Y-%m-%d %H:%M:%S}")
        if self.institution:
            parts.append(f"机构名称包含：{self.institution}")
        return "；".join(parts)

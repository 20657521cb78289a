"""The filter forms of the export and statistics pages: what the user typed, checked in Chinese.

The core's :class:`~adwatch.exports.filters.ExportFilters` speaks to the command line (English
messages, any ISO time). A web form gets its own checks first, so every mistake is named in
Chinese next to the field, and the raw values are kept to fill the form in again. Dates are China
days (``YYYY-MM-DD``, what ``<input type="date">`` sends); the until day is included.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from adwatch.exports.filters import STATUSES, ExportFilters, parse_moment
from adwatch.labels import FINDINGS, LABELS
from adwatch.models import Source
from adwatch.timeutil import CHINA

MAX_TEXT = 100
MAX_SOURCE = 200  # Source.name is String(200)

# The export page's status choices, in the order shown (the default first).
STATUS_TITLES: dict[str, str] = {
    "confirmed": "已确认",
    "pending": "待审核（含待复核）",
    "rejected": "已排除",
    "all": "全部",
}
assert set(STATUS_TITLES) == set(STATUSES)


def source_names(s: Session) -> list[str]:
    """Every source's name: the choices of the source filter, and what a posted value must be."""
    return list(s.scalars(select(Source.name).order_by(Source.name)))


def _text(values: Mapping[str, Any], name: str, limit: int = MAX_TEXT) -> str:
    value = values.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _day(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        return None


@dataclass(frozen=True)
class PeriodForm:
    """Since/until days and a source: the statistics page's filters (and part of the export page's)."""

    since: str = ""
    until: str = ""
    source: str = ""

    @classmethod
    def read(cls, values: Mapping[str, Any]) -> PeriodForm:
        return cls(_text(values, "since"), _text(values, "until"), _text(values, "source", MAX_SOURCE))

    def errors(self, sources: Iterable[str]) -> list[str]:
        problems = []
        since, until = _day(self.since), _day(self.until)
        if self.since and since is None:
            problems.append(f"开始日期“{self.since}”格式不对，请写成 YYYY-MM-DD")
        if self.until and until is None:
            problems.append(f"结束日期“{self.until}”格式不对，请写成 YYYY-MM-DD")
        if since and until and since > until:
            problems.append("开始日期不能晚于结束日期")
        if self.source and self.source not in set(sources):
            problems.append(f"没有名为“{self.source}”的监测来源")
        return problems

    @property
    def start(self) -> dt.datetime | None:
        """The first moment of the since day (China time); call only when :meth:`errors` is empty."""
        return parse_moment(self.since) if self.since else None

    @property
    def end(self) -> dt.datetime | None:
        """The first moment after the until day (exclusive bound)."""
        return parse_moment(self.until, end_of_day=True) if self.until else None


@dataclass(frozen=True)
class ExportForm(PeriodForm):
    """Every filter of `adwatch export`, as typed into the export page."""

    status: str = "confirmed"
    label: str = ""
    institution: str = ""

    @classmethod
    def read(cls, values: Mapping[str, Any]) -> ExportForm:
        period = PeriodForm.read(values)
        return cls(
            since=period.since,
            until=period.until,
            source=period.source,
            status=_text(values, "status") or "confirmed",
            label=_text(values, "label"),
            institution=" ".join(_text(values, "institution").split()),
        )

    def errors(self, sources: Iterable[str]) -> list[str]:
        problems = []
        if self.status not in STATUS_TITLES:
            problems.append(f"未知的审核状态“{self.status}”")
        if self.label and self.label not in LABELS and self.label not in FINDINGS:
            problems.append(f"未知的违法类型“{self.label}”")
        return problems + super().errors(sources)

    def filters(self) -> ExportFilters:
        """The core's filters; call only when :meth:`errors` is empty."""
        return ExportFilters.from_options(
            self.status, self.label, self.source, self.since, self.until, self.institution
        )

    def hidden_fields(self) -> list[tuple[str, str]]:
        """The filters as (name, value) pairs, for a form that repeats them (the download form)."""
        return [
            ("status", self.status),
            ("label", self.label),
            ("source", self.source),
            ("since", self.since),
            ("until", self.until),
            ("institution", self.institution),
        ]


def _china_day(value: object, exclusive_end: bool = False) -> str:
    if not isinstance(value, str) or not value:
        return ""
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return value[:40]
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CHINA)
    if exclusive_end:
        moment -= dt.timedelta(seconds=1)
    return f"{moment.astimezone(CHINA):%Y-%m-%d}"


def describe_filters(data: object) -> str:
    """An audit event's ``filters`` (``ExportFilters.to_dict()`` or the 汇总表's) in Chinese, for the
    list of recent exports. Tolerates anything: the audit log is read, never trusted to have a shape."""
    if not isinstance(data, dict):
        return "—"
    parts = []
    status = data.get("status")
    if isinstance(status, str) and status:
        parts.append(f"状态：{STATUS_TITLES.get(status, status)}")
    label = data.get("label")
    if isinstance(label, str) and label:
        parts.append(f"类型：{LABELS.get(label) or FINDINGS.get(label) or label}")
    source = data.get("source")
    if isinstance(source, str) and source:
        parts.append(f"来源：{source}")
    since, until = _china_day(data.get("since")), _china_day(data.get("until"), exclusive_end=True)
    if since or until:
        parts.append(f"时间：{since or '不限'} 至 {until or '不限'}")
    institution = data.get("institution")
    if isinstance(institution, str) and institution:
        parts.append(f"机构含：{institution}")
    return "；".join(parts) or "不限"

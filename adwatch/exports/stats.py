"""Statistics: items by label, source, status and week; approval findings; reviewers; the 汇总表.

:func:`compute_stats` returns a plain dict (the statistics page's template context and
``adwatch stats --json``); :func:`stats_charts` turns it into inline SVG charts;
:func:`supervision_summary` and :func:`write_summary_xlsx` give the regulators' 监督检查工作信息汇总表.

An item's labels are the reviewer's when it is decided (confirmed or rejected), the classifier's
otherwise; its findings are its document's approval findings. Weeks are ISO weeks in China time.
Agreement: for items two reviewers decided (each reviewer's latest confirm/reject), the share of
items where both took the same action, the share where they also chose the same labels, and
Cohen's kappa of the action.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from adwatch.exports.charts import bar_chart, stacked_columns
from adwatch.exports.disposition import DISPOSITION
from adwatch.exports.filters import STATUS_ZH
from adwatch.labels import FINDINGS, LABELS, VIOLATION_LABELS
from adwatch.models import ApprovalFinding, Capture, Decision, ReviewItem, Source, User
from adwatch.timeutil import fmt_china, iso, to_china, utcnow

STATUS_ORDER = ("confirmed", "pending", "escalated", "rejected")
CATEGORIES = (*VIOLATION_LABELS, *FINDINGS)


def week_of(moment: dt.datetime) -> str:
    local = to_china(moment)
    assert local is not None
    year, week, _ = local.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass
class _Item:
    status: str
    labels: list[str]
    source_id: int | None
    week: str
    document_id: int


def _status_bucket(status: str) -> str:
    return "pending" if status in ("pending", "escalated") else status


def _load(session: Session, since: dt.datetime | None, until: dt.datetime | None, source_id: int | None):
    query = select(
        ReviewItem.id,
        ReviewItem.status,
        ReviewItem.labels,
        ReviewItem.source_id,
        ReviewItem.captured_at,
        ReviewItem.document_id,
    )
    if since is not None:
        query = query.where(ReviewItem.captured_at >= since)
    if until is not None:
        query = query.where(ReviewItem.captured_at < until)
    if source_id is not None:
        query = query.where(ReviewItem.source_id == source_id)
    items: dict[int, _Item] = {}
    for item_id, status, labels, src, captured_at, doc_id in session.execute(
        query.execution_options(yield_per=5000)
    ):
        items[item_id] = _Item(status, list(labels or []), src, week_of(captured_at), doc_id)

    # decisions, oldest first: the last one per item, and each reviewer's last one per item
    latest: dict[int, tuple[str, list[str]]] = {}
    per_reviewer: dict[int, dict[int, tuple[str, frozenset[str]]]] = defaultdict(dict)
    reviewers: dict[int, dict[str, Any]] = {}
    decisions = select(
        Decision.item_id, Decision.user_id, Decision.action, Decision.labels, Decision.created_at
    ).order_by(Decision.created_at, Decision.id)
    for item_id, user_id, action, labels, created_at in session.execute(
        decisions.execution_options(yield_per=5000)
    ):
        if item_id not in items:
            continue
        latest[item_id] = (action, list(labels or []))
        if action in ("confirm", "reject"):
            per_reviewer[item_id][user_id] = (action, frozenset(labels or []) - {"medical_ad"})
        r = reviewers.setdefault(
            user_id,
            {
                "decisions": 0,
                "confirm": 0,
                "reject": 0,
                "escalate": 0,
                "items": set(),
                "days": set(),
                "last": None,
            },
        )
        r["decisions"] += 1
        r[action] = r.get(action, 0) + 1
        r["items"].add(item_id)
        r["days"].add(to_china(created_at).date())  # type: ignore[union-attr]
        r["last"] = created_at
    for item_id, (_action, labels) in latest.items():
        item = items[item_id]
        if item.status in ("confirmed", "rejected") and labels:
            item.labels = labels

    findings: dict[int, set[str]] = defaultdict(set)
    doc_ids = {item.document_id for item in items.values()}
    for doc_id, kind in session.execute(select(ApprovalFinding.document_id, ApprovalFinding.kind).distinct()):
        if doc_id in doc_ids:
            findings[doc_id].add(kind)
    return items, findings, per_reviewer, reviewers


def _agreement(per_reviewer: dict[int, dict[int, tuple[str, frozenset[str]]]]) -> dict[str, Any]:
    pairs = [list(by_user.values())[:2] for by_user in per_reviewer.values() if len(by_user) >= 2]
    n = len(pairs)
    if not n:
        return {
            "items": 0,
            "action_agree": 0,
            "action_rate": None,
            "label_agree": 0,
            "label_rate": None,
            "kappa": None,
        }
    action_agree = sum(1 for a, b in pairs if a[0] == b[0])
    label_agree = sum(1 for a, b in pairs if a == b)
    first = Counter(a[0] for a, _ in pairs)
    second = Counter(b[0] for _, b in pairs)
    p_o = action_agree / n
    p_e = sum(first[c] / n * second[c] / n for c in ("confirm", "reject"))
    kappa = None if p_e >= 1 else round((p_o - p_e) / (1 - p_e), 3)
    return {
        "items": n,
        "action_agree": action_agree,
        "action_rate": round(p_o, 3),
        "label_agree": label_agree,
        "label_rate": round(label_agree / n, 3),
        "kappa": kappa,
    }


def compute_stats(
    session: Session,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    source_id: int | None = None,
) -> dict[str, Any]:
    """Every count the statistics page and `adwatch stats` show, as plain data."""
    items, findings, per_reviewer, reviewers = _load(session, since, until, source_id)
    sources = dict(session.execute(select(Source.id, Source.name)).all())
    users = dict(session.execute(select(User.id, User.name)).all())
    pages_query = select(Capture.source_id, func.count()).group_by(Capture.source_id)
    if since is not None:
        pages_query = pages_query.where(Capture.fetched_at >= since)
    if until is not None:
        pages_query = pages_query.where(Capture.fetched_at < until)
    pages = dict(session.execute(pages_query).all())

    by_status = Counter(item.status for item in items.values())
    label_counts: dict[str, Counter[str]] = {key: Counter() for key in (*LABELS, *FINDINGS)}
    source_counts: dict[int | None, Counter[str]] = defaultdict(Counter)
    week_counts: dict[str, Counter[str]] = defaultdict(Counter)
    for item in items.values():
        bucket = _status_bucket(item.status)
        for key in dict.fromkeys([*item.labels, *findings.get(item.document_id, ())]):
            if key in label_counts:
                label_counts[key][bucket] += 1
                label_counts[key]["total"] += 1
        source_counts[item.source_id][bucket] += 1
        source_counts[item.source_id]["total"] += 1
        week_counts[item.week][bucket] += 1
        week_counts[item.week]["total"] += 1

    def counts(c: Counter[str]) -> dict[str, int]:
        return {
            "total": c["total"],
            "confirmed": c["confirmed"],
            "pending": c["pending"],
            "rejected": c["rejected"],
        }

    source_ids = sorted(
        set(source_counts) | {k for k in pages if k is not None},
        key=lambda k: (k is None, sources.get(k, "")),
    )
    return {
        "generated_at": iso(utcnow()),
        "period": {"since": iso(since), "until": iso(until)},
        "totals": {"items": len(items), **{s: by_status[s] for s in STATUS_ORDER}},
        "by_status": [{"status": s, "name": STATUS_ZH[s], "count": by_status[s]} for s in STATUS_ORDER],
        "by_label": [{"label": k, "name": LABELS[k], **counts(label_counts[k])} for k in LABELS],
        "findings": [{"kind": k, "name": FINDINGS[k], **counts(label_counts[k])} for k in FINDINGS],
        "by_source": [
            {
                "source": sources.get(sid, "（未知来源）") if sid is not None else "（无来源）",
                "pages": pages.get(sid, 0),
                **counts(source_counts[sid]),
            }
            for sid in source_ids
        ],
        "by_week": [{"week": w, **counts(week_counts[w])} for w in sorted(week_counts)],
        "reviewers": [
            {
                "name": users.get(uid, f"#{uid}"),
                "decisions": r["decisions"],
                "confirm": r["confirm"],
                "reject": r["reject"],
                "escalate": r["escalate"],
                "items": len(r["items"]),
                "active_days": len(r["days"]),
                "per_active_day": round(r["decisions"] / max(1, len(r["days"])), 1),
                "last": iso(r["last"]),
            }
            for uid, r in sorted(reviewers.items(), key=lambda kv: -kv[1]["decisions"])
        ],
        "agreement": _agreement(per_reviewer),
    }


def stats_charts(stats: dict[str, Any]) -> dict[str, str]:
    """Inline SVG charts (escaped text) for the statistics page and `adwatch stats --charts`."""
    weeks = stats["by_week"]
    return {
        "by_label": bar_chart(
            "按违法类型（线索数）",
            [(r["name"], r["total"]) for r in stats["by_label"] if r["label"] != "medical_ad"],
        ),
        "findings": bar_chart(
            "审查证明核验发现", [(r["name"], r["total"]) for r in stats["findings"]], color="#d9822b"
        ),
        "by_source": bar_chart(
            "按监测来源（线索数）", [(r["source"], r["total"]) for r in stats["by_source"]], color="#3c9d5d"
        ),
        "by_status": bar_chart(
            "按审核状态", [(r["name"], r["count"]) for r in stats["by_status"]], color="#8a8f98"
        ),
        "by_week": stacked_columns(
            "每周发现线索",
            [w["week"] for w in weeks],
            [(STATUS_ZH[s], [w[s] for w in weeks]) for s in ("confirmed", "pending", "rejected")],
        ),
        "reviewers": bar_chart(
            "审核员处理量（决定数）",
            [(r["name"], r["decisions"]) for r in stats["reviewers"]],
            color="#7a5bb5",
        ),
    }


# ---------------------------------------------------------------------------------------------
# 监督检查工作信息汇总表
# ---------------------------------------------------------------------------------------------


def supervision_summary(stats: dict[str, Any]) -> dict[str, Any]:
    """The 汇总表's two tables (by violation category, by source) from :func:`compute_stats`."""
    rows = {r["label"]: r for r in stats["by_label"]} | {r["kind"]: r for r in stats["findings"]}
    categories = [
        {
            "name": LABELS.get(key) or FINDINGS[key],
            "total": rows[key]["total"],
            "confirmed": rows[key]["confirmed"],
            "pending": rows[key]["pending"],
            "rejected": rows[key]["rejected"],
            "department": DISPOSITION[key][1],
        }
        for key in CATEGORIES
    ]
    return {
        "period": stats["period"],
        "generated_at": stats["generated_at"],
        "categories": categories,
        "sources": stats["by_source"],
        "totals": stats["totals"],
    }


_THIN = Side(style="thin", color="999999")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


def _period_zh(period: dict[str, Any]) -> str:
    def day(value: str | None, end: bool = False) -> str:
        if not value:
            return "不限"
        moment = dt.datetime.fromisoformat(value)
        if end:
            moment -= dt.timedelta(seconds=1)
        return fmt_china(moment)[:10]

    return f"{day(period.get('since'))} 至 {day(period.get('until'), end=True)}"


def write_summary_xlsx(summary: dict[str, Any], path: Path, unit: str = "") -> None:
    """The 监督检查工作信息汇总表 as one XLSX sheet: a title, the period, two bordered tables."""
    wb = Workbook()
    ws = wb.active
    ws.title = "汇总表"
    widths = (8, 34, 14, 12, 12, 12, 24)
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(widths))
    ws.cell(1, 1, "监督检查工作信息汇总表").font = Font(bold=True, size=16)
    ws.cell(1, 1).alignment = Alignment(horizontal="center")
    ws.cell(2, 1, f"填报单位：{unit}" if unit else "填报单位：")
    ws.cell(
        3,
        1,
        f"统计时段：{_period_zh(summary['period'])}    生成时间：{fmt_china(dt.datetime.fromisoformat(summary['generated_at']))}（北京时间）",
    )

    def table(start: int, title: str, header: list[str], rows: list[list[Any]]) -> int:
        ws.cell(start, 1, title).font = Font(bold=True)
        for col, name in enumerate(header, start=1):
            c = ws.cell(start + 1, col, name)
            c.font = Font(bold=True)
            c.border = _BOX
            c.alignment = Alignment(horizontal="center", wrap_text=True)
        for r, values in enumerate(rows, start=start + 2):
            for col, value in enumerate(values, start=1):
                c = ws.cell(r, col, value)
                c.border = _BOX
                if isinstance(value, str):
                    c.data_type = "s"
        return start + 2 + len(rows) + 1

    cats = summary["categories"]
    cat_rows = [
        [i, c["name"], c["total"], c["confirmed"], c["pending"], c["rejected"], c["department"]]
        for i, c in enumerate(cats, 1)
    ]
    cat_rows.append(
        [
            "",
            "合计（线索数）",
            summary["totals"]["items"],
            summary["totals"]["confirmed"],
            summary["totals"]["pending"] + summary["totals"]["escalated"],
            summary["totals"]["rejected"],
            "",
        ]
    )
    nxt = table(
        5,
        "一、按违法类型",
        ["序号", "违法类型", "发现线索", "已确认", "待审核", "已排除", "移送部门"],
        cat_rows,
    )
    src_rows = [
        [i, s["source"], s["pages"], s["total"], s["confirmed"], s["pending"], s["rejected"]]
        for i, s in enumerate(summary["sources"], 1)
    ]
    nxt = table(
        nxt + 1,
        "二、按监测来源",
        ["序号", "监测来源", "监测网页数", "发现线索", "已确认", "待审核", "已排除"],
        src_rows,
    )
    ws.cell(nxt + 1, 1, "注：一条线索可涉及多种违法类型，按类型统计之和可大于合计。")
    ws.freeze_panes = "A5"
    wb.save(path)


def stats_context(
    session: Session,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    source_id: int | None = None,
) -> dict[str, Any]:
    """Everything the statistics page shows: numbers, charts (SVG, already escaped: render with
    ``|safe``) and the 汇总表."""
    numbers = compute_stats(session, since, until, source_id)
    return {"stats": numbers, "charts": stats_charts(numbers), "summary": supervision_summary(numbers)}

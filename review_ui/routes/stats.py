"""The statistics page: items by label, source, status and week, approval findings, reviewers'
throughput and agreement, charts, and the 监督检查工作信息汇总表 as an XLSX download.

Who: enforcement staff and admins. DESIGN.md gives statistics to enforcement ("export evidence
lists and bundles, see statistics") and everything to admin. Reviewers and crawl staff do not see
this page: it names every reviewer with their decision counts and how often two reviewers agreed
— staff performance data, and a number a reviewer could start racing (speed over care) or that
could bias a second reviewer; and its 汇总表 is an export, which only enforcement and admin make.

The numbers and charts come from :func:`adwatch.exports.stats.stats_context`; the charts are SVG
text built by :mod:`adwatch.exports.charts`, which escapes every label (source and reviewer names
are user-controlled), and are the only values the templates print with ``|safe``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from adwatch.db import Database
from adwatch.errors import AdWatchError
from adwatch.exports.rows import resolve_source
from adwatch.exports.service import Exporter, ExportForbidden, export_summary
from adwatch.exports.stats import stats_context
from adwatch.timeutil import fmt_china
from review_ui import downloads
from review_ui.deps import DB, Auth, CheckedForm, client_ip, require_role
from review_ui.export_forms import MAX_TEXT, PeriodForm, source_names
from review_ui.nav import NavItem
from review_ui.templating import render

router = APIRouter()
NAV = [NavItem("统计", "/stats", ("enforcement",), 70)]
stats_readers = require_role("enforcement")
CHART_ORDER = ("by_label", "findings", "by_week", "by_source", "by_status", "reviewers")


def _with_china_times(stats: dict[str, Any]) -> None:
    """Each reviewer's last decision in China time (the numbers carry ISO 8601 strings)."""
    for reviewer in stats["reviewers"]:
        last = reviewer.get("last")
        reviewer["last_zh"] = fmt_china(dt.datetime.fromisoformat(last)) if last else ""


def _page(
    request: Request, db: Database, form: PeriodForm, errors: list[str], unit: str = "", status_code: int = 0
) -> Response:
    context: dict[str, Any] = {"stats": None, "charts": {}, "summary": None}
    with db.session() as s:
        sources = source_names(s)
        errors = errors or form.errors(sources)
        if not errors:
            source_id = resolve_source(s, form.source) if form.source else None
            context = stats_context(s, form.start, form.end, source_id)
            _with_china_times(context["stats"])
    return render(
        request,
        "stats.html",
        {
            **context,
            "form": form,
            "errors": errors,
            "sources": sources,
            "unit": unit,
            "chart_order": CHART_ORDER,
        },
        status_code=status_code or (400 if errors else 200),
    )


@router.get("/stats")
def stats_page(request: Request, *, auth: Annotated[Auth, Depends(stats_readers)], db: DB) -> Response:
    return _page(request, db, PeriodForm.read(request.query_params), [])


@router.post("/stats/summary")
def summary_download(
    request: Request, *, auth: Annotated[Auth, Depends(stats_readers)], form: CheckedForm, db: DB
) -> Response:
    """The 汇总表 for the shown period and source, with the reporting unit typed on the page."""
    settings = request.app.state.settings
    period = PeriodForm.read(form)
    unit = form.get("unit")
    unit = " ".join(unit.split())[:MAX_TEXT] if isinstance(unit, str) else ""
    with db.session() as s:
        errors = period.errors(source_names(s))
    if errors:
        return _page(request, db, period, errors, unit)
    now = downloads.stamp()
    name = f"监督检查工作信息汇总表_{now}.xlsx"
    try:
        with downloads.SLOTS.hold(auth.user.id):
            workdir = downloads.private_dir(settings)
            try:
                result = export_summary(
                    db,
                    workdir / name,
                    Exporter.for_user(auth.user),
                    period.start,
                    period.end,
                    period.source or None,
                    unit,
                    ip=client_ip(request),
                )
            except BaseException:
                downloads.remove(workdir)
                raise
    except downloads.DownloadBusy as exc:
        raise HTTPException(status_code=429, detail=str(exc)) from exc
    except ExportForbidden as exc:
        raise HTTPException(status_code=403, detail="你的角色无权导出汇总表") from exc
    except AdWatchError as exc:
        return _page(request, db, period, [f"汇总表生成失败：{exc}"], unit, status_code=409)
    return downloads.file_download(
        result.path,
        name,
        f"adwatch-summary-{now}.xlsx",
        downloads.MEDIA_TYPES["xlsx"],
        {"X-Content-SHA256": result.sha256},
    )

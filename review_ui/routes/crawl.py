"""Crawl staff pages: sources (enable, schedule, crawl now) and runs (status, counts, log tail)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select

from adwatch.db import Database
from adwatch.models import CrawlRun, Source
from review_ui import audit, crawl_control, sessions
from review_ui.deps import DB, Auth, CheckedForm, client_ip, require_role
from review_ui.nav import NavItem
from review_ui.templating import render

router = APIRouter()
NAV = [
    NavItem("数据源", "/sources", ("crawl_staff",), 40),
    NavItem("抓取任务", "/runs", ("crawl_staff",), 41),
]
crawl_staff = require_role("crawl_staff")
RUNS_PER_PAGE = 50


def _source(db_session, source_id: int) -> Source:  # noqa: ANN001
    source = db_session.get(Source, source_id)
    if source is None:
        raise HTTPException(status_code=404, detail=f"数据源 {source_id} 不存在")
    return source


@router.get("/sources")
def sources_page(request: Request, *, auth: Annotated[Auth, Depends(crawl_staff)], db: DB) -> Response:
    with db.session() as s:
        sources = list(s.scalars(select(Source).order_by(Source.name)))
        latest = (
            select(CrawlRun.source_id, func.max(CrawlRun.id).label("run_id"))
            .group_by(CrawlRun.source_id)
            .subquery()
        )
        runs = {
            r.source_id: r for r in s.scalars(select(CrawlRun).join(latest, CrawlRun.id == latest.c.run_id))
        }
    return render(request, "sources.html", {"sources": sources, "last_runs": runs})


def _source_page(
    request: Request,
    db: Database,
    source_id: int,
    *,
    error: str | None = None,
    status_code: int = 200,
    schedule_value: str | None = None,
) -> Response:
    with db.session() as s:
        source = _source(s, source_id)
        runs = list(
            s.scalars(
                select(CrawlRun).where(CrawlRun.source_id == source_id).order_by(CrawlRun.id.desc()).limit(20)
            )
        )
    definition = json.dumps(source.definition or {}, ensure_ascii=False, indent=2, sort_keys=True)
    return render(
        request,
        "source.html",
        {
            "source": source,
            "runs": runs,
            "definition": definition,
            "error": error,
            "schedule_value": source.schedule or "" if schedule_value is None else schedule_value,
        },
        status_code=status_code,
    )


@router.get("/sources/{source_id}")
def source_page(
    request: Request, *, source_id: int, auth: Annotated[Auth, Depends(crawl_staff)], db: DB
) -> Response:
    return _source_page(request, db, source_id)


@router.post("/sources/{source_id}/schedule")
def edit_schedule(
    request: Request,
    *,
    source_id: int,
    auth: Annotated[Auth, Depends(crawl_staff)],
    form: CheckedForm,
    db: DB,
) -> Response:
    raw = str(form.get("schedule") or "").strip()[:120]
    try:
        expr = crawl_control.validate_cron(raw) if raw else None
    except crawl_control.ScheduleInvalid as exc:
        return _source_page(request, db, source_id, error=str(exc), status_code=400, schedule_value=raw)
    with db.session() as s:
        source = _source(s, source_id)
        old = source.schedule
        source.schedule = expr
        source.next_fire_at = crawl_control.next_fire(expr) if expr and source.enabled else None
        audit.record(
            s,
            "source.schedule",
            user=auth.user,
            ip=client_ip(request),
            target_type="source",
            target_id=source_id,
            detail={"name": source.name, "old": old, "new": expr},
        )
        sessions.flash(s, auth.session_id, f"已更新“{source.name}”的定时：{expr or '不定时'}")
    return RedirectResponse(f"/sources/{source_id}", status_code=303)


@router.post("/sources/{source_id}/enabled")
def set_enabled(
    request: Request,
    *,
    source_id: int,
    auth: Annotated[Auth, Depends(crawl_staff)],
    form: CheckedForm,
    db: DB,
) -> Response:
    enabled = str(form.get("enabled") or "") == "1"
    with db.session() as s:
        source = _source(s, source_id)
        source.enabled = enabled
        source.next_fire_at = (
            crawl_control.next_fire(source.schedule) if enabled and source.schedule else None
        )
        audit.record(
            s,
            "source.enable" if enabled else "source.disable",
            user=auth.user,
            ip=client_ip(request),
            target_type="source",
            target_id=source_id,
            detail={"name": source.name},
        )
        sessions.flash(s, auth.session_id, f"已{'启用' if enabled else '停用'}“{source.name}”")
    back = str(form.get("back") or "")
    return RedirectResponse("/sources" if back == "list" else f"/sources/{source_id}", status_code=303)


@router.post("/sources/{source_id}/crawl")
def crawl_now(
    request: Request,
    *,
    source_id: int,
    auth: Annotated[Auth, Depends(crawl_staff)],
    form: CheckedForm,
    db: DB,
) -> Response:
    settings = request.app.state.settings
    with db.session() as s:
        source = _source(s, source_id)
        launched = crawl_control.launch_crawl(settings, source.name)
        audit.record(
            s,
            "source.crawl_now",
            user=auth.user,
            ip=client_ip(request),
            target_type="source",
            target_id=source_id,
            detail={"name": source.name, "pid": launched.pid, "log": str(launched.log_path)},
        )
        sessions.flash(
            s, auth.session_id, f"已开始抓取“{source.name}”（进程 {launched.pid}），进度见抓取任务"
        )
    return RedirectResponse(f"/sources/{source_id}", status_code=303)


@router.get("/runs")
def runs_page(
    request: Request,
    *,
    page: int = 1,
    source: int | None = None,
    status: str = "",
    auth: Annotated[Auth, Depends(crawl_staff)],
    db: DB,
) -> Response:
    page = max(1, min(page, 10_000))
    with db.session() as s:
        query = select(CrawlRun, Source.name).join(Source, Source.id == CrawlRun.source_id)
        if source is not None:
            query = query.where(CrawlRun.source_id == source)
        if status in ("running", "finished", "failed", "cancelled"):
            query = query.where(CrawlRun.status == status)
        rows = s.execute(
            query.order_by(CrawlRun.id.desc()).offset((page - 1) * RUNS_PER_PAGE).limit(RUNS_PER_PAGE + 1)
        ).all()
        sources = s.execute(select(Source.id, Source.name).order_by(Source.name)).all()
    return render(
        request,
        "runs.html",
        {
            "runs": [run for run, _ in rows[:RUNS_PER_PAGE]],
            "run_sources": {run.id: name for run, name in rows[:RUNS_PER_PAGE]},
            "show_source": True,
            "has_next": len(rows) > RUNS_PER_PAGE,
            "page_no": page,
            "source_filter": source,
            "status_filter": status,
            "sources": sources,
        },
    )


@router.get("/runs/{run_id}")
def run_page(
    request: Request, *, run_id: int, auth: Annotated[Auth, Depends(crawl_staff)], db: DB
) -> Response:
    with db.session() as s:
        run = s.get(CrawlRun, run_id)
        if run is None:
            raise HTTPException(status_code=404, detail=f"抓取任务 {run_id} 不存在")
        source = s.get(Source, run.source_id)
    tail = crawl_control.log_tail(request.app.state.settings, run.log_path)
    stats = json.dumps(run.stats or {}, ensure_ascii=False, indent=2, sort_keys=True)
    return render(request, "run.html", {"run": run, "source": source, "tail": tail, "stats": stats})

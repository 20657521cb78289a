"""The enforcement download page: the evidence list (XLSX/CSV) or bundle (ZIP) for chosen filters.

Who: enforcement staff and admins, the roles :mod:`adwatch.exports.service` lets export (a
reviewer decides, an enforcement team acts). GET /exports shows the filters, how many items they
match and the recent exports from the audit log; the download form repeats the previewed filters,
so what is downloaded is what was previewed. POST /exports/download (CSRF-checked) runs
:func:`~adwatch.exports.service.export_evidence` — which writes the audit event with the filters
and the file's SHA-256 — into a private directory and streams the file (:mod:`review_ui.downloads`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from adwatch.db import Database
from adwatch.errors import AdWatchError
from adwatch.exports.service import EXPORT_ACTION, FORMATS, Exporter, ExportForbidden, export_evidence
from adwatch.models import AuditEvent
from adwatch.settings import Settings
from review_ui import audit, downloads
from review_ui.deps import DB, Auth, CheckedForm, client_ip, require_role
from review_ui.export_forms import STATUS_TITLES, ExportForm, describe_filters, source_names
from review_ui.export_preview import preview
from review_ui.nav import NavItem
from review_ui.templating import render

router = APIRouter()
NAV = [NavItem("证据导出", "/exports", ("enforcement",), 60)]
exporters = require_role("enforcement")
RECENT = 20
FAILED_ACTION = "export_failed"

FORMAT_TITLES = {
    "xlsx": "证据清单（Excel）",
    "csv": "证据清单（CSV）",
    "zip": "证据包（ZIP）",
    "summary-xlsx": "汇总表（Excel）",
}
FORMAT_NOTES = {
    "xlsx": "每条一行，附导出说明页",
    "csv": "UTF-8 带 BOM，Excel 可直接打开",
    "zip": "清单 + 每条的截图、网页源码、WARC 文件，附 manifest 与提取笔录；文件较大，生成需要时间",
}
# (Chinese name, ASCII fallback) of the downloaded file, before the time stamp.
FILE_NAMES = {
    "xlsx": ("证据清单", "adwatch-evidence-list"),
    "csv": ("证据清单", "adwatch-evidence-list"),
    "zip": ("证据包", "adwatch-evidence-bundle"),
}


def recent_exports(s: Session, auth: Auth, limit: int = RECENT) -> list[dict]:
    """The latest export audit events: the user's own, or everyone's for an admin."""
    query = select(AuditEvent).where(AuditEvent.action == EXPORT_ACTION)
    if auth.user.role != "admin":
        query = query.where(AuditEvent.user_id == auth.user.id)
    rows = []
    for event in s.scalars(query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)):
        detail = event.detail if isinstance(event.detail, dict) else {}
        fmt = detail.get("format")
        rows.append(
            {
                "at": event.at,
                "who": event.username or "",
                "format": FORMAT_TITLES.get(fmt, str(fmt or "")),
                "items": detail.get("items"),
                "filters": describe_filters(detail.get("filters")),
                "file": str(detail.get("file") or ""),
                "sha256": str(detail.get("sha256") or event.target_id or ""),
            }
        )
    return rows


def _page(
    request: Request,
    db: Database,
    auth: Auth,
    form: ExportForm,
    errors: list[str],
    fmt: str = "xlsx",
    status_code: int | None = None,
) -> Response:
    settings: Settings = request.app.state.settings
    counted = None
    with db.session() as s:
        sources = source_names(s)
        errors = errors or form.errors(sources)
        if not errors:
            try:
                counted = preview(s, form.filters(), settings.evidence_dir)
            except AdWatchError as exc:
                errors = [f"无法统计符合条件的条目：{exc}"]
        recent = recent_exports(s, auth)
    context = {
        "form": form,
        "errors": errors,
        "sources": sources,
        "preview": counted,
        "description": form.filters().describe_zh() if counted is not None else "",
        "fmt": fmt if fmt in FORMATS else "xlsx",
        "recent": recent,
        "all_users": auth.user.role == "admin",
        "STATUS_TITLES": STATUS_TITLES,
        "FORMATS": FORMATS,
        "FORMAT_TITLES": FORMAT_TITLES,
        "FORMAT_NOTES": FORMAT_NOTES,
    }
    return render(request, "exports.html", context, status_code=status_code or (400 if errors else 200))


@router.get("/exports")
def exports_page(request: Request, *, auth: Annotated[Auth, Depends(exporters)], db: DB) -> Response:
    return _page(request, db, auth, ExportForm.read(request.query_params), [])


@router.post("/exports/download")
def download(
    request: Request, *, auth: Annotated[Auth, Depends(exporters)], form: CheckedForm, db: DB
) -> Response:
    settings: Settings = request.app.state.settings
    values = ExportForm.read(form)
    fmt = form.get("format")
    fmt = fmt if isinstance(fmt, str) else ""
    with db.session() as s:
        errors = values.errors(source_names(s))
    if fmt not in FORMATS:
        errors.append("请选择导出格式：Excel、CSV 或 ZIP 证据包")
    if errors:
        return _page(request, db, auth, values, errors, fmt)
    filters = values.filters()
    zh, ascii_name = FILE_NAMES[fmt]
    now = downloads.stamp()
    name = f"{zh}_{now}.{fmt}"  # also the file name the audit event records
    try:
        with downloads.SLOTS.hold(auth.user.id):
            workdir = downloads.private_dir(settings)
            try:
                result = export_evidence(
                    db,
                    settings,
                    fmt,
                    workdir / name,
                    filters,
                    Exporter.for_user(auth.user),
                    ip=client_ip(request),
                )
            except BaseException:
                downloads.remove(workdir)
                raise
    except downloads.DownloadBusy as exc:
        raise HTTPException(status_code=429, detail=str(exc)) from exc
    except ExportForbidden as exc:
        raise HTTPException(status_code=403, detail="你的角色无权导出证据") from exc
    except AdWatchError as exc:
        with db.session() as s:
            audit.record(
                s,
                FAILED_ACTION,
                user=auth.user,
                ip=client_ip(request),
                target_type="export",
                detail={"format": fmt, "filters": filters.to_dict(), "error": str(exc)[:500]},
            )
        return _page(request, db, auth, values, [f"导出失败，未生成文件：{exc}"], fmt, status_code=409)
    return downloads.file_download(
        result.path,
        name,
        f"{ascii_name}-{now}.{fmt}",
        downloads.MEDIA_TYPES[fmt],
        {"X-Content-SHA256": result.sha256, "X-AdWatch-Items": str(result.items)},
    )

"""Approval records (《医疗广告审查证明》): browse and search (admin, enforcement), import (admin)."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import func, or_, select
from starlette.datastructures import UploadFile

from adwatch.db import Database
from adwatch.errors import AdWatchError
from adwatch.models import ApprovalFinding, ApprovalRecord, Document, ReviewItem
from adwatch.timeutil import CHINA, utcnow
from pipelines.approval_numbers import normalize_approval_number
from pipelines.approvals_import import ApprovalImportError, import_approvals
from review_ui import audit
from review_ui.deps import DB, Auth, CheckedForm, client_ip, require_role
from review_ui.nav import NavItem
from review_ui.templating import render

router = APIRouter()
NAV = [NavItem("审查证明", "/approvals", ("enforcement",), 30)]
record_readers = require_role("enforcement")
admin_only = require_role()
PER_PAGE = 50


def _today() -> dt.date:
    return utcnow().astimezone(CHINA).date()


def _list_context(db: Database, q: str, validity: str, page: int) -> dict:
    q = " ".join(q.split())[:100]
    page = max(1, min(page, 100_000))
    today = _today()
    query = select(ApprovalRecord)
    if q:
        try:
            key = normalize_approval_number(q)
        except ValueError:
            key = None
        conditions = [
            ApprovalRecord.number.contains(q, autoescape=True),
            ApprovalRecord.institution.contains(q, autoescape=True),
            ApprovalRecord.address.contains(q, autoescape=True),
        ]
        if key:
            conditions.append(ApprovalRecord.number_key == key)
        query = query.where(or_(*conditions))
    if validity == "valid":
        query = query.where(ApprovalRecord.valid_from <= today, ApprovalRecord.valid_to >= today)
    elif validity == "expired":
        query = query.where(ApprovalRecord.valid_to < today)
    with db.session() as s:
        total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
        records = list(
            s.scalars(
                query.order_by(ApprovalRecord.valid_to.desc(), ApprovalRecord.id.desc())
                .offset((page - 1) * PER_PAGE)
                .limit(PER_PAGE)
            )
        )
    return {
        "records": records,
        "total": total,
        "q": q,
        "validity": validity,
        "page_no": page,
        "has_next": page * PER_PAGE < total,
        "today": today,
    }


@router.get("/approvals")
def approvals_page(
    request: Request,
    *,
    q: str = "",
    validity: str = "all",
    page: int = 1,
    auth: Annotated[Auth, Depends(record_readers)],
    db: DB,
) -> Response:
    return render(
        request, "approvals.html", {**_list_context(db, q, validity, page), "report": None, "errors": None}
    )


@router.get("/approvals/{record_id}")
def approval_page(
    request: Request, *, record_id: int, auth: Annotated[Auth, Depends(record_readers)], db: DB
) -> Response:
    with db.session() as s:
        record = s.get(ApprovalRecord, record_id)
        if record is None:
            raise HTTPException(status_code=404, detail=f"审查证明记录 {record_id} 不存在")
        linked = s.execute(
            select(
                ApprovalFinding.kind,
                Document.id,
                Document.url,
                Document.title,
                Document.fetched_at,
                ReviewItem.id.label("item_id"),
                ReviewItem.status,
            )
            .join(Document, Document.id == ApprovalFinding.document_id)
            .outerjoin(ReviewItem, ReviewItem.document_id == Document.id)
            .where(ApprovalFinding.record_id == record_id)
            .order_by(Document.fetched_at.desc())
            .limit(200)
        ).all()
    return render(request, "approval.html", {"record": record, "linked": linked, "today": _today()})


@router.post("/approvals/import")
def import_file(
    request: Request, *, auth: Annotated[Auth, Depends(admin_only)], form: CheckedForm, db: DB
) -> Response:
    settings = request.app.state.settings
    upload = form.get("file")
    errors: list[str] | None = None
    report = None
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors = ["请选择要导入的 CSV 或 XLSX 文件"]
    elif Path(upload.filename).suffix.lower() not in (".csv", ".xlsx"):
        errors = [f"不支持的文件类型：{Path(upload.filename).suffix or '无扩展名'}（请上传 .csv 或 .xlsx）"]
    elif upload.size is not None and upload.size > settings.max_upload_bytes:
        raise HTTPException(
            status_code=413, detail=f"文件过大（最多 {settings.max_upload_bytes // 1024 // 1024} MB）"
        )
    else:
        suffix = Path(upload.filename).suffix.lower()
        with tempfile.TemporaryDirectory(prefix="adwatch-import-") as tmp:
            path = Path(tmp) / f"upload{suffix}"
            with open(path, "wb") as out:
                shutil.copyfileobj(upload.file, out)
            try:
                with db.session() as s:
                    report = import_approvals(s, path)
                    audit.record(
                        s,
                        "approvals.import",
                        user=auth.user,
                        ip=client_ip(request),
                        detail={
                            "file": upload.filename[:200],
                            "created": report.created,
                            "updated": report.updated,
                            "unchanged": report.unchanged,
                            "relinked": report.relinked,
                        },
                    )
            except ApprovalImportError as exc:
                errors = [str(e) for e in exc.errors]
            except AdWatchError as exc:
                errors = [str(exc).replace(str(path), upload.filename)]
        if errors is not None:
            with db.session() as s:
                audit.record(
                    s,
                    "approvals.import_failed",
                    user=auth.user,
                    ip=client_ip(request),
                    detail={"file": upload.filename[:200], "errors": len(errors)},
                )
    context = _list_context(db, "", "all", 1)
    return render(
        request,
        "approvals.html",
        {**context, "report": report, "errors": errors},
        status_code=422 if errors else 200,
    )

"""Admin pages: users and roles, and the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from adwatch.db import Database
from adwatch.errors import AdWatchError
from adwatch.models import AuditEvent, User
from review_ui import accounts, audit, sessions
from review_ui.deps import DB, Auth, CheckedForm, client_ip, require_role
from review_ui.nav import NavItem
from review_ui.templating import render

router = APIRouter()
NAV = [NavItem("用户", "/users", (), 80), NavItem("操作日志", "/audit", (), 90)]
admin_only = require_role()
AUDIT_PER_PAGE = 100


def _users_page(
    request: Request,
    db: Database,
    *,
    error: str | None = None,
    status_code: int = 200,
    form_values: dict | None = None,
) -> Response:
    with db.session() as s:
        users = list(s.scalars(select(User).order_by(User.role, User.name)))
    return render(
        request,
        "users.html",
        {"users": users, "error": error, "values": form_values or {}},
        status_code=status_code,
    )


@router.get("/users")
def users_page(request: Request, *, auth: Annotated[Auth, Depends(admin_only)], db: DB) -> Response:
    return _users_page(request, db)


@router.post("/users")
def add_user(
    request: Request, *, auth: Annotated[Auth, Depends(admin_only)], form: CheckedForm, db: DB
) -> Response:
    name = str(form.get("name") or "").strip()
    role = str(form.get("role") or "")
    password = str(form.get("password") or "")
    try:
        with db.session() as s:
            user = accounts.create_user(s, name, role, password)
            audit.record(
                s,
                "user.add",
                user=auth.user,
                ip=client_ip(request),
                target_type="user",
                target_id=user.id,
                detail={"name": name, "role": role},
            )
            sessions.flash(s, auth.session_id, f"已添加用户 {name}（{accounts.ROLES[role]}）")
    except AdWatchError as exc:
        return _users_page(
            request, db, error=str(exc), status_code=400, form_values={"name": name, "role": role}
        )
    return RedirectResponse("/users", status_code=303)


@router.post("/users/{user_id}/active")
def set_active(
    request: Request, *, user_id: int, auth: Annotated[Auth, Depends(admin_only)], form: CheckedForm, db: DB
) -> Response:
    active = str(form.get("active") or "") == "1"
    if user_id == auth.user.id and not active:
        return _users_page(request, db, error="不能停用自己的账号", status_code=400)
    with db.session() as s:
        user = s.get(User, user_id)
        if user is None:
            raise HTTPException(status_code=404, detail=f"用户 {user_id} 不存在")
        user.active = active
        if not active:
            sessions.end_user_sessions(s, user_id)
        audit.record(
            s,
            "user.enable" if active else "user.disable",
            user=auth.user,
            ip=client_ip(request),
            target_type="user",
            target_id=user_id,
            detail={"name": user.name},
        )
        sessions.flash(s, auth.session_id, f"已{'启用' if active else '停用'}用户 {user.name}")
    return RedirectResponse("/users", status_code=303)


@router.get("/audit")
def audit_page(
    request: Request,
    *,
    before: int | None = None,
    action: str = "",
    username: str = "",
    auth: Annotated[Auth, Depends(admin_only)],
    db: DB,
) -> Response:
    action, username = action.strip()[:60], username.strip()[:100]
    with db.session() as s:
        query = select(AuditEvent)
        if before is not None:
            query = query.where(AuditEvent.id < before)
        if action:
            query = query.where(AuditEvent.action.startswith(action, autoescape=True))
        if username:
            query = query.where(AuditEvent.username == username)
        events = list(s.scalars(query.order_by(AuditEvent.id.desc()).limit(AUDIT_PER_PAGE + 1)))
    return render(
        request,
        "audit.html",
        {
            "events": events[:AUDIT_PER_PAGE],
            "action": action,
            "username": username,
            "next_before": events[AUDIT_PER_PAGE - 1].id if len(events) > AUDIT_PER_PAGE else None,
        },
    )

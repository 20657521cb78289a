"""Login and logout. Login is throttled per address and user name, and CSRF-protected too."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from adwatch.db import Database
from review_ui import accounts, audit, ratelimit, sessions
from review_ui.deps import DB, CheckedForm, LoggedIn, MaybeLoggedIn, client_ip
from review_ui.templating import render

router = APIRouter()

HOME_BY_ROLE = {"admin": "/queue", "reviewer": "/queue", "enforcement": "/cases", "crawl_staff": "/sources"}
MAX_FIELD_CHARS = 300


def safe_next(target: str | None) -> str | None:
    """Only a local path may be a post-login target (no //host, no scheme, no backslash tricks)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(c) < 32 for c in target) or len(target) > 2000:
        return None
    return target


def _login_page(
    request: Request,
    nonce: str,
    *,
    error: str | None = None,
    next_url: str | None = None,
    name: str = "",
    status_code: int = 200,
) -> Response:
    token = sessions.login_form_token(request.app.state.secret, nonce)
    response = render(
        request,
        "login.html",
        {"login_token": token, "error": error, "next_url": next_url or "", "name": name},
        status_code=status_code,
    )
    settings = request.app.state.settings
    response.set_cookie(
        sessions.LOGIN_COOKIE_NAME,
        nonce,
        max_age=3600,
        path="/login",
        httponly=True,
        samesite="strict",
        secure=settings.cookie_secure,
    )
    return response


@router.get("/login")
def login_form(request: Request, *, next: str | None = None, auth: MaybeLoggedIn) -> Response:
    if auth is not None:
        return RedirectResponse(safe_next(next) or HOME_BY_ROLE.get(auth.user.role, "/"), status_code=303)
    nonce = request.cookies.get(sessions.LOGIN_COOKIE_NAME) or secrets.token_urlsafe(24)
    return _login_page(request, nonce[:64], next_url=safe_next(next))


@router.post("/login")
async def login(request: Request, *, db: DB) -> Response:
    form = await request.form()
    # Password hashing takes tens of milliseconds: keep it off the event loop.
    return await run_in_threadpool(_login, request, form, db)


def _login(request: Request, form: FormData, db: Database) -> Response:
    name = str(form.get("username") or "").strip()[:MAX_FIELD_CHARS]
    password = str(form.get("password") or "")[:MAX_FIELD_CHARS]
    next_url = safe_next(str(form.get("next") or ""))
    nonce = request.cookies.get(sessions.LOGIN_COOKIE_NAME, "")[:64]
    fresh_nonce = secrets.token_urlsafe(24)
    expected = sessions.login_form_token(request.app.state.secret, nonce) if nonce else ""
    if not nonce or not sessions.csrf_matches(expected, str(form.get("csrf_token") or "")):
        return _login_page(
            request,
            fresh_nonce,
            error="登录页面已失效，请重新输入",
            next_url=next_url,
            name=name,
            status_code=403,
        )
    ip = client_ip(request)
    settings = request.app.state.settings
    with db.session() as s:
        throttle = ratelimit.check(s, settings, ip, name)
        if throttle.blocked:
            audit.record(s, "login.throttled", user=None, username=name, ip=ip)
            minutes = max(1, (throttle.retry_after_seconds + 59) // 60)
            response = _login_page(
                request,
                nonce,
                error=f"登录失败次数过多，请 {minutes} 分钟后再试",
                next_url=next_url,
                name=name,
                status_code=429,
            )
            response.headers["Retry-After"] = str(throttle.retry_after_seconds)
            return response
        user = accounts.authenticate(s, name, password) if name and password else None
        ratelimit.record(s, ip, name, success=user is not None)
        if user is None:
            audit.record(s, "login.failed", user=None, username=name, ip=ip)
            s.commit()
            return _login_page(
                request, nonce, error="用户名或密码错误", next_url=next_url, name=name, status_code=401
            )
        old = request.cookies.get(sessions.COOKIE_NAME)
        sessions.end_session(s, old)  # a new token at each login: no session fixation
        token = sessions.start_session(s, settings, user, ip)
        audit.record(s, "login", user=user, ip=ip)
        home = HOME_BY_ROLE.get(user.role, "/")
    response = RedirectResponse(next_url or home, status_code=303)
    response.set_cookie(
        sessions.COOKIE_NAME,
        token,
        max_age=settings.session_hours * 3600,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
    )
    response.delete_cookie(sessions.LOGIN_COOKIE_NAME, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, *, auth: LoggedIn, form: CheckedForm, db: DB) -> Response:
    with db.session() as s:
        sessions.end_session(s, request.cookies.get(sessions.COOKIE_NAME))
        audit.record(s, "logout", user=auth.user, ip=client_ip(request))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(sessions.COOKIE_NAME, path="/")
    return response


@router.get("/")
def home(auth: LoggedIn) -> Response:
    return RedirectResponse(HOME_BY_ROLE.get(auth.user.role, "/login"), status_code=303)

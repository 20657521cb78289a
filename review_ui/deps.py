"""FastAPI dependencies every route uses: the logged-in user, role checks, CSRF-checked forms.

Routes written later (exports, statistics) use the same three::

    enforcement = require_role("enforcement")            # 403 for other roles (admin always passes)

    @router.post("/exports")
    def export(request: Request, *, auth: Annotated[Auth, Depends(enforcement)], form: CheckedForm, db: DB): ...

``CheckedForm`` is the POSTed form after its CSRF token was checked (403 otherwise); every POST takes it.

Not logged in: GET requests are redirected to the login page, anything else gets 401.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from starlette.datastructures import FormData

from adwatch.db import Database
from adwatch.models import User
from adwatch.settings import Settings
from review_ui import sessions


class NotAuthenticated(Exception):
    """No live session; the app turns it into a redirect to /login (GET) or 401."""


@dataclass
class Auth:
    """The logged-in user of this request (detached from any DB session)."""

    user: User
    session_id: str  # sha256 of the cookie token
    csrf_token: str
    flash: str | None = None

    def has_role(self, *roles: str) -> bool:
        return self.user.role == "admin" or self.user.role in roles


def database(request: Request) -> Database:
    return request.app.state.db


def app_settings(request: Request) -> Settings:
    return request.app.state.settings


def client_ip(request: Request) -> str:
    """The peer address. X-Forwarded-For is not trusted: anyone can send it."""
    return request.client.host if request.client else "unknown"


def _wants_html_page(request: Request) -> bool:
    return request.method == "GET" and not request.url.path.startswith("/static/")


def optional_auth(request: Request) -> Auth | None:
    """The request's session, looked up once and cached on the request."""
    if hasattr(request.state, "auth"):
        return request.state.auth
    token = request.cookies.get(sessions.COOKIE_NAME)
    auth = None
    if token:
        db: Database = request.app.state.db
        with db.session() as s:
            active = sessions.load_session(s, request.app.state.settings, token)
            if active is not None:
                flash = sessions.pop_flash(active.row) if _wants_html_page(request) else None
                s.expunge(active.user)
                auth = Auth(active.user, active.row.id, active.row.csrf_token, flash)
    request.state.auth = auth
    return auth


def current_auth(auth: Annotated[Auth | None, Depends(optional_auth)]) -> Auth:
    if auth is None:
        raise NotAuthenticated()
    return auth


def require_role(*roles: str) -> Callable[..., Auth]:
    """A dependency that lets in the given roles (and admin, who may do everything); 403 otherwise."""

    def dependency(auth: Annotated[Auth, Depends(current_auth)]) -> Auth:
        if not auth.has_role(*roles):
            raise HTTPException(status_code=403, detail="你的角色无权访问此页面")
        return auth

    dependency.__name__ = f"require_role_{'_'.join(roles) or 'admin'}"
    dependency.roles = roles  # type: ignore[attr-defined]  # read by the route-permission tests
    return dependency


async def verified_form(request: Request, auth: Annotated[Auth, Depends(current_auth)]) -> FormData:
    """The POSTed form, after checking its CSRF token against the session's (constant time)."""
    form = await request.form()
    token = form.get("csrf_token")
    if not isinstance(token, str) or not sessions.csrf_matches(auth.csrf_token, token):
        raise HTTPException(status_code=403, detail="表单已失效（CSRF 校验失败），请刷新页面后重试")
    return form


DB = Annotated[Database, Depends(database)]
CheckedForm = Annotated[FormData, Depends(verified_form)]
LoggedIn = Annotated[Auth, Depends(current_auth)]
MaybeLoggedIn = Annotated[Auth | None, Depends(optional_auth)]

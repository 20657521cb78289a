"""The web app factory: settings and database in, a FastAPI app out.

Security applies to every response (see :class:`SecurityHeaders`): a strict Content-Security-Policy
(scripts only from /static, nothing inline), no framing except the raw-page route's own stricter
policy, no MIME sniffing, no caching of pages. Routers come from :mod:`review_ui.routes`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adwatch.db import Database, open_database
from adwatch.settings import Settings, get_settings
from review_ui import search
from review_ui.deps import NotAuthenticated
from review_ui.secret import load_or_create_secret
from review_ui.templating import render

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
APP_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'"
)
ERROR_MESSAGES = {
    400: "请求有误",
    401: "请先登录",
    403: "无权执行此操作",
    404: "页面不存在",
    405: "不支持的请求方式",
    413: "上传的文件过大",
    429: "请求过于频繁，请稍后再试",
}


class SecurityHeaders:
    """Adds the security headers to every response that has not set its own (the raw-page route does)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "content-security-policy" not in headers:
                    headers["Content-Security-Policy"] = APP_CSP
                if "x-frame-options" not in headers:
                    headers["X-Frame-Options"] = "DENY"
                headers["X-Content-Type-Options"] = "nosniff"
                if "referrer-policy" not in headers:
                    headers["Referrer-Policy"] = "same-origin"
                headers["Cross-Origin-Opener-Policy"] = "same-origin"
                headers["Cross-Origin-Resource-Policy"] = "same-origin"
                headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
                if not is_static and "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyTooLarge(Exception):
    pass


class BodyLimit:
    """Refuses request bodies over ``limit`` bytes (413), by Content-Length or by counting as they arrive."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(send)

    @staticmethod
    async def _refuse(send: Send) -> None:
        body = "请求内容过大".encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def create_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    """The AdWatch web app on ``db`` (opened, and migrated, from ``settings`` when not given)."""
    from review_ui.routes import ROUTERS

    settings = settings or get_settings()
    settings.ensure_dirs()
    db = db or open_database(settings)
    with db.engine.begin() as conn:
        if search.repair(conn):
            log.warning("search index triggers were missing and have been recreated")
    app = FastAPI(title="AdWatch", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.db = db
    app.state.secret = load_or_create_secret(settings)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in ROUTERS:
        app.include_router(router)
    app.add_middleware(BodyLimit, limit=settings.max_upload_bytes + 64 * 1024)
    app.add_middleware(SecurityHeaders)

    @app.exception_handler(NotAuthenticated)
    async def not_authenticated(request: Request, exc: NotAuthenticated):  # noqa: ANN202
        if request.method == "GET":
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        return render(request, "error.html", {"status": 401, "message": ERROR_MESSAGES[401]}, status_code=401)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):  # noqa: ANN202
        message = (
            exc.detail
            if isinstance(exc.detail, str) and exc.status_code in (400, 403, 404, 409, 413, 429)
            else ERROR_MESSAGES.get(exc.status_code, "出错了")
        )
        if exc.status_code == 404 and exc.detail == "Not Found":
            message = ERROR_MESSAGES[404]
        return render(
            request,
            "error.html",
            {"status": exc.status_code, "message": message},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):  # noqa: ANN202
        return render(request, "error.html", {"status": 400, "message": "请求参数有误"}, status_code=400)

    return app

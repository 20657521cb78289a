"""Jinja2 set-up: autoescaping everywhere, filters for China time and Chinese names.

Crawled content is printed only through autoescaping. One template uses ``|safe``: the statistics
page prints the SVG charts of :mod:`adwatch.exports.charts`, which escapes every label it places.
Links to crawled URLs go through :func:`safe_href`, which lets only http(s) URLs become links.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from adwatch.labels import FINDINGS, LABELS, LEGAL_BASIS_BY_KEY, label_zh
from adwatch.timeutil import fmt_china
from review_ui.accounts import ROLES
from review_ui.claims import STATUS_ZH

TEMPLATES_DIR = Path(__file__).parent / "templates"


def safe_href(url: object) -> str | None:
    """The URL if it is an absolute http(s) URL, else None (javascript:, data:, relative…)."""
    if not isinstance(url, str) or len(url) > 4000 or any(ord(c) < 32 for c in url):
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url.strip()


def host_of(url: object) -> str:
    try:
        return urlsplit(str(url)).hostname or ""
    except ValueError:
        return ""


def china(value: dt.datetime | None, with_seconds: bool = False) -> str:
    return fmt_china(value, with_seconds=with_seconds)


def pct(value: object) -> str:
    try:
        return f"{float(value) * 100:.0f}%"
    except (TypeError, ValueError):
        return ""


def truncate_chars(value: object, n: int = 80) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= n else text[: n - 1] + "…"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        china=china,
        label_zh=label_zh,
        pct=pct,
        host=host_of,
        safe_href=safe_href,
        cut=truncate_chars,
        status_zh=lambda s: STATUS_ZH.get(s, s),
        role_zh=lambda r: ROLES.get(r, r),
        basis_title=lambda k: LEGAL_BASIS_BY_KEY[k].title if k in LEGAL_BASIS_BY_KEY else k,
    )
    env.globals.update(LABELS=LABELS, FINDINGS=FINDINGS, STATUS_ZH=STATUS_ZH, ROLES=ROLES)
    return env


templates = Jinja2Templates(env=_environment())


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """A page: the template plus what every page needs (user, CSRF token, navigation, flash)."""
    from review_ui.routes import NAV  # the routes import this module

    auth = getattr(request.state, "auth", None)
    base = {
        "auth": auth,
        "user": auth.user if auth else None,
        "csrf_token": auth.csrf_token if auth else "",
        "nav": [item for item in NAV if auth and item.visible_to(auth.user.role)],
        "flash": auth.flash if auth else None,
        "path": request.url.path,
    }
    return templates.TemplateResponse(
        request, name, {**base, **(context or {})}, status_code=status_code, headers=headers
    )

"""Fixtures for the web app tests: the app on each backend, one user per role, logged-in clients."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from review_ui.app import create_app
from tests.review_ui.factories import PASSWORD, ROLES, make_user

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


class Browser(TestClient):
    """A TestClient that remembers its session's CSRF token."""

    csrf: str = ""

    def post_form(self, url: str, data: dict | None = None, **kwargs):  # noqa: ANN201
        payload = {"csrf_token": self.csrf, **(data or {})}
        return self.post(url, data=payload, **kwargs)


def log_in(client: Browser, name: str, password: str = PASSWORD) -> Browser:
    page = client.get("/login")
    assert page.status_code == 200
    response = client.post(
        "/login", data={"username": name, "password": password, "csrf_token": csrf_of(page.text)}
    )
    assert response.status_code == 303, response.text
    home = client.get(response.headers["location"])
    client.csrf = csrf_of(home.text)
    return client


@pytest.fixture
def app(settings, db):  # noqa: ANN201
    return create_app(settings, db)


@pytest.fixture
def users(db) -> dict[str, int]:
    """One user per role, named after it, plus a second reviewer."""
    with db.session() as s:
        ids = {role: make_user(s, role, role).id for role in ROLES}
        ids["reviewer2"] = make_user(s, "reviewer2", "reviewer").id
    return ids


@pytest.fixture
def anonymous(app) -> Iterator[Browser]:
    with Browser(app, follow_redirects=False) as client:
        yield client


@pytest.fixture
def browser_for(app, users) -> Iterator[Callable[[str], Browser]]:
    """``browser_for("reviewer")``: a client logged in as that user."""
    opened: list[Browser] = []

    def open_as(name: str) -> Browser:
        client = Browser(app, follow_redirects=False)
        client.__enter__()
        opened.append(client)
        return log_in(client, name)

    yield open_as
    for client in opened:
        client.__exit__(None, None, None)

"""Fixtures for the web app tests: the app on each backend, one user per role, logged-in clients."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from review_ui.app import create_app
from tests.adwatch.exports.conftest import case  # noqa: F401  (the export tests' case file, with stored evidence)
from tests.review_ui.factories import PASSWORD, ROLES, make_user

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def api_routes():  # noqa: ANN201
    """Every endpoint the app registers (FastAPI may wrap included routers, so read them at the source)."""
    from fastapi.routing import APIRoute

    from review_ui.routes import ROUTERS

    return [route for router in ROUTERS for route in router.routes if isinstance(route, APIRoute)]


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


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    """argon2 at its production cost takes ~0.3 s a hash on the test machine; the route tests make
    dozens. Same algorithm and code path, lowest cost (the e2e tests run the real cost)."""
    from argon2 import PasswordHasher
    from argon2.profiles import CHEAPEST

    from review_ui import accounts

    cheap = PasswordHasher.from_parameters(CHEAPEST)
    monkeypatch.setattr(accounts, "_hasher", cheap)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", cheap.hash("adwatch-no-such-user"))


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


@pytest.fixture
def world(db, users) -> dict[str, int]:
    """A small realistic database: a source with a run, an approval record, a pending and a confirmed
    item (the latter with a screenshot), and a user to administer."""
    from adwatch.models import Artifact, CrawlRun, Decision
    from tests.review_ui.factories import flag, make_record, make_source, make_user

    with db.session() as s:
        source = make_source(s, schedule="0 3 * * *")
        run = CrawlRun(source_id=source.id, status="finished", pages=12, items=3, errors=1)
        s.add(run)
        record = make_record(s)
        pending = flag(s, source=source, institutions=["北京美丽人生医疗美容诊所"])
        confirmed = flag(s, source=source, title="已确认的广告")
        confirmed.status = "confirmed"
        confirmed.decided_by = users["reviewer"]
        s.add(
            Decision(
                item_id=confirmed.id,
                user_id=users["reviewer"],
                action="confirm",
                labels=["false_promise"],
                legal_basis=["efficacy_guarantee"],
            )
        )
        s.add(
            Artifact(
                capture_id=confirmed.document.capture_id,
                kind="screenshot",
                sha256="0" * 64,
                size=8,
                path="shots/confirmed.png",
                media_type="image/png",
            )
        )
        victim = make_user(s, "victim", "reviewer")
        s.flush()
        ids = {
            "source": source.id,
            "run": run.id,
            "record": record.id,
            "pending": pending.id,
            "confirmed": confirmed.id,
            "victim": victim.id,
        }
    shots = db.settings.evidence_dir / "shots"
    shots.mkdir(parents=True, exist_ok=True)
    (shots / "confirmed.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    return ids

"""Logging in and out, sessions, login throttling, CSRF, the secret key and the security headers."""

import datetime as dt
import os
import stat

from sqlalchemy import func, select, update

from adwatch.models import AuditEvent, LoginAttempt, User, WebSession
from review_ui import sessions
from review_ui.app import create_app
from tests.review_ui.conftest import Browser, api_routes, csrf_of
from tests.review_ui.factories import PASSWORD


def post_login(client, name, password, token=None):
    page = client.get("/login")
    token = csrf_of(page.text) if token is None else token
    return client.post("/login", data={"username": name, "password": password, "csrf_token": token})


def test_login_sets_an_httponly_samesite_cookie_and_stores_only_its_hash(anonymous, users, db):
    response = post_login(anonymous, "reviewer", PASSWORD)
    assert response.status_code == 303 and response.headers["location"] == "/queue"
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith(sessions.COOKIE_NAME))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    token = anonymous.cookies[sessions.COOKIE_NAME]
    with db.session() as s:
        [row] = s.scalars(select(WebSession)).all()
        assert row.id == sessions.token_digest(token) and token not in (row.id, row.csrf_token)
        assert s.scalar(select(AuditEvent.action).where(AuditEvent.username == "reviewer")) == "login"


def test_each_role_lands_on_its_own_home(anonymous, users):
    homes = {"reviewer": "/queue", "enforcement": "/cases", "crawl_staff": "/sources", "admin": "/queue"}
    for name, home in homes.items():
        anonymous.cookies.clear()
        assert post_login(anonymous, name, PASSWORD).headers["location"] == home


def test_a_wrong_password_or_unknown_user_is_refused_and_audited_with_the_address(anonymous, users, db):
    assert post_login(anonymous, "reviewer", "wrong-password").status_code == 401
    response = post_login(anonymous, "nobody", PASSWORD)
    assert response.status_code == 401 and "用户名或密码错误" in response.text
    assert sessions.COOKIE_NAME not in anonymous.cookies
    with db.session() as s:
        events = s.execute(
            select(AuditEvent.username, AuditEvent.ip).where(AuditEvent.action == "login.failed")
        ).all()
    assert sorted(events) == [("nobody", "testclient"), ("reviewer", "testclient")]


def test_the_login_form_needs_its_csrf_token(anonymous, users):
    assert post_login(anonymous, "reviewer", PASSWORD, token="").status_code == 403
    assert post_login(anonymous, "reviewer", PASSWORD, token="f" * 64).status_code == 403
    other = Browser(anonymous.app, follow_redirects=False)  # a token from another browser does not fit
    token = csrf_of(other.get("/login").text)
    assert post_login(anonymous, "reviewer", PASSWORD, token=token).status_code == 403
    assert sessions.COOKIE_NAME not in anonymous.cookies


def test_repeated_failures_lock_that_user_from_that_address(anonymous, users, db, settings):
    for _ in range(settings.login_max_failures):
        assert post_login(anonymous, "reviewer", "wrong-password").status_code == 401
    locked = post_login(anonymous, "reviewer", PASSWORD)  # even the right password
    assert (
        locked.status_code == 429 and "分钟后再试" in locked.text and int(locked.headers["retry-after"]) > 0
    )
    assert post_login(anonymous, "enforcement", PASSWORD).status_code == 303  # another user is not locked
    with db.session() as s:  # the window passes
        for attempt in s.scalars(select(LoginAttempt)):
            attempt.at -= dt.timedelta(seconds=settings.login_window_seconds)
    anonymous.cookies.clear()
    assert post_login(anonymous, "reviewer", PASSWORD).status_code == 303


def test_many_failures_from_one_address_lock_every_name(anonymous, users, settings, db):
    with db.session() as s:
        now = dt.datetime.now(dt.UTC)
        s.add_all(
            LoginAttempt(at=now, ip="testclient", username=f"guess{i}", success=False)
            for i in range(settings.login_max_failures_per_ip)
        )
    assert post_login(anonymous, "reviewer", PASSWORD).status_code == 429


def test_logout_ends_the_session_for_good(browser_for, db):
    client = browser_for("reviewer")
    token = client.cookies[sessions.COOKIE_NAME]
    assert client.post_form("/logout").status_code == 303
    replay = Browser(client.app, follow_redirects=False, cookies={sessions.COOKIE_NAME: token})
    assert replay.get("/queue").status_code == 303  # to the login form
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(WebSession)) == 0


def test_a_disabled_user_is_out_at_once(browser_for, db, users):
    client = browser_for("reviewer")
    with db.session() as s:
        s.execute(update(User).where(User.id == users["reviewer"]).values(active=False))
    assert client.get("/queue").status_code == 303
    assert post_login(Browser(client.app, follow_redirects=False), "reviewer", PASSWORD).status_code == 401


def test_an_idle_or_expired_session_ends(browser_for, db):
    client = browser_for("reviewer")
    with db.session() as s:
        for row in s.scalars(select(WebSession)):
            row.last_seen_at -= dt.timedelta(hours=3)
    assert client.get("/queue").status_code == 303


def test_a_new_session_token_at_each_login(anonymous, users):
    anonymous.cookies.set(sessions.COOKIE_NAME, "planted-by-attacker")
    response = post_login(anonymous, "reviewer", PASSWORD)
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith(sessions.COOKIE_NAME))
    token = cookie.split(";")[0].split("=", 1)[1]
    assert len(token) >= 40 and token != "planted-by-attacker"


def test_login_redirects_only_to_local_paths(anonymous, users):
    for target, expected in [
        ("//evil.example/x", "/queue"),
        ("https://evil.example/", "/queue"),
        ("/\\evil.example", "/queue"),
        ("/items/1", "/items/1"),
    ]:
        anonymous.cookies.clear()
        token = csrf_of(anonymous.get("/login").text)
        response = anonymous.post(
            "/login", data={"username": "reviewer", "password": PASSWORD, "csrf_token": token, "next": target}
        )
        assert response.headers["location"] == expected


def test_every_form_post_without_its_token_is_refused(browser_for, world, db, app):
    client = browser_for("admin")
    with db.session() as s:
        before = s.scalar(select(func.count()).select_from(AuditEvent))
    posts = [r for r in api_routes() if "POST" in r.methods and r.path != "/login"]
    assert len(posts) >= 10
    ids = {"item_id": world["pending"], "source_id": world["source"], "user_id": world["victim"]}
    for route in posts:
        path = route.path.format(**ids)
        for data in ({}, {"csrf_token": ""}, {"csrf_token": client.csrf[:-1] + "x"}):
            response = client.post(
                path, data={**data, "action": "reject", "reason": "not_ad", "enabled": "0"}
            )
            assert response.status_code == 403, f"POST {path} accepted {data}"
            assert "CSRF" in response.text
    assert client.get("/queue").status_code == 200  # still logged in: logout was refused too
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == before  # nothing happened


def test_pages_carry_a_strict_csp_and_refuse_framing(browser_for, world):
    client = browser_for("reviewer")
    response = client.get(f"/items/{world['pending']}")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    assert "<script>" not in response.text and "onclick=" not in response.text  # no inline script at all


def test_the_secret_key_is_made_once_with_owner_only_permissions(settings, db):
    create_app(settings, db)
    key_file = settings.secret_key_file
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    first = key_file.read_text()
    assert create_app(settings, db).state.secret == first.encode()

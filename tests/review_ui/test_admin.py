"""Admin pages: users and roles, and the audit log."""

from sqlalchemy import select

from adwatch.models import User
from tests.review_ui.conftest import Browser, log_in


def test_admin_adds_a_user_who_can_then_log_in(browser_for, app, db):
    admin = browser_for("admin")
    response = admin.post_form("/users", {"name": "王审核", "role": "reviewer", "password": "long-enough-1"})
    assert response.status_code == 303
    assert "王审核" in admin.get("/users").text
    new = log_in(Browser(app, follow_redirects=False), "王审核", "long-enough-1")
    assert new.get("/queue").status_code == 200


def test_bad_users_are_refused_with_a_reason(browser_for):
    admin = browser_for("admin")
    for data, message in [
        ({"name": "reviewer", "role": "reviewer", "password": "long-enough-1"}, "已存在"),
        ({"name": "x1", "role": "boss", "password": "long-enough-1"}, "未知角色"),
        ({"name": "x2", "role": "reviewer", "password": "short"}, "密码太短"),
        ({"name": "<b>x</b>", "role": "reviewer", "password": "long-enough-1"}, "用户名无效"),
    ]:
        response = admin.post_form("/users", data)
        assert response.status_code == 400 and message in response.text


def test_disabling_a_user_ends_their_sessions(browser_for, db, users):
    reviewer, admin = browser_for("reviewer"), browser_for("admin")
    assert admin.post_form(f"/users/{users['reviewer']}/active", {"active": "0"}).status_code == 303
    assert reviewer.get("/queue").status_code == 303
    with db.session() as s:
        assert not s.scalar(select(User.active).where(User.id == users["reviewer"]))
    assert (
        admin.post_form(f"/users/{users['admin']}/active", {"active": "0"}).status_code == 400
    )  # not oneself


def test_the_audit_log_lists_actions_with_their_address(browser_for):
    admin = browser_for("admin")
    html = admin.get("/audit?action=login").text
    assert "<code>login</code>" in html and "testclient" in html
    assert "<code>login</code>" not in admin.get("/audit?action=review.").text

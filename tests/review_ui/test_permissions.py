"""Every route checks the role: each role gets its pages and actions, and 403 everywhere else.

Reviewers decide; enforcement sees confirmed items and approval records, exports evidence and sees
statistics; crawl staff manage sources and runs; admin may do everything. Not logged in: pages
redirect to the login form, actions get 401.
"""

import pytest

from review_ui.deps import verified_form
from tests.review_ui.conftest import api_routes

R, E, C = "reviewer", "enforcement", "crawl_staff"

# (method, path, roles allowed besides admin, form data)
MATRIX = [
    ("GET", "/queue", {R}, None),
    ("GET", "/cases", {R, E}, None),
    ("POST", "/queue/next", {R}, {}),
    ("GET", "/items/{pending}", {R}, None),
    ("GET", "/items/{confirmed}", {R, E}, None),
    ("GET", "/items/{pending}/raw", {R}, None),
    ("GET", "/items/{confirmed}/raw", {R, E}, None),
    ("GET", "/items/{confirmed}/screenshot", {R, E}, None),
    ("POST", "/items/{pending}/claim", {R}, {}),
    ("POST", "/items/{pending}/release", {R}, {}),
    ("POST", "/items/{pending}/decide", {R}, {"action": "reject", "reason": "not_ad"}),
    ("GET", "/approvals", {E}, None),
    ("GET", "/approvals/{record}", {E}, None),
    ("POST", "/approvals/import", set(), {}),
    ("GET", "/exports", {E}, None),
    ("POST", "/exports/download", {E}, {"format": "csv"}),
    ("GET", "/stats", {E}, None),
    ("POST", "/stats/summary", {E}, {"unit": "某市市场监督管理局"}),
    ("GET", "/sources", {C}, None),
    ("GET", "/sources/{source}", {C}, None),
    ("POST", "/sources/{source}/schedule", {C}, {"schedule": "0 4 * * *"}),
    ("POST", "/sources/{source}/enabled", {C}, {"enabled": "1"}),
    ("POST", "/sources/{source}/crawl", {C}, {}),
    ("GET", "/runs", {C}, None),
    ("GET", "/runs/{run}", {C}, None),
    ("GET", "/users", set(), None),
    ("POST", "/users", set(), {"name": "newbie", "role": "reviewer", "password": "long-enough-1"}),
    ("POST", "/users/{victim}/active", set(), {"active": "1"}),
    ("GET", "/audit", set(), None),
]
OPEN_TO_ALL_LOGGED_IN = [("GET", "/"), ("POST", "/logout")]
PUBLIC = [("GET", "/login"), ("POST", "/login")]


def request(client, method, path, data):
    if method == "GET":
        return client.get(path)
    return client.post_form(path, data or {})


@pytest.mark.parametrize("role", ["admin", R, E, C])
def test_each_role_gets_its_routes_and_403_elsewhere(role, browser_for, world, tmp_path):
    client = browser_for(role)
    for method, template, allowed, data in MATRIX:
        response = request(client, method, template.format(**world), data)
        if role == "admin" or role in allowed:
            assert response.status_code != 403, f"{role} {method} {template}: {response.status_code}"
            assert response.status_code < 500
        else:
            assert response.status_code == 403, f"{role} {method} {template} should be refused"
            assert "无权" in response.text or "只能查看" in response.text


def test_not_logged_in_pages_redirect_to_login_and_actions_get_401(anonymous, world):
    for method, template, _, data in MATRIX:
        path = template.format(**world)
        response = anonymous.get(path) if method == "GET" else anonymous.post(path, data=data or {})
        if method == "GET":
            assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")
        else:
            assert response.status_code == 401


def test_every_route_is_in_the_matrix_and_every_post_checks_csrf(app):
    covered = {(m, t) for m, t, _, _ in MATRIX} | set(OPEN_TO_ALL_LOGGED_IN) | set(PUBLIC)
    covered_patterns = {
        (
            m,
            t.replace("{pending}", "{item_id}")
            .replace("{confirmed}", "{item_id}")
            .replace("{record}", "{record_id}")
            .replace("{source}", "{source_id}")
            .replace("{run}", "{run_id}")
            .replace("{victim}", "{user_id}"),
        )
        for m, t in covered
    }
    routes = api_routes()
    assert len(routes) >= 25
    for route in routes:
        for method in route.methods:
            assert (method, route.path) in covered_patterns, f"{method} {route.path} has no permission test"
            if method == "POST" and route.path != "/login":
                calls = {d.call for d in route.dependant.dependencies}
                assert verified_form in calls, f"POST {route.path} does not check the CSRF token"

"""Claims and decisions: a reviewer leases an item before deciding; two reviewers never decide the same
item; decisions are append-only and every action is audited with the client's address."""

import datetime as dt
import threading

import pytest
from sqlalchemy import select

from adwatch.models import AuditEvent, Decision, ReviewItem, User
from review_ui import claims
from tests.review_ui.factories import flag


@pytest.fixture
def queue3(db):
    with db.session() as s:
        return [flag(s, scores={"medical_ad": 0.9, "false_promise": p}).id for p in (0.95, 0.85, 0.75)]


def confirm(client, item_id, **extra):
    data = {
        "action": "confirm",
        "labels": ["false_promise"],
        "legal_basis": ["efficacy_guarantee"],
        "note": "证据充分",
    }
    return client.post_form(f"/items/{item_id}/decide", {**data, **extra})


def audit_actions(db, item_id):
    with db.session() as s:
        return s.execute(
            select(AuditEvent.action, AuditEvent.username, AuditEvent.ip)
            .where(AuditEvent.target_type == "review_item", AuditEvent.target_id == str(item_id))
            .order_by(AuditEvent.id)
        ).all()


def test_deciding_needs_a_claim(browser_for, queue3):
    response = confirm(browser_for("reviewer"), queue3[0])
    assert response.status_code == 409 and "请先认领" in response.text


def test_claim_confirm_and_move_on_to_the_next_item(browser_for, db, queue3):
    client = browser_for("reviewer")
    assert client.post_form(f"/items/{queue3[0]}/claim").status_code == 303
    response = confirm(client, queue3[0])
    assert response.status_code == 303 and response.headers["location"] == f"/items/{queue3[1]}"
    with db.session() as s:
        done = s.get(ReviewItem, queue3[0])
        nxt = s.get(ReviewItem, queue3[1])
        reviewer = s.scalar(select(User).where(User.name == "reviewer"))
        assert (done.status, done.decided_by, done.claimed_by) == ("confirmed", reviewer.id, None)
        assert nxt.claimed_by == reviewer.id  # the next item is leased to the same reviewer
        [decision] = s.scalars(select(Decision).where(Decision.item_id == queue3[0])).all()
        assert (decision.action, decision.labels, decision.legal_basis, decision.note) == (
            "confirm",
            ["false_promise"],
            ["efficacy_guarantee"],
            "证据充分",
        )
    assert audit_actions(db, queue3[0]) == [
        ("review.claim", "reviewer", "testclient"),
        ("review.confirm", "reviewer", "testclient"),
    ]
    assert "已确认违法，已自动认领下一条" in client.get(response.headers["location"]).text


def test_reject_needs_a_reason_and_stores_it(browser_for, db, queue3):
    client = browser_for("reviewer")
    client.post_form(f"/items/{queue3[0]}/claim")
    refused = client.post_form(f"/items/{queue3[0]}/decide", {"action": "reject"})
    assert refused.status_code == 409 and "请选择原因" in refused.text
    assert (
        client.post_form(f"/items/{queue3[0]}/decide", {"action": "reject", "reason": "not_ad"}).status_code
        == 303
    )
    with db.session() as s:
        decision = s.scalar(select(Decision).where(Decision.item_id == queue3[0]))
        assert (decision.action, decision.reason, decision.labels) == ("reject", "not_ad", [])
        assert s.get(ReviewItem, queue3[0]).status == "rejected"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"labels": []}, "至少选择一个违法类型"),
        ({"legal_basis": []}, "至少选择一条法律依据"),
        ({"labels": ["<script>"]}, "未知的违法类型"),
        ({"legal_basis": ["made_up"]}, "未知的法律依据"),
        ({"action": "delete"}, "未知的操作"),
        ({"note": "长" * 2001}, "备注过长"),
    ],
)
def test_incomplete_decisions_are_refused_and_change_nothing(browser_for, db, queue3, data, message):
    client = browser_for("reviewer")
    client.post_form(f"/items/{queue3[0]}/claim")
    response = confirm(client, queue3[0], **data)
    assert response.status_code == 409 and message in response.text
    with db.session() as s:
        assert s.get(ReviewItem, queue3[0]).status == "pending"
        assert s.scalars(select(Decision)).all() == []


def test_two_reviewers_racing_for_one_item_one_wins_and_the_other_is_told(browser_for, db, queue3):
    first, second = browser_for("reviewer"), browser_for("reviewer2")
    assert first.post_form(f"/items/{queue3[0]}/claim").status_code == 303
    lost = second.post_form(f"/items/{queue3[0]}/claim")
    assert lost.status_code == 409 and "已被 reviewer 认领" in lost.text
    assert confirm(second, queue3[0]).status_code == 409
    assert "reviewer 处理中" in second.get(f"/items/{queue3[0]}").text
    assert confirm(first, queue3[0]).status_code == 303
    late = second.post_form(f"/items/{queue3[0]}/claim")
    assert late.status_code == 409 and "已处理（已确认）" in late.text
    with db.session() as s:
        assert len(s.scalars(select(Decision)).all()) == 1


def test_an_expired_lease_passes_to_the_next_reviewer_and_the_first_can_no_longer_decide(
    browser_for, db, queue3
):
    first, second = browser_for("reviewer"), browser_for("reviewer2")
    first.post_form(f"/items/{queue3[0]}/claim")
    with db.session() as s:
        s.get(ReviewItem, queue3[0]).claim_expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    assert confirm(first, queue3[0]).status_code == 409  # lease expired
    assert second.post_form(f"/items/{queue3[0]}/claim").status_code == 303
    refused = confirm(first, queue3[0])
    assert refused.status_code == 409 and "已被 reviewer2 认领" in refused.text
    assert confirm(second, queue3[0]).status_code == 303


def test_concurrent_claims_have_exactly_one_winner(db, settings, users, queue3):
    with db.session() as s:
        reviewers = [
            s.get(User, users["reviewer"]),
            s.get(User, users["reviewer2"]),
            s.get(User, users["admin"]),
        ]
        for u in reviewers:
            s.expunge(u)
    barrier = threading.Barrier(len(reviewers) * 2)
    outcomes: list[str] = []

    def attempt(user: User) -> None:
        barrier.wait()
        try:
            with db.session() as s:
                claims.claim(s, settings, queue3[0], user)
            outcomes.append(user.name)
        except claims.ClaimRefused:
            outcomes.append("refused")

    threads = [threading.Thread(target=attempt, args=(u,)) for u in reviewers * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    winners = {o for o in outcomes if o != "refused"}
    assert len(outcomes) == 6 and len(winners) == 1
    with db.session() as s:
        holder = s.get(ReviewItem, queue3[0]).claimed_by
    assert {u.name for u in reviewers if u.id == holder} == winners


def test_escalated_items_leave_the_queue_and_a_second_decision_is_appended(browser_for, db, queue3):
    reviewer, admin = browser_for("reviewer"), browser_for("admin")
    reviewer.post_form(f"/items/{queue3[0]}/claim")
    assert (
        reviewer.post_form(f"/items/{queue3[0]}/decide", {"action": "escalate"}).status_code == 409
    )  # no note
    assert (
        reviewer.post_form(
            f"/items/{queue3[0]}/decide", {"action": "escalate", "note": "疑似跨省连锁机构，请组长判断"}
        ).status_code
        == 303
    )
    assert f'data-href="/items/{queue3[0]}"' not in reviewer.get("/queue").text
    assert f'data-href="/items/{queue3[0]}"' in reviewer.get("/queue?status=escalated").text
    admin.post_form(f"/items/{queue3[0]}/claim")
    assert confirm(admin, queue3[0]).status_code == 303
    with db.session() as s:
        actions = s.scalars(
            select(Decision.action).where(Decision.item_id == queue3[0]).order_by(Decision.id)
        ).all()
    assert actions == ["escalate", "confirm"]


def test_next_skips_items_others_hold_and_frees_the_one_left(browser_for, db, queue3):
    first, second = browser_for("reviewer"), browser_for("reviewer2")
    assert first.post_form("/queue/next").headers["location"] == f"/items/{queue3[0]}"
    assert second.post_form("/queue/next").headers["location"] == f"/items/{queue3[1]}"
    # The first reviewer skips their item: it is freed, and they get the next free one.
    assert (
        first.post_form("/queue/next", {"after": str(queue3[0])}).headers["location"] == f"/items/{queue3[2]}"
    )
    with db.session() as s:
        assert s.get(ReviewItem, queue3[0]).claimed_by is None
    first.post_form(f"/items/{queue3[2]}/release")
    with db.session() as s:
        assert s.get(ReviewItem, queue3[2]).claimed_by is None
    assert ("review.release", "reviewer", "testclient") in audit_actions(db, queue3[2])


def test_an_empty_queue_says_so(browser_for):
    client = browser_for("reviewer")
    response = client.post_form("/queue/next")
    assert response.headers["location"] == "/queue"
    assert "没有可认领" in client.get("/queue").text


def test_enforcement_finds_confirmed_items_on_the_cases_page(browser_for, queue3):
    reviewer = browser_for("reviewer")
    reviewer.post_form(f"/items/{queue3[1]}/claim")
    confirm(reviewer, queue3[1])
    html = browser_for("enforcement").get("/cases").text
    assert f'data-href="/items/{queue3[1]}"' in html and f'data-href="/items/{queue3[0]}"' not in html


def test_the_database_refuses_to_edit_a_decision(browser_for, db, queue3):
    client = browser_for("reviewer")
    client.post_form(f"/items/{queue3[0]}/claim")
    confirm(client, queue3[0])
    with pytest.raises(Exception, match="append-only"), db.session() as s:
        s.scalar(select(Decision)).note = "edited afterwards"
    with db.session() as s:
        assert s.scalar(select(Decision.note)) == "证据充分"

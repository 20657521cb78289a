"""A reviewer works the queue with the keyboard and confirms an item; enforcement then finds it confirmed."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import log_in
from tests.review_ui.factories import TRAINING_AD, TRAINING_TERMS, flag, make_source

pytestmark = pytest.mark.e2e


def test_reviewer_confirms_with_the_keyboard_and_enforcement_finds_it(server, chromium, page):
    with server.db.session() as s:
        source = make_source(s)
        top = flag(s, source=source, title="玻尿酸填充 无效退款", campaign_size=4)
        second = flag(
            s,
            source=source,
            text=TRAINING_AD,
            title="零基础学微整形",
            scores={"medical_ad": 0.8, "training_pitch": 0.7},
            terms=TRAINING_TERMS,
        )
        top_id, second_id = top.id, second.id

    log_in(page, server, "reviewer")
    expect(page).to_have_url(re.compile(r"/queue$"))
    rows = page.locator("#queue-table tbody tr")
    expect(rows).to_have_count(2)
    page.keyboard.press("j")
    expect(rows.nth(0)).to_have_class(re.compile("selected"))
    page.keyboard.press("j")
    expect(rows.nth(1)).to_have_class(re.compile("selected"))
    page.keyboard.press("k")
    page.keyboard.press("Enter")  # opens the selected (top) item
    expect(page).to_have_url(re.compile(rf"/items/{top_id}$"))
    expect(page.locator("mark.ev-false_promise").first).to_have_text("保证效果")

    page.keyboard.press("a")  # claim
    expect(page.locator(".claim.mine")).to_be_visible()
    expect(page.locator("#confirm-form input[value=false_promise]")).to_be_checked()
    # Ticking another label ticks its usual legal basis too.
    page.locator("#confirm-form input[value=appearance_anxiety]").check()
    expect(page.locator("#confirm-form input[value=good_morals]")).to_be_checked()
    page.keyboard.press("c")  # confirm
    expect(page).to_have_url(re.compile(rf"/items/{second_id}$"))  # moved on, next item claimed
    expect(page.locator(".flash")).to_contain_text(f"条目 {top_id} 已确认违法")
    expect(page.locator(".claim.mine")).to_be_visible()
    page.keyboard.press("r")  # reject the second with the preselected reason
    expect(page).to_have_url(re.compile(r"/queue$"))
    expect(page.locator(".flash")).to_contain_text("已没有可认领的条目")

    enforcement = chromium.new_context(locale="zh-CN").new_page()
    log_in(enforcement, server, "enforcement")
    expect(enforcement).to_have_url(re.compile(r"/cases$"))
    case_rows = enforcement.locator("#queue-table tbody tr[data-href]")
    expect(case_rows).to_have_count(1)
    expect(case_rows.first).to_contain_text("玻尿酸填充 无效退款")
    case_rows.first.locator("a.item-title").click()
    expect(enforcement.locator(".status.st-confirmed").first).to_have_text("已确认")
    expect(enforcement.locator("ol.history")).to_contain_text("reviewer 确认违法")
    expect(enforcement.locator("ol.history")).to_contain_text("制造容貌焦虑")
    expect(enforcement.locator("#confirm-form")).to_have_count(0)  # enforcement does not decide
    enforcement.context.close()


def test_the_session_cookie_is_invisible_to_scripts(server, page):
    log_in(page, server, "reviewer")
    assert page.evaluate("document.cookie") == ""
    cookie = next(c for c in page.context.cookies() if c["name"] == "adwatch_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

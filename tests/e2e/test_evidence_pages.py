"""Enforcement downloads the evidence list from /exports and reads the charts on /stats, in Chromium,
with a source whose name is a script: nothing runs and the strict CSP is never violated."""

import hashlib
import re

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect
from sqlalchemy import select

from adwatch.models import Decision, User
from tests.e2e.conftest import log_in
from tests.review_ui.factories import flag, make_source

pytestmark = pytest.mark.e2e

HOSTILE = "<script>alert(1)</script>"


def test_enforcement_downloads_an_xlsx_and_sees_the_charts(server, page, tmp_path):
    with server.db.session() as s:
        reviewer = s.scalar(select(User).where(User.name == "reviewer"))
        source = make_source(s, name=HOSTILE)
        item = flag(s, source=source, institutions=["北京美丽人生医疗美容诊所"])
        item.status = "confirmed"
        item.decided_by = reviewer.id
        s.add(
            Decision(
                item_id=item.id,
                user_id=reviewer.id,
                action="confirm",
                labels=["medical_ad", "false_promise"],
                legal_basis=["efficacy_guarantee"],
            )
        )
        flag(s, source=source, title="待审核的一条")
    dialogs: list[str] = []
    console_errors: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: console_errors.append(str(e)))

    log_in(page, server, "enforcement")
    page.locator(".mainnav a", has_text="证据导出").click()
    expect(page).to_have_url(re.compile(r"/exports$"))
    expect(page.locator("#preview-count b")).to_have_text("1")  # confirmed items only, by default
    expect(page.locator("#export-form input[value=xlsx]")).to_be_checked()
    with page.expect_download() as info:
        page.locator("#export-form button[type=submit]").click()
    download = info.value
    assert re.fullmatch(r"证据清单_\d{8}-\d{6}\.xlsx", download.suggested_filename)
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    rows = list(load_workbook(saved, read_only=True)["证据清单"].iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][1] == "北京美丽人生医疗美容诊所"

    page.reload()
    digest = hashlib.sha256(saved.read_bytes()).hexdigest()
    expect(page.locator("#recent-exports tbody tr")).to_have_count(1)
    expect(page.locator("#recent-exports tbody tr").first).to_contain_text(digest)

    page.locator(".mainnav a", has_text="统计").click()
    expect(page).to_have_url(re.compile(r"/stats$"))
    expect(page.locator("#chart-by_label svg")).to_be_visible()
    expect(page.locator("#chart-by_week svg rect").first).to_be_visible()
    expect(page.locator("#chart-by_source svg text", has_text=HOSTILE)).to_have_count(1)  # shown as text
    expect(page.locator("#totals b").first).to_have_text("2")
    assert page.evaluate("document.querySelectorAll('main script, svg script').length") == 0

    assert dialogs == []
    assert console_errors == [], console_errors  # a CSP violation is reported as a console error

"""The statistics page: counts, reviewers and their agreement, SVG charts, and the 汇总表 download.

The case file (tests/adwatch/exports/conftest.py): A and B confirmed (本地论坛), C pending and
D rejected (微博搜索); B was confirmed by two reviewers with the same labels.
"""

import hashlib
import io
import re
import xml.etree.ElementTree as ET
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from adwatch.models import AuditEvent, Decision
from review_ui import downloads
from tests.review_ui.factories import flag, make_source, make_user

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE_SOURCE = "<script>alert(1)</script>"
HOSTILE_REVIEWER = '<img src=x onerror="alert(2)">'
CHARTS = ("by_label", "findings", "by_week", "by_source", "by_status", "reviewers")


def charts_of(html: str) -> dict[str, ET.Element]:
    """Each chart's SVG, parsed as XML: well-formed, and its text nodes are what a browser shows."""
    found = dict(re.findall(r'<figure class="chart" id="chart-(\w+)">(<svg.*?</svg>)</figure>', html, re.S))
    return {name: ET.fromstring(svg) for name, svg in found.items()}


def texts(svg: ET.Element) -> list[str]:
    return [t.text or "" for t in svg.iter(f"{SVG}text")]


def totals(html: str) -> list[str]:
    block = html[html.index('id="totals"') : html.index('id="charts"')]
    return re.findall(r"<b>(\d+)</b>", block)


@pytest.mark.parametrize(
    ("role", "status"), [("enforcement", 200), ("admin", 200), ("reviewer", 403), ("crawl_staff", 403)]
)
def test_enforcement_and_admin_see_statistics_reviewers_and_crawl_staff_do_not(browser_for, db, role, status):
    client = browser_for(role)
    page = client.get("/stats")
    assert page.status_code == status
    summary = client.post_form("/stats/summary", {"unit": "某市市场监督管理局"})
    assert summary.status_code == status
    if status == 200:
        assert '<a href="/stats"' in page.text and '<a href="/exports"' in page.text  # in the navigation
    else:
        assert "无权" in page.text and '<a href="/stats"' not in page.text  # not offered to this role
        with db.session() as s:
            assert s.scalar(select(AuditEvent).where(AuditEvent.action == "export")) is None


def test_the_page_counts_items_by_status_label_source_week_and_reviewer(browser_for, case):
    html = browser_for("enforcement").get("/stats").text
    assert totals(html) == ["4", "2", "1", "0", "1"]  # items, confirmed, pending, escalated, rejected
    by_label = html[html.index('id="by-label"') : html.index('id="findings"')]
    assert re.search(
        r"<td>非法执业</td><td class=\"num\">1</td><td class=\"num\">1</td><td class=\"num\">0</td>", by_label
    )
    assert "审查证明已过有效期" in html[html.index('id="findings"') :]
    by_source = html[html.index('id="by-source"') :]
    assert re.search(r"<td>本地论坛</td><td class=\"num\">\d+</td><td class=\"num\">2</td>", by_source)
    assert "2026-W46" in html[html.index('id="by-week"') :]  # B, found 2026-11-10
    reviewers = html[html.index('id="reviewers"') : html.index('id="agreement"')]
    assert "李审核" in reviewers and "王复核" in reviewers
    agreement = html[html.index('id="agreement"') : html.index('id="summary"')]
    assert "1 条" in agreement and "100%" in agreement  # B: both reviewers confirmed with the same labels


def test_every_chart_is_inline_svg_with_its_labels(browser_for, case):
    charts = charts_of(browser_for("enforcement").get("/stats").text)
    assert set(charts) == set(CHARTS)
    assert "非法执业" in texts(charts["by_label"])
    assert {"本地论坛", "微博搜索"} <= set(texts(charts["by_source"]))
    assert {"李审核", "王复核"} <= set(texts(charts["reviewers"]))
    assert len(list(charts["by_week"].iter(f"{SVG}rect"))) >= 3


def test_period_and_source_filters_narrow_the_numbers(browser_for, case):
    client = browser_for("enforcement")
    assert totals(client.get("/stats", params={"source": "微博搜索"}).text) == ["2", "0", "1", "0", "1"]
    narrowed = client.get("/stats", params={"since": "2026-11-15", "until": "2026-11-19"}).text
    assert totals(narrowed) == ["1", "0", "1", "0", "0"]  # C, found 2026-11-18
    assert 'name="since" value="2026-11-15"' in narrowed  # the 汇总表 form carries the same period


def test_bad_filters_are_named_in_chinese(browser_for, case):
    response = browser_for("enforcement").get("/stats", params={"since": "11/01/2026", "source": "无此来源"})
    assert response.status_code == 400
    assert "开始日期“11/01/2026”格式不对" in response.text and "没有名为“无此来源”的监测来源" in response.text
    assert 'id="charts"' not in response.text


def test_the_summary_table_downloads_as_xlsx_with_the_reporting_unit_and_is_audited(
    browser_for, case, db, settings, users
):
    client = browser_for("enforcement")
    response = client.post_form(
        "/stats/summary",
        {"unit": "某市市场监督管理局", "since": "2026-11-01", "until": "2026-11-30", "source": ""},
    )
    assert response.status_code == 200, response.text
    disposition = response.headers["content-disposition"]
    assert re.fullmatch(
        r"attachment; filename=\"adwatch-summary-\d{8}-\d{6}\.xlsx\"; filename\*=UTF-8''[A-Za-z0-9%._-]+",
        disposition,
    )
    assert unquote(disposition.split("''", 1)[1]).startswith("监督检查工作信息汇总表_")
    sheet = load_workbook(io.BytesIO(response.content))["汇总表"]
    assert sheet["A1"].value == "监督检查工作信息汇总表"
    assert sheet["A2"].value == "填报单位：某市市场监督管理局"
    assert "2026-11-01 至 2026-11-30" in sheet["A3"].value
    values = [c for row in sheet.iter_rows(values_only=True) for c in row]
    assert "非法执业" in values and "本地论坛" in values
    with db.session() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "export"))
    digest = hashlib.sha256(response.content).hexdigest()
    assert (event.user_id, event.detail["format"], event.detail["sha256"]) == (
        users["enforcement"],
        "summary-xlsx",
        digest,
    )
    assert event.detail["filters"]["since"].startswith("2026-11-01T00:00:00")
    assert list(downloads.downloads_root(settings).iterdir()) == []
    recent = client.get("/exports").text
    assert "汇总表（Excel）" in recent and digest in recent  # listed with the other exports


def test_the_summary_download_checks_the_csrf_token(browser_for, case, db):
    client = browser_for("enforcement")
    refused = client.post("/stats/summary", data={"unit": "某市", "csrf_token": "forged"})
    assert refused.status_code == 403 and "CSRF" in refused.text
    with db.session() as s:
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "export")) is None


def test_hostile_source_and_reviewer_names_are_escaped_in_tables_and_inside_the_charts(browser_for, db):
    with db.session() as s:
        source = make_source(s, name=HOSTILE_SOURCE)
        reviewer = make_user(s, HOSTILE_REVIEWER, "reviewer")
        item = flag(s, source=source)
        item.status = "confirmed"
        s.add(
            Decision(
                item_id=item.id,
                user_id=reviewer.id,
                action="confirm",
                labels=["false_promise"],
                legal_basis=[],
            )
        )
    html = browser_for("enforcement").get("/stats").text
    assert HOSTILE_SOURCE not in html and "<script>alert" not in html and "<img src=x" not in html
    charts = charts_of(html)
    svg_source = html[html.index('id="chart-by_source"') : html.index('id="chart-by_status"')]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg_source
    # Parsed as markup, the names are text, never elements
    assert HOSTILE_SOURCE in texts(charts["by_source"]) and HOSTILE_REVIEWER in texts(charts["reviewers"])
    for svg in charts.values():
        assert {el.tag for el in svg.iter()} <= {
            f"{SVG}{t}" for t in ("svg", "title", "text", "rect", "line")
        }
    assert '<option value="&lt;script&gt;alert(1)&lt;/script&gt;">' in html
    assert "&lt;img src=x onerror=&#34;alert(2)&#34;&gt;" in html[html.index('id="reviewers"') :]

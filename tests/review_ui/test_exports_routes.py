"""The enforcement export page: filters with a preview count, downloads of the evidence list and
bundle streamed from disk with a Chinese file name, every export in the audit log.

The case file (tests/adwatch/exports/conftest.py): A and B confirmed (本地论坛), C pending and
D rejected (微博搜索); A names 上海星悦医疗美容诊所有限公司, B is unlicensed practice found 2026-11-10.
"""

import csv
import hashlib
import io
import json
import re
import zipfile
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from adwatch.exports.filters import ExportFilters
from adwatch.exports.verify import verify_bundle
from adwatch.models import AuditEvent, Decision, Source
from review_ui import downloads
from review_ui.export_preview import preview
from tests.review_ui.factories import flag, make_source

DISPOSITION_RE = re.compile(
    r"""^attachment; filename="([\x20-\x7e]+)"; filename\*=UTF-8''([A-Za-z0-9%._-]+)$"""
)
HOSTILE = "<script>alert(1)</script>"


def download(client, **data):
    return client.post_form("/exports/download", data)


def export_events(db, action="export"):
    with db.session() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def leftovers(settings):
    root = downloads.downloads_root(settings)
    return list(root.iterdir()) if root.exists() else []


def chinese_name(response) -> tuple[str, str]:
    match = DISPOSITION_RE.match(response.headers["content-disposition"])
    assert match, response.headers["content-disposition"]
    return match.group(1), unquote(match.group(2))


@pytest.mark.parametrize(
    ("role", "status"), [("enforcement", 200), ("admin", 200), ("reviewer", 403), ("crawl_staff", 403)]
)
def test_only_enforcement_and_admin_open_the_page_or_download(browser_for, db, role, status):
    client = browser_for(role)
    assert client.get("/exports").status_code == status
    response = download(client, format="xlsx")
    assert response.status_code == status
    if status == 403:
        assert "无权" in response.text and not export_events(db)


def test_the_page_previews_confirmed_items_by_default_and_narrows_with_each_filter(browser_for, case):
    client = browser_for("enforcement")

    def count(**params) -> str:
        page = client.get("/exports", params=params)
        assert page.status_code == 200, page.text
        return re.search(r'id="preview-count">.*?<b>(\d+)</b>', page.text).group(1)

    page = client.get("/exports").text
    assert '<option value="confirmed" selected>已确认</option>' in page
    assert '<option value="unlicensed_practice">非法执业</option>' in page  # labels by Chinese name
    assert '<option value="本地论坛">本地论坛</option>' in page
    assert count() == "2"
    assert count(status="all") == "4"
    assert count(status="pending", source="微博搜索") == "1"
    assert count(label="unlicensed_practice") == "1"
    assert count(label="approval_expired") == "1"  # approval findings are filters too
    assert count(institution="星悦") == "1"
    assert count(since="2026-11-01", until="2026-11-10") == "1"  # the until day is included
    assert count(since="2026-11-21") == "0"


def test_the_download_form_repeats_the_previewed_filters(browser_for, case):
    page = (
        browser_for("enforcement")
        .get("/exports", params={"label": "false_promise", "since": "2026-11-01"})
        .text
    )
    form = page[page.index('id="export-form"') :]
    assert '<input type="hidden" name="label" value="false_promise">' in form
    assert '<input type="hidden" name="since" value="2026-11-01">' in form
    assert "违法类型：虚假或保证性承诺" in page  # the filters in words above the button


def test_with_many_candidates_the_label_filter_is_not_counted_ahead(
    browser_for, case, db, settings, monkeypatch
):
    from functools import partial

    from review_ui.routes import exports

    with db.session() as s:
        filters = ExportFilters(status="all", label="training_pitch")
        exact = preview(s, filters, settings.evidence_dir)
        assert (exact.candidates, exact.matching, exact.exact) == (4, 1, True)
        capped = preview(s, filters, settings.evidence_dir, scan_limit=3)
        assert (capped.candidates, capped.matching, capped.exact) == (4, None, False)
    monkeypatch.setattr(exports, "preview", partial(preview, scan_limit=3))
    page = (
        browser_for("enforcement").get("/exports", params={"status": "all", "label": "training_pitch"}).text
    )
    assert "符合审核状态、来源和日期条件的条目：<b>4</b> 条" in page and "导出时逐条核对" in page


def test_bad_filters_are_named_in_chinese_and_nothing_is_counted(browser_for, case):
    response = browser_for("enforcement").get(
        "/exports",
        params={
            "since": "2026-13-01",
            "until": "2026-11-01",
            "source": "没有这个来源",
            "label": "bogus",
            "status": "x",
        },
    )
    assert response.status_code == 400
    for message in (
        "开始日期“2026-13-01”格式不对",
        "没有名为“没有这个来源”的监测来源",
        "未知的违法类型“bogus”",
        "未知的审核状态“x”",
    ):
        assert message in response.text
    assert 'id="export-form"' not in response.text
    swapped = browser_for("admin").get("/exports", params={"since": "2026-11-02", "until": "2026-11-01"})
    assert swapped.status_code == 400 and "开始日期不能晚于结束日期" in swapped.text


def test_xlsx_download_has_a_chinese_file_name_opens_in_openpyxl_and_is_audited(
    browser_for, case, db, settings, users
):
    response = download(browser_for("enforcement"), format="xlsx", status="confirmed")
    assert response.status_code == 200, response.text
    assert (
        response.headers["content-type"]
        == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    fallback, name = chinese_name(response)
    assert re.fullmatch(r"证据清单_\d{8}-\d{6}\.xlsx", name) and re.fullmatch(
        r"adwatch-evidence-list-\d{8}-\d{6}\.xlsx", fallback
    )
    assert response.headers["cache-control"] == "no-store"

    sheet = load_workbook(io.BytesIO(response.content), read_only=True)["证据清单"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("序号", "当事人/机构名称")
    assert len(rows) == 3 and "上海星悦医疗美容诊所有限公司" in {r[1] for r in rows[1:]}

    digest = hashlib.sha256(response.content).hexdigest()
    assert response.headers["x-content-sha256"] == digest
    (event,) = export_events(db)
    assert (event.user_id, event.username, event.ip, event.target_id) == (
        users["enforcement"],
        "enforcement",
        "testclient",
        digest,
    )
    assert event.detail["filters"] == {
        "status": "confirmed",
        "label": None,
        "source": None,
        "since": None,
        "until": None,
        "institution": None,
    }
    assert (event.detail["format"], event.detail["items"], event.detail["sha256"]) == ("xlsx", 2, digest)
    assert event.detail["file"] == name  # the log names the file the user received
    assert leftovers(settings) == []  # the generated file went once it was sent


def test_csv_download_starts_with_the_bom_and_records_its_filters(browser_for, case, db):
    response = download(
        browser_for("enforcement"), format="csv", status="all", label="unlicensed_practice", source="本地论坛"
    )
    assert response.status_code == 200
    assert response.content.startswith(b"\xef\xbb\xbf")
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "序号" and len(rows) == 2 and rows[1][1] == "丽人美容工作室"
    (event,) = export_events(db)
    assert (
        event.detail["filters"]["label"] == "unlicensed_practice"
        and event.detail["filters"]["source"] == "本地论坛"
    )
    assert event.detail["sha256"] == hashlib.sha256(response.content).hexdigest()


def test_zip_bundle_download_verifies_against_its_manifest(browser_for, case, db, tmp_path):
    response = download(browser_for("admin"), format="zip", institution="星悦")
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    assert chinese_name(response)[1].startswith("证据包_")
    bundle = tmp_path / "bundle.zip"
    bundle.write_bytes(response.content)
    report = verify_bundle(bundle)
    assert report.ok, report.problems
    with zipfile.ZipFile(bundle) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        assert any(name.endswith("/screenshot.png") for name in zf.namelist())
    assert manifest["exported_by"] == "admin" and manifest["filters"]["institution"] == "星悦"
    (event,) = export_events(db)
    assert (
        event.detail["items"] == 1 and event.detail["sha256"] == hashlib.sha256(response.content).hexdigest()
    )


def test_a_post_without_the_csrf_token_is_refused_and_exports_nothing(browser_for, case, db, settings):
    client = browser_for("enforcement")
    assert client.post("/exports/download", data={"format": "xlsx"}).status_code == 403
    refused = client.post("/exports/download", data={"format": "xlsx", "csrf_token": "forged"})
    assert refused.status_code == 403 and "CSRF" in refused.text
    assert export_events(db) == [] and leftovers(settings) == []


def test_a_second_export_while_one_runs_is_told_to_wait(browser_for, case, db, users):
    client = browser_for("enforcement")
    with downloads.SLOTS.hold(users["enforcement"]):
        busy = download(client, format="csv")
        assert busy.status_code == 429 and "你已有一个导出正在生成" in busy.text
        assert download(browser_for("admin"), format="csv").status_code == 200  # another user may
    assert download(client, format="csv").status_code == 200
    assert len(export_events(db)) == 2


def test_the_app_runs_a_bounded_number_of_exports_at_once():
    slots = downloads.DownloadSlots(limit=1)
    with slots.hold(1), pytest.raises(downloads.DownloadBusy, match="请稍后再试"), slots.hold(2):
        pass
    with slots.hold(2):
        pass  # released when the first finished


def test_an_altered_artifact_row_stops_the_export_with_a_message_and_an_audit_entry(
    browser_for, world, db, settings
):
    # the world fixture's screenshot row points outside the content-addressed store
    response = download(browser_for("enforcement"), format="xlsx")
    assert response.status_code == 409
    assert "导出失败，未生成文件" in response.text and "not a path of the evidence store" in response.text
    assert export_events(db) == []
    (failed,) = export_events(db, "export_failed")
    assert failed.detail["format"] == "xlsx" and failed.detail["filters"]["status"] == "confirmed"
    assert leftovers(settings) == []


def test_a_missing_or_unknown_format_is_refused(browser_for, case, db):
    response = download(browser_for("enforcement"), format="pdf")
    assert response.status_code == 400 and "请选择导出格式" in response.text
    assert export_events(db) == []


def test_recent_exports_list_the_users_own_and_admin_sees_everyone(browser_for, case, db):
    enforcement, admin = browser_for("enforcement"), browser_for("admin")
    first = download(enforcement, format="csv", label="false_promise", since="2026-11-01", until="2026-11-30")
    download(enforcement, format="xlsx")
    theirs = download(admin, format="csv", status="all")
    own = enforcement.get("/exports").text
    table = own[own.index('id="recent-exports"') :]
    assert table.count("<tr>") == 3  # header + two exports
    assert first.headers["x-content-sha256"] in table and theirs.headers["x-content-sha256"] not in table
    assert "类型：虚假或保证性承诺；时间：2026-11-01 至 2026-11-30" in table
    everyone = admin.get("/exports").text
    table = everyone[everyone.index('id="recent-exports"') :]
    assert table.count("<tr>") == 4 and "最近的导出（全部用户）" in everyone
    assert theirs.headers["x-content-sha256"] in table and "状态：全部" in table


def test_a_hostile_source_name_is_escaped_in_the_filter_and_the_export_log(browser_for, db, users):
    with db.session() as s:
        source = make_source(s, name=HOSTILE)
        item = flag(s, source=source)
        item.status = "confirmed"
        s.add(
            Decision(
                item_id=item.id,
                user_id=users["reviewer"],
                action="confirm",
                labels=["false_promise"],
                legal_basis=[],
            )
        )
    client = browser_for("enforcement")
    assert download(client, format="csv", source=HOSTILE).status_code == 200
    page = client.get("/exports", params={"source": HOSTILE})
    assert page.status_code == 200
    assert HOSTILE not in page.text and "<script>alert" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "来源：&lt;script&gt;" in page.text  # in the recent-exports list, from the audit event
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Source)) == 1


def test_interrupted_downloads_are_swept_and_the_file_name_header_is_safe(tmp_path):
    import os
    import time

    old, fresh = tmp_path / "dl-old", tmp_path / "dl-fresh"
    for d in (old, fresh):
        d.mkdir()
        (d / "evidence.zip").write_bytes(b"x")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    assert downloads.sweep(tmp_path) == 1
    assert not old.exists() and fresh.exists()
    header = downloads.content_disposition('证据 清单;"x".xlsx', "evidence.xlsx")
    assert (
        header
        == "attachment; filename=\"evidence.xlsx\"; filename*=UTF-8''%E8%AF%81%E6%8D%AE%20%E6%B8%85%E5%8D%95%3B%22x%22.xlsx"
    )
    with pytest.raises(ValueError):
        downloads.content_disposition("a", '证据"; x=')

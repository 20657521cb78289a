"""`adwatch export --format xlsx|csv`: files spreadsheet software opens in Chinese, audited, by role."""

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from adwatch.exports.filters import ExportFilters
from adwatch.exports.rows import COLUMNS, HEADERS
from adwatch.exports.service import Exporter, ExportForbidden, export_evidence, exporter_named
from adwatch.exports.writers import CsvWriter, XlsxWriter
from adwatch.models import AuditEvent
from pipelines.evidence.store import sha256_file


def test_xlsx_reads_back_with_chinese_frozen_header_and_widths(db, settings, case, tmp_path, cli):
    out = tmp_path / "清单.xlsx"
    code, stdout, _ = cli("export", "--format", "xlsx", "--output", str(out), "--status", "all")
    assert code == 0, stdout
    assert "exported 4 items" in stdout
    wb = load_workbook(out)
    ws = wb["证据清单"]
    assert [c.value for c in ws[1]] == list(HEADERS)
    assert ws.freeze_panes == "A2"
    assert ws.column_dimensions["J"].width == dict(COLUMNS)["违法事实"]
    assert ws["J2"].alignment.wrap_text and ws["S2"].alignment.wrap_text  # long text and hashes wrap
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    assert [r[0] for r in rows] == [1, 2, 3, 4]
    assert rows[0][1] == "上海星悦医疗美容诊所有限公司"
    assert rows[0][8].startswith("evidence/") and rows[0][8].endswith(".png")
    assert "无效退款" in rows[0][9]
    hostile = next(c for r in ws.iter_rows(min_row=2) for c in r if str(c.value).startswith("=HYPERLINK"))
    assert hostile.data_type == "s"  # the page's "formula" stays text
    notes = wb["导出说明"]
    assert any("cli:" in str(c.value) for r in notes.iter_rows() for c in r)


def test_csv_starts_with_the_bom_and_reads_back_as_utf8(db, settings, case, tmp_path):
    out = tmp_path / "list.csv"
    result = export_evidence(db, settings, "csv", out, ExportFilters(status="all"), Exporter("cli:test"))
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with open(out, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == list(HEADERS) and len(rows) == 5 == result.items + 1
    assert rows[1][1] == "上海星悦医疗美容诊所有限公司"
    assert rows[2][10] == "非法执业、审查证明已过有效期"
    assert rows[3][5] == '\'=HYPERLINK("http://x")培训'  # guarded against CSV formula injection
    assert len(rows[1][18].splitlines()) == 3  # one hash per line inside one quoted cell


def test_every_export_is_an_audit_event_with_who_filters_and_hash(db, settings, case, tmp_path):
    out = tmp_path / "list.xlsx"
    filters = ExportFilters.from_options(status="confirmed", source="本地论坛", since="2026-11-01")
    result = export_evidence(db, settings, "xlsx", out, filters, exporter_named(db, "张执法"), ip="10.0.0.8")
    with db.session() as s:
        event = s.get(AuditEvent, result.audit_id)
    assert event.action == "export" and event.username == "张执法" and event.user_id is not None
    assert event.ip == "10.0.0.8"
    assert event.target_id == event.detail["sha256"] == sha256_file(out)[0] == result.sha256
    assert event.detail["format"] == "xlsx" and event.detail["items"] == 2
    assert event.detail["filters"] == {
        "status": "confirmed",
        "label": None,
        "source": "本地论坛",
        "since": "2026-11-01T00:00:00+08:00",
        "until": None,
        "institution": None,
    }


def test_enforcement_may_export_a_reviewer_may_not(db, settings, case, tmp_path, cli):
    assert exporter_named(db, "张执法").role == "enforcement"
    with pytest.raises(ExportForbidden, match="only enforcement and admin"):
        exporter_named(db, "李审核")
    out = tmp_path / "x.zip"
    code, _, stderr = cli("export", "--format", "zip", "--output", str(out), "--user", "李审核")
    assert code == 1 and "has role 'reviewer'" in stderr
    assert not out.exists()
    with db.session() as s:
        assert s.scalars(select(AuditEvent).where(AuditEvent.action == "export")).all() == []
    code, _, _ = cli("export", "--format", "zip", "--output", str(out), "--user", "张执法")
    assert code == 0 and out.exists()


def test_a_failed_export_leaves_no_file(db, settings, case, tmp_path):
    bad = tmp_path / "missing-dir" / "x.xlsx"
    with pytest.raises(Exception, match="does not exist"):
        export_evidence(db, settings, "xlsx", bad, ExportFilters(), Exporter("cli:test"))
    assert list(tmp_path.iterdir()) == [settings.home]


def test_control_characters_from_pages_do_not_break_the_files(tmp_path):
    with XlsxWriter(tmp_path / "x.xlsx") as xlsx:
        xlsx.add_sheet("s", [("a", 10)])
        xlsx.append(["医美\x00\x07\x1b广告" + "长" * 40_000])
    value = load_workbook(tmp_path / "x.xlsx")["s"]["A2"].value
    assert value.startswith("医美广告") and len(value) == 32_767
    with CsvWriter(tmp_path / "x.csv", ["a"]) as out:
        out.append(["@SUM(1)", "-2", "正常"])
    text = (tmp_path / "x.csv").read_text(encoding="utf-8-sig")
    assert list(csv.reader(io.StringIO(text)))[1] == ["'@SUM(1)", "'-2", "正常"]

"""Approval-record import: CSV and XLSX, all or nothing, every bad row named, re-import updates by 文号."""

import csv
import datetime as dt
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from adwatch.models import ApprovalRecord
from pipelines.approvals_import import ApprovalImportError, import_approvals, parse_date
from pipelines.link_approvals import link_document
from tests.review_ui.factories import make_document, utc

HEADER = ["文号", "机构名称", "地址", "诊疗科目", "发布媒介", "有效期起", "有效期止", "审查内容"]
GOOD = [
    [
        "（京）医广【2025】第11-01-0714号",
        "北京美丽人生医疗美容诊所",
        "北京市朝阳区建国路88号",
        "美容外科",
        "网络",
        "2025-06-01",
        "2026-05-31",
        "北京美丽人生医疗美容诊所。地址：北京市朝阳区建国路88号。",
    ],
    [
        "沪医广【2025】第04-10-G124号",
        "上海华美医疗美容医院",
        "上海市静安区南京西路1号",
        "美容外科；美容皮肤科",
        "网络、户外",
        "2025/3/1",
        "2026年2月28日",
        "上海华美医疗美容医院，电话021-55551234。",
    ],
]


def write_csv(path: Path, rows, header=HEADER, encoding="utf-8-sig") -> Path:
    with open(path, "w", newline="", encoding=encoding) as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def count(s) -> int:
    return s.scalar(select(func.count()).select_from(ApprovalRecord))


def test_a_good_csv_imports_every_record(db, tmp_path):
    with db.session() as s:
        report = import_approvals(s, write_csv(tmp_path / "a.csv", GOOD))
    assert (report.created, report.updated) == (2, 0)
    with db.session() as s:
        sh = s.scalar(select(ApprovalRecord).where(ApprovalRecord.institution == "上海华美医疗美容医院"))
        assert sh.number_key == "(沪)医广[2025]第04-10-G124号" and sh.region == "沪"
        assert (sh.valid_from, sh.valid_to) == (dt.date(2025, 3, 1), dt.date(2026, 2, 28))
        assert sh.media == "网络、户外" and sh.content.startswith("上海华美")


def test_a_gbk_csv_from_excel_imports(db, tmp_path):
    with db.session() as s:
        assert import_approvals(s, write_csv(tmp_path / "gbk.csv", GOOD, encoding="gbk")).created == 2
        assert count(s) == 2


def test_an_xlsx_with_real_date_cells_imports(db, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(HEADER)
    row = list(GOOD[0])
    row[5], row[6] = dt.datetime(2025, 6, 1), dt.datetime(2026, 5, 31)
    ws.append(row)
    ws.append([None] * 8)  # blank lines are skipped
    ws.append(GOOD[1])
    wb.save(tmp_path / "a.xlsx")
    with db.session() as s:
        assert import_approvals(s, tmp_path / "a.xlsx").created == 2
        record = s.scalar(select(ApprovalRecord).where(ApprovalRecord.region == "京"))
        assert record.valid_to == dt.date(2026, 5, 31)


def test_a_file_with_bad_rows_imports_nothing_and_names_every_bad_row(db, tmp_path):
    with db.session() as s:
        import_approvals(s, write_csv(tmp_path / "first.csv", GOOD[:1]))  # already in the registry
    bad = [
        GOOD[1],  # row 2: fine
        ["京ICP备12345678号", *GOOD[0][1:]],  # row 3: not a 文号
        [
            GOOD[0][0].replace("0714", "0715"),
            "某诊所",
            "",
            "",
            "",
            "2025-13-01",
            "2026-01-01",
            "",
        ],  # row 4: F
        [
            GOOD[0][0].replace("0714", "0716"),
            "某诊所",
            "",
            "",
            "",
            "2026-01-01",
            "2025-01-01",
            "",
        ],  # row 5: G
        [GOOD[0][0].replace("0714", "0717"), "", "", "", "", "2025-01-01", "2026-01-01", ""],  # row 6: B
        [
            "沪医广[2025]第04-10-G124号",
            "上海华美医疗美容医院",
            "",
            "",
            "",
            "2025-01-01",
            "2026-01-01",
            "",
        ],  # row 7 dup
    ]
    with db.session() as s, pytest.raises(ApprovalImportError) as info:
        import_approvals(s, write_csv(tmp_path / "bad.csv", bad))
    errors = {(e.row, e.column) for e in info.value.errors}
    assert errors == {(3, "A"), (4, "F"), (5, "G"), (6, "B"), (7, "A")}
    messages = [str(e) for e in info.value.errors]
    assert any("第4行 F列（有效期起）" in m and "2025-13-01" in m for m in messages)
    assert any("第7行" in m and "第2行" in m for m in messages)  # names the row it duplicates
    assert "rows 3, 4, 5, 6, 7" in str(info.value)
    with db.session() as s:
        assert count(s) == 1  # nothing from the bad file, the earlier record untouched
        assert s.scalar(select(ApprovalRecord.institution)) == "北京美丽人生医疗美容诊所"


def test_a_missing_column_is_named(db, tmp_path):
    header = [h for h in HEADER if h != "有效期止"]
    with db.session() as s, pytest.raises(ApprovalImportError) as info:
        import_approvals(s, write_csv(tmp_path / "h.csv", [r[:6] + r[7:] for r in GOOD], header=header))
    assert [e.header for e in info.value.errors] == ["有效期止"] and info.value.errors[0].row == 1


def test_reimport_updates_by_number_whatever_its_spelling(db, tmp_path):
    with db.session() as s:
        import_approvals(s, write_csv(tmp_path / "a.csv", GOOD))
    renewed = [["(京)医广[2025]第11－01－0714号", *GOOD[0][1:6], "2027-05-31", GOOD[0][7]], GOOD[1]]
    with db.session() as s:
        report = import_approvals(s, write_csv(tmp_path / "b.csv", renewed))
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    with db.session() as s:
        assert count(s) == 2
        assert s.scalar(select(ApprovalRecord.valid_to).where(ApprovalRecord.region == "京")) == dt.date(
            2027, 5, 31
        )


def test_an_import_relinks_documents_citing_the_numbers(db, tmp_path):
    with db.session() as s:
        doc = make_document(
            s,
            text=GOOD[0][7] + GOOD[0][0],
            fetched_at=utc(2026, 1, 5),
            institutions=["北京美丽人生医疗美容诊所"],
        )
        assert link_document(s, doc, is_medical_ad=True) == ["approval_unknown"]
    with db.session() as s:
        assert import_approvals(s, write_csv(tmp_path / "a.csv", GOOD)).relinked == 1
    with db.session() as s:
        from pipelines.link_approvals import assess

        assert [a.kinds for a in assess(s, s.get(type(doc), doc.id))] == [[]]


@pytest.mark.parametrize(
    ("cell", "day"),
    [
        ("2025-01-31", dt.date(2025, 1, 31)),
        ("2025/1/31", dt.date(2025, 1, 31)),
        ("2025.01.31", dt.date(2025, 1, 31)),
        ("2025年1月31日", dt.date(2025, 1, 31)),
        ("20250131", dt.date(2025, 1, 31)),
        ("２０２５－０１－３１", dt.date(2025, 1, 31)),
        (dt.datetime(2025, 1, 31, 0, 0), dt.date(2025, 1, 31)),
    ],
)
def test_dates_in_the_forms_registries_use(cell, day):
    assert parse_date(cell) == day


def test_unsupported_files_are_refused_with_a_reason(db, tmp_path):
    (tmp_path / "a.txt").write_text("x")
    with db.session() as s, pytest.raises(Exception, match="unsupported file type"):
        import_approvals(s, tmp_path / "a.txt")
    (tmp_path / "broken.xlsx").write_bytes(b"not a zip")
    with db.session() as s, pytest.raises(Exception, match="not a readable XLSX"):
        import_approvals(s, tmp_path / "broken.xlsx")

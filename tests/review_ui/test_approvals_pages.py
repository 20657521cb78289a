"""The approval-record pages: browse and search; import by upload (admin), all or nothing."""

import io

from sqlalchemy import func, select

from adwatch.models import ApprovalRecord, AuditEvent
from tests.review_ui.factories import flag, make_record


def upload(client, name: str, content: bytes):
    return client.post(
        "/approvals/import",
        data={"csrf_token": client.csrf},
        files={"file": (name, io.BytesIO(content), "text/csv")},
    )


GOOD = (
    "文号,机构名称,地址,诊疗科目,发布媒介,有效期起,有效期止,审查内容\n"
    "沪医广【2025】第04-10-G124号,上海华美医疗美容医院,上海市静安区南京西路1号,美容外科,网络,2025-03-01,2026-02-28,\n"
)
BAD = GOOD + "不是文号,某机构,,,,2025-01-01,2026-01-01,\n沪医广【2025】第04-10-G125号,,,,,2025-01-01,昨天,\n"


def test_records_can_be_searched_by_any_spelling_of_the_number_or_by_institution(browser_for, db):
    with db.session() as s:
        make_record(s)
        make_record(
            s,
            "沪医广【2020】第04-10-G124号",
            institution="上海华美医疗美容医院",
            address="上海市",
            valid_to=__import__("datetime").date(2021, 1, 1),
        )
    client = browser_for("enforcement")
    assert "北京美丽人生" in client.get("/approvals", params={"q": "(京)医广[2025]第11－01－0714号"}).text
    html = client.get("/approvals", params={"q": "华美"}).text
    assert "上海华美" in html and "北京美丽人生" not in html
    assert "上海华美" not in client.get("/approvals", params={"validity": "valid"}).text
    assert "上海华美" in client.get("/approvals", params={"validity": "expired"}).text
    assert 'action="/approvals/import"' not in html  # only admin imports


def test_a_record_page_lists_documents_with_problems(browser_for, db):
    with db.session() as s:
        record = make_record(s)
        item = flag(s, institutions=["京城佳丽美容工作室"])  # cites the number, names another institution
        record_id, item_id = record.id, item.id
    html = browser_for("admin").get(f"/approvals/{record_id}").text
    assert "与审查证明的机构或内容不符" in html and f"/items/{item_id}" in html


def test_admin_imports_a_good_file(browser_for, db):
    response = upload(browser_for("admin"), "records.csv", GOOD.encode("utf-8-sig"))
    assert response.status_code == 200 and "新增 1 条" in response.text
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(ApprovalRecord)) == 1
        assert (
            s.scalar(select(AuditEvent.detail).where(AuditEvent.action == "approvals.import"))["created"] == 1
        )


def test_a_bad_upload_imports_nothing_and_lists_every_bad_row(browser_for, db):
    response = upload(browser_for("admin"), "records.csv", BAD.encode("gbk"))
    assert response.status_code == 422
    assert "未导入任何记录" in response.text
    assert "第3行 A列（文号）" in response.text
    assert "第4行 B列（机构名称）：不能为空" in response.text and "第4行 G列（有效期止）" in response.text
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(ApprovalRecord)) == 0
        assert (
            s.scalar(select(AuditEvent.action).where(AuditEvent.action.like("approvals.%")))
            == "approvals.import_failed"
        )


def test_an_upload_of_the_wrong_kind_or_size_is_refused(browser_for, settings):
    client = browser_for("admin")
    response = upload(client, "records.pdf", b"%PDF")
    assert response.status_code == 422 and "不支持的文件类型" in response.text
    huge = b"x" * (settings.max_upload_bytes + 128 * 1024)
    assert upload(client, "records.csv", huge).status_code == 413

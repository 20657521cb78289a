"""The evidence list's rows: what each column says, and which items the filters select."""

import pytest

from adwatch.errors import AdWatchError
from adwatch.exports.filters import ExportFilters
from adwatch.exports.rows import HEADERS, RowReader
from adwatch.labels import LEGAL_BASIS_BY_KEY


def rows(db, settings, **options):
    with db.session() as s:
        return list(RowReader(s, ExportFilters.from_options(**options), settings.evidence_dir, chunk=2))


def as_dict(row, screenshot="shot.png"):
    return dict(zip(HEADERS, row.cells(screenshot), strict=True))


def test_the_columns_are_the_ones_enforcement_teams_use():
    assert HEADERS[:19] == (
        "序号",
        "当事人/机构名称",
        "统一社会信用代码",
        "地址",
        "发布平台/账号",
        "页面标题",
        "URL",
        "发现时间",
        "截图文件",
        "违法事实",
        "违法类型",
        "法律依据",
        "处罚依据",
        "审查证明文号及核验结果",
        "处理建议",
        "移送部门",
        "审核人",
        "审核时间",
        "SHA-256",
    )


def test_a_confirmed_item_row_carries_the_case(db, settings, case):
    a = as_dict(next(r for r in rows(db, settings) if r.item_id == case.a))
    assert a["当事人/机构名称"] == "上海星悦医疗美容诊所有限公司"
    assert a["统一社会信用代码"] == "91310000MA1K000001"
    assert a["地址"] == "上海市静安区南京西路1号"
    assert a["发布平台/账号"] == "xingyue.example.cn / 星悦医美官方号"
    assert a["URL"] == "http://xingyue.example.cn/ad/1"
    assert a["发现时间"] == "2026-11-20 10:30:15"  # fetched 02:30:15 UTC, shown in China time
    assert a["违法事实"].startswith("【虚假或保证性承诺】页面含“一次见效”、“无效退款”、“永久”")
    assert "【未标注医疗广告审查证明文号】" in a["违法事实"] and "审核意见：页面承诺无效退款" in a["违法事实"]
    assert a["违法类型"] == "虚假或保证性承诺、未标注医疗广告审查证明文号"
    assert a["法律依据"] == "；".join(
        LEGAL_BASIS_BY_KEY[k].articles for k in ("efficacy_guarantee", "no_review")
    )
    assert a["处罚依据"] == "《广告法》第五十八条"
    assert a["审查证明文号及核验结果"] == "页面未标注审查证明文号"
    assert a["移送部门"] == "市场监督管理部门"
    assert a["审核人"] == "李审核" and a["审核时间"] == "2026-11-21 09:00:00"
    assert a["审核状态"] == "已确认"
    sha_lines = a["SHA-256"].splitlines()
    assert [line.split()[0] for line in sha_lines] == ["截图", "网页源码", "WARC"]
    assert all(len(line.split()[1]) == 64 for line in sha_lines)


def test_an_expired_approval_and_unlicensed_practice_go_to_health_supervision(db, settings, case):
    b = as_dict(next(r for r in rows(db, settings) if r.item_id == case.b))
    assert b["审查证明文号及核验结果"] == "（沪）医广【2020】第04-10-G124号：审查证明已过有效期"
    assert "有效期至2021-04-09" in b["违法事实"]
    assert b["移送部门"] == "卫生健康监督机构、市场监督管理部门"
    assert b["审核人"] == "李审核"  # the latest of the two decisions


def test_a_pending_item_shows_the_classifier_labels_and_no_decision(db, settings, case):
    (c,) = rows(db, settings, status="pending")
    c = as_dict(c)
    assert c["违法类型"] == "违规医美培训/致富宣传"
    assert "“零基础”" in c["违法事实"]
    assert c["处理建议"] == "待审核确认，暂不移送" and c["移送部门"] == ""
    assert c["审核人"] == "" and c["法律依据"] == "" and c["审核状态"] == "待审核"


def test_filters_select_items(db, settings, case):
    def ids(**options):
        return [r.item_id for r in rows(db, settings, **options)]

    assert ids() == [case.a, case.b]  # default: confirmed
    assert ids(status="all") == [case.a, case.b, case.c, case.d]
    assert ids(status="rejected") == [case.d]
    assert ids(status="all", label="unlicensed_practice") == [case.b]
    assert ids(status="all", label="非法执业") == [case.b]
    assert ids(status="all", label="approval_missing") == [case.a]
    assert ids(status="all", source="微博搜索") == [case.c, case.d]
    assert ids(since="2026-11-15") == [case.a]
    assert ids(until="2026-11-10") == [case.b]  # the whole day, China time
    assert ids(institution="星悦") == [case.a]
    assert [r.seq for r in rows(db, settings, status="all")] == [1, 2, 3, 4]


def test_unknown_filter_values_are_named(db, settings, case):
    with pytest.raises(AdWatchError, match="unknown source '贴吧'"):
        rows(db, settings, source="贴吧")
    with pytest.raises(AdWatchError, match="unknown label 'spam'"):
        rows(db, settings, label="spam")
    with pytest.raises(AdWatchError, match="cannot read the date"):
        rows(db, settings, since="last week")

"""Statistics: the numbers, reviewer agreement, the charts and the 监督检查工作信息汇总表."""

import datetime as dt
import json
import xml.etree.ElementTree as ET

from openpyxl import load_workbook
from sqlalchemy import select

from adwatch.exports.charts import bar_chart, stacked_columns
from adwatch.exports.stats import compute_stats, stats_context, week_of
from adwatch.models import AuditEvent, Decision, User
from tests.pipelines.evidence.builders import add_capture, add_document, add_item, chinese_page

SVG = "{http://www.w3.org/2000/svg}"


def numbers(db):
    with db.session() as s:
        return compute_stats(s)


def by(rows, key):
    return {r[key]: r for r in rows}


def test_items_by_status_label_finding_source_and_week(db, case):
    st = numbers(db)
    assert st["totals"] == {"items": 4, "confirmed": 2, "pending": 1, "escalated": 0, "rejected": 1}
    labels = by(st["by_label"], "label")
    assert labels["false_promise"] == {
        "label": "false_promise",
        "name": "虚假或保证性承诺",
        "total": 1,
        "confirmed": 1,
        "pending": 0,
        "rejected": 0,
    }
    assert (labels["training_pitch"]["pending"], labels["disguised_ad"]["rejected"]) == (1, 1)
    assert labels["medical_ad"]["total"] == 4 and labels["appearance_anxiety"]["total"] == 0
    findings = by(st["findings"], "kind")
    assert findings["approval_missing"]["confirmed"] == 1 and findings["approval_expired"]["confirmed"] == 1
    assert findings["approval_unknown"]["total"] == 0
    sources = by(st["by_source"], "source")
    assert sources["本地论坛"] == {
        "source": "本地论坛",
        "pages": 2,
        "total": 2,
        "confirmed": 2,
        "pending": 0,
        "rejected": 0,
    }
    assert (sources["微博搜索"]["pending"], sources["微博搜索"]["rejected"]) == (1, 1)
    weeks = by(st["by_week"], "week")
    assert weeks["2026-W46"]["confirmed"] == 1 and weeks["2026-W47"]["total"] == 3


def test_weeks_are_counted_in_china_time():
    sunday_night_utc = dt.datetime(2026, 11, 22, 17, 0, tzinfo=dt.UTC)  # Monday 01:00 in Beijing
    assert week_of(sunday_night_utc) == "2026-W48"


def test_reviewer_throughput_and_agreement(db, case):
    with db.session() as s:
        users = {u.name: u.id for u in s.scalars(select(User))}
        capture = add_capture(s, "http://e.example.cn/5", chinese_page("第五条"))
        item = add_item(
            s, add_document(s, capture, "第五条"), ["medical_ad", "false_promise"], status="confirmed"
        )
        for name, action, minute in (("王复核", "confirm", 0), ("李审核", "reject", 1)):
            s.add(
                Decision(
                    item_id=item.id,
                    user_id=users[name],
                    action=action,
                    labels=["false_promise"],
                    created_at=dt.datetime(2026, 11, 22, 2, minute, tzinfo=dt.UTC),
                )
            )
    st = numbers(db)
    reviewers = by(st["reviewers"], "name")
    assert (
        reviewers["李审核"]["decisions"],
        reviewers["李审核"]["confirm"],
        reviewers["李审核"]["reject"],
    ) == (3, 2, 1)
    assert reviewers["王复核"]["decisions"] == 3 and reviewers["王复核"]["items"] == 3
    assert reviewers["李审核"]["active_days"] == 3
    # item B: both confirmed the same labels; item E: one confirmed, one rejected
    assert st["agreement"] == {
        "items": 2,
        "action_agree": 1,
        "action_rate": 0.5,
        "label_agree": 1,
        "label_rate": 0.5,
        "kappa": 0.0,
    }


def test_charts_are_svg_with_every_label_escaped(db, case):
    with db.session() as s:
        context = stats_context(s)
    assert set(context) == {"stats", "charts", "summary"}
    charts = context["charts"]
    assert set(charts) == {"by_label", "findings", "by_source", "by_status", "by_week", "reviewers"}
    for svg in charts.values():
        ET.fromstring(svg)  # well-formed
    by_source = ET.fromstring(charts["by_source"])
    assert "本地论坛" in [t.text for t in by_source.iter(f"{SVG}text")]
    assert len(list(ET.fromstring(charts["by_week"]).iter(f"{SVG}rect"))) >= 4  # legend and columns

    hostile = bar_chart("来源 <b>", [("<script>alert(1)</script>", 3), ("a&b", 1)])
    tree = ET.fromstring(hostile)
    assert not list(tree.iter(f"{SVG}script")) and "<script>" not in hostile
    assert "<script>alert(1)</script>" in [t.text for t in tree.iter(f"{SVG}text")]
    ET.fromstring(stacked_columns("空", [], [("已确认", [])]))


def test_summary_table_exports_to_xlsx_and_is_audited(db, case, tmp_path, cli):
    out = tmp_path / "汇总表.xlsx"
    code, _, stderr = cli(
        "stats", "--json", "--summary-xlsx", str(out), "--user", "张执法", "--unit", "某市市场监管局"
    )
    assert code == 0, stderr
    ws = load_workbook(out)["汇总表"]
    cells = {(c.row, c.column): c.value for row in ws.iter_rows() for c in row if c.value is not None}
    assert cells[(1, 1)] == "监督检查工作信息汇总表" and cells[(2, 1)] == "填报单位：某市市场监管局"
    rows = [[ws.cell(r, c).value for c in range(1, 8)] for r in range(1, ws.max_row + 1)]
    assert [1, "变相发布医疗广告", 1, 0, 0, 1, "市场监督管理部门"] in rows
    assert [5, "非法执业", 1, 1, 0, 0, "卫生健康监督机构"] in rows
    assert [7, "未标注医疗广告审查证明文号", 1, 1, 0, 0, "市场监督管理部门"] in rows
    assert [None, "合计（线索数）", 4, 2, 1, 1, None] in rows
    assert ["本地论坛", 2, 2, 2, 0, 0] in [r[1:] for r in rows]
    with db.session() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "export"))
    assert (
        event.username == "张执法" and event.detail["format"] == "summary-xlsx" and event.detail["items"] == 4
    )

    code, _, stderr = cli("stats", "--summary-xlsx", str(tmp_path / "no.xlsx"), "--user", "李审核")
    assert code == 1 and "reviewer" in stderr and not (tmp_path / "no.xlsx").exists()


def test_stats_command_prints_json_and_writes_charts(db, case, tmp_path, cli):
    code, stdout, _ = cli("stats", "--json", "--source", "微博搜索", "--charts", str(tmp_path / "charts"))
    assert code == 0
    data = json.loads(stdout)
    assert data["totals"]["items"] == 2
    assert sorted(p.name for p in (tmp_path / "charts").iterdir()) == [
        "by_label.svg",
        "by_source.svg",
        "by_status.svg",
        "by_week.svg",
        "findings.svg",
        "reviewers.svg",
    ]
    code, stdout, _ = cli("stats")
    assert code == 0 and "非法执业" in stdout and "agreement: 1 items" in stdout

"""A small case file for export tests: four review items in every state, with their evidence stored.

- A: confirmed by reviewer 李审核 — false promise on a clinic page, no approval number cited; raw, WARC, screenshot.
- B: confirmed — unlicensed practice in a salon, citing an expired approval number; two reviewers agreed.
- C: pending — a training pitch on a second source, title that starts like a spreadsheet formula.
- D: rejected — a news item.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from click.testing import CliRunner

from adwatch import settings as settings_module
from adwatch.cli import main
from adwatch.models import ApprovalFinding, ApprovalRecord, Decision, Source, User
from pipelines.evidence import EvidenceRecorder
from pipelines.evidence.screenshots import store_browser_screenshot
from tests.pipelines.evidence.builders import (
    add_capture,
    add_document,
    add_item,
    chinese_page,
    evidence_spans,
    png,
)

CHINA = dt.timezone(dt.timedelta(hours=8))
TEXT_A = "星悦医疗美容诊所：玻尿酸填充一次见效，无效退款，永久保持！加V：meiyan888 预约。"
TEXT_B = "丽人美容工作室上门注射水光针、瘦脸针，非医疗机构也能做，价格实惠。"
TEXT_C = "零基础学注射美容，包教包会，7天拿证，月入三万！招代理加盟。"


@dataclass
class Case:
    a: int
    b: int
    c: int
    d: int
    reviewer: str = "李审核"
    second_reviewer: str = "王复核"
    enforcer: str = "张执法"


@pytest.fixture
def case(db, settings) -> Case:
    recorder = EvidenceRecorder(settings)
    with db.session() as s:
        forum = Source(name="本地论坛", kind="list")
        weibo = Source(name="微博搜索", kind="search")
        s.add_all([forum, weibo])
        s.flush()
        users = {
            name: User(name=name, role=role, password_hash="x")
            for name, role in (("李审核", "reviewer"), ("王复核", "reviewer"), ("张执法", "enforcement"))
        }
        s.add_all(users.values())
        s.flush()

        cap_a = add_capture(
            s, "http://xingyue.example.cn/ad/1", chinese_page("星悦医美·玻尿酸特惠", TEXT_A), source=forum
        )
        doc_a = add_document(
            s,
            cap_a,
            "星悦医美·玻尿酸特惠",
            TEXT_A,
            platform="xingyue.example.cn",
            author="星悦医美官方号",
            institutions=["上海星悦医疗美容诊所有限公司"],
            credit_codes=["91310000MA1K000001"],
            addresses=["上海市静安区南京西路1号"],
        )
        item_a = add_item(
            s,
            doc_a,
            ["medical_ad", "false_promise"],
            status="confirmed",
            evidence=evidence_spans(TEXT_A, "false_promise", "一次见效", "无效退款", "永久"),
        )
        s.add(ApprovalFinding(document_id=doc_a.id, kind="approval_missing"))
        s.add(
            Decision(
                item_id=item_a.id,
                user_id=users["李审核"].id,
                action="confirm",
                labels=["medical_ad", "false_promise"],
                legal_basis=["efficacy_guarantee", "no_review"],
                note="页面承诺无效退款",
                created_at=dt.datetime(2026, 11, 21, 9, 0, tzinfo=CHINA),
            )
        )
        recorder(s, cap_a, doc_a, flagged=True, screenshot=png(1280, 900))

        cap_b = add_capture(
            s,
            "http://liren.example.cn/post/2",
            chinese_page("丽人美容上门水光针", TEXT_B),
            source=forum,
            fetched_at=dt.datetime(2026, 11, 10, 1, 0, tzinfo=dt.UTC),
        )
        doc_b = add_document(
            s,
            cap_b,
            "丽人美容上门水光针",
            TEXT_B,
            platform="liren.example.cn",
            institutions=["丽人美容工作室"],
            approval_numbers=["（沪）医广【2020】第04-10-G124号"],
        )
        item_b = add_item(
            s,
            doc_b,
            ["medical_ad", "unlicensed_practice"],
            status="confirmed",
            evidence=evidence_spans(TEXT_B, "unlicensed_practice", "上门注射", "非医疗机构"),
        )
        record = ApprovalRecord(
            number="（沪）医广【2020】第04-10-G124号",
            number_key="(沪)医广[2020]第04-10-G124号",
            institution="上海某医院",
            valid_from=dt.date(2020, 4, 10),
            valid_to=dt.date(2021, 4, 9),
        )
        s.add(record)
        s.flush()
        s.add(
            ApprovalFinding(
                document_id=doc_b.id,
                kind="approval_expired",
                number="（沪）医广【2020】第04-10-G124号",
                record_id=record.id,
            )
        )
        for name, minute in (("王复核", 0), ("李审核", 5)):
            s.add(
                Decision(
                    item_id=item_b.id,
                    user_id=users[name].id,
                    action="confirm",
                    labels=["medical_ad", "unlicensed_practice"],
                    legal_basis=["non_medical"],
                    created_at=dt.datetime(2026, 11, 12, 10, minute, tzinfo=CHINA),
                )
            )
        recorder(s, cap_b, doc_b, flagged=True)
        store_browser_screenshot(s, cap_b, png(1280, 700, (30, 30, 200)), settings=settings)

        cap_c = add_capture(
            s,
            "http://weibo.example.cn/status/3",
            chinese_page('=HYPERLINK("http://x")培训', TEXT_C),
            source=weibo,
            fetched_at=dt.datetime(2026, 11, 18, 4, 0, tzinfo=dt.UTC),
        )
        doc_c = add_document(
            s, cap_c, '=HYPERLINK("http://x")培训', TEXT_C, platform="微博", author="医美导师小王"
        )
        item_c = add_item(
            s,
            doc_c,
            ["medical_ad", "training_pitch"],
            evidence=evidence_spans(TEXT_C, "training_pitch", "零基础", "包教包会"),
        )
        recorder(s, cap_c, doc_c, flagged=True)

        cap_d = add_capture(
            s, "http://news.example.cn/4", chinese_page("医美乱象调查", "记者调查医美乱象。"), source=weibo
        )
        doc_d = add_document(s, cap_d, "医美乱象调查", "记者调查医美乱象。")
        item_d = add_item(s, doc_d, ["medical_ad", "disguised_ad"], status="rejected")
        s.add(
            Decision(
                item_id=item_d.id,
                user_id=users["王复核"].id,
                action="reject",
                labels=[],
                legal_basis=[],
                created_at=dt.datetime(2026, 11, 21, 11, 0, tzinfo=CHINA),
            )
        )
        recorder(s, cap_d, doc_d, flagged=True)
        return Case(item_a.id, item_b.id, item_c.id, item_d.id)


@pytest.fixture
def cli(settings, monkeypatch):
    """Run `adwatch …` in-process against the test's settings; returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("ADWATCH_HOME", str(settings.home))
    monkeypatch.setenv("ADWATCH_DATABASE_URL", settings.database_url)
    settings_module.get_settings.cache_clear()

    def run(*args: str) -> tuple[int, str, str]:
        result = CliRunner().invoke(main, list(args), catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    yield run
    settings_module.get_settings.cache_clear()

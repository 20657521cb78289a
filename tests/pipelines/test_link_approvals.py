"""Approval linking: each finding, the China-time validity rule, the one-province rule, and the
text-similarity threshold between harmless edits and added claims (DOMAIN.md)."""

import datetime as dt

import pytest
from sqlalchemy import select

from adwatch.models import ApprovalFinding, ReviewItem
from pipelines.link_approvals import (
    NOVELTY_THRESHOLD,
    assess,
    link_document,
    novelty,
    relink_all,
    same_institution,
)
from tests.review_ui.factories import flag, make_document, make_record, utc

NUMBER = "（京）医广【2025】第11-01-0714号"
APPROVED = (
    "北京美丽人生医疗美容诊所。地址：北京市朝阳区建国路88号。诊疗科目：美容外科、美容皮肤科。"
    "床位：20张。营业时间：9:00-18:00。咨询电话：010-85551234。"
)
INSTITUTION = "北京美丽人生医疗美容诊所"


def ad(text: str = APPROVED, number: str = NUMBER) -> str:
    return f"{text}{number}"


def link(
    s,
    text,
    *,
    medical=True,
    fetched_at=None,
    institutions=(INSTITUTION,),
    addresses=("北京市朝阳区建国路88号",),
):
    doc = make_document(
        s,
        text=text,
        fetched_at=fetched_at or utc(2026, 1, 10, 2, 0),
        institutions=list(institutions),
        addresses=list(addresses),
    )
    return doc, link_document(s, doc, is_medical_ad=medical)


def test_a_medical_ad_citing_no_number_is_missing_one(db):
    with db.session() as s:
        assert link(s, "玻尿酸填充限时特惠，北京美丽人生医疗美容诊所")[1] == ["approval_missing"]
        assert link(s, "玻尿酸是什么？一篇科普", medical=False)[1] == []


def test_a_page_that_is_no_ad_gets_no_finding_whatever_it_cites(db):
    # A regulator's notice naming the numbers of the clinics it punished is not an advertisement.
    with db.session() as s:
        make_record(s, NUMBER, content=APPROVED, institution="别的医疗美容诊所")
        assert link(s, f"关于查处违法医疗广告的通报：{NUMBER} 已撤销。", medical=False)[1] == []


def test_a_number_not_in_the_records_is_unknown(db):
    with db.session() as s:
        doc, kinds = link(s, ad())
        assert kinds == ["approval_unknown"]
        [finding] = s.scalars(select(ApprovalFinding).where(ApprovalFinding.document_id == doc.id))
        assert finding.number == NUMBER and finding.record_id is None


def test_the_approved_ad_as_approved_has_no_finding(db):
    with db.session() as s:
        make_record(s, NUMBER, content=APPROVED)
        doc, kinds = link(s, ad())
        assert kinds == []
        [a] = assess(s, doc)
        assert a.ok and a.record.institution == INSTITUTION


@pytest.mark.parametrize(
    "cited",
    [
        "(京)医广[2025]第11-01-0714号",
        "（京） 医广 ［2025］ 第 11－01－0714 号",
        "(京)医广〔2025〕第11—01—0714",
    ],
)
def test_bracket_spacing_and_full_width_variants_find_the_record(db, cited):
    with db.session() as s:
        make_record(s, NUMBER, content=APPROVED)
        assert link(s, ad(number=cited))[1] == []


def test_a_number_from_another_province_never_covers_the_institution(db):
    with db.session() as s:
        make_record(
            s,
            "（沪）医广【2025】第11-01-0714号",
            institution="上海美丽人生医疗美容诊所",
            address="上海市静安区南京西路1号",
            content=APPROVED,
        )
        # Same serial, Beijing prefix: a different number, not the Shanghai record.
        assert link(s, ad())[1] == ["approval_unknown"]


def test_a_number_used_by_a_branch_in_another_province_is_a_mismatch(db):
    with db.session() as s:
        make_record(s, NUMBER, content=APPROVED)
        doc, kinds = link(
            s,
            ad(APPROVED.replace("北京", "上海")),
            institutions=["上海美丽人生医疗美容诊所"],
            addresses=["上海市静安区南京西路1号"],
        )
        assert kinds == ["approval_mismatch"]
        [a] = assess(s, doc)
        assert set(a.reasons) >= {"institution", "province"}


def test_an_ad_naming_another_institution_is_a_mismatch(db):
    with db.session() as s:
        make_record(s, NUMBER, content=APPROVED)
        doc, kinds = link(s, ad(), institutions=["京城佳丽美容工作室"])
        assert kinds == ["approval_mismatch"]
        assert assess(s, doc)[0].reasons == ["institution"]


def test_an_ad_naming_no_institution_at_all_is_a_mismatch(db):
    with db.session() as s:
        make_record(s, NUMBER, content=None)
        doc, kinds = link(s, ad("玻尿酸填充，欢迎咨询。"), institutions=[], addresses=[])
        assert kinds == ["approval_mismatch"] and assess(s, doc)[0].reasons == ["institution"]


def test_institution_names_match_with_and_without_city_or_company_suffix():
    assert same_institution("美丽人生医疗美容诊所", "北京美丽人生医疗美容诊所有限公司")
    assert same_institution("北京市美丽人生医疗美容诊所", "北京美丽人生医疗美容诊所")
    assert not same_institution("上海美丽人生医疗美容诊所", "北京美丽人生医疗美容诊所")


@pytest.mark.parametrize(
    ("fetched_at", "expired"),
    [
        (utc(2025, 5, 31, 15, 59), True),  # 2025-05-31 23:59 China time: the day before validity
        (utc(2025, 5, 31, 16, 0), False),  # 2025-06-01 00:00 China time: first valid day
        (utc(2026, 5, 31, 15, 59), False),  # 2026-05-31 23:59 China time: last valid day
        (utc(2026, 5, 31, 16, 0), True),  # 2026-06-01 00:00 China time, still 05-31 in UTC
    ],
)
def test_validity_is_judged_by_the_china_date_of_capture(db, fetched_at, expired):
    with db.session() as s:
        make_record(
            s, NUMBER, valid_from=dt.date(2025, 6, 1), valid_to=dt.date(2026, 5, 31), content=APPROVED
        )
        kinds = link(s, ad(), fetched_at=fetched_at)[1]
        assert kinds == (["approval_expired"] if expired else [])


HARMLESS = {
    "updated phone": APPROVED.replace("010-85551234", "010-65559876"),
    "removed sentence": APPROVED.replace("床位：20张。", ""),
    "removed two sentences": APPROVED.replace("床位：20张。营业时间：9:00-18:00。", ""),
    "moved to a new street": APPROVED.replace("建国路88号", "光华路6号"),
    "website added": APPROVED + "官网：https://www.meiliren.example.cn/",
    "full-width and spacing": APPROVED.replace("：", ":").replace("。", ". "),
}
ADDED_CLAIMS = {
    "guarantee": APPROVED + "保证效果，无效退款，一次见效永不反弹！",
    "technique and price": APPROVED + "韩国进口玻尿酸填充，原价6800元现价1980元。",
    "testimonial": APPROVED + "明星同款，已有上万名顾客变美，好评如潮。",
    "contact diversion": APPROVED + "私信加微信领优惠券，名额有限先到先得。",
}


@pytest.mark.parametrize("text", HARMLESS.values(), ids=HARMLESS.keys())
def test_harmless_differences_stay_well_under_the_threshold(db, text):
    share, _ = novelty(text, APPROVED)
    assert share <= NOVELTY_THRESHOLD / 2
    with db.session() as s:
        make_record(s, NUMBER, content=APPROVED)
        assert link(s, ad(text))[1] == []


@pytest.mark.parametrize("text", ADDED_CLAIMS.values(), ids=ADDED_CLAIMS.keys())
def test_added_claims_exceed_the_threshold(db, text):
    share, _ = novelty(text, APPROVED)
    assert share > NOVELTY_THRESHOLD
    with db.session() as s:
        make_record(s, NUMBER, content=APPROVED)
        doc, kinds = link(s, ad(text))
        assert kinds == ["approval_mismatch"] and assess(s, doc)[0].reasons == ["content"]


def test_linking_again_replaces_the_findings(db):
    with db.session() as s:
        doc, _ = link(s, ad())
        link_document(s, doc, is_medical_ad=True)
        link_document(s, doc, is_medical_ad=True)
        assert len(s.scalars(select(ApprovalFinding).where(ApprovalFinding.document_id == doc.id)).all()) == 1


def test_relink_all_after_an_import_clears_findings_and_reprioritises_the_queue(db):
    with db.session() as s:
        item = flag(
            s,
            text=ad(),
            institutions=[INSTITUTION],
            addresses=["北京市朝阳区建国路88号"],
            scores={"medical_ad": 0.95, "false_promise": 0.4},
            terms={},
        )
        uncited = flag(s, text="玻尿酸填充特惠", scores={"medical_ad": 0.9}, terms={})
        assert item.findings == ["approval_unknown"] and uncited.findings == ["approval_missing"]
        before = item.priority
        make_record(s, NUMBER, content=APPROVED)
        assert relink_all(s) == 1  # only documents that cite a number
        s.refresh(item)
        s.refresh(uncited)
        assert item.findings == [] and item.priority == pytest.approx(before - 0.4)
        assert uncited.findings == ["approval_missing"]
        assert s.scalars(select(ReviewItem.findings).where(ReviewItem.id == item.id)).one() == []

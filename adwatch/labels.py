"""The classifier's labels, the approval findings and the reviewers' legal-basis picker.

One table each, shared by the classifier, the review UI and the exports (DESIGN.md, DOMAIN.md).
"""

from __future__ import annotations

from dataclasses import dataclass

LABELS: dict[str, str] = {
    "medical_ad": "医疗美容广告",
    "disguised_ad": "变相发布医疗广告",
    "false_promise": "虚假或保证性承诺",
    "training_pitch": "违规医美培训/致富宣传",
    "unapproved_product": "非法药品医疗器械",
    "unlicensed_practice": "非法执业",
    "appearance_anxiety": "制造容貌焦虑",
}
LABEL_IDS: tuple[str, ...] = tuple(LABELS)
VIOLATION_LABELS: tuple[str, ...] = LABEL_IDS[1:]

FINDINGS: dict[str, str] = {
    "approval_missing": "未标注医疗广告审查证明文号",
    "approval_unknown": "文号不在审查证明记录中",
    "approval_expired": "审查证明已过有效期",
    "approval_mismatch": "与审查证明的机构或内容不符",
}


@dataclass(frozen=True)
class LegalBasis:
    key: str
    title: str  # what the reviewer picks
    articles: str  # 法律依据
    penalty: str  # 处罚依据


LEGAL_BASES: tuple[LegalBasis, ...] = (
    LegalBasis(
        "efficacy_guarantee",
        "功效、安全性断言或保证",
        "《广告法》第十六条第一款第（一）项；《医疗广告管理办法》第七条第（二）项",
        "《广告法》第五十八条",
    ),
    LegalBasis(
        "cure_rate",
        "说明治愈率或有效率",
        "《广告法》第十六条第一款第（二）项；《医疗广告管理办法》第七条第（三）项",
        "《广告法》第五十八条",
    ),
    LegalBasis(
        "comparison", "与其他医疗机构比较", "《广告法》第十六条第一款第（三）项", "《广告法》第五十八条"
    ),
    LegalBasis(
        "endorser", "利用广告代言人作推荐、证明", "《广告法》第十六条第一款第（四）项", "《广告法》第五十八条"
    ),
    LegalBasis(
        "testimonial",
        "利用患者、专业人士或机构作证明",
        "《广告法》第十六条第一款第（四）项；《医疗广告管理办法》第七条第（六）项",
        "《广告法》第五十八条",
    ),
    LegalBasis(
        "disguised",
        "以健康养生知识、新闻等形式变相发布",
        "《广告法》第十九条、第十四条第二款；《医疗广告管理办法》第十六条",
        "《广告法》第五十八条",
    ),
    LegalBasis("no_review", "未经审查发布医疗广告", "《广告法》第四十六条", "《广告法》第五十八条"),
    LegalBasis("expired", "审查证明过期后发布", "《医疗广告管理办法》第十三条", "《广告法》第五十八条"),
    LegalBasis(
        "missing_number",
        "未标明机构第一名称或审查证明文号",
        "《医疗广告管理办法》第十四条",
        "《医疗广告管理办法》第二十二条",
    ),
    LegalBasis(
        "not_as_approved",
        "未按审查内容发布",
        "《医疗广告管理办法》第十七条",
        "《医疗广告管理办法》第二十二条",
    ),
    LegalBasis("non_medical", "非医疗机构发布医疗广告", "《医疗广告管理办法》第五条", "《广告法》第五十八条"),
    LegalBasis(
        "techniques_named",
        "涉及诊疗技术、方法、药品名称",
        "《医疗广告管理办法》第七条第（一）项",
        "《广告法》第五十八条",
    ),
    LegalBasis("absolute_terms", "使用绝对化用语", "《广告法》第九条第（三）项", "《广告法》第五十七条"),
    LegalBasis(
        "good_morals",
        "妨碍社会公共秩序或违背社会良好风尚（制造容貌焦虑）",
        "《广告法》第九条第（七）项",
        "《广告法》第五十七条",
    ),
    LegalBasis(
        "training_guarantee", "教育培训广告作出保证性承诺", "《广告法》第二十四条", "《广告法》第五十八条"
    ),
    LegalBasis(
        "investment_promise",
        "招商等有投资回报预期的广告作出收益承诺",
        "《广告法》第二十五条",
        "《广告法》第五十八条",
    ),
    LegalBasis("false_ad", "虚假广告", "《广告法》第二十八条", "《广告法》第五十五条"),
)
LEGAL_BASIS_BY_KEY: dict[str, LegalBasis] = {b.key: b for b in LEGAL_BASES}

# What the decision form pre-selects for each label or finding.
DEFAULT_BASES: dict[str, tuple[str, ...]] = {
    "medical_ad": (),
    "disguised_ad": ("disguised",),
    "false_promise": ("efficacy_guarantee", "false_ad"),
    "training_pitch": ("training_guarantee", "investment_promise"),
    "unapproved_product": ("no_review", "techniques_named"),
    "unlicensed_practice": ("non_medical",),
    "appearance_anxiety": ("good_morals",),
    "approval_missing": ("no_review", "missing_number"),
    "approval_unknown": ("no_review",),
    "approval_expired": ("expired",),
    "approval_mismatch": ("not_as_approved",),
}


def label_zh(label: str) -> str:
    """The Chinese name of a label or finding (the id itself when unknown)."""
    return LABELS.get(label) or FINDINGS.get(label) or label

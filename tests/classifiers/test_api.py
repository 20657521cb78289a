"""Classifier behaviour on text it has never seen: labels, evidence, windows, evasions."""

from __future__ import annotations

import pytest

from adwatch.labels import LABEL_IDS
from classifiers.api import WINDOW, ClassifierResult, EvidenceSpan
from tests.classifiers.conftest import assert_spans_point_into_input

# Fresh sentences written for these tests (not in the corpus), with their expected labels.
UNSEEN_VIOLATIONS = [
    ("零基础也能学注射！7天速成，包拿证包就业，宝妈副业月入3万，名额有限速报名", "training_pitch"),
    (
        "微整形注射培训班招生：无需医学背景，学完即可上岗，开工作室快速回本，加盟代理火热招募",
        "training_pitch",
    ),
    ("韩国原装瘦脸针现货，代购直邮无中文标，一盒980包邮，自己在家就能打", "unapproved_product"),
    ("溶脂针、美白针批发拿货，厂家直销一手货源，支持代发", "unapproved_product"),
    (
        "本店美容院可做玻尿酸填充和水光针，姐妹们来店里打，不用去医院，价格只要医院的一半",
        "unlicensed_practice",
    ),
    ("私人工作室上门注射瘦脸针，酒店也可以约，私信预约", "unlicensed_practice"),
    ("隆鼻手术保证效果，无效全额退款，永久不反弹，成功率100%，零风险无副作用", "false_promise"),
    ("全国第一的双眼皮专家，顶级技术，术后无痕无疤，一次见效", "false_promise"),
    ("塌鼻子单眼皮没人要？颜值就是正义，变美才能嫁得好，赶紧来做鼻综合和双眼皮", "appearance_anxiety"),
]
UNSEEN_CLEAN = [
    "市场监管局通报：某医疗美容机构发布虚假广告宣称“无效退款”，被依法罚款20万元。",
    "消费提示：选择医疗美容应到有资质的正规医疗机构，警惕美容院非法注射玻尿酸。",
    "今天去做了美甲和睫毛嫁接，店里环境不错，老板娘人很好。",
    "央行宣布下调存款准备金率0.5个百分点，释放长期资金约一万亿元。",
    "高血压患者平时要注意低盐饮食，按时服药，定期复查血压。",
    "本市举行中学生篮球联赛，共有32支球队参赛。",
]


@pytest.mark.parametrize(("text", "label"), UNSEEN_VIOLATIONS)
def test_unseen_violations_are_caught(clf, text: str, label: str) -> None:
    result = clf.classify(text)
    assert label in result.labels, (result.labels, result.scores)
    if label != "training_pitch":
        assert "medical_ad" in result.labels
    assert_spans_point_into_input(result, text)
    assert any(span.label == label for span in result.evidence)


@pytest.mark.parametrize("text", UNSEEN_CLEAN)
def test_unseen_clean_text_gets_no_violation(clf, text: str) -> None:
    result = clf.classify(text)
    assert not set(result.labels) - {"medical_ad"}, (result.labels, result.scores)


@pytest.mark.parametrize(
    "evasive",
    [
        "零/基/础学微整注射，7天速成，包/拿/证，月入过w，➕V报名",
        "零-基-础学打bo尿酸，三天出师包拿正，宝妈副业月入过萬",
        "韓國原裝rou毒素代購，無中文標，一盒980元包郵",
        "ｙｉｍｅｉ培训：零基础包教包会，学完就能开工作室，月入３万",
    ],
)
def test_evasive_forms_are_caught_like_plain_ones(clf, evasive: str) -> None:
    result = clf.classify(evasive)
    assert set(result.labels) & {"training_pitch", "unapproved_product"}, (result.labels, result.scores)
    assert_spans_point_into_input(result, evasive)


def test_result_shape_matches_the_contract(clf) -> None:
    result = clf.classify("双眼皮手术无效退款，加微信预约", title="科普：双眼皮")
    assert isinstance(result, ClassifierResult)
    d = result.to_dict()
    assert set(d) == {"labels", "scores", "evidence", "model"}
    assert list(d["scores"]) == list(LABEL_IDS)
    assert all(0.0 <= v <= 1.0 for v in d["scores"].values())
    assert d["model"] == clf.version
    assert [lb for lb in LABEL_IDS if lb in d["labels"]] == d["labels"]
    for span in result.evidence:
        assert isinstance(span, EvidenceSpan)
        assert set(span.to_dict()) == {"label", "start", "end", "text", "rule", "field"}
        assert span.label in d["labels"]


def test_title_evidence_points_into_the_title(clf) -> None:
    title = "無效退kuan！玻*尿*酸限時特價"
    text = "姐妹们，这家店的玻尿酸保证效果，永久不反弹，加微信预约。"
    result = clf.classify(text, title=title)
    assert_spans_point_into_input(result, text, title)
    assert any(span.field == "title" for span in result.evidence)


def test_long_text_is_classified_in_windows_with_exact_offsets(clf) -> None:
    filler = "本市今日天气晴朗，气温适宜，市民纷纷外出踏青游玩。" * 14_000  # ~1 MB of UTF-8
    ad = "韩国原装瘦脸针代购，无中文标，一盒980元包邮，自己在家打，加微信 ly-meiyan88"
    text = filler + ad + filler[:5000]
    assert len(text.encode("utf-8")) > 1_000_000
    result = clf.classify(text)
    assert not result.truncated or len(text) > clf.max_chars
    assert "unapproved_product" in result.labels
    assert_spans_point_into_input(result, text)
    assert any(span.start >= len(filler) for span in result.evidence if span.label == "unapproved_product")
    assert len(text) > WINDOW


def test_text_beyond_the_bound_is_truncated_and_said_so(clf) -> None:
    text = "天气晴朗。" * (clf.max_chars // 5 + 10)
    result = clf.classify(text)
    assert result.truncated
    assert result.labels == []


def test_classify_many_equals_classify(clf) -> None:
    items = [(t, None) for t, _label in UNSEEN_VIOLATIONS] + [(t, "标题") for t in UNSEEN_CLEAN]
    many = clf.classify_many(items, batch=4)
    one = [clf.classify(t, title) for t, title in items]
    assert [r.to_dict() for r in many] == [r.to_dict() for r in one]


def test_empty_text_is_clean(clf) -> None:
    result = clf.classify("")
    assert result.labels == [] and result.evidence == []

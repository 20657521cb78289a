"""The normaliser undoes each evasion named in the issue and maps every span back exactly."""

from __future__ import annotations

import random

import pytest

from classifiers.normalize import normalize


@pytest.mark.parametrize(
    ("evasive", "plain"),
    [
        ("玻*尿*酸", "玻尿酸"),
        ("零/基/础", "零基础"),
        ("零-风-险", "零风险"),
        ("玻 尿 酸", "玻尿酸"),
        ("醫(yī)療", "医疗"),
        ("醫（yī）療美容", "医疗美容"),
        ("醫yī療", "医疗"),
        ("rou毒", "肉毒"),
        ("bo尿酸", "玻尿酸"),
        ("yimei", "医美"),
        ("退kuan", "退款"),
        ("V信", "微信"),
        ("薇信", "微信"),
        ("➕V", "+v"),
        ("打💉", "打注射"),
        ("💰", "钱"),
        ("ＶＸ：ＡＢＣ１２３", "vx:abc123"),
        ("玻\u200b尿\u200d酸", "玻尿酸"),
        ("隆鼻手術保證無痕", "隆鼻手术保证无痕"),
        ("✨双眼皮✨", "双眼皮"),
    ],
)
def test_each_evasion_form_becomes_plain_text(evasive: str, plain: str) -> None:
    assert normalize(evasive).text == plain


def test_ordinary_text_is_left_alone() -> None:
    text = "今天天气很好，我们去公园散步。价格是100元，电话010-12345678。"
    assert normalize(text).text == text.replace("，", ",").replace("。", "。")


def test_words_and_punctuation_between_chinese_are_not_separators() -> None:
    assert normalize("北京，上海").text == "北京,上海"
    assert normalize("A股 上涨").text == "a股上涨"  # spaces between Han characters carry nothing in Chinese
    assert normalize("医院(北院)").text == "医院(北院)"  # not pinyin: kept


def test_latin_words_are_not_mistaken_for_pinyin() -> None:
    assert normalize("yimeiabc").text == "yimeiabc"
    assert normalize("I love bo尿酸").text == "i love 玻尿酸"


def test_span_of_a_replaced_evasion_covers_the_whole_original() -> None:
    original = "限时rou毒素特价"
    norm = normalize(original)
    start = norm.text.index("肉毒素")
    s, e = norm.original_span(start, start + 3)
    assert original[s:e] == "rou毒素"


def test_span_after_deletions_and_replacements_maps_back() -> None:
    original = "醫(yī)療美容：玻*尿*酸 加V信 無效退kuan"
    norm = normalize(original)
    for word, seen in [("玻尿酸", "玻*尿*酸"), ("微信", "V信"), ("无效退款", "無效退kuan"), ("美容", "美容")]:
        start = norm.text.index(word)
        s, e = norm.original_span(start, start + len(word))
        assert original[s:e] == seen


def test_offset_map_round_trips_on_random_evasive_text() -> None:
    """Every normalised character maps into the original, monotonically, for noisy inputs."""
    rng = random.Random(5)
    pieces = [
        "玻尿酸",
        "零基础",
        "*",
        "/",
        " ",
        "\u200b",
        "💉",
        "rou毒",
        "醫(yī)",
        "ＡＢ",
        "V信",
        "，",
        "療",
        "a",
        "1",
    ]
    for _ in range(300):
        original = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 25)))
        norm = normalize(original)
        previous_end = 0
        for i in range(len(norm.text)):
            s, e = norm.original_span(i, i + 1)
            assert 0 <= s < e <= len(original)
            assert s >= previous_end or s < previous_end  # spans may widen over a replaced evasion
            previous_end = e
        if norm.text:
            assert norm.original_span(0, len(norm.text))[1] <= len(original)


def test_identity_when_nothing_changes() -> None:
    norm = normalize("双眼皮手术价格")
    assert norm.maps == ()
    assert norm.original_span(2, 4) == (2, 4)

"""The lexicons are plain data with headers, and the matcher finds terms and patterns."""

from __future__ import annotations

from classifiers.lexicons import (
    CATEGORIES,
    CATEGORY_LABEL,
    LexiconMatcher,
    load_lexicons,
    load_patterns,
    read_table,
)
from classifiers.normalize import normalize
from classifiers.pinyin_table import target_characters
from lexicons import LEXICON_DIR


def test_every_lexicon_file_has_a_header_and_terms() -> None:
    lexicons = load_lexicons()
    assert set(lexicons) == set(CATEGORIES)
    for lexicon in lexicons.values():
        assert {"holds", "source", "label"} <= set(lexicon.header), lexicon.path
        assert len(lexicon.terms) >= 10, lexicon.path
        assert all(t == t.lower() and t.strip() == t for t in lexicon.terms), lexicon.path


def test_tables_have_headers() -> None:
    for name in ("patterns.tsv", "emoji.tsv", "homophones.tsv", "pinyin_chars.tsv"):
        assert read_table(LEXICON_DIR / name), name


def test_every_label_is_fed_by_some_lexicon() -> None:
    fed = {label for label in CATEGORY_LABEL.values() if label}
    assert fed == {
        "medical_ad",
        "disguised_ad",
        "false_promise",
        "training_pitch",
        "unapproved_product",
        "unlicensed_practice",
        "appearance_anxiety",
    }


def test_pinyin_table_covers_the_current_lexicons() -> None:
    """Fails when a lexicon gained characters: run `python -m classifiers.pinyin_table`."""
    rows = read_table(LEXICON_DIR / "pinyin_chars.tsv")
    covered = {row[0] for row in rows}
    assert set(target_characters()) <= covered


def test_matcher_finds_overlapping_terms_and_patterns() -> None:
    matcher = LexiconMatcher()
    text = normalize("玻尿酸注射无效退款，成功率高达99%，零基础7天速成月入3万，加微信 ly-meiyan88").text
    hits = {(text[h.start : h.end], h.rule) for h in matcher.hits(text)}
    assert ("玻尿酸", "lexicon:procedures") in hits
    assert ("无效退款", "lexicon:guarantee") in hits
    assert ("零基础", "lexicon:training") in hits
    assert any(rule == "pattern:cure_rate" and "99%" in t for t, rule in hits)
    assert any(rule == "pattern:n_day_course" for _t, rule in hits)
    assert any(rule == "pattern:income" for _t, rule in hits)
    assert any(rule == "pattern:wechat_id" for _t, rule in hits)


def test_duration_and_no_fee_promises_are_found_but_not_plain_durations() -> None:
    matcher = LexiconMatcher()
    rules = {
        t: {h.rule for h in matcher.hits(normalize(t).text)}
        for t in ("效果至少能维持两年", "做完十年不用修", "斑不淡不收费", "玻尿酸一般维持6到12个月")
    }
    assert "pattern:duration_claim" in rules["效果至少能维持两年"]
    assert "pattern:duration_claim" in rules["做完十年不用修"]
    assert "pattern:no_effect_no_fee" in rules["斑不淡不收费"]
    assert "pattern:duration_claim" not in rules["玻尿酸一般维持6到12个月"]


def test_counts_agree_with_hits() -> None:
    matcher = LexiconMatcher()
    text = "美容院上门打瘦脸针，韩国原装水货，价格198元"
    counts = matcher.counts(text)
    by_category = {c: 0 for c in CATEGORIES}
    for hit in matcher.hits(text):
        by_category[hit.category] += 1
    assert counts == [by_category[c] for c in CATEGORIES]


def test_pattern_lookahead_does_not_change_matches() -> None:
    """The speed-up look-ahead must never hide a match the plain patterns find."""
    import re

    patterns = load_patterns()
    plain = re.compile("|".join(f"(?P<{p.name}>{p.regex})" for p in patterns))
    fast = LexiconMatcher()._pattern_re
    samples = [
        "成功率98%",
        "满意度高达百分之九十九",
        "15天速成",
        "三个月拿证",
        "月入过万",
        "¥1980",
        "2980元起",
        "138 0013 8000",
        "0571-86235510",
        "微信:abc_123",
        "医广【2024】第12号",
        "从业12年",
        "3000例成功案例",
    ]
    for text in samples:
        assert [m.span() for m in plain.finditer(text)] == [m.span() for m in fast.finditer(text)], text
        assert fast.search(text), text

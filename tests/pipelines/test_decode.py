"""Chinese pages decode right, whatever the server claims."""

from __future__ import annotations

import pytest

from pipelines.decode import decode_body, plausibility

SIMPLIFIED = "北京某某医疗美容诊所：玻尿酸注射，无效退款！本院医生经验丰富，价格优惠，欢迎预约咨询。" * 4
TRADITIONAL = (
    "臺北醫美診所：玻尿酸注射，無效退款！價格優惠，歡迎預約諮詢。醫師經驗豐富，專業團隊為您服務。" * 4
)


def html(text: str, meta: str | None = None) -> str:
    meta_tag = f'<meta charset="{meta}">' if meta else ""
    return f"<html><head>{meta_tag}<title>AdWatch</title></head><body><p>{text}</p></body></html>"


def ct(charset: str | None) -> dict[str, str]:
    return {"content-type": f"text/html; charset={charset}" if charset else "text/html"}


@pytest.mark.parametrize("codec", ["gbk", "gb2312", "gb18030"])
def test_gb_family_declared_in_header(codec: str) -> None:
    decoded = decode_body(html(SIMPLIFIED).encode(codec), ct(codec))
    assert SIMPLIFIED in decoded.text
    assert decoded.encoding == "gb18030"  # GB labels decode with the superset
    assert decoded.how == "header" and decoded.confident


def test_gb18030_only_characters_survive() -> None:
    text = SIMPLIFIED + "𠀀㐀€"  # four-byte GB18030 sequences
    decoded = decode_body(html(text, "gb2312").encode("gb18030"), {})
    assert text in decoded.text and decoded.replaced == 0


def test_big5_declared_in_meta() -> None:
    decoded = decode_body(html(TRADITIONAL, "big5").encode("big5"), ct(None))
    assert TRADITIONAL in decoded.text
    assert decoded.how == "meta"


def test_big5_hkscs_characters_fall_back_to_big5hkscs() -> None:
    text = TRADITIONAL + "嘅咗喺"  # Cantonese characters only in HKSCS
    decoded = decode_body(html(text, "big5").encode("big5hkscs"), {})
    assert text in decoded.text
    assert decoded.encoding == "big5hkscs" and decoded.replaced == 0


def test_header_saying_utf8_over_a_gbk_page_loses_to_the_meta_tag() -> None:
    decoded = decode_body(html(SIMPLIFIED, "gbk").encode("gbk"), ct("utf-8"))
    assert SIMPLIFIED in decoded.text
    assert decoded.how == "meta"


def test_header_saying_latin1_over_a_gbk_page_without_meta_is_detected() -> None:
    decoded = decode_body(html(SIMPLIFIED).encode("gbk"), ct("iso-8859-1"))
    assert SIMPLIFIED in decoded.text
    assert decoded.how == "detected" and decoded.encoding == "gb18030"


def test_header_saying_gbk_over_a_utf8_page_is_overruled() -> None:
    decoded = decode_body(html(SIMPLIFIED).encode("utf-8"), ct("gbk"))
    assert SIMPLIFIED in decoded.text and decoded.encoding == "utf-8"


def test_header_saying_gbk_over_a_big5_page_is_overruled() -> None:
    """GB18030 reads Big5 bytes without an error, into rare characters: plausibility catches it."""
    decoded = decode_body(html(TRADITIONAL).encode("big5"), ct("gbk"))
    assert TRADITIONAL in decoded.text
    assert decoded.encoding == "big5"


@pytest.mark.parametrize(
    ("codec", "text"), [("gbk", SIMPLIFIED), ("big5", TRADITIONAL), ("utf-8", SIMPLIFIED)]
)
def test_no_charset_anywhere_is_detected(codec: str, text: str) -> None:
    decoded = decode_body(html(text).encode(codec), {})
    assert text in decoded.text
    assert decoded.how == "detected"


def test_byte_order_mark_wins() -> None:
    body = "\ufeff".encode("utf-16-le") + html(SIMPLIFIED, "gbk").encode("utf-16-le")
    decoded = decode_body(body, ct("gbk"))
    assert SIMPLIFIED in decoded.text and decoded.how == "bom"


def test_a_few_bad_bytes_are_replaced_and_counted_not_fatal() -> None:
    body = html(SIMPLIFIED, "gbk").encode("gbk").replace(b"<p>", b"<p>\xff", 1)
    decoded = decode_body(body, ct("gbk"))
    assert decoded.replaced == 1 and not decoded.confident
    assert decoded.encoding == "gb18030" and decoded.how == "header"
    assert SIMPLIFIED in decoded.text


def test_undecodable_garbage_never_raises() -> None:
    decoded = decode_body(bytes(range(256)) * 8, ct("utf-8"))
    assert isinstance(decoded.text, str)
    assert not decoded.confident


def test_unknown_charset_label_is_ignored() -> None:
    decoded = decode_body(html(SIMPLIFIED).encode("utf-8"), ct("x-no-such-charset"))
    assert SIMPLIFIED in decoded.text


def test_empty_body() -> None:
    assert decode_body(b"", {}).text == ""


def test_plausibility_tells_mojibake_from_chinese() -> None:
    assert plausibility(SIMPLIFIED) > 0.95
    assert plausibility(TRADITIONAL) > 0.95
    assert plausibility(SIMPLIFIED.encode("gbk").decode("big5", "replace")) < 0.6
    assert plausibility(SIMPLIFIED.encode("utf-8").decode("gb18030", "replace")) < 0.6

"""Contact handles however ads spell them: the evasions of DOMAIN.md, one by one."""

from __future__ import annotations

import pytest

from pipelines.contacts import find_contacts


def handles(text: str) -> list[tuple[str, str]]:
    return [(c["kind"], c["value"]) for c in find_contacts(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("加我微信：meiyan_2026 了解", ("wechat", "meiyan_2026")),
        ("微信号是 beauty_666", ("wechat", "beauty_666")),
        ("V信 yimei520", ("wechat", "yimei520")),
        ("v信:yimei520", ("wechat", "yimei520")),
        ("薇信：meiyan888", ("wechat", "meiyan888")),
        ("威信 wx_xiaomei", ("wechat", "wx_xiaomei")),
        ("VX：zhengxing01", ("wechat", "zhengxing01")),
        ("vx zhengxing01", ("wechat", "zhengxing01")),
        ("wx：meiyan888", ("wechat", "meiyan888")),
        ("➕V: abc12345 私聊", ("wechat", "abc12345")),
        ("+v yimei520", ("wechat", "yimei520")),
        ("加v：zhengxing520", ("wechat", "zhengxing520")),
        ("绿泡泡：lvpaopao99", ("wechat", "lvpaopao99")),
        ("Ｖ信ｍｅｉｙａｎ８８", ("wechat", "meiyan88")),  # full-width letters and digits
        ("ＶＸ：ＭｅｉＹａｎ＿８８", ("wechat", "meiyan_88")),
        ("企鹅 123456789", ("qq", "123456789")),
        ("扣扣：987654321", ("qq", "987654321")),
        ("QQ：10001234", ("qq", "10001234")),
        ("ＱＱ号 10001234", ("qq", "10001234")),
    ],
)
def test_wechat_and_qq_spellings(text: str, expected: tuple[str, str]) -> None:
    assert expected in handles(text)


@pytest.mark.parametrize(
    "text",
    [
        "电话13812345678",
        "电话 138 1234 5678",
        "电话 138-1234-5678",
        "电话 1 3 8 1 2 3 4 5 6 7 8",
        "电话 １３８１２３４５６７８",
        "电话 一三八一二三四五六七八",
        "电话 壹叁捌 壹贰叁肆 伍陆柒捌",
        "电话 +86 138 1234 5678",
        "电话 138\u200b1234\u200b5678",  # zero-width spaces
    ],
)
def test_mobile_numbers_however_split(text: str) -> None:
    assert handles(text) == [("phone", "13812345678")]


def test_landlines_and_service_numbers() -> None:
    found = handles("热线 400-888-9999，座机 0571-88886666，北京 (010)62345678")
    assert found == [("phone", "4008889999"), ("phone", "057188886666"), ("phone", "01062345678")]


def test_wechat_same_as_phone() -> None:
    assert handles("VX同号13912345678") == [("wechat", "13912345678"), ("phone", "13912345678")]


def test_offsets_and_original_spelling() -> None:
    text = "欢迎咨询，薇信：meiyan_2026，电话 138 1234 5678。"
    wechat, phone = find_contacts(text)
    assert wechat["text"] == "薇信：meiyan_2026" == text[wechat["start"] : wechat["end"]]
    assert phone["text"] == "138 1234 5678" == text[phone["start"] : phone["end"]]


def test_numbers_that_are_not_contacts() -> None:
    assert handles("订单号20261028123456789，价格1980元，2026年11月02日 09:30，文号第11-01-0203号") == []


def test_repeated_handles_are_reported_once() -> None:
    assert handles("微信 abc12345 再说一遍 微信 abc12345") == [("wechat", "abc12345")]

"""Institutions, credit codes and addresses: who is behind a page."""

from __future__ import annotations

from pipelines.entities import credit_code_valid, find_addresses, find_credit_codes, find_institutions

REAL_CODE = "91110108551385082Q"  # a published 统一社会信用代码 (小米科技有限责任公司)


def test_credit_code_check_character() -> None:
    assert credit_code_valid(REAL_CODE)
    assert not credit_code_valid(REAL_CODE[:-1] + "R")  # wrong check character
    assert not credit_code_valid(REAL_CODE[:-1])  # too short
    assert not credit_code_valid("91110108551385082I")  # I is not in the alphabet


def test_credit_codes_in_text_full_width_and_lower_case() -> None:
    text = f"统一社会信用代码：{REAL_CODE.lower()}；另：９１１１０１０８５５１３８５０８２Ｑ；订单号911101085513850821"
    assert find_credit_codes(text) == [REAL_CODE]


def test_institution_names_by_their_endings() -> None:
    text = "我在北京某某医疗美容诊所做的，杭州美丽人生医疗美容门诊部也不错，还有小美美容工作室。哪家医院好？正规医院更安全。"
    assert find_institutions(text) == ["北京某某医疗美容诊所", "杭州美丽人生医疗美容门诊部", "小美美容工作室"]


def test_addresses() -> None:
    text = "地址：北京市朝阳区建国路88号SOHO现代城A座10层。分院：浙江省杭州市西湖区文三路100号。欢迎来到门口的路。"
    assert find_addresses(text) == [
        "北京市朝阳区建国路88号SOHO现代城A座10层",
        "浙江省杭州市西湖区文三路100号",
    ]

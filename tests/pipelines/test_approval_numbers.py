"""文号 in the wild: every issuer format of DOMAIN.md is found and normalised to one key."""

import pytest

from pipelines.approval_numbers import find_approval_numbers, normalize_approval_number, province_of

SEEN_ON_PUBLIC_SITES = [
    ("（京）医广【2017】第11-01-0714号", "(京)医广[2017]第11-01-0714号", "北京"),
    ("沪医广【2020】第04-10-G124号", "(沪)医广[2020]第04-10-G124号", "上海"),
    ("鲁医广【2013】第0902-001-3711号", "(鲁)医广[2013]第0902-001-3711号", "山东"),
    ("济医广〔2022〕第123号", "(济)医广[2022]第123号", "山东"),
    ("（成青）医广【2019】第03-12-510105020号", "(成青)医广[2019]第03-12-510105020号", "四川"),
    ("粤（B）广[2019]第07-22-327号", "(粤B)广[2019]第07-22-327号", "广东"),
    ("（渝）医广[2015]（网络）第189号", "(渝)医广[2015](网络)第189号", "重庆"),
    ("(黔)医广(2024)第12-05-824", "(黔)医广[2024]第12-05-824号", "贵州"),
]


@pytest.mark.parametrize(("written", "key", "province"), SEEN_ON_PUBLIC_SITES)
def test_issuer_formats(written, key, province):
    [found] = find_approval_numbers(f"本院地址见下。{written}。欢迎来电")
    assert found.raw == written
    assert found.key == key
    assert found.province == province


def test_full_width_spacing_and_dash_variants_share_a_key():
    variants = [
        "（京）医广【2017】第11-01-0714号",
        "(京)医广[2017]第11－01－0714号",
        "（京） 医广 ［2017］ 第 11—01—0714 号",
    ]
    assert {normalize_approval_number(v) for v in variants} == {"(京)医广[2017]第11-01-0714号"}


def test_offsets_point_into_the_original_text():
    text = "广告审查：（京） 医广 ［2017］ 第 11－01－0714 号 咨询"
    [found] = find_approval_numbers(text)
    assert text[found.start : found.end] == found.raw


def test_compatibility_forms_fold_like_nfkc_and_keep_offsets():
    """The Kangxi radical ⼴ for 广, full-width digits and brackets, mathematical digits (𝟐𝟎𝟏𝟕)."""
    text = "欢迎咨询（京）医⼴［𝟐𝟎𝟏𝟕］第１１－０１－０７１４号 地址"
    [found] = find_approval_numbers(text)
    assert found.key == "(京)医广[2017]第11-01-0714号"
    assert text[found.start : found.end] == found.raw


def test_a_document_cites_numbers_written_with_the_kangxi_radical():
    from pipelines.facts import approval_numbers

    [cited] = approval_numbers("本院广告：（浙）医⼴【2025】第01-11-0203号，欢迎来电")
    assert cited["key"] == "(浙)医广[2025]第01-11-0203号"


def test_ordinary_text_has_no_number():
    assert find_approval_numbers("广州广告公司2019年第1号文件，医院第3号楼") == []


def test_import_value_that_is_not_a_number_is_refused():
    with pytest.raises(ValueError, match="not an advertising-approval number"):
        normalize_approval_number("京ICP备12345678号")


def test_city_prefixes_map_to_their_province():
    assert province_of("济") == "山东" and province_of("成青") == "四川" and province_of("XX") is None

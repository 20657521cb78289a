"""URL identity and near-duplicate signatures (no database)."""

from __future__ import annotations

from pipelines.dedup import canonical_url, estimated_jaccard, near, text_signature, url_key

AD = (
    "北京某某医疗美容诊所推出玻尿酸填充限时特惠，原价5800元现仅需1980元，进口玻尿酸一次注射效果维持两年，无效全额退款。"
    "专家团队从业二十年，安全无副作用，即打即走无恢复期。预约请加薇信meiyan888或致电13812345678，前50名再送水光针一次。"
)


def test_canonical_url_ignores_spelling_differences() -> None:
    a = "HTTP://News.Example.COM:80/a/b?z=1&a=2&utm_source=wx&spm=1.2#comments"
    b = "http://news.example.com/a/b?a=2&z=1"
    assert canonical_url(a) == canonical_url(b) == "http://news.example.com/a/b?a=2&z=1"
    assert url_key(a) == url_key(b)
    assert (
        canonical_url("https://mp.example.cn/s?id=9&from=timeline&isappinstalled=0")
        == "https://mp.example.cn/s?id=9"
    )
    assert url_key("http://x.example/a?id=1") != url_key("http://x.example/a?id=2")


def test_reposts_with_small_edits_are_near() -> None:
    original = text_signature(AD)
    reposts = [
        AD.replace("meiyan888", "yimei_520").replace("13812345678", "13987654321"),  # another agent's contact
        AD.replace("1980元", "1680元"),  # another price
        "【转】" + AD + "名额有限，先到先得！",  # a prefix and a suffix
    ]
    for text in reposts:
        signature = text_signature(text)
        assert set(signature.bands) & set(original.bands), text
        assert near(original.fingerprint, signature.fingerprint), text


def test_different_ads_on_the_same_topic_are_not_near() -> None:
    other = (
        "北京某某医疗美容诊所推出双眼皮手术限时特惠，原价8800元现仅需3980元，韩式三点一次成型效果自然，不满意全额退款。"
        "专家团队从业二十年，安全无痕。预约请加薇信meiyan888或致电13812345678。"
    )
    a, b = text_signature(AD), text_signature(other)
    assert not near(a.fingerprint, b.fingerprint)
    assert estimated_jaccard(a.fingerprint, b.fingerprint) < 0.5


def test_too_short_texts_have_no_signature() -> None:
    assert text_signature("加V：abc") is None

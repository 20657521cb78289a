"""The evasion set is made by code, deterministically, one variant per transformation."""

from __future__ import annotations

from classifiers.corpus import Item
from classifiers.evasion import TRANSFORMS, evasion_set
from classifiers.normalize import normalize

ITEM = Item(
    id="pos-x-0001",
    title="科普：玻尿酸能维持多久",
    text="零基础7天速成包拿证，加微信meiyan88预约玻尿酸注射，无效退款，韩国原装",
    labels=["medical_ad", "false_promise"],
)


def test_one_variant_per_transformation_and_deterministic() -> None:
    first = evasion_set([ITEM])
    second = evasion_set([ITEM])
    assert [(v.id, v.text, v.title) for v in first] == [(v.id, v.text, v.title) for v in second]
    assert {v.source for v in first} == {f"evasion:{t}" for t in TRANSFORMS}
    assert all(v.labels == ITEM.labels and v.text != ITEM.text for v in first)


def test_clean_items_get_no_variants() -> None:
    assert evasion_set([Item(id="n1", text="天气很好", labels=[])]) == []


def test_the_normaliser_undoes_most_of_each_transformation() -> None:
    plain = normalize(ITEM.text).text
    for variant in evasion_set([ITEM]):
        undone = normalize(variant.text).text
        shared = sum(1 for a, b in zip(undone, plain, strict=False) if a == b)
        if variant.source in (
            "evasion:traditional",
            "evasion:fullwidth",
            "evasion:zero_width",
            "evasion:separators",
        ):
            assert undone == plain, variant.source
        else:
            assert shared >= 0.3 * len(plain) or "无效退款" in undone, variant.source

"""Find and normalise 医疗广告审查证明 numbers (文号) in text.

There is no national format; each issuer writes its own (DOMAIN.md). A number is: one or two
region prefixes (bracketed, or a bare province/city abbreviation), 医广 (optionally 中医广, or just
广 after a bracketed prefix, optionally followed by 字/审), a year in any bracket, an optional
bracketed media tag, 第, a serial of digits, letters and dashes, and an optional 号. Full-width
forms and spaces are normalised first, so ``（京）医广【2017】第11-01-0714号`` and
``(京) 医广[2017]第 11－01－0714 号`` get the same key.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

# Province abbreviations, and the short names of cities that issue their own numbers.
PROVINCES: dict[str, str] = {
    "京": "北京",
    "津": "天津",
    "沪": "上海",
    "渝": "重庆",
    "冀": "河北",
    "晋": "山西",
    "辽": "辽宁",
    "吉": "吉林",
    "黑": "黑龙江",
    "苏": "江苏",
    "浙": "浙江",
    "皖": "安徽",
    "闽": "福建",
    "赣": "江西",
    "鲁": "山东",
    "豫": "河南",
    "鄂": "湖北",
    "湘": "湖南",
    "粤": "广东",
    "桂": "广西",
    "琼": "海南",
    "川": "四川",
    "蜀": "四川",
    "贵": "贵州",
    "黔": "贵州",
    "云": "云南",
    "滇": "云南",
    "藏": "西藏",
    "陕": "陕西",
    "秦": "陕西",
    "甘": "甘肃",
    "陇": "甘肃",
    "青": "青海",
    "宁": "宁夏",
    "新": "新疆",
    "蒙": "内蒙古",
}
CITIES: dict[str, str] = {
    "济": "山东",
    "青岛": "山东",
    "烟": "山东",
    "潍": "山东",
    "成": "四川",
    "蓉": "四川",
    "穗": "广东",
    "深": "广东",
    "莞": "广东",
    "佛": "广东",
    "杭": "浙江",
    "甬": "浙江",
    "温": "浙江",
    "厦": "福建",
    "榕": "福建",
    "汉": "湖北",
    "宁波": "浙江",
    "长": "湖南",
    "郑": "河南",
    "石": "河北",
    "沈": "辽宁",
    "连": "辽宁",
    "哈": "黑龙江",
    "昆": "云南",
    "邕": "广西",
    "西": "陕西",
    "兰": "甘肃",
    "合": "安徽",
    "南": "江西",
    "苏州": "江苏",
    "锡": "江苏",
    "宁": "宁夏",
}
_ABBREVIATIONS = sorted({*PROVINCES, *CITIES}, key=len, reverse=True)

_OPEN = "(\\[【〔〖{<《"
_CLOSE = ")\\]】〕〗}>》"
_BRACKETED = rf"[{_OPEN}]\s*[\u4e00-\u9fa5A-Za-z]{{1,6}}\s*[{_CLOSE}]"
_BARE = "(?:" + "|".join(map(re.escape, _ABBREVIATIONS)) + ")"
_PATTERN = re.compile(
    rf"""
    (?P<prefix>(?:{_BRACKETED}\s*){{1,2}}|{_BARE}(?:\s*{_BRACKETED})?)?
    \s*(?P<kind>中?医广|(?<=[{_CLOSE}])\s*广)\s*[字审]?\s*
    [{_OPEN}]\s*(?P<year>(?:19|20)\d\d)\s*[{_CLOSE}]\s*
    (?P<media>[{_OPEN}]\s*[\u4e00-\u9fa5]{{1,6}}\s*[{_CLOSE}])?\s*
    第?\s*(?P<serial>[0-9A-Za-z]+(?:\s*-\s*[0-9A-Za-z]+)*)
    \s*(?P<hao>号)?
    """,
    re.VERBOSE,
)
_DASHES = str.maketrans({c: "-" for c in "－—–‐‑‒―﹣−"})


@dataclass(frozen=True)
class ApprovalNumber:
    """One 文号 found in a text; ``start``/``end`` index the text that was searched."""

    raw: str
    start: int
    end: int
    region: str  # prefixes without brackets, joined: 京, 沪, 成青, 粤B
    year: int
    media: str  # 网络, or empty
    serial: str  # upper case, dashes normalised
    key: str  # the normalised number, e.g. (京)医广[2017]第11-01-0714号

    @property
    def province(self) -> str | None:
        """The province the issuer sits in, when the prefix tells."""
        return province_of(self.region)


def _fold_char(ch: str) -> str:
    folded = unicodedata.normalize("NFKC", ch)
    return (folded if len(folded) == 1 else ch).translate(_DASHES)


@dataclass(frozen=True)
class _Folding:
    table: dict[str, str]  # every BMP character ``_fold_char`` changes → its folded form
    foldable: re.Pattern[str]  # any of them
    guang: frozenset[str]  # characters that fold to 广, which every 文号 contains


@functools.cache
def _folding() -> _Folding:
    """``_fold_char`` over the BMP, once per process (~50 ms)."""
    table = {}
    for cp in range(0x10000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chr(cp)
        folded = _fold_char(ch)
        if folded != ch:
            table[ch] = folded
    foldable = re.compile("[" + "".join(re.escape(ch) for ch in table) + "]")
    guang = frozenset({"广", *(ch for ch, folded in table.items() if folded == "广")})
    return _Folding(table, foldable, guang)


_ASTRAL = re.compile("[\\U00010000-\\U0010ffff]")


def _fold(text: str) -> str:
    """Full-width to half-width and one kind of dash; keeps every offset (1:1 per character).

    Only the characters that change are touched (a per-character NFKC loop was the pipeline's
    costliest step: ~0.5 ms on a 2,000-character page); characters beyond the BMP (mathematical
    digits such as 𝟏) take the per-character path."""
    folding = _folding()
    folded = folding.foldable.sub(lambda m: folding.table[m.group()], text)
    if _ASTRAL.search(folded):
        folded = "".join(_fold_char(ch) if ord(ch) > 0xFFFF else ch for ch in folded)
    return folded


def guang_characters() -> frozenset[str]:
    """广 and the characters that fold to it (the Kangxi radical ⼴): one of them is in every 文号."""
    return _folding().guang


def _may_cite(text: str) -> bool:
    """Whether ``text`` has a character that folds to 广: without one it cannot hold a 文号."""
    return any(ch in text for ch in guang_characters()) or (
        _ASTRAL.search(text) is not None and "广" in _fold(text)
    )


def province_of(region: str) -> str | None:
    for abbr in _ABBREVIATIONS:
        if region.startswith(abbr):
            return PROVINCES.get(abbr) or CITIES.get(abbr)
    return None


def _strip_brackets(part: str) -> str:
    return re.sub(rf"[\s{_OPEN}{_CLOSE}]", "", part)


def _make(match: re.Match[str], original: str) -> ApprovalNumber:
    prefix = match.group("prefix") or ""
    region = _strip_brackets(prefix).upper()
    kind = match.group("kind").strip()
    kind = "中医广" if kind.startswith("中") else ("医广" if "医" in kind else "广")
    year = int(match.group("year"))
    media = _strip_brackets(match.group("media") or "")
    serial = re.sub(r"\s+", "", match.group("serial")).upper()
    key = f"({region}){kind}[{year}]" + (f"({media})" if media else "") + f"第{serial}号"
    start, end = match.span()
    return ApprovalNumber(original[start:end], start, end, region, year, media, serial, key)


def find_approval_numbers(text: str) -> list[ApprovalNumber]:
    """Every 文号 in ``text``, in order of appearance."""
    if not _may_cite(text):
        return []
    folded = _fold(text)
    return [_make(m, text) for m in _PATTERN.finditer(folded) if m.group("prefix") or "医" in m.group("kind")]


def normalize_approval_number(number: str) -> str:
    """The key of a single 文号 as written in an import file; raises ValueError if it is not one."""
    found = find_approval_numbers(number.strip())
    if len(found) != 1:
        raise ValueError(f"not an advertising-approval number (医广文号): {number!r}")
    return found[0].key


def parse_approval_number(number: str) -> ApprovalNumber:
    """Parse one 文号 (as in an import file); raises ValueError if it is not one."""
    found = find_approval_numbers(number.strip())
    if len(found) != 1:
        raise ValueError(f"not an advertising-approval number (医广文号): {number!r}")
    return found[0]

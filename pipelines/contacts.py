"""Contact handles in ad text: phone numbers, WeChat ids and QQ numbers, however they are spelt.

Ads dodge keyword filters: ``V信``, ``薇信``, ``威信``, ``VX``, ``➕V``, ``绿泡泡`` for WeChat;
``企鹅``, ``扣扣`` for QQ; phone numbers split by spaces or dashes, in full-width digits or in
Chinese numerals (一三八…, 壹叁捌…). Matching runs on a *view* of the text in which every
character is folded 1:1 (full-width → ASCII, numerals → digits), so offsets into the view are
offsets into the original text and ``text`` is the original spelling.

Each contact is ``{"kind": "phone"|"wechat"|"qq", "value": normalised, "text": as written,
"start": int, "end": int}``; the same (kind, value) is reported once, at its first occurrence.
Phone values are digits only (``13812345678``, ``057188886666``, ``4001234567``); WeChat ids are
lower-cased.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_NUMERALS = {
    "零": "0", "〇": "0", "○": "0", "一": "1", "幺": "1", "壹": "1", "二": "2", "两": "2", "贰": "2", "貳": "2",
    "三": "3", "叁": "3", "參": "3", "四": "4", "肆": "4", "五": "5", "伍": "5", "六": "6", "陆": "6", "陸": "6",
    "七": "7", "柒": "7", "八": "8", "捌": "8", "九": "9", "玖": "9",
}  # fmt: skip
_SEP = r"[\s\-‐‑‒–—―－.·•_~/\\|,，、*×xX\u200b-\u200d\ufeff]{0,3}"  # between digits of a split number
_PLAIN_SEP = r"[\s\-‐‑‒–—―－.·_\u200b-\u200d\ufeff]?"

_MOBILE = re.compile(
    r"(?<![0-9A-Za-z])(?:\+?86" + _PLAIN_SEP + r")?(1" + _SEP + r"[3-9](?:" + _SEP + r"[0-9]){9})(?![0-9])"
)
_SERVICE = re.compile(r"(?<![0-9])([48]00" + _PLAIN_SEP + r"[0-9]{3}" + _PLAIN_SEP + r"[0-9]{4})(?![0-9])")
_LANDLINE = re.compile(
    r"(?<![0-9])(?:\(|（)?(0(?:10|2[0-9]|[3-9][0-9]{2}))(?:\)|）)?"
    r"[\s\-－]?([2-9][0-9]{2,3}[\s\-－]?[0-9]{4})(?![0-9])"
)
_WECHAT_MARK = (
    r"(?<![A-Za-z])(?:微信号?|微信|[Vv]信|薇信|威信|维信|卫信|徽信|魏信|微❤|薇❤|V❤|"
    r"(?:weixin|wechat|vx|wx|vchat)(?![A-Za-z])|(?:➕|\+|＋|加|添加|加个|扣)\s*(?:[Vv]|微|薇|威)(?![A-Za-z])|绿泡泡|绿色泡泡|🍏)"
)
_WECHAT = re.compile(
    _WECHAT_MARK
    + r"\s*(?:号|号码|id|ID)?\s*(?:同号|同)?\s*(?:[:：=]|是|为)?\s*(?:[:：])?\s*"
    + r"(?P<id>[A-Za-z][-_A-Za-z0-9]{5,19}|[0-9](?:"
    + _PLAIN_SEP
    + r"[0-9]){4,10})(?![-_A-Za-z0-9])",
    re.IGNORECASE,
)
_QQ = re.compile(
    r"(?<![A-Za-z])(?:Q\s?Q|扣扣|企鹅|抠抠|球球|Q号|q号)\s*(?:号码|号|群)?\s*(?:[:：=]|是|为)?\s*"
    r"(?P<id>[1-9](?:" + _PLAIN_SEP + r"[0-9]){4,11})(?![0-9])",
    re.IGNORECASE,
)


# Hints: each pattern starts with a lookbehind, which stops the regex engine from skipping ahead
# to plausible positions; scanning for a pattern's possible first characters first (a character
# class, which the engine scans for fast) and matching only there is 5-10 times quicker.
_MOBILE_HINT = re.compile(r"[18+]")
_SERVICE_HINT = re.compile(r"[48]")
_LANDLINE_HINT = re.compile(r"[0(（]")
_WECHAT_HINT = re.compile(r"[微薇威维卫徽魏VvWwXx➕+加添扣绿🍏]")
_QQ_HINT = re.compile(r"[Qq扣企抠球]")
_NUMERAL_CHARS = "零〇○一幺壹二两贰貳三叁參四肆五伍六陆陸七柒八捌九玖"
# Only text with full-width letters or digits, circled digits or runs of numerals needs folding.
_NEEDS_FOLD = re.compile(
    r"[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\uff0b①-⑨⑴-⑼⓪]"
    rf"|[{_NUMERAL_CHARS}]\s?[{_NUMERAL_CHARS}]\s?[{_NUMERAL_CHARS}]"
)


@lru_cache(maxsize=1)
def _fold_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(0xFF01, 0xFF5F):  # full-width ASCII
        table[code] = chr(code - 0xFEE0)
    table[0x3000] = " "
    for ch, digit in _NUMERALS.items():
        if digit is not None:
            table[ord(ch)] = digit
    for i, ch in enumerate("①②③④⑤⑥⑦⑧⑨", start=1):
        table[ord(ch)] = str(i)
    for i, ch in enumerate("⑴⑵⑶⑷⑸⑹⑺⑻⑼", start=1):
        table[ord(ch)] = str(i)
    table[ord("⓪")] = "0"
    return table


def fold(text: str) -> str:
    """Full-width forms and numerals folded to ASCII, one character for one (offsets preserved)."""
    if not _NEEDS_FOLD.search(text):
        return text
    return text.translate(_fold_table())


def _scan(hint: re.Pattern[str], pattern: re.Pattern[str], view: str) -> list[re.Match[str]]:
    """Non-overlapping matches of ``pattern`` starting where ``hint`` matches."""
    matches = []
    end = 0
    for h in hint.finditer(view):
        if h.start() < end:
            continue
        m = pattern.match(view, h.start())
        if m is not None:
            matches.append(m)
            end = m.end()
    return matches


def _digits(text: str) -> str:
    return re.sub(r"[^0-9]", "", text)


def _mobile_ok(digits: str) -> bool:
    return len(digits) == 11 and digits[0] == "1" and digits[1] in "3456789"


def find_contacts(text: str) -> list[dict[str, object]]:
    """Phones, WeChat ids and QQ numbers in ``text``, in order of appearance."""
    view = fold(text)
    found: list[tuple[int, int, str, str]] = []  # (start, end, kind, value)
    taken: list[tuple[int, int]] = []

    def overlaps(start: int, end: int) -> bool:
        return any(start < e and s < end for s, e in taken)

    def add(start: int, end: int, kind: str, value: str, claim: tuple[int, int] | None = None) -> None:
        found.append((start, end, kind, value))
        taken.append(claim or (start, end))

    for m in _scan(_WECHAT_HINT, _WECHAT, view):
        raw_id = m.group("id")
        value = _digits(raw_id) if raw_id[0].isdigit() else raw_id.lower()
        add(m.start(), m.end(), "wechat", value, m.span("id"))
        if value.isdigit() and _mobile_ok(value):
            found.append((m.start("id"), m.end("id"), "phone", value))
    for m in _scan(_QQ_HINT, _QQ, view):
        if not overlaps(*m.span("id")):
            add(m.start(), m.end(), "qq", _digits(m.group("id")), m.span("id"))
    for m in _scan(_MOBILE_HINT, _MOBILE, view):
        digits = _digits(m.group(1))
        if _mobile_ok(digits) and not overlaps(*m.span(1)):
            add(m.start(1), m.end(1), "phone", digits)
    for m in _scan(_SERVICE_HINT, _SERVICE, view):
        if not overlaps(*m.span(1)):
            add(m.start(1), m.end(1), "phone", _digits(m.group(1)))
    for m in _scan(_LANDLINE_HINT, _LANDLINE, view):
        if not overlaps(m.start(), m.end()):
            add(m.start(), m.end(), "phone", m.group(1) + _digits(m.group(2)))

    seen: set[tuple[str, str]] = set()
    contacts: list[dict[str, object]] = []
    for start, end, kind, value in sorted(found):
        if (kind, value) in seen:
            continue
        seen.add((kind, value))
        contacts.append({"kind": kind, "value": value, "text": text[start:end], "start": start, "end": end})
    return contacts


def normalise_handle(value: str) -> str:
    """A handle as a reviewer might type it, folded the same way as found ones (for searching)."""
    folded = unicodedata.normalize("NFKC", fold(value)).strip()
    return _digits(folded) if _digits(folded) == folded.replace(" ", "").replace("-", "") else folded.lower()

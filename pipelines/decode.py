"""Turn a fetched body into text: the right charset for Chinese pages, even when the server lies.

Order of evidence: a byte-order mark; the HTTP ``Content-Type`` charset; the ``<meta>`` (or XML)
charset; detection. A declared charset is *verified* before it is trusted: Chinese sites often
send ``charset=iso-8859-1`` or ``utf-8`` as a server default over GBK pages, or ``gbk`` over
UTF-8 ones. A declaration loses when its decoding fails or reads as mojibake while another
candidate decodes cleanly.

Two cheap tests do the verifying. Strict UTF-8 is self-checking: GBK or Big5 text of any length
is practically never valid UTF-8, so a body that *is* valid UTF-8 (with non-ASCII bytes) is
UTF-8. GB18030 and Big5 decode each other's bytes without errors, so they are told apart by
*plausibility*: the share of decoded ideographs that are common characters (GB2312 level 1
or Big5 常用字) rather than rare characters, kana, box drawing or private-use code points.

GB2312 and GBK labels decode as GB18030 (a superset); Big5 falls back to CP950 and Big5-HKSCS
where they decode more. Undecodable bytes are replaced and counted; this module never raises.
"""

from __future__ import annotations

import codecs
import contextlib
import re
from dataclasses import dataclass
from functools import lru_cache

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CHARSET_RE = re.compile(rb"""charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]{1,40})""", re.IGNORECASE)
_META_RE = re.compile(rb"<meta\b[^>]{0,500}?charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:\-]{1,40})", re.IGNORECASE)
_XML_DECL_RE = re.compile(
    rb"""^\s*<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9_.:\-]{1,40})""", re.IGNORECASE
)
_NON_ASCII = re.compile(rb"[\x80-\xff]")
_NON_ASCII_TEXT = re.compile(r"[^\x00-\x7f]")

# How far into the body the <meta> charset is looked for (browsers look at 1024 bytes; pages
# with long <head>s put it later).
META_SCAN_BYTES = 8192
# How many non-ASCII characters the plausibility score looks at.
PLAUSIBILITY_SAMPLE = 1500
# A double-byte decoding must reach this plausibility to be accepted without comparison.
PLAUSIBLE = 0.8

_GB = "gb18030"
_BIG5 = "big5"
_ALIASES = {
    # WHATWG: every GB label is decoded as GB18030, a superset of GB2312 and GBK.
    "gb2312": _GB,
    "gbk": _GB,
    "gb18030": _GB,
    "euc_cn": _GB,
    "cp936": _GB,
    "x-gbk": _GB,
    "gb_2312-80": _GB,
    "csgb2312": _GB,
    "chinese": _GB,
    "iso-ir-58": _GB,
    "csiso58gb231280": _GB,
    "big5": _BIG5,
    "big5hkscs": _BIG5,
    "big5-hkscs": _BIG5,
    "cp950": _BIG5,
    "cn-big5": _BIG5,
    "x-x-big5": _BIG5,
    "csbig5": _BIG5,
    # WHATWG: Latin-1 and ASCII labels mean windows-1252.
    "latin_1": "cp1252",
    "iso8859-1": "cp1252",
    "iso-8859-1": "cp1252",
    "ascii": "cp1252",
    "us-ascii": "cp1252",
    "cp1252": "cp1252",
}
_SINGLE_BYTE = {"cp1252", "latin_1"}


@dataclass(frozen=True)
class Decoded:
    """A decoded body and how its charset was chosen."""

    text: str
    encoding: str  # the Python codec used: utf-8, gb18030, big5, cp950, big5hkscs, cp1252, …
    how: str  # bom | header | meta | detected | fallback | empty
    confident: bool  # False when the choice was a guess or bytes had to be replaced
    replaced: int = 0  # undecodable bytes replaced by U+FFFD
    declared: str | None = None  # the charset the header (or else the meta tag) named, normalised


def charset_label(label: str | None) -> str | None:
    """The codec family AdWatch decodes a charset label with, or None for an unknown label."""
    if not label:
        return None
    raw = label.strip().strip("\"'").lower()
    if raw in _ALIASES:
        return _ALIASES[raw]
    try:
        name = codecs.lookup(raw).name
    except LookupError:
        return None
    if name in ("utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"):
        return "utf-8"  # a body without a BOM that claims UTF-16 is UTF-8 (WHATWG)
    return _ALIASES.get(name, name)


def header_charset(headers: dict[str, str] | None) -> str | None:
    """The charset named by a Content-Type header (names compared case-insensitively)."""
    if not headers:
        return None
    for name, value in headers.items():
        if name.lower() == "content-type" and value:
            match = _CHARSET_RE.search(value.encode("latin-1", "replace"))
            return match.group(1).decode("ascii") if match else None
    return None


def meta_charset(body: bytes) -> str | None:
    """The charset named by an XML declaration or a ``<meta>`` tag near the top of the body."""
    head = body[:META_SCAN_BYTES]
    match = _XML_DECL_RE.search(head) or _META_RE.search(head)
    return match.group(1).decode("ascii") if match else None


@lru_cache(maxsize=1)
def _common_chars() -> frozenset[str]:
    """Common ideographs: GB2312 level 1 (3,755 simplified) and Big5 常用字 (5,401 traditional)."""
    chars: set[str] = set()
    for lead in range(0xB0, 0xD8):
        for trail in range(0xA1, 0xFF):
            with contextlib.suppress(UnicodeDecodeError):
                chars.add(bytes((lead, trail)).decode("gb2312"))
    for lead in range(0xA4, 0xC7):
        for trail in (*range(0x40, 0x7F), *range(0xA1, 0xFF)):
            with contextlib.suppress(UnicodeDecodeError):
                chars.add(bytes((lead, trail)).decode("big5"))
    return frozenset(chars)


def _is_neutral(ch: str) -> bool:
    """Punctuation and spacing that every CJK decoding produces: neither evidence for nor against."""
    o = ord(ch)
    return 0x3000 <= o <= 0x303F or 0xFF01 <= o <= 0xFF5E or 0x2000 <= o <= 0x206F or o in (0xA0, 0xB7, 0xD7)


def plausibility(text: str) -> float:
    """Share of the non-ASCII, non-punctuation characters that are common Chinese characters.

    Correct Chinese text scores above 0.9; GB18030 read as Big5, Big5 read as GB18030 or UTF-8
    read as either score far lower. Text with nothing to judge scores 1.0.
    """
    common = _common_chars()
    good = bad = 0
    for ch in _NON_ASCII_TEXT.findall(text, 0, len(text))[:PLAUSIBILITY_SAMPLE]:
        if ch in common:
            good += 1
        elif not _is_neutral(ch):
            bad += 1
    return 1.0 if good + bad == 0 else good / (good + bad)


def _attempt(body: bytes, family: str) -> tuple[str, str, int]:
    """Decode with a codec family, replacing bad bytes; Big5 keeps whichever variant replaces least.

    Returns (text, codec, replaced). Plain Big5 is tried before CP950 and Big5-HKSCS, which add
    characters (the euro sign, ETEN extensions, Hong Kong characters) to it.
    """
    variants = ("big5", "cp950", "big5hkscs") if family == _BIG5 else (family,)
    best: tuple[str, str, int] | None = None
    for codec in variants:
        try:
            return body.decode(codec), codec, 0
        except UnicodeDecodeError:
            pass
        except LookupError:
            continue
        text = body.decode(codec, errors="replace")
        replaced = text.count("\ufffd") - _literal_replacements(body, codec)
        if best is None or replaced < best[2]:
            best = (text, codec, replaced)
    if best is None:  # an unknown codec: UTF-8 with replacement is the least harmful reading
        text = body.decode("utf-8", errors="replace")
        return text, "utf-8", text.count("\ufffd") - _literal_replacements(body, "utf-8")
    return best


def _literal_replacements(body: bytes, codec: str) -> int:
    """U+FFFD characters genuinely in the body (UTF-8 ``EF BF BD``), not produced by replacement."""
    return body.count(b"\xef\xbf\xbd") if codec.startswith("utf") else 0


def _tolerance(body: bytes) -> int:
    """How many bad bytes a right charset may still leave: a truncated tail, a stray byte."""
    return max(2, len(body) // 2000)


def _fits(body: bytes, family: str, utf8: tuple[str, str, int]) -> tuple[str, str, int] | None:
    """A clean (or nearly clean), plausible decoding with ``family``, or None when it is wrong."""
    utf8_ok = utf8[2] <= _tolerance(body)
    if family == "utf-8":
        return utf8 if utf8_ok else None
    if utf8_ok:
        return None  # non-ASCII bytes that read as UTF-8 under another label: the label is wrong
    decoded = _attempt(body, family)
    if decoded[2] > _tolerance(body):
        return None
    if family in _SINGLE_BYTE:
        # A Latin label over double-byte Chinese decodes "cleanly" into gibberish: only accept it
        # when neither GB18030 nor Big5 reads the body as plausible Chinese.
        for other in (_GB, _BIG5):
            alt = _attempt(body, other)
            if alt[2] <= _tolerance(body) and plausibility(alt[0]) >= PLAUSIBLE:
                return None
        return decoded
    return decoded if plausibility(decoded[0]) >= PLAUSIBLE else None


def _detect(body: bytes) -> tuple[str, str, int] | None:
    """Best guess without a usable declaration: GB18030 or Big5 by plausibility, else charset-normalizer."""
    scored = []
    for family in (_GB, _BIG5):
        decoded = _attempt(body, family)
        if decoded[2] <= _tolerance(body):
            scored.append((plausibility(decoded[0]), decoded))
    if scored:
        score, decoded = max(scored, key=lambda item: item[0])
        if score >= PLAUSIBLE:
            return decoded
    from charset_normalizer import from_bytes  # imported lazily: rarely needed and slow to import

    best = from_bytes(body[:65536]).best()
    if best is None:
        return None
    decoded = _attempt(body, charset_label(best.encoding) or best.encoding)
    return decoded if decoded[2] <= _tolerance(body) else None


def decode_body(body: bytes, headers: dict[str, str] | None = None, url: str | None = None) -> Decoded:
    """Decode a response body to text. Never raises: bad bytes are replaced and counted.

    ``url`` is accepted for callers' logging symmetry; the decision rests on bytes and headers.
    """
    if not body:
        return Decoded("", "utf-8", "empty", True)
    for bom, codec in _BOMS:
        if body.startswith(bom):
            text = body.decode(codec, errors="replace")
            replaced = text.count("\ufffd") - _literal_replacements(body, codec)
            return Decoded(text, codec.replace("-sig", ""), "bom", replaced == 0, replaced)

    declared_header = charset_label(header_charset(headers))
    declared_meta = charset_label(meta_charset(body))
    declared = declared_header or declared_meta

    if not _NON_ASCII.search(body):
        codec = declared if declared and declared not in ("utf-16", "utf-32") else "utf-8"
        text = body.decode("ascii")  # ASCII decodes the same under every ASCII-compatible label
        return Decoded(
            text, codec, "header" if declared_header else "meta" if declared_meta else "detected", True
        )

    utf8 = _attempt(body, "utf-8")
    for family, how in ((declared_header, "header"), (declared_meta, "meta")):
        if family:
            found = _fits(body, family, utf8)
            if found is not None:
                text, codec, replaced = found
                return Decoded(text, codec, how, replaced == 0, replaced, declared)
    if utf8[2] <= _tolerance(body):
        text, codec, replaced = utf8
        return Decoded(text, codec, "detected", declared is None and replaced == 0, replaced, declared)
    detected = _detect(body)
    if detected is not None:
        text, codec, replaced = detected
        return Decoded(text, codec, "detected", declared is None and replaced == 0, replaced, declared)
    text, codec, replaced = _attempt(body, declared or _GB)
    return Decoded(text, codec, "fallback", False, replaced, declared)

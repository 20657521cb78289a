"""Recognising the same page and the same text: URL keys, body hashes and MinHash.

* A URL's key is the SHA-256 of its canonical form (w3lib: lower-case scheme and host, sorted
  query, no fragment; plus: default ports and tracking parameters such as ``utm_*``, ``spm`` or
  WeChat's ``from=timeline`` dropped), so one page reached through several spellings is one page.
* A body's identity is the SHA-256 of its raw bytes: a known URL gets a new Capture only when it
  changes.
* Near-duplicate texts (one ad reposted with small edits) share most of their character
  3-grams. A MinHash (datasketch, 64 permutations) of the normalised text is cut into 16 bands
  of 4 values; each band's hash is a ``SimhashBand`` row, so a lookup on (band, value) finds
  every earlier document that agrees on a whole band (Jaccard 0.5 gives a ~65% chance per pair,
  0.7 gives ~98%). Candidates are confirmed with a 64-bit fingerprint kept in
  ``Document.simhash``: one bit of each MinHash value ("b-bit minwise hashing"), whose Hamming
  distance estimates the Jaccard similarity without loading the candidate's text.

Why MinHash and not SimHash with "Hamming distance ≤ 3": measured on 130-character ads,
changing only the WeChat id and phone number moved a 64-bit SimHash by 7-10 bits, a
changed price or city by 6; ≤ 3 holds for long pages, not for the short ads this tool sees.
MinHash's Jaccard estimate degrades gracefully (those reposts keep Jaccard 0.6-0.9).
Digit runs are folded to one symbol before shingling, since reposts change numbers first.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np
from datasketch import MinHash
from w3lib.url import canonicalize_url

NUM_PERM = 64
BANDS = 16
ROWS = 4  # MinHash values per band
MIN_JACCARD = 0.5  # near-duplicates share at least half their 3-grams
# b-bit check: equal bits = J + (1 - J) / 2, so J >= 0.5 expects <= 16 of 64 bits to differ.
MAX_FINGERPRINT_DISTANCE = 18
SHINGLE = 3
HEAD_CHARS, TAIL_CHARS = 1500, 500  # long texts are shingled on their head and tail only
MIN_HASH_CHARS = 20  # shorter texts are too short to call anything their near-duplicate
_SEED = 20261101
_SCHEME = "affine32"

TRACKING_PARAMS = frozenset({
    "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "utm_id", "gclid", "fbclid",
    "msclkid", "yclid", "spm", "scm", "spm_id_from", "share_token", "share_source", "share_medium",
    "share_from", "sharer_shareid", "sharer_sharetime", "isappinstalled", "wxshare_count", "vd_source",
    "_hsenc", "_hsmi", "mc_cid", "mc_eid",
})  # fmt: skip
# WeChat appends from=timeline/singlemessage/groupmessage to shared links; other "from" values may matter.
_WECHAT_FROM = frozenset({"timeline", "singlemessage", "groupmessage"})
_DEFAULT_PORTS = {"http": "80", "https": "443"}
_TEXT_KEEP = re.compile(r"[0-9a-z\u3400-\u9fff\uf900-\ufaff\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]+")
_NEEDS_NFKC = re.compile(r"[\uf900-\ufaff\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")


def canonical_url(url: str) -> str:
    """The canonical spelling of ``url``; unparseable input comes back stripped, unchanged."""
    url = url.strip()
    try:
        canonical = canonicalize_url(url, keep_fragments=False)
        parts = urlsplit(canonical)
    except ValueError:
        return url
    netloc = parts.netloc
    host, _, port = netloc.rpartition(":")
    if host and _DEFAULT_PORTS.get(parts.scheme) == port:
        netloc = host
    query = parts.query
    if query:
        pairs = [
            (k, v)
            for k, v in parse_qsl(query, keep_blank_values=True)
            if k.lower() not in TRACKING_PARAMS and not (k == "from" and v in _WECHAT_FROM)
        ]
        query = urlencode(pairs)
    return urlunsplit((parts.scheme, netloc, parts.path or "/", query, ""))


def url_key(url: str) -> str:
    """SHA-256 (hex) of the canonical URL: the identity of a page across spellings."""
    return hashlib.sha256(canonical_url(url).encode("utf-8", "surrogatepass")).hexdigest()


def body_sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


_DIGITS = re.compile(r"[0-9]+")


def normalise_for_hash(text: str) -> str:
    """Letters, ideographs and folded digit runs, NFKC-folded and lower-cased: what reposts keep."""
    if len(text) > 2 * (HEAD_CHARS + TAIL_CHARS):
        text = text[: 2 * HEAD_CHARS] + text[-2 * TAIL_CHARS :]
    kept = "".join(_TEXT_KEEP.findall(text.lower()))
    if _NEEDS_NFKC.search(kept):  # NFKC is slow: only for the rare full-width or compatibility forms
        kept = "".join(_TEXT_KEEP.findall(unicodedata.normalize("NFKC", kept).lower()))
    kept = _DIGITS.sub("0", kept)
    if len(kept) > HEAD_CHARS + TAIL_CHARS:
        kept = kept[:HEAD_CHARS] + kept[-TAIL_CHARS:]
    return kept


@dataclass(frozen=True)
class TextSignature:
    """What grouping needs of a text: its band hashes and its 64-bit fingerprint (signed, for BIGINT)."""

    bands: tuple[int, ...]
    fingerprint: int


_PERMUTATIONS: Any = None


def _permutations() -> Any:
    global _PERMUTATIONS
    if _PERMUTATIONS is None:
        _PERMUTATIONS = MinHash(num_perm=NUM_PERM, seed=_SEED, scheme=_SCHEME).permutations
    return _PERMUTATIONS


def _shingles(normalised: str) -> list[int]:
    """Distinct character 3-grams as 64-bit integers (code points packed 21 bits each)."""
    cp = np.frombuffer(normalised.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    grams = (cp[:-2] << np.uint64(42)) | (cp[1:-1] << np.uint64(21)) | cp[2:]
    mixed = np.unique(grams) * np.uint64(0x9E3779B97F4A7C15) >> np.uint64(32)
    return mixed.tolist()


def text_signature(text: str) -> TextSignature | None:
    """The MinHash bands and fingerprint of a text, or None when it is too short to compare."""
    normalised = normalise_for_hash(text)
    if len(normalised) < MIN_HASH_CHARS:
        return None
    minhash = MinHash(
        num_perm=NUM_PERM, seed=_SEED, hashfunc=int, permutations=_permutations(), scheme=_SCHEME
    )
    minhash.update_batch(_shingles(normalised))
    values = [int(v) for v in minhash.hashvalues]
    band_values = []
    for band in range(BANDS):
        row = values[band * ROWS : (band + 1) * ROWS]
        digest = hashlib.blake2b(repr(row).encode(), digest_size=4).digest()
        band_values.append(int.from_bytes(digest, "big") & 0x7FFFFFFF)  # fits a signed INTEGER
    fingerprint = 0
    for i, value in enumerate(values):
        fingerprint |= (value & 1) << i
    return TextSignature(tuple(band_values), to_signed(fingerprint))


def to_signed(value: int) -> int:
    return value - (1 << 64) if value >= (1 << 63) else value


def to_unsigned(value: int) -> int:
    return value + (1 << 64) if value < 0 else value


_BITS64 = (1 << 64) - 1


def fingerprint_distance(a: int, b: int) -> int:
    """Differing bits of two fingerprints, signed or not (two's complement: masking the XOR suffices)."""
    return ((a ^ b) & _BITS64).bit_count()


def estimated_jaccard(a: int, b: int) -> float:
    """Jaccard similarity estimated from two 1-bit MinHash fingerprints."""
    return max(0.0, 1.0 - 2.0 * fingerprint_distance(a, b) / NUM_PERM)


def near(a: int, b: int) -> bool:
    """Whether two fingerprints belong to near-duplicate texts."""
    return fingerprint_distance(a, b) <= MAX_FINGERPRINT_DISTANCE

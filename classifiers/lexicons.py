"""Load the curated lexicons of ``lexicons/`` and find their terms in normalised text.

Terms are matched by :class:`TermTable` — one hashed lookup of every window per term length,
vectorised over a whole batch of texts — so the cost does not grow with the number of terms
(an Aho-Corasick automaton does the same job but is several times slower on Chinese text here,
see the class). The few claims a list cannot hold (rates, prices, phone numbers, course lengths)
are one combined regular expression from ``patterns.tsv``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from lexicons import LEXICON_DIR

# Which label each lexicon category feeds: its hits are shown as evidence for that label.
CATEGORY_LABEL: dict[str, str | None] = {
    "guarantee": "false_promise",
    "absolute": "false_promise",
    "efficacy": "false_promise",
    "comparison": "false_promise",
    "testimonial": "false_promise",
    "training": "training_pitch",
    "procedures": "medical_ad",
    "drugs_devices": "medical_ad",
    "unapproved": "unapproved_product",
    "venues": "unlicensed_practice",
    "anxiety": "appearance_anxiety",
    "contact": "disguised_ad",
    "calls_to_action": "disguised_ad",
    "disguise_frames": "disguised_ad",
    "warning_frames": None,
    "beauty_nonmedical": None,
    "qualifications": None,
}
CATEGORIES: tuple[str, ...] = tuple(CATEGORY_LABEL)

# Evidence shown for a label: hits of these categories (beyond the category's own label).
EVIDENCE_CATEGORIES: dict[str, tuple[str, ...]] = {
    "medical_ad": ("procedures", "drugs_devices", "contact", "calls_to_action", "qualifications"),
    "disguised_ad": ("disguise_frames", "calls_to_action", "contact"),
    "false_promise": ("guarantee", "absolute", "efficacy", "comparison", "testimonial"),
    "training_pitch": ("training",),
    "unapproved_product": ("unapproved",),
    "unlicensed_practice": ("venues",),
    "appearance_anxiety": ("anxiety",),
}

# Categories whose terms the normaliser also recognises when written partly in pinyin.
EVASION_TARGET_CATEGORIES = frozenset(
    {
        "guarantee",
        "efficacy",
        "training",
        "procedures",
        "drugs_devices",
        "unapproved",
        "venues",
        "anxiety",
        "contact",
        "calls_to_action",
    }
)

REQUIRED_HEADER = ("holds", "source", "label")


@dataclass(frozen=True)
class Lexicon:
    category: str
    terms: tuple[str, ...]
    header: dict[str, str]
    path: Path


@dataclass(frozen=True)
class Pattern:
    name: str
    category: str
    regex: str


@dataclass(frozen=True, slots=True)
class Hit:
    """A lexicon or pattern hit in normalised text: ``[start, end)`` in normalised offsets."""

    start: int
    end: int
    category: str
    rule: str  # "lexicon:<category>" or "pattern:<name>"


def parse_header(path: Path, lines: list[str]) -> dict[str, str]:
    header: dict[str, str] = {}
    for line in lines:
        if not line.startswith("#"):
            break
        key, sep, value = line[1:].partition(":")
        if sep:
            header[key.strip()] = value.strip()
    missing = [k for k in REQUIRED_HEADER if k not in header]
    if missing:
        raise ValueError(
            f"{path}: header lacks {', '.join(missing)} (each lexicon says what, where from, which label)"
        )
    return header


def read_lexicon(path: Path) -> Lexicon:
    lines = path.read_text(encoding="utf-8").splitlines()
    header = parse_header(path, lines)
    terms = [ln.strip().lower() for ln in lines if ln.strip() and not ln.startswith("#")]
    return Lexicon(category=path.stem, terms=tuple(dict.fromkeys(terms)), header=header, path=path)


def read_table(path: Path) -> list[tuple[str, ...]]:
    """A TSV table with a lexicon header: its rows as tuples."""
    lines = path.read_text(encoding="utf-8").splitlines()
    parse_header(path, lines)
    return [tuple(ln.split("\t")) for ln in lines if ln.strip() and not ln.startswith("#")]


def data_files(directory: Path = LEXICON_DIR) -> list[Path]:
    """Every data file of a lexicon directory: term lists and tables (what a model version copies)."""
    return sorted(p for p in directory.iterdir() if p.suffix in (".txt", ".tsv") and p.is_file())


def data_sha256(directory: Path = LEXICON_DIR) -> str:
    """One digest over the names and bytes of the directory's data files."""
    digest = hashlib.sha256()
    for path in data_files(directory):
        digest.update(path.name.encode("utf-8") + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@lru_cache(maxsize=4)
def load_lexicons(directory: Path = LEXICON_DIR) -> dict[str, Lexicon]:
    """Every term list of CATEGORIES, keyed by category."""
    out = {}
    for category in CATEGORIES:
        out[category] = read_lexicon(directory / f"{category}.txt")
    return out


@lru_cache(maxsize=4)
def load_patterns(directory: Path = LEXICON_DIR) -> tuple[Pattern, ...]:
    rows = read_table(directory / "patterns.tsv")
    patterns = tuple(Pattern(name, category, regex) for name, category, regex in rows)
    for p in patterns:
        if p.category not in CATEGORY_LABEL:
            raise ValueError(f"patterns.tsv: pattern {p.name} names unknown category {p.category}")
        re.compile(p.regex)
    return patterns


def _first_chars(parsed: Any) -> tuple[set[str], bool] | None:
    """The characters a parsed regex can start with, and whether it can match empty.

    None when the regex uses a construct this does not follow (the caller then skips the
    optimisation). Uses the standard library's regex parser, as ``re`` itself does.
    """
    import re._constants as c

    first: set[str] = set()
    for op, arg in parsed:
        if op is c.LITERAL:
            return first | {chr(arg)}, False
        if op is c.IN:
            chars: set[str] = set()
            for item_op, item in arg:
                if item_op is c.LITERAL:
                    chars.add(chr(item))
                elif item_op is c.RANGE:
                    chars.update(chr(x) for x in range(item[0], item[1] + 1))
                elif item_op is c.CATEGORY and item is c.CATEGORY_DIGIT:
                    chars.update("0123456789")
                elif item_op is c.CATEGORY and item is c.CATEGORY_SPACE:
                    chars.update(" \t\n\r\f\v\u3000")
                else:
                    return None
            return first | chars, False
        if op is c.BRANCH:
            nullable = False
            for branch in arg[1]:
                sub = _first_chars(branch)
                if sub is None:
                    return None
                first |= sub[0]
                nullable |= sub[1]
            if not nullable:
                return first, False
        elif op is c.SUBPATTERN:
            sub = _first_chars(arg[-1])
            if sub is None:
                return None
            first |= sub[0]
            if not sub[1]:
                return first, False
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT):
            sub = _first_chars(arg[2])
            if sub is None:
                return None
            first |= sub[0]
            if arg[0] > 0 and not sub[1]:
                return first, False
        elif op in (c.ASSERT, c.ASSERT_NOT, c.AT):
            continue
        else:
            return None
    return first, True


def _lookahead(patterns: tuple[Pattern, ...]) -> str:
    """``(?=[…])`` on every character a pattern match can start with ("" if unknown)."""
    import re._parser

    chars: set[str] = set()
    for p in patterns:
        got = _first_chars(re._parser.parse(p.regex))
        if got is None or got[1]:
            return ""
        chars |= got[0]
    return "(?=[" + "".join(re.escape(ch) for ch in sorted(chars)) + "])"


UNICODE_SIZE = 0x110000
HASH_BASE = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit multiplier; arithmetic wraps mod 2**64


def text_codes(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The code points of ``texts`` joined by NUL, and where each text starts (plus the end)."""
    joined = "\x00".join(texts)
    codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    lengths = np.fromiter((len(t) + 1 for t in texts), dtype=np.int64, count=len(texts))
    return codes, np.concatenate(([0], np.cumsum(lengths)))


class TermTable:
    """Exact multi-term matching by hashing every window of each term length at once.

    For each length that some term has (2 to ~10), the windows whose first and last characters
    can begin and end such a term are hashed with numpy and looked up in the sorted hashes of the
    terms; the few hits are then compared character by character. All occurrences, overlapping,
    in a whole batch of texts, with a dozen numpy calls per length. On Chinese text this is about
    ten times faster than pyahocorasick, whose root node has hundreds of children.
    """

    def __init__(self, terms: list[str]) -> None:
        self.terms = terms
        self._by_length = []
        for length in sorted({len(t) for t in terms}):
            ids = np.array([i for i, t in enumerate(terms) if len(t) == length], dtype=np.int64)
            hashes = np.array([self._hash_str(terms[i]) for i in ids], dtype=np.uint64)
            order = np.argsort(hashes, kind="stable")
            first = np.zeros(UNICODE_SIZE, dtype=bool)
            last = np.zeros(UNICODE_SIZE, dtype=bool)
            first[[ord(terms[i][0]) for i in ids]] = True
            last[[ord(terms[i][-1]) for i in ids]] = True
            codes = np.array([[ord(c) for c in terms[i]] for i in ids[order]], dtype=np.uint32)
            self._by_length.append((length, hashes[order], ids[order], codes, first, last))

    @staticmethod
    def _hash_str(term: str) -> int:
        h = 0
        for ch in term:
            h = (h * int(HASH_BASE) + ord(ch)) % (1 << 64)
        return h

    def find(self, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(start positions, term ids) of every occurrence in ``codes``, ordered by length then hash."""
        starts, found = [], []
        wide = codes.astype(np.uint64)
        n = len(codes)
        with np.errstate(over="ignore"):
            for length, hashes, ids, term_codes, first, last in self._by_length:
                m = n - length + 1
                if m <= 0:
                    continue
                at = np.flatnonzero(first[codes[:m]] & last[codes[length - 1 : length - 1 + m]])
                if not at.size:
                    continue
                h = wide[at]
                for k in range(1, length):
                    h = h * HASH_BASE + wide[at + k]
                pos = np.searchsorted(hashes, h)
                pos[pos == len(hashes)] = 0
                hit = np.flatnonzero(hashes[pos] == h)
                if not hit.size:
                    continue
                at, pos = at[hit], pos[hit]
                window = codes[at[:, None] + np.arange(length)]
                same = (window == term_codes[pos]).all(axis=1)  # rule out hash collisions
                starts.append(at[same])
                found.append(ids[pos[same]])
        if not starts:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate(starts), np.concatenate(found)


class LexiconMatcher:
    """Finds every lexicon term (overlapping) and pattern in normalised text."""

    def __init__(self, directory: Path = LEXICON_DIR) -> None:
        self.categories = CATEGORIES
        self.category_index = {c: i for i, c in enumerate(CATEGORIES)}
        by_term: dict[str, list[int]] = {}
        for category, lexicon in load_lexicons(directory).items():
            for term in lexicon.terms:
                if len(term) < 2:
                    raise ValueError(
                        f"{lexicon.path}: term {term!r} is a single character: too ambiguous to list"
                    )
                by_term.setdefault(term, []).append(self.category_index[category])
        self.terms = sorted(by_term)
        self.term_categories = [tuple(by_term[t]) for t in self.terms]
        self._term_matrix = np.zeros((len(self.terms), len(CATEGORIES)), dtype=np.int64)
        for t, cats in enumerate(self.term_categories):
            self._term_matrix[t, list(cats)] = 1
        self._table = TermTable(self.terms)
        self.patterns = load_patterns(directory)
        alternatives = "|".join(f"(?P<{p.name}>{p.regex})" for p in self.patterns)
        # Most positions can start no pattern: a look-ahead on the possible first characters lets
        # the regex engine skip them at C speed (several times faster on ad text).
        self._pattern_re = re.compile(f"{_lookahead(self.patterns)}(?:{alternatives})")
        self._pattern_category = {p.name: self.category_index[p.category] for p in self.patterns}

    def counts_batch(self, texts: list[str]) -> np.ndarray:
        """Hits per category (columns in CATEGORIES order) for each text: the lexicon features."""
        counts = np.zeros((len(texts), len(CATEGORIES)), dtype=np.int64)
        if not texts:
            return counts
        codes, bounds = text_codes(texts)
        starts, terms = self._table.find(codes)
        if starts.size:
            rows = np.searchsorted(bounds, starts, side="right") - 1
            np.add.at(counts, rows, self._term_matrix[terms])
        pattern_category = self._pattern_category
        for row, text in enumerate(texts):
            for m in self._pattern_re.finditer(text):
                counts[row, pattern_category[m.lastgroup]] += 1
        return counts

    def counts(self, text: str) -> list[int]:
        return self.counts_batch([text])[0].tolist()

    def hits(self, text: str) -> list[Hit]:
        """Every hit in ``text`` with its position, for evidence."""
        return self.hits_batch([text])[0]

    def hits_batch(self, texts: list[str]) -> list[list[Hit]]:
        """Every hit of each text, positions relative to that text."""
        out: list[list[Hit]] = [[] for _ in texts]
        if not texts:
            return out
        cats = self.categories
        codes, bounds = text_codes(texts)
        starts, terms = self._table.find(codes)
        rows = np.searchsorted(bounds, starts, side="right") - 1
        for row, start, t in zip(rows.tolist(), starts.tolist(), terms.tolist(), strict=True):
            local = start - int(bounds[row])
            end = local + len(self.terms[t])
            for c in self.term_categories[t]:
                out[row].append(Hit(local, end, cats[c], f"lexicon:{cats[c]}"))
        for row, text in enumerate(texts):
            for m in self._pattern_re.finditer(text):
                name = m.lastgroup
                out[row].append(
                    Hit(m.start(), m.end(), cats[self._pattern_category[name]], f"pattern:{name}")
                )
        return out

"""Load the curated lexicons of ``lexicons/`` and find their terms in normalised text.

Terms are matched with one Aho-Corasick automaton (pyahocorasick), so the cost does not grow
with the number of terms; the few claims a list cannot hold (rates, prices, phone numbers,
course lengths) are one combined regular expression from ``patterns.tsv``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import ahocorasick

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
        raise ValueError(f"{path}: header lacks {', '.join(missing)} (each lexicon says what, where from, which label)")
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


@lru_cache(maxsize=1)
def load_lexicons(directory: Path = LEXICON_DIR) -> dict[str, Lexicon]:
    """Every term list of CATEGORIES, keyed by category."""
    out = {}
    for category in CATEGORIES:
        out[category] = read_lexicon(directory / f"{category}.txt")
    return out


@lru_cache(maxsize=1)
def load_patterns(directory: Path = LEXICON_DIR) -> tuple[Pattern, ...]:
    rows = read_table(directory / "patterns.tsv")
    patterns = tuple(Pattern(name, category, regex) for name, category, regex in rows)
    for p in patterns:
        if p.category not in CATEGORY_LABEL:
            raise ValueError(f"patterns.tsv: pattern {p.name} names unknown category {p.category}")
        re.compile(p.regex)
    return patterns


class LexiconMatcher:
    """Finds every lexicon term (overlapping) and pattern in normalised text in one pass each."""

    def __init__(self, directory: Path = LEXICON_DIR) -> None:
        self.categories = CATEGORIES
        self.category_index = {c: i for i, c in enumerate(CATEGORIES)}
        by_term: dict[str, list[int]] = {}
        for category, lexicon in load_lexicons(directory).items():
            for term in lexicon.terms:
                by_term.setdefault(term, []).append(self.category_index[category])
        automaton = ahocorasick.Automaton()
        for term, cats in by_term.items():
            automaton.add_word(term, (len(term), tuple(cats)))
        automaton.make_automaton()
        self._automaton = automaton
        self.patterns = load_patterns(directory)
        self._pattern_re = re.compile("|".join(f"(?P<{p.name}>{p.regex})" for p in self.patterns))
        self._pattern_category = {p.name: self.category_index[p.category] for p in self.patterns}

    def counts(self, text: str) -> list[int]:
        """Hits per category (index = position in CATEGORIES): the model's lexicon features."""
        counts = [0] * len(self.categories)
        for _end, (_length, cats) in self._automaton.iter(text):
            for c in cats:
                counts[c] += 1
        for m in self._pattern_re.finditer(text):
            counts[self._pattern_category[m.lastgroup]] += 1
        return counts

    def hits(self, text: str) -> list[Hit]:
        """Every hit with its position, for evidence."""
        out = []
        cats = self.categories
        for end, (length, cat_ids) in self._automaton.iter(text):
            for c in cat_ids:
                out.append(Hit(end - length + 1, end + 1, cats[c], f"lexicon:{cats[c]}"))
        for m in self._pattern_re.finditer(text):
            name = m.lastgroup
            out.append(Hit(m.start(), m.end(), cats[self._pattern_category[name]], f"pattern:{name}"))
        return out

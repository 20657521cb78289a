"""Text → features: character n-grams of the normalised text plus lexicon hits.

Speed decides the shape of this module (``adwatch classify`` must read ~1,000 documents a
second on one core, start-up included). N-grams are never sliced out one by one in Python:
a batch of texts becomes one array of code points, every 1-, 2- and 3-gram becomes one 63-bit
integer key (21 bits per character), and the vocabulary is found with ``np.searchsorted`` —
a handful of numpy calls per batch instead of a thousand dictionary lookups per document.

An n-gram's value is its presence divided by sqrt(text length): it does not depend on which
other n-grams the vocabulary kept, so the vocabulary can be pruned after training without
changing the features of the n-grams that stay.

Lexicon features are log(1 + hits) per category plus combinations that carry the labelling rules
(a disguise frame with a price or contact path, a venue with a procedure, …). They survive
paraphrase where n-grams do not: that keeps the model robust on text unlike its corpus.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from classifiers.lexicons import CATEGORIES, LexiconMatcher

NGRAM_SIZES = (1, 2, 3)
BITS = 21  # every Unicode code point fits in 21 bits; three fit in one uint64
UNICODE_SIZE = 0x110000
# Combinations of categories (all groups present) that carry the labelling rules.
INTERACTIONS: dict[str, tuple[tuple[str, ...], ...]] = {
    "frame+call": (("disguise_frames",), ("calls_to_action", "contact")),
    "frame+procedure": (("disguise_frames",), ("procedures", "drugs_devices")),
    "venue+procedure": (("venues",), ("procedures", "drugs_devices")),
    "training+procedure": (("training",), ("procedures", "drugs_devices")),
    "unapproved+procedure": (("unapproved",), ("procedures", "drugs_devices")),
    "promise+procedure": (
        ("guarantee", "efficacy", "absolute", "comparison", "testimonial"),
        ("procedures", "drugs_devices"),
    ),
    "anxiety+procedure": (("anxiety",), ("procedures", "drugs_devices")),
    "warning+promise": (("warning_frames",), ("guarantee", "efficacy", "absolute")),
    "warning+call": (("warning_frames",), ("calls_to_action", "contact")),
    "procedure+call": (("procedures", "drugs_devices"), ("calls_to_action", "contact")),
    # a frame that names a procedure and gives a way to buy it: the core of disguised_ad
    "frame+procedure+call": (
        ("disguise_frames",),
        ("procedures", "drugs_devices"),
        ("calls_to_action", "contact"),
    ),
    "frame+contact": (("disguise_frames",), ("contact",)),
    "venue+call": (("venues",), ("calls_to_action", "contact")),
    "venue+procedure+call": (("venues",), ("procedures", "drugs_devices"), ("calls_to_action", "contact")),
    "unapproved+call": (("unapproved",), ("calls_to_action", "contact")),
    "anxiety+call": (("anxiety",), ("calls_to_action", "contact")),
    "promise+call": (("guarantee", "efficacy", "absolute", "comparison"), ("calls_to_action", "contact")),
    # warnings, complaints and news quote violating copy: these let the model discount it
    "warning+training": (("warning_frames",), ("training",)),
    "warning+unapproved": (("warning_frames",), ("unapproved",)),
    "warning+venue": (("warning_frames",), ("venues",)),
    "warning+anxiety": (("warning_frames",), ("anxiety",)),
}
LEXICON_FEATURES: tuple[str, ...] = tuple(f"lex:{c}" for c in CATEGORIES) + tuple(
    f"and:{k}" for k in INTERACTIONS
)


def iter_ngrams(text: str, sizes: Sequence[int] = NGRAM_SIZES) -> set[str]:
    """The distinct character n-grams of ``text`` (training-time vocabulary building)."""
    out: set[str] = set()
    n_chars = len(text)
    for n in sizes:
        out.update(text[i : i + n] for i in range(n_chars - n + 1))
    return {g for g in out if g and not g.isspace() and "\x00" not in g}


def build_vocabulary(texts: Iterable[str], min_df: int = 2, sizes: Sequence[int] = NGRAM_SIZES) -> list[str]:
    df: Counter[str] = Counter()
    for text in texts:
        df.update(iter_ngrams(text, sizes))
    return sorted(g for g, c in df.items() if c >= min_df)


def ngram_scale(text: str) -> float:
    return 1.0 / math.sqrt(max(len(text), 16))


def _distinct(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values. np.unique's hash path is ~40x slower on these arrays (numpy 2.4)."""
    values = np.sort(values)
    if values.size:
        keep = np.empty(values.size, dtype=bool)
        keep[0] = True
        np.not_equal(values[1:], values[:-1], out=keep[1:])
        values = values[keep]
    return values


@dataclass
class Batch:
    """Features of a batch of texts: the distinct n-gram columns of each text; lexicon values."""

    indptr: np.ndarray  # the columns of text i are columns[indptr[i]:indptr[i + 1]]
    columns: np.ndarray  # vocabulary columns, distinct and ascending within a text
    scales: np.ndarray  # the value of a present n-gram, per text
    lexicon: np.ndarray  # (texts, len(LEXICON_FEATURES))

    def row(self, i: int) -> np.ndarray:
        return self.columns[self.indptr[i] : self.indptr[i + 1]]


class FeatureExtractor:
    """Maps normalised texts to vocabulary n-gram columns and lexicon feature values."""

    def __init__(self, ngrams: Sequence[str], matcher: LexiconMatcher) -> None:
        self.ngrams = list(ngrams)
        self.matcher = matcher
        # Unigrams: a direct table over all code points. Longer n-grams: sorted integer keys,
        # searched only at positions whose characters can occur at those places of some n-gram.
        self._unigrams = np.full(UNICODE_SIZE, -1, dtype=np.int32)
        self._tables: list[tuple[int, np.ndarray, np.ndarray, list[np.ndarray]]] = []
        lengths = np.fromiter((len(g) for g in self.ngrams), dtype=np.int64, count=len(self.ngrams))
        for n in sorted(set(lengths.tolist())):
            cols = np.flatnonzero(lengths == n)
            chars = np.frombuffer(
                "".join(self.ngrams[i] for i in cols).encode("utf-32-le"), dtype=np.uint32
            ).reshape(-1, n)
            if n == 1:
                self._unigrams[chars[:, 0]] = cols
                continue
            keys = np.zeros(len(cols), dtype=np.uint64)
            allowed = []
            for k in range(n):
                keys = (keys << np.uint64(BITS)) | chars[:, k].astype(np.uint64)
                mask = np.zeros(UNICODE_SIZE, dtype=bool)
                mask[chars[:, k]] = True
                allowed.append(mask)
            order = np.argsort(keys, kind="stable")
            self._tables.append((n, keys[order], cols[order], allowed))
        cat_index = {c: i for i, c in enumerate(CATEGORIES)}
        self._interactions = [
            tuple(tuple(cat_index[c] for c in group) for group in groups) for groups in INTERACTIONS.values()
        ]

    def lexicon_values(self, texts: Sequence[str]) -> np.ndarray:
        """log(1 + hits) per category, then 0/1 per interaction, for each text."""
        counts = self.matcher.counts_batch(list(texts))
        present = counts > 0
        combos = [
            np.logical_and.reduce([present[:, list(group)].any(axis=1) for group in groups])
            for groups in self._interactions
        ]
        return (
            np.hstack([np.log1p(counts), np.column_stack(combos).astype(np.float64)])
            if len(texts)
            else np.zeros((0, len(LEXICON_FEATURES)))
        )

    def extract(self, texts: Sequence[str]) -> Batch:
        n_texts = len(texts)
        lexicon = self.lexicon_values(texts)
        scales = np.array([ngram_scale(t) for t in texts])
        empty = np.zeros(0, dtype=np.int64)
        if not self.ngrams or not n_texts:
            return Batch(np.zeros(n_texts + 1, dtype=np.int64), empty, scales, lexicon)
        joined = "\x00".join(texts)  # NUL is in no n-gram, so no n-gram spans two texts
        codes32 = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        lengths = np.fromiter((len(t) + 1 for t in texts), dtype=np.int64, count=n_texts)
        bounds = np.concatenate(([0], np.cumsum(lengths)))
        uni = self._unigrams[codes32]
        found = np.flatnonzero(uni >= 0)
        positions, columns = [found], [uni[found].astype(np.int64)]
        codes = codes32.astype(np.uint64)
        for n, keys, cols, allowed in self._tables:
            m = len(codes) - n + 1
            if m <= 0:
                continue
            candidate = allowed[0][codes32[:m]]
            for k in range(1, n):
                candidate &= allowed[k][codes32[k : k + m]]
            at = np.flatnonzero(candidate)
            grams = codes[at]
            for k in range(1, n):
                grams = (grams << np.uint64(BITS)) | codes[at + k]
            pos = np.searchsorted(keys, grams)
            pos[pos == len(keys)] = 0
            hit = keys[pos] == grams
            positions.append(at[hit])
            columns.append(cols[pos[hit]])
        # presence, not counts: a text that repeats itself must not get huge feature values
        width = len(self.ngrams)
        rows = np.searchsorted(bounds, np.concatenate(positions), side="right") - 1
        pairs = _distinct(rows * width + np.concatenate(columns))
        indptr = np.searchsorted(pairs, np.arange(n_texts + 1) * width)
        return Batch(indptr, pairs % width, scales, lexicon)

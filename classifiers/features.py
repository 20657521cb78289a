"""Text → features: character n-grams of the normalised text plus lexicon hits.

N-grams are matched with an Aho-Corasick automaton over the model's vocabulary, so extraction
is one C-speed scan per document instead of a Python loop over every slice. An n-gram's value
is its presence divided by sqrt(text length) — a value that does not depend on which other
n-grams the vocabulary kept, so the vocabulary can be pruned after training without changing
the features of the n-grams that stay.

Lexicon features are log(1 + hits) per category plus a few combinations that carry the
labelling rules (a disguise frame with a price or contact path, a venue with a procedure, …).
They survive paraphrase where n-grams do not, which is what keeps the model robust.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence

import ahocorasick

from classifiers.lexicons import CATEGORIES, LexiconMatcher

NGRAM_SIZES = (1, 2, 3)
# Combinations of categories (all must be present) that carry the labelling rules.
INTERACTIONS: dict[str, tuple[tuple[str, ...], ...]] = {
    "frame+call": (("disguise_frames",), ("calls_to_action", "contact")),
    "frame+procedure": (("disguise_frames",), ("procedures", "drugs_devices")),
    "venue+procedure": (("venues",), ("procedures", "drugs_devices")),
    "training+procedure": (("training",), ("procedures", "drugs_devices")),
    "unapproved+procedure": (("unapproved",), ("procedures", "drugs_devices")),
    "promise+procedure": (("guarantee", "efficacy", "absolute", "comparison", "testimonial"), ("procedures", "drugs_devices")),
    "anxiety+procedure": (("anxiety",), ("procedures", "drugs_devices")),
    "warning+promise": (("warning_frames",), ("guarantee", "efficacy", "absolute")),
    "warning+call": (("warning_frames",), ("calls_to_action", "contact")),
    "procedure+call": (("procedures", "drugs_devices"), ("calls_to_action", "contact")),
}
LEXICON_FEATURES: tuple[str, ...] = tuple(f"lex:{c}" for c in CATEGORIES) + tuple(f"and:{k}" for k in INTERACTIONS)


def iter_ngrams(text: str, sizes: Sequence[int] = NGRAM_SIZES) -> set[str]:
    """The distinct character n-grams of ``text`` (training-time vocabulary building)."""
    out: set[str] = set()
    n_chars = len(text)
    for n in sizes:
        out.update(text[i : i + n] for i in range(n_chars - n + 1))
    out.discard("")
    return {g for g in out if not g.isspace()}


def build_vocabulary(texts: Iterable[str], min_df: int = 2) -> list[str]:
    df: Counter[str] = Counter()
    for text in texts:
        df.update(iter_ngrams(text))
    return sorted(g for g, c in df.items() if c >= min_df)


def ngram_scale(text: str) -> float:
    return 1.0 / math.sqrt(max(len(text), 16))


class FeatureExtractor:
    """Maps a normalised text to (n-gram indices, lexicon feature values)."""

    def __init__(self, ngrams: Sequence[str], matcher: LexiconMatcher) -> None:
        self.ngrams = list(ngrams)
        self.matcher = matcher
        automaton = ahocorasick.Automaton()
        for i, gram in enumerate(self.ngrams):
            automaton.add_word(gram, i)
        if self.ngrams:
            automaton.make_automaton()
        self._automaton = automaton
        cat_index = {c: i for i, c in enumerate(CATEGORIES)}
        self._interactions = [
            tuple(tuple(cat_index[c] for c in group) for group in groups) for groups in INTERACTIONS.values()
        ]

    def ngram_indices(self, text: str) -> list[int]:
        if not self.ngrams:
            return []
        return list({i for _end, i in self._automaton.iter(text)})

    def ngram_positions(self, text: str) -> dict[int, int]:
        """First end position (inclusive) of each vocabulary n-gram: for evidence."""
        first: dict[int, int] = {}
        for end, i in self._automaton.iter(text):
            first.setdefault(i, end)
        return first

    def lexicon_values(self, text: str) -> list[float]:
        counts = self.matcher.counts(text)
        values = [math.log1p(c) for c in counts]
        for groups in self._interactions:
            values.append(1.0 if all(any(counts[c] for c in group) for group in groups) else 0.0)
        return values

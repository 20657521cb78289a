"""The classifier others call: text (and title) → labels, calibrated scores, evidence spans.

    clf = Classifier.load(settings)
    res = clf.classify(text, title=None)
    res.labels, res.scores, res.evidence, res.model, res.to_dict()

Evidence offsets point into the text *as given* (``text[start:end] == span.text``); spans
found in the title say ``field="title"`` and point into the title. Long texts are scored in
overlapping windows (the highest window score counts), so an ad buried at the end of a long
page is not diluted and evidence offsets stay exact.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from adwatch.labels import LABEL_IDS
from adwatch.settings import Settings
from classifiers.corpus import IMPLYING_LABELS
from classifiers.features import Batch, FeatureExtractor
from classifiers.lexicons import EVIDENCE_CATEGORIES, Hit, LexiconMatcher
from classifiers.model import ModelArtifact
from classifiers.normalize import Normalized, Normalizer
from lexicons import LEXICON_DIR

WINDOW = 1500  # normalised characters per window
WINDOW_STEP = 1200  # windows overlap by 300 characters so no claim is cut in two
MAX_LEXICON_SPANS = 8  # per label
MAX_MODEL_SPANS = 3  # per label
MAX_CHARS = 1_000_000  # longer texts are classified on their first million characters (and say so)


@dataclass(frozen=True, slots=True)
class EvidenceSpan:
    label: str
    start: int
    end: int
    text: str
    rule: str  # lexicon:<category> | pattern:<name> | model:ngram
    field: str = "text"  # "text" or "title": which input the offsets point into

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "rule": self.rule,
            "field": self.field,
        }


@dataclass
class ClassifierResult:
    labels: list[str]
    scores: dict[str, float]
    evidence: list[EvidenceSpan]
    model: str
    truncated: bool = False  # the text was longer than the bound; only its beginning was read

    def to_dict(self) -> dict[str, Any]:
        return {
            "labels": self.labels,
            "scores": self.scores,
            "evidence": [e.to_dict() for e in self.evidence],
            "model": self.model,
        }


@dataclass
class _Window:
    start: int  # in normalised text coordinates
    text: str  # title + "\n" + window text, normalised
    batch: Batch | None = None  # the features of the batch this window was scored in
    row: int = 0

    def columns(self) -> np.ndarray:
        """The distinct vocabulary n-grams of this window (for evidence)."""
        return self.batch.row(self.row) if self.batch is not None else np.zeros(0, dtype=np.int64)


@dataclass
class _Prepared:
    norm_title: Normalized | None
    norm_text: Normalized
    windows: list[_Window]
    truncated: bool


class Classifier:
    """A loaded model version with its normaliser and lexicon matcher."""

    def __init__(self, artifact: ModelArtifact, *, max_chars: int = MAX_CHARS) -> None:
        self.artifact = artifact
        self.version = artifact.version
        self.max_chars = max_chars
        lexicon_dir = artifact.lexicon_dir or LEXICON_DIR
        self.normalizer = Normalizer(lexicon_dir)
        self.matcher = LexiconMatcher(lexicon_dir)
        self.features = FeatureExtractor(artifact.ngrams, self.matcher)
        if list(artifact.labels) != list(LABEL_IDS):
            raise ValueError(
                f"model {artifact.version} has labels {artifact.labels}, expected {list(LABEL_IDS)}"
            )
        if list(artifact.lexicon_features) != list(_lexicon_feature_names()):
            raise ValueError(f"model {artifact.version} was trained with other lexicon features: retrain it")
        self._ngram_w = artifact.ngram_weights.astype(np.float64)
        self._lex_w = artifact.lexicon_weights.astype(np.float64)
        self._implying = np.array([label in IMPLYING_LABELS for label in LABEL_IDS])

    @classmethod
    def load(cls, settings: Settings, version: str | None = None) -> Classifier:
        """The model in use (or ``version``) for these settings."""
        from classifiers.versions import current_version, version_folder

        if version is None:
            _, folder = current_version(settings)
        else:
            folder = version_folder(settings, version)
        return cls(ModelArtifact.load(Path(folder)))

    # -- scoring -------------------------------------------------------------------------------

    def _prepare(self, text: str, title: str | None) -> _Prepared:
        text = text or ""
        truncated = len(text) > self.max_chars
        if truncated:
            text = text[: self.max_chars]
        norm_title = self.normalizer.normalize(title) if title else None
        norm_text = self.normalizer.normalize(text)
        prefix = f"{norm_title.text}\n" if norm_title and norm_title.text else ""
        windows = [
            _Window(start, prefix + norm_text.text[start : start + WINDOW])
            for start in _window_starts(len(norm_text.text))
        ]
        return _Prepared(norm_title, norm_text, windows, truncated)

    def _window_probabilities(self, windows: list[_Window]) -> np.ndarray:
        """Calibrated probabilities of many windows at once (a few numpy calls per batch)."""
        batch = self.features.extract([w.text for w in windows])
        raw = np.zeros((len(windows), len(LABEL_IDS)))
        nonempty = np.diff(batch.indptr) > 0
        if batch.columns.size:
            raw[nonempty] = np.add.reduceat(
                self._ngram_w.take(batch.columns, axis=0), batch.indptr[:-1][nonempty], axis=0
            )
        raw *= batch.scales[:, None]
        raw += batch.lexicon @ self._lex_w + self.artifact.bias
        for k, w in enumerate(windows):
            w.batch, w.row = batch, k
        return self.artifact.probabilities(raw)

    def classify(self, text: str, title: str | None = None) -> ClassifierResult:
        return self.classify_many([(text, title)])[0]

    def classify_many(
        self, items: Iterable[tuple[str, str | None]], batch: int = 256
    ) -> list[ClassifierResult]:
        results: list[ClassifierResult] = []
        chunk: list[_Prepared] = []
        for text, title in items:
            chunk.append(self._prepare(text, title))
            if len(chunk) >= batch:
                results.extend(self._finish(chunk))
                chunk = []
        if chunk:
            results.extend(self._finish(chunk))
        return results

    def _finish(self, prepared: list[_Prepared]) -> list[ClassifierResult]:
        windows = [w for p in prepared for w in p.windows]
        probs_all = self._window_probabilities(windows)
        decided = []
        k = 0
        for p in prepared:
            probs_w = probs_all[k : k + len(p.windows)]
            k += len(p.windows)
            best = probs_w.argmax(axis=0)
            probs = probs_w.max(axis=0)
            positive = probs >= self.artifact.thresholds
            if (positive & self._implying).any():
                positive[0] = True
            labels = [label for label, on in zip(LABEL_IDS, positive, strict=True) if on]
            scores = {label: round(float(x), 4) for label, x in zip(LABEL_IDS, probs, strict=True)}
            decided.append((p, labels, scores, best))
        # lexicon hits for the evidence of every flagged document, found in one batch
        texts = [
            t
            for p, labels, _s, _b in decided
            if labels
            for t in (p.norm_text.text, p.norm_title.text if p.norm_title else "")
        ]
        hits = iter(self.matcher.hits_batch(texts))
        out = []
        for p, labels, scores, best in decided:
            evidence = self._evidence(labels, p, best, next(hits), next(hits)) if labels else []
            out.append(
                ClassifierResult(
                    labels=labels, scores=scores, evidence=evidence, model=self.version, truncated=p.truncated
                )
            )
        return out

    # -- evidence ------------------------------------------------------------------------------

    def _evidence(
        self, labels: list[str], p: _Prepared, best: np.ndarray, text_hits: list[Hit], title_hits: list[Hit]
    ) -> list[EvidenceSpan]:
        norm_title, norm_text, windows = p.norm_title, p.norm_text, p.windows
        spans: list[EvidenceSpan] = []
        fields = [("text", norm_text)] + ([("title", norm_title)] if norm_title else [])
        hits = {"text": text_hits, "title": title_hits}
        norms = dict(fields)
        title_len = len(norm_title.text) if norm_title else 0
        for label in labels:
            li = LABEL_IDS.index(label)
            wanted = EVIDENCE_CATEGORIES[label]
            places = _dedupe(
                [
                    (name, h.start, h.end, h.rule)
                    for name, _n in fields
                    for h in hits[name]
                    if h.category in wanted
                ]
            )
            found = [
                sp
                for place in places[:MAX_LEXICON_SPANS]
                if (sp := _span(label, norms[place[0]], *place[1:], place[0]))
            ]
            window = windows[int(best[li])]
            columns = window.columns()
            contributions = self._ngram_w[columns, li]
            model_spans: list[tuple[str, int, int]] = []
            for k in np.argsort(-contributions):
                if contributions[k] <= 0 or len(model_spans) >= MAX_MODEL_SPANS:
                    break
                gram = self.artifact.ngrams[int(columns[int(k)])]
                if len(gram) < 2 or not any(ch.isalnum() for ch in gram):
                    continue  # a lone character or punctuation explains nothing to a reviewer
                start = window.text.find(gram)
                end = start + len(gram)
                if title_len and end <= title_len:
                    model_spans.append(("title", start, end))
                elif start >= (title_len + 1 if title_len else 0):
                    offset = window.start - (title_len + 1 if title_len else 0)
                    model_spans.append(("text", start + offset, end + offset))
            for name, start, end in _merge(model_spans):
                span = _span(label, norms[name], start, end, "model:ngram", name)
                if span and not any(
                    f.field == name and f.start <= span.start and span.end <= f.end for f in found
                ):
                    found.append(span)
            spans.extend(sorted(found, key=lambda sp: (sp.field != "title", sp.start, sp.end)))
        return spans


def _lexicon_feature_names() -> tuple[str, ...]:
    from classifiers.features import LEXICON_FEATURES

    return LEXICON_FEATURES


def _window_starts(n: int) -> list[int]:
    if n <= WINDOW:
        return [0]
    starts = list(range(0, n - WINDOW + WINDOW_STEP, WINDOW_STEP))
    return [s for s in starts if s < n] or [0]


def _span(
    label: str, norm: Normalized, start: int, end: int, rule: str, field_name: str
) -> EvidenceSpan | None:
    o0, o1 = norm.original_span(start, end)
    if o1 <= o0:
        return None
    return EvidenceSpan(label, o0, o1, norm.original[o0:o1], rule, field_name)


def _merge(spans: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    merged: list[tuple[str, int, int]] = []
    for name, start, end in sorted(spans):
        if merged and merged[-1][0] == name and start <= merged[-1][2]:
            merged[-1] = (name, merged[-1][1], max(end, merged[-1][2]))
        else:
            merged.append((name, start, end))
    return merged


def _dedupe(places: list[tuple[str, int, int, str]]) -> list[tuple[str, int, int, str]]:
    """One place per span of text: a longer hit covering a shorter one wins."""
    out: list[tuple[str, int, int, str]] = []
    for place in sorted(places, key=lambda p: (p[0], p[1], p[1] - p[2])):
        if out and out[-1][0] == place[0] and out[-1][1] <= place[1] and place[2] <= out[-1][2]:
            continue
        out.append(place)
    return out

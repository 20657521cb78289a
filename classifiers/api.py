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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from adwatch.labels import LABEL_IDS
from adwatch.settings import Settings
from classifiers.corpus import IMPLYING_LABELS
from classifiers.features import FeatureExtractor, ngram_scale
from classifiers.lexicons import EVIDENCE_CATEGORIES, LexiconMatcher
from classifiers.model import ModelArtifact
from classifiers.normalize import Normalized, Normalizer

WINDOW = 1500  # normalised characters per window
WINDOW_STEP = 1200  # windows overlap by 300 characters so no claim is cut in two
MAX_LEXICON_SPANS = 8  # per label
MAX_MODEL_SPANS = 3  # per label


@dataclass(frozen=True, slots=True)
class EvidenceSpan:
    label: str
    start: int
    end: int
    text: str
    rule: str  # lexicon:<category> | pattern:<name> | model:ngram
    field: str = "text"  # "text" or "title": which input the offsets point into

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "start": self.start, "end": self.end, "text": self.text, "rule": self.rule, "field": self.field}


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
    indices: list[int] = field(default_factory=list)


class Classifier:
    """A loaded model version with its normaliser and lexicon matcher."""

    def __init__(self, artifact: ModelArtifact, *, max_chars: int = 200_000) -> None:
        self.artifact = artifact
        self.version = artifact.version
        self.max_chars = max_chars
        self.normalizer = Normalizer()
        self.matcher = LexiconMatcher()
        self.features = FeatureExtractor(artifact.ngrams, self.matcher)
        if list(artifact.labels) != list(LABEL_IDS):
            raise ValueError(f"model {artifact.version} has labels {artifact.labels}, expected {list(LABEL_IDS)}")
        if list(artifact.lexicon_features) != list(_lexicon_feature_names()):
            raise ValueError(f"model {artifact.version} was trained with other lexicon features: retrain it")
        self._ngram_w = artifact.ngram_weights.astype(np.float64)
        self._lex_w = artifact.lexicon_weights.astype(np.float64)
        self._implying = np.array([label in IMPLYING_LABELS for label in LABEL_IDS])

    @classmethod
    def load(cls, settings: Settings, version: str | None = None) -> Classifier:
        """The model in use (or ``version``) for these settings."""
        from classifiers.versions import SHIPPED_DIR, current_version

        if version is None:
            _, folder = current_version(settings)
        else:
            folder = settings.models_dir / version
            if not folder.exists():
                folder = SHIPPED_DIR / version
        return cls(ModelArtifact.load(Path(folder)), max_chars=settings.max_text_chars)

    # -- scoring -------------------------------------------------------------------------------

    def _raw_scores(self, text: str) -> tuple[np.ndarray, list[int]]:
        indices = self.features.ngram_indices(text)
        raw = self._ngram_w[indices].sum(axis=0) * ngram_scale(text) if indices else np.zeros(len(LABEL_IDS))
        raw = raw + np.asarray(self.features.lexicon_values(text)) @ self._lex_w + self.artifact.bias
        return raw, indices

    def probabilities(self, norm_title: str, norm_text: str) -> tuple[np.ndarray, list[_Window], np.ndarray]:
        """Per-label probability (max over windows), the windows, and which window gave each."""
        prefix = f"{norm_title}\n" if norm_title else ""
        windows = [_Window(start, prefix + norm_text[start : start + WINDOW]) for start in _window_starts(len(norm_text))]
        raws = []
        for w in windows:
            raw, w.indices = self._raw_scores(w.text)
            raws.append(raw)
        probs = self.artifact.probabilities(np.vstack(raws))
        best = probs.argmax(axis=0)
        return probs.max(axis=0), windows, best

    def classify(self, text: str, title: str | None = None) -> ClassifierResult:
        text = text or ""
        truncated = len(text) > self.max_chars
        if truncated:
            text = text[: self.max_chars]
        norm_title = self.normalizer.normalize(title) if title else None
        norm_text = self.normalizer.normalize(text)
        probs, windows, best = self.probabilities(norm_title.text if norm_title else "", norm_text.text)
        positive = probs >= self.artifact.thresholds
        if (positive & self._implying).any():
            positive[0] = True
        labels = [label for label, on in zip(LABEL_IDS, positive, strict=True) if on]
        scores = {label: round(float(p), 4) for label, p in zip(LABEL_IDS, probs, strict=True)}
        evidence = self._evidence(labels, norm_title, norm_text, windows, best) if labels else []
        return ClassifierResult(labels=labels, scores=scores, evidence=evidence, model=self.version, truncated=truncated)

    def classify_many(self, items: Iterable[tuple[str, str | None]]) -> list[ClassifierResult]:
        return [self.classify(text, title) for text, title in items]

    # -- evidence ------------------------------------------------------------------------------

    def _evidence(
        self,
        labels: list[str],
        norm_title: Normalized | None,
        norm_text: Normalized,
        windows: list[_Window],
        best: np.ndarray,
    ) -> list[EvidenceSpan]:
        spans: list[EvidenceSpan] = []
        fields = [("text", norm_text)] + ([("title", norm_title)] if norm_title else [])
        hits = {name: self.matcher.hits(norm.text) for name, norm in fields}
        norms = dict(fields)
        title_len = len(norm_title.text) if norm_title else 0
        for label in labels:
            li = LABEL_IDS.index(label)
            wanted = EVIDENCE_CATEGORIES[label]
            found: list[EvidenceSpan] = []
            for name, norm in fields:
                for hit in hits[name]:
                    if hit.category in wanted:
                        span = _span(label, norm, hit.start, hit.end, hit.rule, name)
                        if span:
                            found.append(span)
            found = _dedupe(found)[:MAX_LEXICON_SPANS]
            window = windows[int(best[li])]
            contributions = self._ngram_w[window.indices, li] if window.indices else np.zeros(0)
            top = np.argsort(-contributions)[:MAX_MODEL_SPANS]
            positions = self.features.ngram_positions(window.text) if len(top) else {}
            model_spans: list[tuple[str, int, int]] = []
            for k in top:
                if contributions[k] <= 0:
                    break
                idx = window.indices[int(k)]
                end = positions[idx] + 1
                start = end - len(self.artifact.ngrams[idx])
                if title_len and end <= title_len:
                    model_spans.append(("title", start, end))
                elif start >= (title_len + 1 if title_len else 0):
                    offset = window.start - (title_len + 1 if title_len else 0)
                    model_spans.append(("text", start + offset, end + offset))
            for name, start, end in _merge(model_spans):
                span = _span(label, norms[name], start, end, "model:ngram", name)
                if span:
                    found.append(span)
            spans.extend(_dedupe(found))
        return spans


def _lexicon_feature_names() -> tuple[str, ...]:
    from classifiers.features import LEXICON_FEATURES

    return LEXICON_FEATURES


def _window_starts(n: int) -> list[int]:
    if n <= WINDOW:
        return [0]
    starts = list(range(0, n - WINDOW + WINDOW_STEP, WINDOW_STEP))
    return [s for s in starts if s < n] or [0]


def _span(label: str, norm: Normalized, start: int, end: int, rule: str, field_name: str) -> EvidenceSpan | None:
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


def _dedupe(spans: list[EvidenceSpan]) -> list[EvidenceSpan]:
    """One span per place: a longer hit covering a shorter one of the same label wins."""
    spans = sorted(spans, key=lambda s: (s.field, s.start, -(s.end - s.start)))
    out: list[EvidenceSpan] = []
    for span in spans:
        if out and out[-1].field == span.field and out[-1].start <= span.start and span.end <= out[-1].end:
            continue
        out.append(span)
    return out

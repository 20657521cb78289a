"""A model version on disk and its arithmetic: linear scores → calibrated probabilities → labels.

A version is a folder:

- ``model.json``       labels, lexicon feature names, biases, Platt calibration, thresholds, parameters
- ``ngrams.json.gz``   the n-gram vocabulary (row i of the weights belongs to n-gram i)
- ``weights.npy.gz``   float32 weights, one column per label: n-gram rows, then lexicon-feature rows
- ``metrics.json``     what ``adwatch train`` measured on the dev and test splits
- ``labels.json``      the label set
- ``training_data.json`` SHA-256 and counts of the training data
- ``lexicons/``        the lexicons and normalisation tables it was trained with (their SHA-256 in
  ``model.json``): editing ``lexicons/`` in the package never changes what a trained version does

Scoring needs numpy only: scikit-learn is imported by training, never by classification, which
keeps ``adwatch classify`` quick to start.
"""

from __future__ import annotations

import gzip
import io
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

LEXICON_FOLDER = "lexicons"
ARTIFACT_FILES = (
    "model.json",
    "ngrams.json.gz",
    "weights.npy.gz",
    "metrics.json",
    "labels.json",
    "training_data.json",
)


@dataclass
class ModelArtifact:
    version: str
    labels: list[str]
    ngrams: list[str]
    lexicon_features: list[str]
    weights: np.ndarray  # (len(ngrams) + len(lexicon_features), len(labels)) float32
    bias: np.ndarray  # (len(labels),)
    platt_a: np.ndarray  # p = 1 / (1 + exp(-(a * score + b)))
    platt_b: np.ndarray
    thresholds: np.ndarray
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    training_data: dict[str, Any] = field(default_factory=dict)
    lexicon_dir: Path | None = None  # None: the package's lexicons (a version not saved yet)

    @property
    def ngram_weights(self) -> np.ndarray:
        return self.weights[: len(self.ngrams)]

    @property
    def lexicon_weights(self) -> np.ndarray:
        return self.weights[len(self.ngrams) :]

    def probabilities(self, raw: np.ndarray) -> np.ndarray:
        """Calibrated probabilities from raw linear scores (rows = documents)."""
        z = np.clip(raw * self.platt_a + self.platt_b, -35.0, 35.0)
        return 1.0 / (1.0 + np.exp(-z))

    def save(self, folder: Path) -> None:
        from classifiers.lexicons import data_files, data_sha256
        from lexicons import LEXICON_DIR

        folder.mkdir(parents=True, exist_ok=True)
        source = self.lexicon_dir or LEXICON_DIR
        target = folder / LEXICON_FOLDER
        if source.resolve() != target.resolve():
            if target.exists():
                shutil.rmtree(target)
            target.mkdir()
            for path in data_files(source):
                shutil.copyfile(path, target / path.name)
        self.lexicon_dir = target
        meta = {
            "version": self.version,
            "labels": self.labels,
            "lexicon_features": self.lexicon_features,
            "bias": self.bias.tolist(),
            "platt_a": self.platt_a.tolist(),
            "platt_b": self.platt_b.tolist(),
            "thresholds": self.thresholds.tolist(),
            "params": self.params,
            "lexicons_sha256": data_sha256(target),
        }
        _write_json(folder / "model.json", meta)
        with gzip.GzipFile(folder / "ngrams.json.gz", "wb", mtime=0) as fh:
            fh.write(json.dumps(self.ngrams, ensure_ascii=False).encode("utf-8"))
        buf = io.BytesIO()
        np.save(buf, self.weights.astype(np.float32), allow_pickle=False)
        with gzip.GzipFile(folder / "weights.npy.gz", "wb", mtime=0) as fh:
            fh.write(buf.getvalue())
        _write_json(folder / "metrics.json", self.metrics)
        _write_json(folder / "labels.json", self.labels)
        _write_json(folder / "training_data.json", self.training_data)

    @classmethod
    def load(cls, folder: Path) -> ModelArtifact:
        missing = [f for f in ARTIFACT_FILES if not (folder / f).exists()]
        if missing:
            raise FileNotFoundError(f"model folder {folder} lacks {', '.join(missing)}")
        meta = json.loads((folder / "model.json").read_text(encoding="utf-8"))
        with gzip.open(folder / "ngrams.json.gz", "rb") as fh:
            ngrams = json.loads(fh.read().decode("utf-8"))
        with gzip.open(folder / "weights.npy.gz", "rb") as fh:
            weights = np.load(io.BytesIO(fh.read()), allow_pickle=False)
        lexicon_dir = _saved_lexicons(folder, meta.get("lexicons_sha256"))
        expected = (len(ngrams) + len(meta["lexicon_features"]), len(meta["labels"]))
        if weights.shape != expected:
            raise ValueError(f"model folder {folder}: weights {weights.shape} do not match {expected}")
        return cls(
            version=meta["version"],
            labels=list(meta["labels"]),
            ngrams=ngrams,
            lexicon_features=list(meta["lexicon_features"]),
            weights=weights,
            bias=np.asarray(meta["bias"], dtype=np.float64),
            platt_a=np.asarray(meta["platt_a"], dtype=np.float64),
            platt_b=np.asarray(meta["platt_b"], dtype=np.float64),
            thresholds=np.asarray(meta["thresholds"], dtype=np.float64),
            params=meta.get("params", {}),
            metrics=json.loads((folder / "metrics.json").read_text(encoding="utf-8")),
            training_data=json.loads((folder / "training_data.json").read_text(encoding="utf-8")),
            lexicon_dir=lexicon_dir,
        )


def _saved_lexicons(folder: Path, expected_sha: str | None) -> Path | None:
    """The version's own lexicons, checked against the digest taken when it was saved."""
    from classifiers.lexicons import data_sha256

    target = folder / LEXICON_FOLDER
    if expected_sha is None:
        return None  # saved before versions carried their lexicons: the package's are used
    if not target.is_dir():
        raise FileNotFoundError(f"model folder {folder} lacks {LEXICON_FOLDER}/, saved with it")
    found = data_sha256(target)
    if found != expected_sha:
        raise ValueError(
            f"model folder {folder}: {LEXICON_FOLDER}/ changed after the version was saved "
            f"(SHA-256 {found[:12]}…, saved {expected_sha[:12]}…): restore it or retrain"
        )
    return target


def _write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=1, sort_keys=False) + "\n", encoding="utf-8")

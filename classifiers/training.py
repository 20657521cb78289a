"""Build a model version from the corpus (and reviewed decisions): ``adwatch train``.

1. Normalise every item; the n-gram vocabulary is the train split's 1–3-grams seen twice or more.
2. One L2-regularised logistic regression per label over n-grams + lexicon features
   (liblinear, balanced class weights, fixed seeds: the same data gives the same model).
3. Keep the strongest n-grams only (a smaller automaton scans faster) and refit.
4. Platt-calibrate each label on out-of-fold scores of the train split.
5. Choose each label's threshold on the dev split (best F1). The test split is only measured.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from adwatch.labels import LABEL_IDS
from adwatch.settings import Settings
from classifiers.corpus import Item, by_split, data_sha256, load_all
from classifiers.features import LEXICON_FEATURES, FeatureExtractor, build_vocabulary
from classifiers.lexicons import LexiconMatcher
from classifiers.model import ModelArtifact
from classifiers.normalize import Normalizer

log = logging.getLogger(__name__)

SEED = 20261123
PARAMS: dict[str, Any] = {
    "ngram_sizes": [1, 2, 3],
    "min_df": 2,
    # n-gram values are presence / sqrt(length), i.e. small: weak regularisation fits them best.
    # Chosen by 5-fold out-of-fold micro-F1 on the train split (32, 128, 512, 2048), never on test.
    "C": 512.0,
    "lexicon_scale": 1.0,
    "max_ngrams": 12_000,
    "cv_folds": 5,
    "window": 1500,
    "seed": SEED,
}


@dataclass
class ModelVersion:
    version: str
    folder: Path
    metrics: dict[str, Any]
    artifact: ModelArtifact


def feature_text(normalizer: Normalizer, item: Item, window: int) -> str:
    """The text the model sees for a corpus item: the same composition as Classifier.probabilities."""
    body = normalizer.normalize(item.text).text[:window]
    if item.title:
        title = normalizer.normalize(item.title).text
        if title:
            return f"{title}\n{body}"
    return body


def design_matrix(texts: Sequence[str], extractor: FeatureExtractor, lexicon_scale: float = 1.0) -> Any:
    """The training matrix: the features Classifier computes at run time.

    Lexicon features are multiplied by ``lexicon_scale`` here (and their learnt weights by the
    same factor afterwards): a larger scale regularises them less than the n-grams, so the model
    leans on the curated lexicons, which carry over to unseen phrasing better than n-grams do.
    """
    from scipy import sparse

    batch = extractor.extract(list(texts))
    values = np.repeat(batch.scales, np.diff(batch.indptr))
    ngrams = sparse.csr_matrix(
        (values, batch.columns, batch.indptr), shape=(len(texts), len(extractor.ngrams))
    )
    return sparse.hstack([ngrams, sparse.csr_matrix(batch.lexicon * lexicon_scale)], format="csr")


def label_matrix(items: Sequence[Item]) -> np.ndarray:
    return np.array([[label in item.labels for label in LABEL_IDS] for item in items], dtype=int)


def _fit(X: Any, y: np.ndarray, C: float) -> tuple[np.ndarray, float]:
    from sklearn.linear_model import LogisticRegression

    if y.sum() == 0 or y.sum() == len(y):
        return np.zeros(X.shape[1]), (-8.0 if y.sum() == 0 else 8.0)
    model = LogisticRegression(
        C=C, class_weight="balanced", solver="liblinear", random_state=SEED, max_iter=2000
    )
    model.fit(X, y)
    return model.coef_[0].copy(), float(model.intercept_[0])


def _platt(X: Any, y: np.ndarray, C: float, folds: int) -> tuple[float, float]:
    """Calibration from out-of-fold scores, so it reflects unseen text."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    positives = int(y.sum())
    if folds < 2 or positives < folds or len(y) - positives < folds:
        return 1.0, 0.0
    oof = np.zeros(len(y))
    for tr, te in StratifiedKFold(n_splits=folds, shuffle=True, random_state=SEED).split(np.zeros(len(y)), y):
        w, b = _fit(X[tr], y[tr], C)
        oof[te] = X[te] @ w + b
    cal = LogisticRegression(C=1e4, solver="lbfgs", max_iter=1000)
    cal.fit(oof.reshape(-1, 1), y)
    return float(cal.coef_[0][0]), float(cal.intercept_[0])


def fit_artifact(
    train_items: Sequence[Item],
    *,
    version: str,
    params: dict[str, Any] | None = None,
    progress: Callable[[str], None] = lambda msg: None,
) -> ModelArtifact:
    """The weights and calibration learnt from ``train_items`` (thresholds still at 0.5)."""
    params = {**PARAMS, **(params or {})}
    normalizer = Normalizer()
    matcher = LexiconMatcher()
    texts = [feature_text(normalizer, item, params["window"]) for item in train_items]
    vocabulary = build_vocabulary(texts, min_df=params["min_df"], sizes=params["ngram_sizes"])
    progress(f"vocabulary: {len(vocabulary)} n-grams from {len(texts)} training items")
    Y = label_matrix(train_items)
    X = design_matrix(texts, FeatureExtractor(vocabulary, matcher), params["lexicon_scale"])
    W = np.zeros((X.shape[1], len(LABEL_IDS)))
    for j in range(len(LABEL_IDS)):
        W[:, j], _ = _fit(X, Y[:, j], params["C"])
    strength = np.abs(W[: len(vocabulary)]).max(axis=1)
    keep = np.sort(np.argsort(-strength, kind="stable")[: params["max_ngrams"]])
    keep = keep[strength[keep] > 0]
    vocabulary = [vocabulary[i] for i in keep]
    progress(f"kept {len(vocabulary)} n-grams; refitting and calibrating {len(LABEL_IDS)} labels")
    X = design_matrix(texts, FeatureExtractor(vocabulary, matcher), params["lexicon_scale"])
    W = np.zeros((X.shape[1], len(LABEL_IDS)))
    bias = np.zeros(len(LABEL_IDS))
    platt_a = np.ones(len(LABEL_IDS))
    platt_b = np.zeros(len(LABEL_IDS))
    for j, label in enumerate(LABEL_IDS):
        W[:, j], bias[j] = _fit(X, Y[:, j], params["C"])
        platt_a[j], platt_b[j] = _platt(X, Y[:, j], params["C"], params["cv_folds"])
        progress(
            f"  {label}: {int(Y[:, j].sum())} positives, calibration a={platt_a[j]:.3f} b={platt_b[j]:.3f}"
        )
    W[len(vocabulary) :] *= params["lexicon_scale"]  # so the stored weights apply to unscaled features
    return ModelArtifact(
        version=version,
        labels=list(LABEL_IDS),
        ngrams=vocabulary,
        lexicon_features=list(LEXICON_FEATURES),
        weights=W.astype(np.float32),
        bias=bias,
        platt_a=platt_a,
        platt_b=platt_b,
        thresholds=np.full(len(LABEL_IDS), 0.5),
        params=params,
    )


def choose_thresholds(probs: np.ndarray, gold: np.ndarray) -> np.ndarray:
    """Per label, the threshold with the best F1 on the dev split (0.5 without dev positives).

    Among thresholds within 0.01 F1 of the best, the one nearest 0.5 wins: a flat optimum says
    little, and 0.5 is what calibration makes neutral.
    """
    thresholds = np.full(probs.shape[1], 0.5)
    grid = np.round(np.arange(0.05, 0.951, 0.01), 2)
    for j in range(probs.shape[1]):
        y = gold[:, j].astype(bool)
        if not y.any():
            continue
        f1s = []
        for t in grid:
            pred = probs[:, j] >= t
            tp = int((pred & y).sum())
            denom = int(pred.sum()) + int(y.sum())
            f1s.append(2 * tp / denom if denom else 0.0)
        f1s_arr = np.array(f1s)
        near = np.flatnonzero(f1s_arr >= f1s_arr.max() - 0.01)
        thresholds[j] = float(grid[near[np.argmin(np.abs(grid[near] - 0.5))]])
    return thresholds


def train(
    settings: Settings,
    *,
    db: Any = None,
    ship: bool = False,
    items: Sequence[Item] | None = None,
    version: str | None = None,
    now: dt.datetime | None = None,
    progress: Callable[[str], None] = lambda msg: None,
) -> ModelVersion:
    """Train, measure, save a new version and make it the one in use (``ship``: into the package)."""
    from classifiers.api import Classifier
    from classifiers.evaluation import evaluate_items, probabilities_for
    from classifiers.versions import SHIPPED_DIR, next_version, set_current

    started = time.perf_counter()
    items = list(items) if items is not None else load_all()
    reviewed = load_reviewed(db) if db is not None else []
    splits = by_split(items)
    train_items = splits["train"] + reviewed
    progress(
        f"corpus: {len(items)} items (train {len(splits['train'])}, dev {len(splits['dev'])}, "
        f"test {len(splits['test'])}); reviewed decisions: {len(reviewed)}"
    )
    version = version or next_version(settings, now, ship=ship)
    artifact = fit_artifact(train_items, version=version, progress=progress)
    clf = Classifier(artifact)
    dev_probs = probabilities_for(clf, splits["dev"])
    artifact.thresholds = choose_thresholds(dev_probs, label_matrix(splits["dev"]))
    progress(
        "thresholds: "
        + ", ".join(f"{lb}={t:.2f}" for lb, t in zip(LABEL_IDS, artifact.thresholds, strict=True))
    )
    clf = Classifier(artifact)
    metrics = {
        "version": version,
        "trained_at": (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
        "dev": evaluate_items(clf, splits["dev"], evasion=False),
        "test": evaluate_items(clf, splits["test"], evasion=True),
        "seconds": round(time.perf_counter() - started, 1),
    }
    artifact.metrics = metrics
    artifact.training_data = {
        "sha256": data_sha256(train_items),
        "items": len(train_items),
        "corpus_items": len(splits["train"]),
        "reviewed_items": len(reviewed),
        "all_splits_sha256": data_sha256(items),
    }
    folder = (SHIPPED_DIR if ship else settings.models_dir) / version
    artifact.save(folder)
    if ship:
        for old in SHIPPED_DIR.iterdir():
            if old.is_dir() and old.name != version:
                import shutil

                shutil.rmtree(old)
    else:
        set_current(settings, version)
    return ModelVersion(version=version, folder=folder, metrics=metrics, artifact=artifact)


def load_reviewed(db: Any) -> list[Item]:
    """Reviewers' final decisions as training items (train split only).

    ``confirm`` → the decision's labels plus ``medical_ad``; ``reject`` → clean. The newest
    decision per review item counts (decisions are append-only); escalations are skipped.
    """
    from sqlalchemy import select

    from adwatch.models import Decision, Document, ReviewItem

    items: list[Item] = []
    with db.session() as s:
        rows = s.execute(
            select(
                Decision.item_id,
                Decision.action,
                Decision.labels,
                Decision.id,
                Document.id,
                Document.title,
                Document.text,
            )
            .join(ReviewItem, ReviewItem.id == Decision.item_id)
            .join(Document, Document.id == ReviewItem.document_id)
            .order_by(Decision.item_id, Decision.id)
        ).all()
    newest: dict[int, tuple] = {}
    for row in rows:
        newest[row[0]] = row
    for _item_id, action, labels, _decision_id, document_id, title, text in newest.values():
        if action == "confirm":
            chosen = {lb for lb in (labels or []) if lb in LABEL_IDS} | {"medical_ad"}
        elif action == "reject":
            chosen = set()
        else:
            continue
        items.append(
            Item(
                id=f"review-{document_id}",
                text=text or "",
                title=title,
                labels=[lb for lb in LABEL_IDS if lb in chosen],
                source="review",
            )
        )
    return items

"""How well the model carries over to text unlike its corpus: leave one corpus file out.

Each hand-written corpus file holds one kind of text (plain clinic ads, disguised posts, training
pitches, consumer warnings, …). For each file, a model is trained on the train split of every
*other* file and measured on all items of the held-out file; the same measure on that file's
dev+test items under the normal model is the in-distribution reference. The drop between the two
is the honest estimate of how much F1 falls on an unseen kind of writing.

``python -m classifiers.generalisation [--quick]`` prints a table (a few minutes; ``--quick``
skips calibration). Results are written up in classifiers/data/README.md.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from typing import Any

from adwatch.labels import VIOLATION_LABELS
from classifiers.api import Classifier
from classifiers.corpus import Item, by_split, load_all
from classifiers.evaluation import label_metrics, probabilities_for
from classifiers.training import choose_thresholds, fit_artifact, label_matrix


def _model(train: list[Item], dev: list[Item], params: dict[str, Any]) -> Classifier:
    artifact = fit_artifact(train, version="heldout", params=params)
    artifact.thresholds = choose_thresholds(probabilities_for(Classifier(artifact), dev), label_matrix(dev))
    return Classifier(artifact)


def _measure(clf: Classifier, items: list[Item]) -> dict[str, float]:
    pred = [r.labels for r in clf.classify_many((i.text, i.title) for i in items)]
    gold = [i.labels for i in items]
    m = label_metrics(gold, pred)
    clean = [p for i, p in zip(items, pred, strict=True) if i.clean]
    fpr = sum(1 for p in clean if set(p) & set(VIOLATION_LABELS)) / len(clean) if clean else 0.0
    return {
        "micro_f1": m["micro"]["f1"],
        "recall": m["micro"]["recall"],
        "clean_fpr": round(fpr, 4),
        "items": len(items),
    }


def leave_one_file_out(params: dict[str, Any] | None = None, progress=print) -> list[dict[str, Any]]:
    params = params or {}
    items = load_all()
    files: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        if item.source == "corpus":
            files[item.id.rsplit("-", 1)[0]].append(item)
    splits = by_split(items)
    reference = _model(splits["train"], splits["dev"], params)
    rows = []
    for name in sorted(files):
        held = files[name]
        held_ids = {i.id for i in held}
        train = [i for i in splits["train"] if i.id not in held_ids]
        dev = [i for i in splits["dev"] if i.id not in held_ids]
        clf = _model(train, dev, params)
        unseen = _measure(clf, held)
        seen = _measure(reference, [i for i in held if i.split != "train"])
        row = {"file": name, "items": len(held), "unseen": unseen, "in_distribution": seen}
        rows.append(row)
        progress(
            f"{name:<22} {len(held):>5}  micro-F1 in-dist {seen['micro_f1']:.3f}  held out {unseen['micro_f1']:.3f}  "
            f"(drop {seen['micro_f1'] - unseen['micro_f1']:+.3f})  clean FPR in-dist {seen['clean_fpr']:.3f} held out {unseen['clean_fpr']:.3f}"
        )
    return rows


if __name__ == "__main__":
    leave_one_file_out({"cv_folds": 0} if "--quick" in sys.argv else {})

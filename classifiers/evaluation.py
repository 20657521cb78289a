"""Measure a model: per-label precision/recall/F1, micro-F1, false-positive rate on hard
negatives, and recall on the evasion set next to recall on the same items written plainly.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from adwatch.labels import LABEL_IDS, VIOLATION_LABELS
from classifiers.corpus import Item, by_split, load_all, read_jsonl

QUALITY_TARGETS: dict[str, float] = {
    "micro_f1": 0.90,
    "f1:medical_ad": 0.90,
    "f1:disguised_ad": 0.85,
    "f1:false_promise": 0.85,
    "f1:training_pitch": 0.85,
    "hard_negative_fpr_max": 0.05,
    "evasion_recall_gap_max": 0.05,
}


def probabilities_for(clf: Any, items: Sequence[Item]) -> np.ndarray:
    return np.array([[r.scores[lb] for lb in LABEL_IDS] for r in predict(clf, items)]).reshape(
        len(items), len(LABEL_IDS)
    )


def predict(clf: Any, items: Sequence[Item]) -> list[Any]:
    return clf.classify_many((item.text, item.title) for item in items)


def label_metrics(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> dict[str, Any]:
    per_label: dict[str, dict[str, float]] = {}
    tp_all = fp_all = fn_all = 0
    for label in LABEL_IDS:
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if label in g and label in p)
        fp = sum(1 for g, p in zip(gold, pred, strict=True) if label not in g and label in p)
        fn = sum(1 for g, p in zip(gold, pred, strict=True) if label in g and label not in p)
        tp_all, fp_all, fn_all = tp_all + tp, fp_all + fp, fn_all + fn
        per_label[label] = _prf(tp, fp, fn) | {"support": tp + fn}
    return {"labels": per_label, "micro": _prf(tp_all, fp_all, fn_all) | {"support": tp_all + fn_all}}


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)}


def _recall(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> tuple[float, int]:
    hit = sum(len(set(g) & set(p)) for g, p in zip(gold, pred, strict=True))
    total = sum(len(g) for g in gold)
    return (round(hit / total, 4) if total else 0.0), total


def evaluate_items(clf: Any, items: Sequence[Item], *, evasion: bool = True) -> dict[str, Any]:
    """The report for one labelled set (and its evasion variants)."""
    results = predict(clf, items)
    gold = [item.labels for item in items]
    pred = [r.labels for r in results]
    report: dict[str, Any] = {"items": len(items), "model": clf.version}
    report |= label_metrics(gold, pred)
    hard = [(item, p) for item, p in zip(items, pred, strict=True) if item.hard_negative and item.clean]
    flagged = sum(1 for _item, p in hard if any(lb in VIOLATION_LABELS for lb in p))
    report["hard_negatives"] = {
        "items": len(hard),
        "false_positives": flagged,
        "fpr": round(flagged / len(hard), 4) if hard else 0.0,
    }
    clean = [p for item, p in zip(items, pred, strict=True) if item.clean]
    clean_flagged = sum(1 for p in clean if any(lb in VIOLATION_LABELS for lb in p))
    report["clean"] = {
        "items": len(clean),
        "false_positives": clean_flagged,
        "fpr": round(clean_flagged / len(clean), 4) if clean else 0.0,
    }
    if evasion:
        from classifiers.evasion import evasion_set

        positives = [item for item in items if item.labels]
        variants = evasion_set(positives)
        plain_recall, plain_total = _recall(
            [i.labels for i in positives], [p for i, p in zip(items, pred, strict=True) if i.labels]
        )
        var_pred = [r.labels for r in predict(clf, variants)]
        var_recall, var_total = _recall([v.labels for v in variants], var_pred)
        by_transform: dict[str, Any] = {}
        groups: dict[str, list[int]] = {}
        for k, v in enumerate(variants):
            groups.setdefault(v.source.split(":", 1)[1], []).append(k)
        for name, ks in sorted(groups.items()):
            r, n = _recall([variants[k].labels for k in ks], [var_pred[k] for k in ks])
            by_transform[name] = {"items": len(ks), "recall": r}
        report["evasion"] = {
            "plain_items": len(positives),
            "plain_recall": plain_recall,
            "items": len(variants),
            "recall": var_recall,
            "gap": round(plain_recall - var_recall, 4),
            "by_transform": by_transform,
        }
    styles = Counter(item.style for item in items)
    report["styles"] = dict(sorted(styles.items()))
    return report


def evaluate(
    settings: Any, *, input_path: Path | None = None, split: str = "test", version: str | None = None
) -> dict[str, Any]:
    """``adwatch evaluate``: the model in use on the test split, or on a labelled JSONL file."""
    from classifiers.api import Classifier

    clf = Classifier.load(settings, version=version)
    if input_path is not None:
        items = list(read_jsonl(input_path, source="input"))
        where = str(input_path)
    else:
        items = by_split(load_all())[split]
        where = f"{split} split of the corpus"
    report = evaluate_items(clf, items, evasion=True)
    report["data"] = where
    report["targets"] = check_targets(report)
    return report


def check_targets(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each quality target with the measured value and whether it holds."""
    labels = report["labels"]
    out: dict[str, dict[str, Any]] = {}
    out["micro_f1"] = _target(report["micro"]["f1"], QUALITY_TARGETS["micro_f1"], at_least=True)
    for label in ("medical_ad", "disguised_ad", "false_promise", "training_pitch"):
        out[f"f1:{label}"] = _target(labels[label]["f1"], QUALITY_TARGETS[f"f1:{label}"], at_least=True)
    out["hard_negative_fpr"] = _target(
        report["hard_negatives"]["fpr"], QUALITY_TARGETS["hard_negative_fpr_max"], at_least=False
    )
    if "evasion" in report:
        out["evasion_recall_gap"] = _target(
            report["evasion"]["gap"], QUALITY_TARGETS["evasion_recall_gap_max"], at_least=False
        )
    return out


def _target(value: float, target: float, *, at_least: bool) -> dict[str, Any]:
    return {
        "value": value,
        "target": (">= " if at_least else "<= ") + str(target),
        "met": value >= target if at_least else value <= target,
    }


def format_report(report: dict[str, Any]) -> str:
    lines = [
        f"model {report['model']} on {report.get('data', 'labelled items')}: {report['items']} items",
        "",
    ]
    lines.append(f"{'label':<22}{'precision':>10}{'recall':>10}{'F1':>10}{'support':>10}")
    for label, m in report["labels"].items():
        lines.append(
            f"{label:<22}{m['precision']:>10.3f}{m['recall']:>10.3f}{m['f1']:>10.3f}{m['support']:>10}"
        )
    m = report["micro"]
    lines.append(
        f"{'micro':<22}{m['precision']:>10.3f}{m['recall']:>10.3f}{m['f1']:>10.3f}{m['support']:>10}"
    )
    hn = report["hard_negatives"]
    lines += [
        "",
        f"false-positive rate on hard negatives: {hn['fpr']:.3f} ({hn['false_positives']} of {hn['items']})",
    ]
    cl = report["clean"]
    lines.append(
        f"false-positive rate on all clean items: {cl['fpr']:.3f} ({cl['false_positives']} of {cl['items']})"
    )
    if "evasion" in report:
        ev = report["evasion"]
        lines.append(
            f"recall on plain positives: {ev['plain_recall']:.3f} ({ev['plain_items']} items); "
            f"on the evasion set: {ev['recall']:.3f} ({ev['items']} items); gap {ev['gap']:+.3f}"
        )
        lines.append(
            "  by transformation: "
            + ", ".join(f"{k} {v['recall']:.3f}" for k, v in ev["by_transform"].items())
        )
    if "targets" in report:
        lines += ["", "quality targets:"]
        for name, t in report["targets"].items():
            lines.append(f"  {'ok ' if t['met'] else 'MISS'} {name}: {t['value']:.3f} (target {t['target']})")
    return "\n".join(lines)

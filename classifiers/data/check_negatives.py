"""Check the hand-written negative corpus files (classifiers/data/corpus/neg_*.jsonl).

Why: the classifier's false-positive rate is judged on hard negatives, so these files must be
well-formed, labelled by CORPUS_SPEC.md's rules, varied in length and style, and free of
near-duplicates (which would inflate evaluation and teach templates instead of language).

Checks: every line parses; ids are unique and named ``<file stem>-<4 digits>``; labels are ``[]``
(or ``["medical_ad"]`` in neg_clinic_notice, whose items must each carry a 医广 文号 that
pipelines.approval_numbers finds); styles are valid; ``hard_negative`` is true; text length is
15-1,200 characters; no two items share character 5-grams with Jaccard > 0.6. Prints counts per
file, style and length band. Exits 1 on any failure.

Run: python3 classifiers/data/check_negatives.py
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

from check_corpus import LABELS, STYLES  # the same vocabulary: this script runs beside it

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).resolve().parent / "corpus"
NOTICE_FILE = "neg_clinic_notice"
JACCARD_LIMIT = 0.6


def band(length: int) -> str:
    """Length band the brief asks for: short 15-60, medium 61-299, long 300-1,200."""
    return "short" if length <= 60 else ("medium" if length < 300 else "long")


def grams(text: str, n: int = 5) -> set[str]:
    text = re.sub(r"\s+", "", text)
    return {text[i : i + n] for i in range(max(1, len(text) - n + 1))}


def near_duplicates(items: list[dict]) -> list[tuple[str, str, float]]:
    """Pairs above the Jaccard limit; an inverted index keeps it from comparing every pair."""
    sets = [grams(it["text"]) for it in items]
    index: dict[str, list[int]] = {}
    for i, s in enumerate(sets):
        for g in s:
            index.setdefault(g, []).append(i)
    found = []
    for i, s in enumerate(sets):
        shared: Counter[int] = Counter()
        for g in s:
            for j in index[g]:
                if j > i:
                    shared[j] += 1
        for j, inter in shared.items():
            jac = inter / (len(s) + len(sets[j]) - inter)
            if jac > JACCARD_LIMIT:
                found.append((items[i]["id"], items[j]["id"], round(jac, 2)))
    return found


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from pipelines.approval_numbers import find_approval_numbers

    errors: list[str] = []
    items: list[dict] = []
    per_file: Counter[str] = Counter()
    for path in sorted(CORPUS.glob("neg_*.jsonl")):
        stem = path.stem
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            where = f"{path.name}:{lineno}"
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                errors.append(f"{where}: not JSON ({exc})")
                continue
            if not re.fullmatch(rf"{re.escape(stem)}-\d{{4}}", str(item.get("id"))):
                errors.append(f"{where}: id {item.get('id')!r} is not {stem}-NNNN")
            text = item.get("text")
            if not isinstance(text, str) or not 15 <= len(text) <= 1200:
                errors.append(f"{where}: text missing or length outside 15-1,200")
                continue
            labels = item.get("labels")
            if not isinstance(labels, list) or any(label not in LABELS for label in labels):
                errors.append(f"{where}: labels {labels!r} are not a list of known label ids")
                continue
            want = ["medical_ad"] if stem == NOTICE_FILE else []
            if labels != want:
                errors.append(f"{where}: labels {item.get('labels')} (expected {want})")
            if item.get("style") not in STYLES:
                errors.append(f"{where}: unknown style {item.get('style')!r}")
            if item.get("hard_negative") is not True:
                errors.append(f"{where}: hard_negative must be true")
            if item.get("title") is not None and not isinstance(item["title"], str):
                errors.append(f"{where}: title must be a string or null")
            if stem == NOTICE_FILE and not find_approval_numbers(text):
                errors.append(f"{where}: a licensed notice without a 医广 文号")
            per_file[stem] += 1
            items.append(item)
    ids = Counter(it["id"] for it in items)
    errors += [f"duplicate id {i}" for i, c in ids.items() if c > 1]
    for a, b, jac in near_duplicates(items):
        errors.append(f"near-duplicate {a} ~ {b} (5-gram Jaccard {jac})")

    total = len(items)
    print(f"{total} items")
    for stem, count in sorted(per_file.items()):
        print(f"  {stem:24} {count}")
    print("styles:", dict(Counter(it["style"] for it in items).most_common()))
    bands = Counter(band(len(it["text"])) for it in items)
    print(
        "lengths:", {b: f"{bands[b]} ({bands[b] / max(total, 1):.0%})" for b in ("short", "medium", "long")}
    )
    print("with title:", sum(1 for it in items if it.get("title")))
    for err in errors:
        print("ERROR", err)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

"""Check the labelled corpus (classifiers/data/corpus/*.jsonl) against CORPUS_SPEC.md.

Why: the corpus is written by hand by several people; a malformed line, a label that breaks the
implication rule or two near-identical items would silently skew training and evaluation.

Checks every line parses with the required keys, ids are unique and named `<file stem>-NNNN`,
labels are known, unique and in canonical order, the implication rule holds (every violation label
except training_pitch needs medical_ad), style is known, hard_negative is only set on clean items.
Reports counts per label, label set, style and length band (short <= 60 < medium <= 300 < long),
near-duplicate pairs (character 5-gram Jaccard above the threshold) and openings/endings shared by
several items. Exits 1 on any error or near-duplicate.

    python3 classifiers/data/check_corpus.py [--prefix pos_] [--jaccard 0.6] [FILES...]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

LABELS = [
    "medical_ad",
    "disguised_ad",
    "false_promise",
    "training_pitch",
    "unapproved_product",
    "unlicensed_practice",
    "appearance_anxiety",
]
IMPLYING = set(LABELS) - {"medical_ad", "training_pitch"}
STYLES = {
    "forum",
    "social",
    "news",
    "qa",
    "sms",
    "recruitment",
    "ecommerce",
    "article",
    "notice",
    "review",
    "complaint",
    "research",
    "job",
    "admissions",
    "salon",
    "livestream",
    "comment",
    "other",
}
CORPUS_DIR = Path(__file__).resolve().parent / "corpus"


def band(text: str) -> str:
    n = len(text)
    return "short" if n <= 60 else "medium" if n <= 300 else "long"


def shingles(text: str, k: int = 5) -> frozenset[str]:
    s = re.sub(r"\s+", "", text)
    return frozenset(s[i : i + k] for i in range(max(1, len(s) - k + 1)))


def load(paths: list[Path]) -> tuple[list[dict], list[str]]:
    items, errors, seen = [], [], set()
    for path in paths:
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            where = f"{path.name}:{lineno}"
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                errors.append(f"{where}: not JSON ({exc})")
                continue
            for key in ("id", "text", "labels", "style", "hard_negative"):
                if key not in rec:
                    errors.append(f"{where}: missing {key}")
            if any(k not in rec for k in ("id", "text", "labels", "style")):
                continue
            rid, labels = rec["id"], rec["labels"]
            if rid in seen:
                errors.append(f"{where}: duplicate id {rid}")
            seen.add(rid)
            if not re.fullmatch(re.escape(path.stem) + r"-\d{4}", rid):
                errors.append(f"{where}: id {rid} is not {path.stem}-NNNN")
            if not isinstance(rec["text"], str) or not rec["text"].strip():
                errors.append(f"{where}: empty text")
            if rec.get("title") is not None and not isinstance(rec["title"], str):
                errors.append(f"{where}: title is not a string")
            unknown = [lb for lb in labels if lb not in LABELS]
            if unknown:
                errors.append(f"{where}: unknown labels {unknown}")
            elif labels != sorted(set(labels), key=LABELS.index):
                errors.append(f"{where}: labels not unique/sorted {labels}")
            if IMPLYING & set(labels) and "medical_ad" not in labels:
                errors.append(f"{where}: {labels} lacks medical_ad")
            if rec["style"] not in STYLES:
                errors.append(f"{where}: unknown style {rec['style']}")
            if rec.get("hard_negative") is True and set(labels) - {"medical_ad"}:
                errors.append(f"{where}: hard_negative on a violating item")
            rec["_where"] = where
            items.append(rec)
    return items, errors


def near_duplicates(items: list[dict], threshold: float) -> list[tuple[float, str, str]]:
    sets = sorted(((shingles(r["text"]), r["id"]) for r in items), key=lambda p: len(p[0]))
    found = []
    for i, (a, aid) in enumerate(sets):
        for b, bid in sets[i + 1 :]:
            if len(a) < threshold * len(b):
                break
            inter = len(a & b)
            if inter and inter / (len(a) + len(b) - inter) > threshold:
                found.append((inter / (len(a) + len(b) - inter), aid, bid))
    return found


def report(items: list[dict]) -> None:
    labels = Counter(lb for r in items for lb in r["labels"])
    print(f"items: {len(items)}")
    for lb in LABELS:
        print(f"  {lb:20} {labels[lb]}")
    sets = Counter(tuple(r["labels"]) or ("(clean)",) for r in items)
    print("label sets:")
    for combo, n in sets.most_common():
        print(f"  {n:5}  {'+'.join(combo)}")
    bands = Counter(band(r["text"]) for r in items)
    print(
        "length:",
        ", ".join(f"{b} {bands[b]} ({bands[b] / len(items):.0%})" for b in ("short", "medium", "long")),
    )
    print("style:", ", ".join(f"{s} {n}" for s, n in Counter(r["style"] for r in items).most_common()))
    titled = sum(1 for r in items if r.get("title"))
    print(f"titled: {titled}; hard_negative: {sum(1 for r in items if r.get('hard_negative'))}")


def shared_edges(items: list[dict], k: int = 8, at_least: int = 3) -> None:
    for name, cut in (("opening", lambda t: t[:k]), ("ending", lambda t: t[-k:])):
        c = Counter(cut(re.sub(r"\s+", "", r["text"])) for r in items)
        for edge, n in c.most_common():
            if n < at_least:
                break
            print(f"warning: {n} items share the {name} {edge!r}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", type=Path)
    ap.add_argument("--prefix", default="", help="only files whose name starts with this")
    ap.add_argument("--jaccard", type=float, default=0.6)
    args = ap.parse_args(argv)
    paths = args.files or sorted(CORPUS_DIR.glob("*.jsonl"))
    paths = [p for p in paths if p.name.startswith(args.prefix)]
    if not paths:
        print("no corpus files found", file=sys.stderr)
        return 1
    items, errors = load(paths)
    report(items)
    shared_edges(items)
    dups = near_duplicates(items, args.jaccard)
    for score, a, b in dups:
        errors.append(f"near-duplicate {a} ~ {b} (Jaccard {score:.2f})")
    for e in errors:
        print("ERROR", e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

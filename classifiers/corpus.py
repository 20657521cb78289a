"""The labelled corpus: hand-written items, real public negatives, reviewed decisions; the split.

Each item belongs to train, dev or test by a stable hash of its id (70/15/15), so adding items
never moves an old one to another split and the test split is never seen by training or by
threshold choice.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from adwatch.labels import LABEL_IDS

DATA_DIR = Path(__file__).resolve().parent / "data"
CORPUS_DIR = DATA_DIR / "corpus"
EXTERNAL_DIR = DATA_DIR / "external"

SPLITS = ("train", "dev", "test")
IMPLYING_LABELS = frozenset(
    {"disguised_ad", "false_promise", "unapproved_product", "unlicensed_practice", "appearance_anxiety"}
)


@dataclass
class Item:
    id: str
    text: str
    labels: list[str]
    title: str | None = None
    style: str = "other"
    hard_negative: bool = False
    source: str = "corpus"  # corpus | external | review | evasion:<transform>
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def split(self) -> str:
        return split_of(self.id)

    @property
    def clean(self) -> bool:
        return not any(label != "medical_ad" for label in self.labels)


def split_of(item_id: str) -> str:
    """train / dev / test by the first bytes of SHA-256 of the id: stable as the corpus grows."""
    bucket = int.from_bytes(hashlib.sha256(item_id.encode("utf-8")).digest()[:4], "big") % 100
    return "train" if bucket < 70 else "dev" if bucket < 85 else "test"


def item_from_json(obj: dict, where: str) -> Item:
    try:
        labels = list(obj["labels"])
        unknown = [lb for lb in labels if lb not in LABEL_IDS]
        if unknown:
            raise ValueError(f"unknown labels {unknown}")
        return Item(
            id=str(obj["id"]),
            text=str(obj["text"]),
            labels=sorted(set(labels), key=LABEL_IDS.index),
            title=obj.get("title") or None,
            style=str(obj.get("style") or "other"),
            hard_negative=bool(obj.get("hard_negative", False)),
            source=str(obj.get("source") or "corpus"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{where}: not a corpus item ({exc})") from exc


def read_jsonl(path: Path, source: str = "corpus") -> Iterator[Item]:
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                item = item_from_json(json.loads(line), f"{path.name}:{n}")
                item.source = source
                yield item


def load_corpus(corpus_dir: Path = CORPUS_DIR) -> list[Item]:
    """Every hand-written item (``classifiers/data/corpus/*.jsonl``), ids checked unique."""
    items: list[Item] = []
    for path in sorted(corpus_dir.glob("*.jsonl")):
        items.extend(read_jsonl(path))
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise ValueError(f"corpus id {item.id} appears twice")
        seen.add(item.id)
    return items


def load_external(external_dir: Path = EXTERNAL_DIR) -> list[Item]:
    """Real public text used as clean negatives (see classifiers/data/README.md)."""
    items: list[Item] = []
    titles = external_dir / "thucnews_titles_sample.tsv"
    if titles.exists():
        with titles.open(encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                title, _, cls = line.rstrip("\n").partition("\t")
                items.append(
                    Item(id=f"ext-thucnews-{n:05d}", text=title, labels=[], style="news", source="external")
                )
    dialogue = external_dir / "medical_dialogue_sample.csv"
    if dialogue.exists():
        with dialogue.open(encoding="utf-8", newline="") as fh:
            for n, row in enumerate(csv.DictReader(fh), 1):
                text = f"{row['ask']}\n{row['answer']}"
                items.append(
                    Item(
                        id=f"ext-dialogue-{n:05d}",
                        text=text,
                        title=row["title"],
                        labels=[],
                        style="qa",
                        source="external",
                    )
                )
    return items


def load_all(corpus_dir: Path = CORPUS_DIR, external_dir: Path = EXTERNAL_DIR) -> list[Item]:
    return load_corpus(corpus_dir) + load_external(external_dir)


def by_split(items: Iterable[Item]) -> dict[str, list[Item]]:
    out: dict[str, list[Item]] = {s: [] for s in SPLITS}
    for item in items:
        out[item.split].append(item)
    return out


def data_sha256(items: Iterable[Item]) -> str:
    """SHA-256 of the training data as the model saw it (ids, texts, labels; order-independent)."""
    digest = hashlib.sha256()
    for item in sorted(items, key=lambda i: i.id):
        line = json.dumps([item.id, item.title, item.text, item.labels], ensure_ascii=False)
        digest.update(line.encode("utf-8") + b"\n")
    return digest.hexdigest()

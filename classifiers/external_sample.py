"""Copy a fixed sample of the real public text in ``shared/data`` into ``classifiers/data/external``.

Run once (``python -m classifiers.external_sample [SHARED_DATA_DIR]``); the sample and the
licences are committed, so training needs nothing outside the repository. The sample is drawn
with a fixed seed, so re-running it gives the same files.
"""

from __future__ import annotations

import csv
import random
import shutil
import sys
from pathlib import Path

from classifiers.corpus import EXTERNAL_DIR

N_TITLES = 700
N_DIALOGUES = 300
MAX_DIALOGUE_CHARS = 600
SEED = 20261123


def main(shared: Path) -> None:
    EXTERNAL_DIR.mkdir(parents=True, exist_ok=True)
    rng = random.Random(SEED)
    classes = (shared / "thucnews_titles_classes.txt").read_text(encoding="utf-8").split()
    rows = [
        ln.split("\t")
        for ln in (shared / "thucnews_titles_dev.txt").read_text(encoding="utf-8").splitlines()
        if "\t" in ln
    ]
    sample = sorted(rng.sample(range(len(rows)), N_TITLES))
    with (EXTERNAL_DIR / "thucnews_titles_sample.tsv").open("w", encoding="utf-8") as fh:
        for i in sample:
            title, cls = rows[i]
            fh.write(f"{title}\t{classes[int(cls)]}\n")
    shutil.copy(shared / "thucnews_titles.LICENSE", EXTERNAL_DIR / "thucnews_titles.LICENSE")

    with (shared / "medical_dialogue_neike.csv").open(encoding="utf-8", newline="") as fh:
        dialogues = [r for r in csv.DictReader(fh) if len(r["ask"]) + len(r["answer"]) <= MAX_DIALOGUE_CHARS]
    picked = sorted(rng.sample(range(len(dialogues)), N_DIALOGUES))
    with (EXTERNAL_DIR / "medical_dialogue_sample.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["department", "title", "ask", "answer"])
        writer.writeheader()
        for i in picked:
            writer.writerow({k: dialogues[i][k] for k in ("department", "title", "ask", "answer")})
    shutil.copy(shared / "medical_dialogue_neike.LICENSE", EXTERNAL_DIR / "medical_dialogue_neike.LICENSE")
    print(f"{N_TITLES} titles, {N_DIALOGUES} dialogues → {EXTERNAL_DIR}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data").resolve())

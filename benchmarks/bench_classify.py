"""``make bench-classify``: 10,000 documents of ~400 characters through ``adwatch classify`` as a
whole process (start-up included), and through a naive baseline — jieba.lcut + TfidfVectorizer +
LogisticRegression trained on the same corpus — in the same run.

Both run as child processes pinned to one core (taskset) with one BLAS thread; peak memory is each
child's own max RSS (os.wait4). The baseline's clock starts after it has imported its libraries
and trained, which favours the baseline. Documents are the corpus's texts cut and recombined to
about 400 characters, with a fixed seed. Targets: >= 1.0x the baseline's docs/s, >= 1,000 docs/s,
<= 300 MB peak.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

N_DOCS = int(os.environ.get("BENCH_DOCS", "10000"))
DOC_CHARS = 400
SEED = 7
TARGET_RATE = 1000.0
TARGET_RSS_MB = 300.0

BASELINE = r"""
import json, sys, time
import jieba, numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from classifiers.corpus import by_split, load_all
from adwatch.labels import LABEL_IDS
jieba.setLogLevel(60)
train = by_split(load_all())["train"]
texts = [((i.title or "") + "\n" + i.text) for i in train]
vec = TfidfVectorizer(tokenizer=jieba.lcut, lowercase=False, token_pattern=None)
X = vec.fit_transform(texts)
models = []
for label in LABEL_IDS:
    y = np.array([label in i.labels for i in train], dtype=int)
    models.append(LogisticRegression(max_iter=1000).fit(X, y) if 0 < y.sum() < len(y) else None)
lines = open(sys.argv[1], "rb").read().splitlines()
start = time.perf_counter()
docs = [json.loads(line) for line in lines]
Xd = vec.transform([(d.get("title") or "") + "\n" + d["text"] for d in docs])
probs = np.column_stack([m.predict_proba(Xd)[:, 1] if m is not None else np.zeros(len(docs)) for m in models])
with open(sys.argv[2], "w", encoding="utf-8") as out:
    for d, p in zip(docs, probs):
        out.write(json.dumps({"id": d["id"], "labels": [l for l, v in zip(LABEL_IDS, p) if v >= 0.5]}, ensure_ascii=False) + "\n")
print(json.dumps({"seconds": time.perf_counter() - start}))
"""


def make_documents(n: int, path: Path) -> int:
    """~400-character documents cut from corpus texts and recombined; returns total characters."""
    from classifiers.corpus import load_all

    rng = random.Random(SEED)
    texts = [i.text for i in load_all() if len(i.text) >= 20]
    total = 0
    with path.open("w", encoding="utf-8") as fh:
        for k in range(n):
            parts, size = [], 0
            while size < DOC_CHARS:
                t = rng.choice(texts)
                start = rng.randrange(max(1, len(t) - 150))
                piece = t[start : start + rng.randint(80, 250)]
                parts.append(piece)
                size += len(piece)
            doc = "".join(parts)[:DOC_CHARS]
            total += len(doc)
            fh.write(json.dumps({"id": f"bench-{k}", "text": doc}, ensure_ascii=False) + "\n")
    return total


def run_child(cmd: list[str], env: dict[str, str]) -> tuple[float, float, float, str]:
    """Wall seconds, CPU seconds, peak RSS in MB, stdout of one child process."""
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", "0", *cmd]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = proc.stdout.read().decode()
    err = proc.stderr.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out


def main() -> None:
    root = Path(__file__).resolve().parent.parent
    adwatch = Path(sys.executable).with_name("adwatch")
    env = os.environ | {
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONPATH": str(root),
    }
    with tempfile.TemporaryDirectory(prefix="adwatch-bench-") as tmp:
        tmpdir = Path(tmp)
        env["ADWATCH_HOME"] = str(tmpdir / "home")
        docs = tmpdir / "docs.jsonl"
        chars = make_documents(N_DOCS, docs)
        print(
            f"{N_DOCS} documents, {chars / N_DOCS:.0f} characters on average, {docs.stat().st_size / 1e6:.1f} MB"
        )

        wall, cpu, rss, _ = run_child(
            [str(adwatch), "classify", "--input", str(docs), "--output", str(tmpdir / "out.jsonl")], env
        )
        lines = sum(1 for _ in (tmpdir / "out.jsonl").open(encoding="utf-8"))
        assert lines == N_DOCS, f"adwatch classify wrote {lines} lines for {N_DOCS} documents"
        ours = N_DOCS / wall
        print(
            f"adwatch classify (whole process): {wall:.2f} s wall, {cpu:.2f} s CPU, {ours:.0f} docs/s, "
            f"{N_DOCS / cpu:.0f} docs per CPU-second, peak RSS {rss:.0f} MB"
        )

        script = tmpdir / "baseline.py"
        script.write_text(BASELINE, encoding="utf-8")
        bwall, bcpu, brss, bout = run_child(
            [sys.executable, str(script), str(docs), str(tmpdir / "base.jsonl")], env
        )
        bsec = json.loads(bout.strip().splitlines()[-1])["seconds"]
        base = N_DOCS / bsec
        print(
            f"baseline jieba+tfidf+LR (prediction only, after import and training): {bsec:.2f} s, {base:.0f} docs/s; "
            f"whole process {bwall:.2f} s wall, peak RSS {brss:.0f} MB"
        )

    ratio = ours / base
    print(f"ratio: {ratio:.2f}x the baseline")
    checks = [
        (f">= 1.0x baseline ({ratio:.2f}x)", ratio >= 1.0),
        (f">= {TARGET_RATE:.0f} docs/s ({ours:.0f})", ours >= TARGET_RATE),
        (f"<= {TARGET_RSS_MB:.0f} MB peak ({rss:.0f})", rss <= TARGET_RSS_MB),
    ]
    for name, ok in checks:
        print(f"  {'ok  ' if ok else 'MISS'} {name}")
    if os.environ.get("BENCH_STRICT") and not all(ok for _, ok in checks):
        sys.exit(1)


if __name__ == "__main__":
    main()

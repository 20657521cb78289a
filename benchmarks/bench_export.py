"""`make bench-export`: export 10,000 confirmed items as XLSX, CSV and a ZIP bundle; seconds and peak memory.

Setup fills a throwaway home with N confirmed review items, each with a real raw body (a distinct
Chinese page), a real WARC file built by warcio and a screenshot, all stored through the evidence
store with their SHA-256 (bulk inserts for the rows). The screenshot is ONE real Chromium
rendering of a short Chinese page (1280 px wide, about 100 KB), made once; each item gets its own copy with a distinct PNG text
chunk, so every item has its own file and hash without N browser renders.

Each export runs in its own process (`adwatch export …`), so its wall time and peak RSS
(``wait4`` rusage) are its own. Targets (issue 5): XLSX < 30 s and every export < 500 MB.

    python -m benchmarks.bench_export [--items N] [--backend sqlite|postgresql] [--keep DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import insert

from adwatch.db import Database
from adwatch.models import (
    ApprovalFinding,
    Artifact,
    Capture,
    Classification,
    Decision,
    Document,
    ReviewItem,
    Source,
    User,
)
from adwatch.settings import load_settings
from pipelines.evidence.store import ArtifactStore
from pipelines.evidence.warc import build_warc

ADWATCH = str(Path(sys.executable).with_name("adwatch"))  # the console script of this environment
XLSX_SECONDS = 30.0
MEMORY_MB = 500.0
BATCH = 1000
RENDERER = "Chromium (one benchmark render, reused)"
TEXT = "星悦医疗美容诊所第{n}号分店：玻尿酸填充一次见效，无效退款，永久保持！加V：meiyan{n:05d} 预约。"


def page(n: int, paragraphs: int = 30) -> str:
    text = TEXT.format(n=n)
    filler = "".join(
        f"<p>第{i}段：水光针、热玛吉、超声刀限时特惠，专家亲诊，安全无痛。</p>" for i in range(paragraphs)
    )
    return (
        f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>星悦医美第{n}号店特惠</title></head>'
        f'<body style="margin:0 20px;font-size:18px"><h1>星悦医美第{n}号店</h1><p>{text}</p>{filler}</body></html>'
    )


def base_screenshot(settings) -> bytes:  # type: ignore[no-untyped-def]
    """One real offline Chromium rendering of a Chinese page."""
    from pipelines.evidence.screenshots import OfflineRenderer

    body = page(0, paragraphs=6).encode()
    capture = Capture(
        id=0,
        url="http://bench.example.cn/0",
        final_url="http://bench.example.cn/0",
        status=200,
        headers={},
        request_headers={},
        fetched_at=dt.datetime.now(dt.UTC),
        content_type="text/html",
        encoding="utf-8",
        render="static",
        body=zlib.compress(body),
        body_size=len(body),
        sha256=hashlib.sha256(body).hexdigest(),
    )
    with OfflineRenderer(settings) as renderer:
        return renderer.render(capture).png


def with_text_chunk(png: bytes, text: str) -> bytes:
    """The same image with a tEXt chunk before IEND: a distinct, valid PNG file."""
    data = b"Comment\x00" + text.encode("latin-1")
    chunk = struct.pack(">I", len(data)) + b"tEXt" + data + struct.pack(">I", zlib.crc32(b"tEXt" + data))
    return png[:-12] + chunk + png[-12:]


def fill(db: Database, settings, items: int) -> None:  # type: ignore[no-untyped-def]
    store = ArtifactStore(settings.evidence_dir)
    shot = base_screenshot(settings)
    print(f"  base screenshot: {len(shot):,} bytes (one Chromium render, reused with a distinct text chunk)")
    fetched = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    with db.session() as s:
        s.add(Source(id=1, name="基准论坛", kind="list"))
        s.add_all(
            [
                User(id=1, name="审核员", role="reviewer", password_hash="x"),
                User(id=2, name="执法员", role="enforcement", password_hash="x"),
            ]
        )
    for start in range(1, items + 1, BATCH):
        rows: dict[type, list[dict]] = {
            m: []
            for m in (Capture, Document, Classification, ReviewItem, Decision, ApprovalFinding, Artifact)
        }
        for n in range(start, min(start + BATCH, items + 1)):
            when = fetched + dt.timedelta(minutes=n)
            url = f"http://bench.example.cn/ad/{n}"
            body = page(n).encode()
            sha = hashlib.sha256(body).hexdigest()
            capture = dict(
                id=n,
                source_id=1,
                url=url,
                url_key=hashlib.sha256(url.encode()).hexdigest(),
                final_url=url,
                status=200,
                headers={"content-type": "text/html; charset=utf-8"},
                request_headers={"user-agent": "AdWatch"},
                fetched_at=when,
                content_type="text/html",
                encoding="utf-8",
                render="static",
                body=zlib.compress(body),
                body_size=len(body),
                sha256=sha,
            )
            rows[Capture].append(capture)
            text = TEXT.format(n=n)
            rows[Document].append(
                dict(
                    id=n,
                    capture_id=n,
                    source_id=1,
                    url=url,
                    url_key=capture["url_key"],
                    final_url=url,
                    fetched_at=when,
                    title=f"星悦医美第{n}号店特惠",
                    text=text,
                    platform="bench.example.cn",
                    author="星悦医美",
                    institutions=[f"上海星悦医疗美容诊所第{n}分店"],
                    credit_codes=["91310000MA1K000001"],
                    addresses=["上海市静安区南京西路1号"],
                )
            )
            rows[Classification].append(
                dict(
                    document_id=n,
                    model_version="bench",
                    labels=["medical_ad", "false_promise"],
                    scores={"false_promise": 0.97},
                    evidence=[
                        {"label": "false_promise", "start": 0, "end": 4, "text": t, "rule": "lexicon"}
                        for t in ("一次见效", "无效退款", "永久")
                    ],
                )
            )
            rows[ReviewItem].append(
                dict(
                    id=n,
                    document_id=n,
                    source_id=1,
                    status="confirmed",
                    labels=["medical_ad", "false_promise"],
                    url=url,
                    title=f"星悦医美第{n}号店特惠",
                    captured_at=when,
                    decided_by=1,
                    decided_at=when + dt.timedelta(hours=1),
                )
            )
            rows[Decision].append(
                dict(
                    item_id=n,
                    user_id=1,
                    action="confirm",
                    labels=["medical_ad", "false_promise"],
                    legal_basis=["efficacy_guarantee", "no_review"],
                    created_at=when + dt.timedelta(hours=1),
                )
            )
            rows[ApprovalFinding].append(dict(document_id=n, kind="approval_missing", detail={}))
            c = Capture(**capture)
            for kind, data, ext, media in (
                ("raw", body, ".html", "text/html"),
                ("warc", build_warc(c, body, sha), ".warc.gz", "application/warc"),
                ("screenshot", with_text_chunk(shot, f"item {n}"), ".png", "image/png"),
            ):
                stored = store.put(data, ext)
                rows[Artifact].append(
                    dict(
                        capture_id=n,
                        kind=kind,
                        sha256=stored.sha256,
                        size=stored.size,
                        path=stored.path,
                        media_type=media,
                        created_at=when,
                        detail={
                            "captured_at": when.isoformat(),
                            "renderer": RENDERER if kind == "screenshot" else None,
                        },
                    )
                )
        with db.session() as s:
            for model, values in rows.items():
                s.execute(insert(model), values)
        print(f"  {min(start + BATCH - 1, items):,} items stored", flush=True)


def run_export(env: dict[str, str], fmt: str, out: Path) -> tuple[float, float, float, int]:
    """Wall seconds, CPU seconds, peak RSS in MB and output bytes of one `adwatch export` in its own process."""
    cmd = [ADWATCH, "export", "--format", fmt, "--output", str(out)]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    stdout, stderr = proc.stdout.read(), proc.stderr.read()  # type: ignore[union-attr]
    if proc.returncode != 0:
        raise SystemExit(f"export {fmt} failed ({proc.returncode}): {stderr.decode()[-2000:]}")
    print(f"  {stdout.decode().strip().splitlines()[0]}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out.stat().st_size


@contextlib.contextmanager
def database_url(backend: str, home: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{home / 'adwatch.db'}"
        return
    from adwatch.devservers import postgres_server

    with postgres_server() as server:
        yield server.create_database("bench_export")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--keep", type=Path, help="Work in this directory and keep it (default: a temporary one)."
    )
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="adwatch-bench-export-"))
    work.mkdir(parents=True, exist_ok=True)
    home = work / "home"
    try:
        with database_url(args.backend, home) as url:
            env = {**os.environ, "ADWATCH_HOME": str(home), "ADWATCH_DATABASE_URL": url}
            settings = load_settings(env)
            settings.ensure_dirs()
            db = Database(settings)
            print(f"filling {args.items:,} confirmed items ({args.backend}) in {home}")
            started = time.perf_counter()
            fill(db, settings, args.items)
            db.dispose()
            setup = time.perf_counter() - started
            print(f"  setup {setup:.1f} s")
            results = {}
            for fmt in ("xlsx", "csv", "zip"):
                results[fmt] = run_export(env, fmt, work / f"evidence.{fmt}")
            verify_started = time.perf_counter()
            check = subprocess.run(
                [ADWATCH, "evidence", "verify", str(work / "evidence.zip")],
                env=env,
                capture_output=True,
                text=True,
            )
            verify_seconds = time.perf_counter() - verify_started
    finally:
        if args.keep is None:
            for root, dirs, _ in os.walk(work):  # stored evidence is read-only
                for d in dirs:
                    os.chmod(os.path.join(root, d), 0o755)
            shutil.rmtree(work, ignore_errors=True)

    print(f"\nexport of {args.items:,} confirmed items ({args.backend}):")
    print(
        f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (wall time includes waiting for a core)"
    )
    print(f"{'format':<8}{'wall s':>8}{'CPU s':>8}{'peak RSS MB':>14}{'output MB':>12}")
    failed = []
    for fmt, (seconds, cpu, rss, size) in results.items():
        print(f"{fmt:<8}{seconds:>8.1f}{cpu:>8.1f}{rss:>14.0f}{size / 1e6:>12.1f}")
        if rss >= MEMORY_MB:
            failed.append(f"{fmt} peak RSS {rss:.0f} MB >= {MEMORY_MB:.0f} MB")
    if results["xlsx"][0] >= XLSX_SECONDS:
        failed.append(f"xlsx took {results['xlsx'][0]:.1f} s >= {XLSX_SECONDS:.0f} s")
    print(f"verify bundle: {verify_seconds:.1f} s, exit {check.returncode}")
    if check.returncode != 0:
        failed.append("the bundle did not verify: " + check.stderr.strip())
    print("targets: XLSX < 30 s, memory < 500 MB —", "FAILED: " + "; ".join(failed) if failed else "met")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Crawl benchmark: AdWatch's full crawl against a bare Scrapy spider, on the same local site.

    make bench-crawl            # or: python -m benchmarks.bench_crawl [--pages 2000]

Serves the generated site (2,000 linked pages of Chinese text, a third of them ad-like) on
127.0.0.1 and crawls it twice, each in a fresh process:

* bare — a minimal Scrapy spider that follows every link and stores nothing;
* adwatch — ``adwatch crawl`` with everything on (robots.txt, AutoThrottle, the page budget, the
  page pipeline storing every page in SQLite in a temporary home).

Rates are pages over Scrapy's own ``elapsed_time_seconds`` (spider open to close, so interpreter
start-up is left out of both; AdWatch's pipeline processes start before its spider opens). Target:
AdWatch at >= 0.7 of the bare rate. The ratio of whole-process times, start-up included, is printed
beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET = 0.7


def bare_crawl(start_url: str) -> dict[str, float]:
    """Run in a child process: crawl everything reachable from start_url, store nothing."""
    import scrapy
    from scrapy.crawler import AsyncCrawlerProcess

    cpu_at_open: list[float] = []

    class Bare(scrapy.Spider):
        name = "bare"
        start_urls = [start_url]

        async def start(self):  # type: ignore[no-untyped-def]
            usage = resource.getrusage(resource.RUSAGE_SELF)
            cpu_at_open.append(usage.ru_utime + usage.ru_stime)
            async for request in super().start():
                yield request

        def parse(self, response):  # type: ignore[no-untyped-def]
            yield from response.follow_all(css="a")

    process = AsyncCrawlerProcess(
        {"LOG_LEVEL": "WARNING", "TELNETCONSOLE_ENABLED": False, "REMOTE_CONTROL_ENABLED": False}
    )
    crawler = process.create_crawler(Bare)
    process.crawl(crawler)
    process.start()
    stats = crawler.stats.get_stats()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "pages": stats.get("response_received_count", 0),
        "seconds": stats.get("elapsed_time_seconds", 0.0),
        "cpu": usage.ru_utime + usage.ru_stime - cpu_at_open[0],
    }


def adwatch_crawl(start_url: str, workers: int | None) -> dict[str, float]:
    """``adwatch crawl`` in a child process, on SQLite in a temporary home."""
    from sqlalchemy import func, select

    from adwatch.db import Database
    from adwatch.models import CrawlRun, Document
    from adwatch.settings import load_settings

    with tempfile.TemporaryDirectory(prefix="adwatch-bench-") as home:
        sources = Path(home) / "sources"
        sources.mkdir()
        (sources / "bench.yaml").write_text(
            f"name: bench\nkind: list\nstart_urls: [{start_url}]\nmax_depth: 10\nmax_pages: 100000\n",
            encoding="utf-8",
        )
        env = {**os.environ, "ADWATCH_HOME": home, "ADWATCH_SOURCES_DIR": str(sources)}
        env.pop("ADWATCH_DATABASE_URL", None)
        if workers is not None:
            env["ADWATCH_PIPELINE_WORKERS"] = str(workers)
        started = time.monotonic()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = subprocess.run(
            [sys.executable, "-m", "crawler", "crawl", "bench"], env=env, capture_output=True, text=True
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall = time.monotonic() - started
        if proc.returncode != 0:
            raise SystemExit(
                f"adwatch crawl failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr[-3000:]}"
            )
        db = Database(load_settings({"ADWATCH_HOME": home}))
        with db.session() as s:
            run = s.scalars(select(CrawlRun)).one()
            documents = s.scalar(select(func.count(Document.id)))
            result = {
                "pages": run.pages,
                "items": run.items,
                "errors": run.errors,
                "documents": documents,
                "seconds": float(run.stats.get("elapsed_time_seconds", 0.0)),
                "cpu": float(run.stats.get("adwatch/cpu_seconds", 0.0)),
                "all_cpu": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
                "wall_seconds": wall,
            }
        db.dispose()
        return result


def _child(mode: str, url: str, workers: int | None) -> None:
    result = bare_crawl(url) if mode == "bare" else adwatch_crawl(url, workers)
    print(json.dumps(result))


def _run_child(mode: str, url: str, workers: int | None) -> dict[str, float]:
    cmd = [sys.executable, "-m", "benchmarks.bench_crawl", "--child", mode, "--url", url]
    if workers is not None:
        cmd += ["--workers", str(workers)]
    started = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{mode} crawl failed:\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["process_seconds"] = time.monotonic() - started  # everything: interpreters, imports, set-up
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--workers", type=int, help="pipeline worker processes (ADWATCH_PIPELINE_WORKERS)")
    parser.add_argument("--child", choices=["bare", "adwatch"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.url, args.workers)
        return

    from adwatch.demo_site import GeneratedSite

    with GeneratedSite.serve(pages=args.pages, seed=1) as site:
        for path in site.page_paths:  # render every page once, so neither crawl pays for it
            site.page(path)
        start = site.base_url + "/"
        print(
            f"generated site: {args.pages} pages at {site.base_url} (load average {os.getloadavg()[0]:.1f})"
        )
        bare = _run_child("bare", start, None)
        print(
            f"bare scrapy : {bare['pages']:5.0f} pages in {bare['seconds']:6.1f}s = "
            f"{bare['pages'] / bare['seconds']:6.1f} pages/s   CPU {1000 * bare['cpu'] / bare['pages']:.1f} ms/page",
            flush=True,
        )
        full = _run_child("adwatch", start, args.workers)
        print(
            f"adwatch     : {full['pages']:5.0f} pages in {full['seconds']:6.1f}s = "
            f"{full['pages'] / full['seconds']:6.1f} pages/s   CPU {1000 * full['cpu'] / full['pages']:.1f} ms/page "
            f"crawling; {1000 * full['all_cpu'] / full['pages']:.1f} ms/page in all its processes with start-up\n"
            f"              stored {full['items']:.0f} pages, {full['documents']:.0f} documents, "
            f"{full['errors']:.0f} errors; {full['wall_seconds']:.1f}s wall with process start-up",
            flush=True,
        )
    ratio = (full["pages"] / full["seconds"]) / (bare["pages"] / bare["seconds"])
    verdict = "meets" if ratio >= TARGET else "BELOW"
    print(f"ratio       : {ratio:.2f} ({verdict} the target of {TARGET})")
    # Exec to exit of the crawling process: the bare child, and the `adwatch crawl` command
    # (its child runs it as a subprocess and then counts the stored rows, not included).
    whole = (full["pages"] / full["wall_seconds"]) / (bare["pages"] / bare["process_seconds"])
    print(
        f"              exec to exit, start-up included: bare {bare['process_seconds']:.1f}s, "
        f"adwatch {full['wall_seconds']:.1f}s, ratio {whole:.2f}"
    )


if __name__ == "__main__":
    main()

"""Three worker processes crawl one 2,000-page site through one Redis and one PostgreSQL; one is
killed with SIGKILL mid-crawl, the others finish: every page is stored exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import func, select

from adwatch.db import Database
from adwatch.demo_site import GeneratedSite
from adwatch.devservers import PostgresServer
from adwatch.models import Capture, CrawlRun, Document
from tests.conftest import BACKENDS, make_settings
from tests.crawler.conftest import start_adwatch

PAGES = 2000

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif("postgresql" not in BACKENDS, reason="the shared store is PostgreSQL"),
]


def stop(proc: subprocess.Popen[str], sig: int = signal.SIGTERM, timeout: float = 60) -> tuple[str, str]:
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        return proc.communicate()


def test_three_workers_one_killed_store_every_page_exactly_once(
    tmp_path: Path, pg_server: PostgresServer, redis_url: str
) -> None:
    redis.Redis.from_url(redis_url).flushdb()
    settings = make_settings(
        tmp_path / "home",
        pg_server.create_database(f"scale{os.getpid()}"),
        ADWATCH_REDIS_URL=redis_url,
        ADWATCH_RUN_HEARTBEAT_SECONDS="2",
    )
    settings.ensure_dirs()
    db = Database(settings)  # migrated once, before the workers start
    procs: list[subprocess.Popen[str]] = []
    try:
        with GeneratedSite.serve(pages=PAGES, seed=3) as site:
            procs.append(start_adwatch(settings, "crawl", "--worker"))
            procs.append(start_adwatch(settings, "crawl", "--worker"))
            seeder = start_adwatch(
                settings, "crawl", "--url", site.base_url + "/", "--max-depth", "10", "--max-pages", "100000"
            )
            procs.append(seeder)
            victim = procs[0]

            def stored() -> int:
                with db.session() as s:
                    return int(s.scalar(select(func.count(Capture.id))) or 0)

            deadline = time.monotonic() + 300
            while stored() < PAGES // 4:
                assert time.monotonic() < deadline, "the crawl did not get going"
                assert seeder.poll() is None, seeder.communicate()
                time.sleep(0.2)
            stop(victim, signal.SIGKILL)
            killed_at = stored()
            assert killed_at < PAGES, "killed too late to prove anything"

            out, err = seeder.communicate(timeout=600)
            assert seeder.returncode == 0, f"stdout:\n{out}\nstderr:\n{err[-4000:]}"
            assert "finished" in out

            with db.session() as s:
                urls = list(s.scalars(select(Capture.url)))
                documents = s.scalar(select(func.count(Document.id)))
                run = s.scalars(select(CrawlRun)).one()
            assert len(urls) == PAGES == len(set(urls)), "a page stored twice or lost"
            assert sorted(u.removeprefix(site.base_url) for u in urls) == sorted(site.page_paths)
            assert documents == PAGES
            assert (run.status, run.stop_reason) == ("finished", "finished")
            assert run.pages >= PAGES and run.items >= PAGES and run.errors == 0

            survivor = procs[1]
            assert survivor.poll() is None, "a --worker keeps waiting for new work"
            _, survivor_err = stop(survivor)
            assert survivor.returncode == 0, survivor_err[-3000:]

        logs = "\n".join(p.read_text(encoding="utf-8") for p in settings.logs_dir.glob("*.log"))
        assert f":{victim.pid}:" in logs and "stopped beating" in logs  # the victim was reaped
        client: Any = redis.Redis.from_url(redis_url)
        assert client.hlen("adwatch:runs") == 0
        assert not [k for k in client.keys("adwatch:worker:*:inflight") if client.hlen(k)]
    finally:
        for proc in procs:
            stop(proc, signal.SIGKILL, timeout=10)
        db.dispose()

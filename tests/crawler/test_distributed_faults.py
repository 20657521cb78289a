"""Redis going away in the middle of a distributed crawl: the worker backs off, resumes when
Redis is back, and the crawl ends with every page stored exactly once."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from adwatch.db import Database
from adwatch.demo_site import GeneratedSite
from adwatch.devservers import redis_server
from adwatch.models import Capture, CrawlRun
from adwatch.settings import Settings
from tests.crawler.conftest import start_adwatch

PAGES = 300


@pytest.mark.slow
def test_a_crawl_survives_redis_going_away_and_coming_back(sqlite_settings: Settings, tmp_path: Path) -> None:
    db = Database(sqlite_settings)
    with redis_server() as server, GeneratedSite.serve(pages=PAGES, seed=5) as site:
        crawl = start_adwatch(
            sqlite_settings,
            "crawl",
            "--url",
            site.base_url + "/",
            "--max-depth",
            "10",
            ADWATCH_REDIS_URL=server.url,
        )
        try:

            def stored() -> int:
                with db.session() as s:
                    return int(s.scalar(select(func.count(Capture.id))) or 0)

            deadline = time.monotonic() + 180
            while stored() < 40:
                assert time.monotonic() < deadline and crawl.poll() is None, crawl.communicate()
                time.sleep(0.1)
            server.proc.send_signal(signal.SIGSTOP)  # Redis stops answering …
            time.sleep(14)  # … for longer than the client's 10 s timeout
            server.proc.send_signal(signal.SIGCONT)
            out, err = crawl.communicate(timeout=300)
        finally:
            server.proc.send_signal(signal.SIGCONT)
            if crawl.poll() is None:
                os.killpg(crawl.pid, signal.SIGKILL)
                crawl.communicate()
    assert crawl.returncode == 0, f"stdout:\n{out}\nstderr:\n{err[-3000:]}"
    log = "\n".join(p.read_text(encoding="utf-8") for p in sqlite_settings.logs_dir.glob("*.log"))
    assert "Redis unavailable" in log  # it noticed, backed off, and carried on
    with db.session() as s:
        urls = list(s.scalars(select(Capture.url)))
        run = s.scalars(select(CrawlRun)).one()
    assert len(urls) == len(set(urls)) == PAGES
    assert run.status == "finished"
    db.dispose()

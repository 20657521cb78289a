"""A crawl killed mid-batch and started again: nothing stored is lost, nothing is stored twice."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time

import pytest
from sqlalchemy import func, select

from adwatch.db import Database
from adwatch.models import Capture, Document
from pipelines.process import PagePipeline
from pipelines.store import known_urls
from tests.pipelines import workers


def captures(db: Database) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(Capture)) or 0


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killed_crawl_resumes_without_loss_or_duplicates(db: Database, sig: int) -> None:
    ctx = multiprocessing.get_context("spawn")
    proc = ctx.Process(target=workers.store_slowly, args=(str(db.settings.home), db.settings.database_url))
    proc.start()
    deadline = time.monotonic() + 120
    while captures(db) < 6 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, sig)
    proc.join(30)
    stored_before = captures(db)
    total = workers.DISTINCT + workers.REPOSTS
    assert 6 <= stored_before < total, "the crawl was killed part-way"

    with db.session() as s:
        # Whole batches or nothing: every stored capture of an HTML page has its document and group.
        assert s.scalar(select(func.count()).select_from(Document)) == stored_before
        assert s.scalar(select(func.count()).select_from(Document).where(Document.campaign_id.is_(None))) == 0
        known = known_urls(s)
    todo = [page for page in workers.pages() if page.url not in known]
    assert len(todo) == total - stored_before  # the resumed crawl fetches only what is missing

    outcomes = PagePipeline(db).process_many(workers.pages())  # even a full re-run stores nothing twice
    assert sum(o.new for o in outcomes) == total - stored_before
    assert all(o.capture_id and o.document_id and o.error is None for o in outcomes)
    assert captures(db) == total

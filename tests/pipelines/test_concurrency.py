"""Several crawler processes storing the same pages at once: no lost, duplicated or failed rows."""

from __future__ import annotations

import multiprocessing
import threading
import time
from typing import Any

from sqlalchemy import func, select

from adwatch.db import Database
from adwatch.models import Campaign, Capture, Document
from pipelines.process import PagePipeline
from tests.pipelines import workers

PROCESSES = 3


def test_concurrent_writers_store_each_page_once(db: Database) -> None:
    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Event(), ctx.Queue()
    procs = [
        ctx.Process(target=workers.store_all, args=(str(db.settings.home), db.settings.database_url, seed, start, results))
        for seed in range(PROCESSES)
    ]  # fmt: skip
    for p in procs:
        p.start()
    start.set()
    outcomes = [results.get(timeout=240) for _ in procs]
    for p in procs:
        p.join(60)
        assert p.exitcode == 0

    total = workers.DISTINCT + workers.REPOSTS
    assert all(len(o) == total for o in outcomes)
    assert not [row for o in outcomes for row in o if row[5]], "no page may fail"
    # Every process saw every page stored, with the same ids, and exactly one stored each page.
    by_url: dict[str, set[tuple[int, int]]] = {}
    for o in outcomes:
        for url, capture_id, document_id, _new, _campaign, _error in o:
            by_url.setdefault(url, set()).add((capture_id, document_id))
    assert all(len(ids) == 1 and None not in next(iter(ids)) for ids in by_url.values())
    new_counts = {url: sum(row[3] for o in outcomes for row in o if row[0] == url) for url in by_url}
    assert set(new_counts.values()) == {1}

    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Capture)) == total
        assert s.scalar(select(func.count()).select_from(Document)) == total
        repost_campaigns = set(
            s.scalars(select(Document.campaign_id).where(Document.url.like("http://repost%")))
        )
        assert len(repost_campaigns) == 1
        assert s.get(Campaign, repost_campaigns.pop()).size == workers.REPOSTS
        assert s.scalar(select(func.sum(Campaign.size))) == total


def test_near_duplicates_stored_at_the_same_moment_join_one_campaign(db: Database) -> None:
    """Writer A has grouped a new ad but not committed; writer B stores a repost meanwhile.
    B must wait for A and join A's campaign instead of founding a second one."""
    a_grouped, b_started = threading.Event(), threading.Event()

    def hold_transaction(session, capture, document, flagged):  # type: ignore[no-untyped-def]
        a_grouped.set()
        b_started.wait(30)
        time.sleep(1.0)  # B is now blocked on A's transaction (or would wrongly go ahead)

    first, second = workers.pages()[-2:]
    results: dict[str, Any] = {}

    def writer_a() -> None:
        results["a"] = PagePipeline(db, evidence=hold_transaction).process(first)

    def writer_b() -> None:
        a_grouped.wait(30)
        b_started.set()
        results["b"] = PagePipeline(db).process(second)

    threads = [threading.Thread(target=writer_a), threading.Thread(target=writer_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    a, b = results["a"], results["b"]
    assert a.error is None and b.error is None
    assert a.campaign_id == b.campaign_id and b.campaign_size == 2

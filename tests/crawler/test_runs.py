"""Crawl runs: one running run per source, heartbeats, the reaper, what a new run resumes."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading

import pytest
from sqlalchemy import select, update

from adwatch.db import Database
from adwatch.models import CrawlRun, Source
from adwatch.settings import Settings
from adwatch.timeutil import utcnow
from crawler.runs import (
    RunAlreadyActive,
    RunCounts,
    beat,
    finish_run,
    reap_dead_runs,
    resume_chain,
    start_run,
    tail,
)


@pytest.fixture
def source_id(db: Database) -> int:
    with db.session() as s:
        row = Source(name="clinic", kind="list", definition={})
        s.add(row)
        s.flush()
        return row.id


def run_row(db: Database, run_id: int) -> CrawlRun:
    with db.session() as s:
        return s.get(CrawlRun, run_id)


def test_a_source_has_at_most_one_running_run_even_when_starts_race(
    db: Database, settings: Settings, source_id: int
) -> None:
    results: list[object] = []
    barrier = threading.Barrier(4)

    def start() -> None:
        barrier.wait()
        try:
            results.append(start_run(db, settings, source_id, "schedule").id)
        except RunAlreadyActive as exc:
            results.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    started = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, RunAlreadyActive)]
    assert len(started) == 1 and len(refused) == 3
    assert f"already being crawled by run {started[0]}" in str(refused[0])

    finish_run(db, started[0], "finished", "finished", RunCounts(pages=3), {})
    assert start_run(db, settings, source_id, "manual").id > started[0]


def test_the_reaper_fails_a_run_whose_heartbeat_stopped(
    db: Database, settings: Settings, source_id: int
) -> None:
    run = start_run(db, settings, source_id, "manual")
    assert reap_dead_runs(db, settings) == []  # alive: fresh heartbeat, our own pid
    old = utcnow() - dt.timedelta(seconds=settings.run_stale_seconds + 5)
    with db.session() as s:
        s.execute(
            update(CrawlRun).where(CrawlRun.id == run.id).values(heartbeat_at=old, hostname="other-host")
        )
    assert reap_dead_runs(db, settings) == [run.id]
    reaped = run_row(db, run.id)
    assert reaped.status == "failed"
    assert reaped.stop_reason.startswith("process died: no heartbeat since")
    assert reaped.ended_at == old
    # The crawl, if it was only stalled, learns at its next beat that it must stop.
    assert beat(db, run.id, RunCounts(pages=1)) is False


def test_the_reaper_fails_a_run_whose_process_is_gone(
    db: Database, settings: Settings, source_id: int
) -> None:
    run = start_run(db, settings, source_id, "manual")
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    with db.session() as s:
        s.execute(update(CrawlRun).where(CrawlRun.id == run.id).values(pid=gone.pid))
    assert reap_dead_runs(db, settings) == [run.id]
    assert run_row(db, run.id).stop_reason == f"process died: pid {gone.pid} on {run.hostname} is gone"


def test_heartbeats_record_live_counts(db: Database, settings: Settings, source_id: int) -> None:
    run = start_run(db, settings, source_id, "manual")
    assert beat(db, run.id, RunCounts(pages=10, items=9, errors=1, bytes=12345)) is True
    row = run_row(db, run.id)
    assert (row.pages, row.items, row.errors, row.bytes) == (10, 9, 1, 12345)
    assert row.heartbeat_at >= run.started_at


def test_a_new_run_continues_the_interrupted_runs_before_it(
    db: Database, settings: Settings, source_id: int
) -> None:
    day = dt.timedelta(days=1)
    ids = []
    for status in ("finished", "failed", "cancelled"):
        run = start_run(db, settings, source_id, "manual")
        finish_run(db, run.id, status, status)
        ids.append(run.id)
    new = start_run(db, settings, source_id, "manual")
    assert resume_chain(db, source_id, new.id, day) == [ids[2], ids[1]]
    finish_run(db, new.id, "finished", "finished")
    newest = start_run(db, settings, source_id, "manual")
    assert resume_chain(db, source_id, newest.id, day) == []  # the last one finished


def test_an_old_interruption_is_not_resumed(db: Database, settings: Settings, source_id: int) -> None:
    run = start_run(db, settings, source_id, "manual")
    finish_run(db, run.id, "failed", "process died")
    with db.session() as s:
        s.execute(
            update(CrawlRun).where(CrawlRun.id == run.id).values(started_at=utcnow() - dt.timedelta(days=2))
        )
    new = start_run(db, settings, source_id, "manual")
    assert resume_chain(db, source_id, new.id, dt.timedelta(hours=12)) == []


def test_tail_reads_the_end_of_a_log(settings: Settings) -> None:
    log = settings.logs_dir / "x.log"
    log.write_text("".join(f"line {i}\n" for i in range(10_000)), encoding="utf-8")
    assert tail(log, 2) == ["line 9998", "line 9999"]
    assert tail(settings.logs_dir / "missing.log", 5) == []


def test_runs_are_listed_with_their_source(db: Database, settings: Settings, source_id: int) -> None:
    from crawler.runs import recent_runs

    a = start_run(db, settings, source_id, "manual")
    finish_run(db, a.id, "finished", "finished")
    b = start_run(db, settings, source_id, "schedule")
    assert [(r.id, name) for r, name in recent_runs(db)] == [(b.id, "clinic"), (a.id, "clinic")]
    with db.session() as s:
        assert s.scalar(select(CrawlRun.trigger).where(CrawlRun.id == b.id)) == "schedule"

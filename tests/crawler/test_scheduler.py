"""The scheduler: cron in China time, no silent misfires, no double runs, crashes survived."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select, update

from adwatch.db import Database
from adwatch.models import CrawlRun, Source
from adwatch.settings import Settings
from adwatch.timeutil import CHINA, utcnow
from crawler.runs import start_run
from crawler.scheduler import CronTrigger, Scheduler
from tests.crawler.conftest import Stored, start_adwatch, write_source
from tests.crawler.sites import Site, html
from tests.crawler.test_resume import wait_until


def sleeper(seconds: float = 30) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", f"import time; time.sleep({seconds})"])


class Launches:
    """A launcher that records what the scheduler started (each a real, sleeping process)."""

    def __init__(self, seconds: float = 30) -> None:
        self.names: list[str] = []
        self.procs: list[subprocess.Popen[bytes]] = []
        self.seconds = seconds

    def __call__(self, name: str) -> subprocess.Popen[bytes]:
        proc = sleeper(self.seconds)
        self.names.append(name)
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


@pytest.fixture
def launches() -> Iterator[Launches]:
    recorder = Launches()
    yield recorder
    recorder.stop()


def set_next_fire(db: Database, name: str, when: dt.datetime) -> None:
    with db.session() as s:
        s.execute(update(Source).where(Source.name == name).values(next_fire_at=when))


def source_row(db: Database, name: str) -> Source:
    with db.session() as s:
        return s.scalar(select(Source).where(Source.name == name))


def every_minute(settings: Settings, name: str = "clinic") -> None:
    write_source(
        settings,
        name,
        f"name: {name}\nkind: list\nstart_urls: [https://{name}.example.cn/]\nschedule: '* * * * *'\n",
    )


def test_cron_is_read_in_china_time_with_standard_weekdays() -> None:
    monday_noon = dt.datetime(2026, 11, 23, 12, 0, tzinfo=CHINA)
    trigger = CronTrigger("0 9 * * 1")  # Mondays 09:00 (APScheduler's from_crontab would say Tuesday)
    assert trigger.get_next_fire_time(None, monday_noon) == dt.datetime(2026, 11, 30, 9, 0, tzinfo=CHINA)
    nine = dt.datetime(2026, 11, 30, 9, 0, tzinfo=CHINA)
    assert trigger.get_next_fire_time(None, nine) == nine  # due now is due
    assert trigger.get_next_fire_time(nine, nine) == dt.datetime(2026, 12, 7, 9, 0, tzinfo=CHINA)
    assert CronTrigger("30 2 * * *").get_next_fire_time(None, monday_noon).astimezone(dt.UTC) == dt.datetime(
        2026, 11, 23, 18, 30, tzinfo=dt.UTC
    )


def test_fires_missed_while_down_run_once_on_start_within_the_grace_time(
    db: Database, settings: Settings, launches: Launches
) -> None:
    every_minute(settings)
    scheduler = Scheduler(db, settings, launcher=launches)
    scheduler.sync()
    set_next_fire(db, "clinic", utcnow() - dt.timedelta(minutes=10))  # ten fires missed
    scheduler = Scheduler(db, settings, launcher=launches)  # a fresh daemon, as after a restart
    try:
        scheduler.start()
        wait_until(lambda: launches.names, timeout=20, what="the missed fire")
        time.sleep(1.5)
    finally:
        scheduler.shutdown(wait_seconds=5)
    assert launches.names == ["clinic"]  # coalesced: once, not ten times
    row = source_row(db, "clinic")
    assert row.last_fire_at is not None and utcnow() - row.last_fire_at < dt.timedelta(seconds=30)
    assert row.next_fire_at > utcnow() - dt.timedelta(seconds=5)


def test_a_fire_missed_by_more_than_the_grace_time_is_skipped_and_said_so(
    db: Database, settings: Settings, launches: Launches, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings.with_(misfire_grace_seconds=600)
    write_source(
        settings,
        "gov",
        "name: gov\nkind: list\nstart_urls: [https://gov.example.cn/]\nschedule: '0 3 * * *'\n",
    )
    Scheduler(db, settings, launcher=launches).sync()
    set_next_fire(db, "gov", utcnow() - dt.timedelta(hours=2))
    scheduler = Scheduler(db, settings, launcher=launches)
    try:
        with caplog.at_level("WARNING", logger="adwatch.scheduler"):
            scheduler.start()
            wait_until(lambda: "was missed" in caplog.text, timeout=20, what="the misfire warning")
    finally:
        scheduler.shutdown(wait_seconds=5)
    assert launches.names == []
    assert "gov: the fire due at" in caplog.text and "misfire grace time (600s); skipped" in caplog.text
    assert source_row(db, "gov").next_fire_at > utcnow()


def test_a_source_is_not_started_while_its_crawl_runs(
    db: Database, settings: Settings, launches: Launches
) -> None:
    every_minute(settings)
    scheduler = Scheduler(db, settings, launcher=launches)
    scheduler.sync()
    scheduler.fire("clinic")
    scheduler.fire("clinic")  # its child is still running
    assert launches.names == ["clinic"]
    launches.stop()
    scheduler.poll_children()
    # Another daemon (or a person) is crawling it: the running CrawlRun row says so.
    other = start_run(db, settings, source_row(db, "clinic").id, "manual")
    scheduler.fire("clinic")
    assert launches.names == ["clinic"]
    with db.session() as s:
        s.execute(update(CrawlRun).where(CrawlRun.id == other.id).values(status="finished"))
    scheduler.fire("clinic")
    assert launches.names == ["clinic", "clinic"]


def test_edited_sources_are_rescheduled_and_removed_ones_unscheduled(
    db: Database, settings: Settings, launches: Launches
) -> None:
    every_minute(settings, "a")
    every_minute(settings, "b")
    scheduler = Scheduler(db, settings, launcher=launches)
    scheduler.sync()
    assert scheduler.scheduled == {"a": "* * * * *", "b": "* * * * *"}
    write_source(
        settings, "a", "name: a\nkind: list\nstart_urls: [https://a.example.cn/]\nschedule: '0 4 * * *'\n"
    )
    (settings.sources_dir / "b.yaml").unlink()
    scheduler.sync()
    assert scheduler.scheduled == {"a": "0 4 * * *"}
    nxt = source_row(db, "a").next_fire_at.astimezone(CHINA)
    assert (nxt.hour, nxt.minute) == (4, 0)


@pytest.mark.slow
def test_the_daemon_survives_a_crawl_that_crashes(db: Database, settings: Settings, stored: Stored) -> None:
    site = Site({f"/p{i}.html": html(f"第{i}页", "医美", [f"/p{i + 1}.html"]) for i in range(1, 6)})
    site.pages["/p1.html"].delay = 3  # slow enough to kill the crawl on its first page
    with site.serve():
        write_source(
            settings,
            "slow",
            f"name: slow\nkind: list\nstart_urls: ['{site.url('/p1.html')}']\nschedule: '0 0 1 1 *'\nmax_depth: 9\n",
        )
        scheduler = Scheduler(db, settings)
        scheduler.sync()
        try:
            scheduler.fire("slow")
            child = scheduler.children["slow"]
            wait_until(lambda: stored.runs(), timeout=60, what="the first run to start")
            os.kill(child.pid, signal.SIGKILL)  # the crawl crashes
            child.wait()
            scheduler.poll_children()
            assert stored.runs()[0].status == "failed"
            site.pages["/p1.html"].delay = 0
            scheduler.fire("slow")  # the next fire starts a new crawl as usual
            wait_until(
                lambda: scheduler.children["slow"].poll() is not None, timeout=120, what="the second crawl"
            )
            scheduler.poll_children()
        finally:
            scheduler.shutdown(wait_seconds=10)
    first, second = stored.runs()
    assert first.stop_reason.startswith("process died")
    assert (second.status, second.trigger) == ("finished", "schedule")
    assert len(stored.captures()) == 5


@pytest.mark.slow
def test_schedule_run_starts_a_missed_crawl_and_stops_on_sigterm(
    db: Database, settings: Settings, stored: Stored
) -> None:
    site = Site({"/": html("首页", "水光针"), "/robots.txt": html("")})
    with site.serve():
        write_source(
            settings,
            "home",
            f"name: home\nkind: list\nstart_urls: ['{site.url('/')}']\nschedule: '0 3 * * *'\n",
        )
        Scheduler(db, settings).sync()
        set_next_fire(db, "home", utcnow() - dt.timedelta(minutes=5))
        daemon = start_adwatch(settings, "schedule", "run")
        try:
            wait_until(
                lambda: [r for r in stored.runs() if r.status == "finished"], timeout=120, what="the crawl"
            )
        finally:
            daemon.send_signal(signal.SIGTERM)
            out, err = daemon.communicate(timeout=60)
    assert daemon.returncode == 0, err
    run = stored.last_run()
    assert (run.trigger, run.pages) == ("schedule", 1)
    assert "home: crawl started" in err and "scheduler stopping" in err
    assert "+08:00" in err  # the daemon speaks China time

"""Crawl runs: the CrawlRun row of each crawl, its heartbeat, and the reaper of dead runs.

A run is ``running`` from its start until its process records how it ended. A process can die
without recording anything (SIGKILL, power loss), so every running process beats a heartbeat and
:func:`reap_dead_runs` fails any run whose heartbeat stopped or whose process is gone. The
database allows one running run per source (a partial unique index), which is what keeps two
schedulers, or a scheduler and a person, from crawling one source twice at once.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from adwatch.db import Database
from adwatch.errors import AdWatchError
from adwatch.models import CrawlRun, CrawlRunPage, Source
from adwatch.settings import Settings
from adwatch.timeutil import fmt_china, utcnow

HOSTNAME = socket.gethostname()
RUN_STATUSES = ("running", "finished", "failed", "cancelled")
PROCESS_DIED = "process died"


class RunAlreadyActive(AdWatchError):
    """The source is being crawled by another run right now."""


@dataclass
class RunCounts:
    pages: int = 0
    items: int = 0
    errors: int = 0
    bytes: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"pages": self.pages, "items": self.items, "errors": self.errors, "bytes": self.bytes}


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this host and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def reap_dead_runs(db: Database, settings: Settings, now: dt.datetime | None = None) -> list[int]:
    """Mark failed every running run whose process is gone; return their ids.

    A run is dead when its heartbeat (or its start, if it never beat) is older than
    ``settings.run_stale_seconds``, or when it ran on this host and its pid no longer exists.
    """
    now = now or utcnow()
    cutoff = now - dt.timedelta(seconds=settings.run_stale_seconds)
    reaped: list[int] = []
    with db.session() as s:
        for run in s.scalars(select(CrawlRun).where(CrawlRun.status == "running")):
            last = run.heartbeat_at or run.started_at
            if last < cutoff:
                why = f"{PROCESS_DIED}: no heartbeat since {fmt_china(last)} (China time)"
            elif run.hostname == HOSTNAME and run.pid and run.pid != os.getpid() and not pid_alive(run.pid):
                why = f"{PROCESS_DIED}: pid {run.pid} on {run.hostname} is gone"
            else:
                continue
            # Conditional update: a run that finished meanwhile keeps its real ending.
            done = s.execute(
                update(CrawlRun)
                .where(CrawlRun.id == run.id, CrawlRun.status == "running")
                .values(status="failed", stop_reason=why, ended_at=last)
            )
            if done.rowcount:
                reaped.append(run.id)
    return reaped


def start_run(db: Database, settings: Settings, source_id: int, trigger: str) -> CrawlRun:
    """Create the running CrawlRun for a source, or raise RunAlreadyActive."""
    reap_dead_runs(db, settings)
    try:
        with db.session() as s:
            now = utcnow()
            run = CrawlRun(
                source_id=source_id,
                status="running",
                trigger=trigger,
                started_at=now,
                heartbeat_at=now,
                hostname=HOSTNAME,
                pid=os.getpid(),
            )
            s.add(run)
            s.flush()
            run.log_path = str(settings.logs_dir / f"run-{run.id}.log")
            return run
    except IntegrityError:
        with db.session() as s:
            other = s.scalar(
                select(CrawlRun).where(CrawlRun.source_id == source_id, CrawlRun.status == "running")
            )
            name = s.scalar(select(Source.name).where(Source.id == source_id))
        detail = (
            f"run {other.id} (pid {other.pid} on {other.hostname}, started {fmt_china(other.started_at)})"
            if other
            else "another run"
        )
        raise RunAlreadyActive(
            f"source {name!r} is already being crawled by {detail}; wait for it or stop it"
        ) from None


def beat(db: Database, run_id: int, counts: RunCounts) -> bool:
    """Record that the run is alive, with its counts so far. False if it is no longer running
    (the reaper gave up on it), in which case the caller must stop crawling."""
    with db.session() as s:
        done = s.execute(
            update(CrawlRun)
            .where(CrawlRun.id == run_id, CrawlRun.status == "running")
            .values(heartbeat_at=utcnow(), **counts.as_dict())
        )
        return bool(done.rowcount)


def finish_run(
    db: Database,
    run_id: int,
    status: str,
    stop_reason: str,
    counts: RunCounts | None = None,
    stats: dict[str, Any] | None = None,
) -> None:
    """Record how a run ended (counts and stats left as last beaten when not given)."""
    if status not in RUN_STATUSES or status == "running":
        raise ValueError(f"not a final run status: {status!r}")
    values: dict[str, Any] = {"status": status, "stop_reason": stop_reason, "ended_at": utcnow()}
    if counts is not None:
        values.update(counts.as_dict())
    if stats is not None:
        values["stats"] = stats
    with db.session() as s:
        s.execute(update(CrawlRun).where(CrawlRun.id == run_id).values(**values))


def resume_chain(db: Database, source_id: int, before_run: int, max_age: dt.timedelta) -> list[int]:
    """The runs a new run continues: the interrupted (failed or cancelled) runs right before it.

    Empty when the last run finished, or when the interruption is older than ``max_age`` (a
    crawl that keeps failing must still refetch its pages now and then).
    """
    chain: list[int] = []
    with db.session() as s:
        runs = s.scalars(
            select(CrawlRun)
            .where(CrawlRun.source_id == source_id, CrawlRun.id < before_run)
            .order_by(CrawlRun.id.desc())
            .limit(50)
        ).all()
    for run in runs:
        if run.status not in ("failed", "cancelled"):
            break
        chain.append(run.id)
    if chain and runs[0].started_at < utcnow() - max_age:
        return []
    return chain


def record_stored_pages(db: Database, pages: list[Any], outcomes: list[Any]) -> None:
    """Remember which pages each run stored (and in which capture), for a later resume."""
    rows = [
        {
            "run_id": page.run_id,
            "url": page.url,
            "final_url": page.final_url,
            "capture_id": outcome.capture_id,
        }
        for page, outcome in zip(pages, outcomes, strict=True)
        if page.run_id is not None
        and getattr(outcome, "capture_id", None)
        and not getattr(outcome, "error", None)
    ]
    if rows:
        with db.writing() as s:
            s.execute(insert(CrawlRunPage), rows)


def stored_pages(db: Database, run_ids: list[int]) -> dict[str, int]:
    """URL (as requested and as finally answered) -> capture id, for pages the runs stored."""
    found: dict[str, int] = {}
    if not run_ids:
        return found
    with db.session() as s:
        rows = s.execute(
            select(CrawlRunPage.url, CrawlRunPage.final_url, CrawlRunPage.capture_id)
            .where(CrawlRunPage.run_id.in_(run_ids))
            .order_by(CrawlRunPage.id)
        )
        for url, final_url, capture_id in rows:
            found[url] = capture_id
            found.setdefault(final_url, capture_id)
    return found


def tail(path: str | Path | None, lines: int) -> list[str]:
    """The last ``lines`` lines of a log file (reads at most 256 KB from its end)."""
    if not path or lines <= 0:
        return []
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 256 * 1024))
            data = fh.read()
    except OSError:
        return []
    return data.decode("utf-8", "replace").splitlines()[-lines:]


def recent_runs(db: Database, limit: int = 20, source: str | None = None) -> list[tuple[CrawlRun, str]]:
    """Runs newest first, each with its source name."""
    with db.session() as s:
        q = select(CrawlRun, Source.name).join(Source, Source.id == CrawlRun.source_id)
        if source:
            q = q.where(Source.name == source)
        return [(r, n) for r, n in s.execute(q.order_by(CrawlRun.id.desc()).limit(limit))]


def running_source_ids(db: Database) -> set[int]:
    with db.session() as s:
        return set(s.scalars(select(CrawlRun.source_id).where(CrawlRun.status == "running")))

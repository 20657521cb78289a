"""The scheduler daemon (``adwatch schedule run``): starts each source's crawl when its cron is due.

* Cron expressions are read in China time with standard cron semantics (croniter). APScheduler 3's
  own ``CronTrigger.from_crontab`` numbers weekdays from Monday, so ``0 9 * * 1`` would fire on
  Tuesdays; :class:`CronTrigger` here wraps croniter instead.
* Fire times live in the database (``Source.next_fire_at``/``last_fire_at``, UTC), so a daemon
  that was down knows what it missed: a fire missed by less than the misfire grace time runs once
  on start (coalesced, however many were missed); older ones are skipped with a warning.
* Each crawl runs in its own process (``python -m crawler crawl NAME``), so a crawl that crashes
  cannot take the daemon with it. A source is never crawled twice at once: the daemon does not
  start a source whose child is alive or that has a running CrawlRun (another daemon's, or a
  person's), and the database refuses a second running run anyway.
* Sources are re-read every ``reload_seconds``: edits, new files and removals take effect.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from croniter import croniter
from sqlalchemy import select, update

from adwatch.db import Database
from adwatch.models import Source
from adwatch.settings import Settings
from adwatch.timeutil import CHINA, fmt_china, utcnow
from crawler.runs import reap_dead_runs, running_source_ids
from crawler.source_store import sync_yaml_sources
from crawler.sources import SourcesInvalid

logger = logging.getLogger("adwatch.scheduler")


class CronTrigger(BaseTrigger):
    """A five-field cron expression in China time, with croniter's (standard) semantics."""

    def __init__(self, expression: str) -> None:
        self.expression = expression

    def get_next_fire_time(
        self, previous_fire_time: dt.datetime | None, now: dt.datetime
    ) -> dt.datetime | None:
        base = (previous_fire_time or now).astimezone(CHINA)
        if previous_fire_time is None:
            base -= dt.timedelta(microseconds=1)  # "now" itself is a valid first fire time
        return croniter(self.expression, base).get_next(dt.datetime)

    def __str__(self) -> str:
        return f"cron[{self.expression} Asia/Shanghai]"


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that makes a child process load the same settings."""
    env = {
        "ADWATCH_HOME": str(settings.home),
        "ADWATCH_DATABASE_URL": settings.database_url,
        "ADWATCH_SOURCES_DIR": str(settings.sources_dir),
        "ADWATCH_CHROMIUM": settings.chromium_path,
        "ADWATCH_USER_AGENT": settings.user_agent,
        "ADWATCH_DOWNLOAD_MAXSIZE": str(settings.download_maxsize),
        "ADWATCH_DOWNLOAD_TIMEOUT": str(settings.download_timeout),
        "ADWATCH_RUN_HEARTBEAT_SECONDS": str(settings.run_heartbeat_seconds),
        "ADWATCH_RUN_STALE_SECONDS": str(settings.run_stale_seconds),
        "ADWATCH_MISFIRE_GRACE_SECONDS": str(settings.misfire_grace_seconds),
        "ADWATCH_PIPELINE_WORKERS": str(settings.pipeline_workers),
    }
    if settings.redis_url:
        env["ADWATCH_REDIS_URL"] = settings.redis_url
    return env


Launcher = Callable[[str], subprocess.Popen[bytes]]


class Scheduler:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        reload_seconds: float = 60,
        launcher: Launcher | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.reload_seconds = reload_seconds
        self.launch = launcher or self.spawn_crawl
        # With Redis, a due crawl is queued for the workers (crawler.distributed) instead.
        self.distributed = bool(settings.redis_url) and launcher is None
        self.frontier: Any = None
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.scheduled: dict[str, str] = {}  # source name -> cron expression it is scheduled with
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.fired: list[tuple[str, dt.datetime]] = []  # (source, when): what this daemon started
        self.aps = BackgroundScheduler(
            timezone=CHINA,
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": settings.misfire_grace_seconds,
            },
        )
        self.aps.add_listener(self._missed, EVENT_JOB_MISSED)

    # -- sources -> jobs ---------------------------------------------------------------------

    def sync(self) -> None:
        """Re-read the sources and (re)schedule their jobs; keep a job whose cron did not change."""
        try:
            sync_yaml_sources(self.db, self.settings)
        except SourcesInvalid as exc:
            logger.warning("%s (keeping the sources as last imported)", exc)
        with self.db.session() as s:
            rows = {
                r.name: (r.schedule, r.next_fire_at)
                for r in s.scalars(
                    select(Source).where(Source.enabled.is_(True), Source.schedule.is_not(None))
                )
            }
        with self.lock:
            for name in list(self.scheduled):
                if name not in rows or rows[name][0] != self.scheduled[name]:
                    self.aps.remove_job(name)
                    del self.scheduled[name]
                    logger.info("unscheduled %s", name)
            for name, (expression, stored_next) in rows.items():
                if name in self.scheduled or not expression:
                    continue
                trigger = CronTrigger(expression)
                # Resume from the stored next fire time: if it has passed while the daemon was
                # down, APScheduler runs it now when within the misfire grace time.
                first = stored_next or trigger.get_next_fire_time(None, utcnow())
                self.aps.add_job(
                    self.fire,
                    trigger,
                    args=[name],
                    id=name,
                    name=name,
                    next_run_time=first,
                    replace_existing=True,
                )
                self.scheduled[name] = expression
                logger.info("scheduled %s: %s, next %s (China time)", name, expression, fmt_china(first))
        self._store_next_fire_times()

    def _store_next_fire_times(self) -> None:
        with self.lock:
            nexts = {job.id: job.next_run_time for job in self.aps.get_jobs()}
        with self.db.session() as s:
            for name, when in nexts.items():
                s.execute(
                    update(Source)
                    .where(Source.name == name)
                    .values(next_fire_at=when.astimezone(dt.UTC) if when else None)
                )

    def _missed(self, event: JobExecutionEvent) -> None:
        logger.warning(
            "%s: the fire due at %s (China time) was missed by more than the misfire grace time "
            "(%ss); skipped",
            event.job_id,
            fmt_china(event.scheduled_run_time),
            self.settings.misfire_grace_seconds,
        )
        # APScheduler moves the job on only after telling listeners; store the next time now.
        expression = self.scheduled.get(event.job_id)
        if expression:
            upcoming = CronTrigger(expression).get_next_fire_time(None, utcnow())
            with self.db.session() as s:
                s.execute(
                    update(Source)
                    .where(Source.name == event.job_id)
                    .values(next_fire_at=upcoming.astimezone(dt.UTC))
                )

    # -- firing --------------------------------------------------------------------------------

    def fire(self, name: str) -> None:
        """Start a crawl of ``name`` unless one is running. Runs in APScheduler's thread pool."""
        now = utcnow()
        with self.lock:
            child = self.children.get(name)
            busy = child is not None and child.poll() is None
        reap_dead_runs(self.db, self.settings)
        with self.db.session() as s:
            source_id = s.scalar(select(Source.id).where(Source.name == name))
            job = self.aps.get_job(name)
            s.execute(
                update(Source)
                .where(Source.name == name)
                .values(
                    last_fire_at=now,
                    next_fire_at=job.next_run_time.astimezone(dt.UTC) if job and job.next_run_time else None,
                )
            )
        if busy or source_id in running_source_ids(self.db):
            logger.warning("%s is due but its previous crawl is still running; not starting another", name)
            return
        if self.stopping.is_set():
            return
        if self.distributed:
            self.seed(name, now)
            return
        try:
            proc = self.launch(name)
        except OSError as exc:
            logger.error("%s: could not start the crawl process: %s", name, exc)
            return
        with self.lock:
            self.children[name] = proc
            self.fired.append((name, now))
        logger.info("%s: crawl started (pid %d)", name, proc.pid)

    def seed(self, name: str, now: dt.datetime) -> None:
        """Queue the crawl of ``name`` in Redis for the workers."""
        from crawler.distributed.connection import connect_redis
        from crawler.distributed.frontier import Frontier
        from crawler.distributed.seed import seed_run
        from crawler.runs import RunAlreadyActive

        try:
            if self.frontier is None:
                self.frontier = Frontier(connect_redis(self.settings))
            run_id = seed_run(self.db, self.settings, self.frontier, name, "schedule")
        except RunAlreadyActive as exc:
            logger.warning("%s", exc)
            return
        except Exception as exc:
            logger.error("%s: could not queue the crawl in Redis: %s", name, exc)
            return
        with self.lock:
            self.fired.append((name, now))
        logger.info("%s: crawl queued for the workers (run %d)", name, run_id)

    def spawn_crawl(self, name: str) -> subprocess.Popen[bytes]:
        """The crawl of one source in a new process, its output appended to the scheduler's log."""
        self.settings.logs_dir.mkdir(parents=True, exist_ok=True)
        out = open(self.settings.logs_dir / "scheduler-children.log", "ab")  # noqa: SIM115 (owned by the child)
        try:
            return subprocess.Popen(
                [sys.executable, "-m", "crawler", "crawl", name, "--trigger", "schedule"],
                env={**os.environ, **settings_env(self.settings)},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C at the daemon's terminal is the daemon's to handle
            )
        finally:
            out.close()

    def poll_children(self) -> None:
        """Collect finished crawl processes (so none lingers as a zombie) and log how they ended."""
        with self.lock:
            done = {n: p for n, p in self.children.items() if p.poll() is not None}
            for name in done:
                del self.children[name]
        for name, proc in done.items():
            code = proc.returncode
            if code == 0:
                logger.info("%s: crawl finished", name)
            else:
                how = f"signal {-code}" if code < 0 else f"exit status {code}"
                logger.warning(
                    "%s: crawl process ended with %s (see `adwatch runs --source %s`)", name, how, name
                )
        if done:
            reap_dead_runs(self.db, self.settings)

    # -- the daemon ----------------------------------------------------------------------------

    def start(self) -> None:
        self.sync()
        self.aps.start()

    def shutdown(self, wait_seconds: float = 60) -> None:
        """Stop scheduling; ask running crawls to stop gracefully (they resume next time)."""
        self.stopping.set()
        if self.aps.running:
            self.aps.shutdown(wait=True)
        with self.lock:
            children = dict(self.children)
        for name, proc in children.items():
            if proc.poll() is None:
                logger.info("%s: asking the running crawl (pid %d) to stop", name, proc.pid)
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + wait_seconds
        for proc in children.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.poll_children()

    def run_forever(self, poll_seconds: float = 1.0) -> None:
        """``adwatch schedule run``: until SIGTERM or Ctrl-C."""
        self._log_to_stderr()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stopping.set())
        reap_dead_runs(self.db, self.settings)
        if self.distributed:
            from crawler.distributed.connection import connect_redis
            from crawler.distributed.frontier import Frontier

            self.frontier = Frontier(connect_redis(self.settings))  # unreachable: say so now
            logger.info("due crawls are queued in Redis %s for the workers", self.settings.redis_url_safe)
        self.start()
        logger.info("scheduler running: %d scheduled source(s); times in China time", len(self.scheduled))
        last_sync = time.monotonic()
        try:
            while not self.stopping.wait(poll_seconds):
                self.poll_children()
                if time.monotonic() - last_sync >= self.reload_seconds:
                    self.sync()
                    reap_dead_runs(self.db, self.settings)
                    last_sync = time.monotonic()
        finally:
            logger.info("scheduler stopping")
            self.shutdown()

    @staticmethod
    def _log_to_stderr() -> None:
        root = logging.getLogger()
        if not any(getattr(h, "_adwatch_scheduler", False) for h in root.handlers):
            handler: Any = logging.StreamHandler(sys.stderr)
            handler._adwatch_scheduler = True
            formatter = logging.Formatter("%(asctime)s+08:00 %(levelname)s %(message)s")
            formatter.converter = lambda t: dt.datetime.fromtimestamp(t, CHINA).timetuple()  # China time
            handler.setFormatter(formatter)
            root.addHandler(handler)
        root.setLevel(logging.INFO)
        logging.getLogger("apscheduler").setLevel(logging.ERROR)  # its misfire warning is ours, clearer

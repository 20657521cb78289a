"""What the crawl-staff pages do besides reading rows: cron schedules, "crawl now", log tails.

Kept apart from the routes so each piece is testable on its own. A crawl started from the web app
is the same ``adwatch crawl NAME`` command the scheduler and the staff run, as a detached child
process with its own session and log file, so it outlives a restart of the web app.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from croniter import croniter

from adwatch.errors import AdWatchError
from adwatch.settings import Settings
from adwatch.timeutil import CHINA, utcnow

TAIL_BYTES = 64 * 1024
TAIL_LINES = 200


class ScheduleInvalid(AdWatchError):
    """A cron expression that croniter refuses; the message is for the crawl staff."""


def validate_cron(expression: str) -> str:
    """A normalised five-field cron expression (China time), or ScheduleInvalid."""
    expr = " ".join(expression.split())
    if len(expr.split(" ")) != 5:
        raise ScheduleInvalid(f"定时表达式须为 5 段（分 时 日 月 周），例如 “0 3 * * *”：{expr!r}")
    if not croniter.is_valid(expr):
        raise ScheduleInvalid(f"无法识别的定时表达式：{expr!r}")
    return expr


def next_fire(expression: str, after: dt.datetime | None = None) -> dt.datetime:
    """The next time (UTC) a cron expression fires, reading it in China time."""
    start = (after or utcnow()).astimezone(CHINA)
    return croniter(expression, start).get_next(dt.datetime).astimezone(dt.UTC)


def crawl_argv(source_name: str) -> list[str]:
    """The ``adwatch crawl`` command line; ``--`` keeps a name like ``--url=…`` from being an option."""
    script = Path(sys.executable).with_name("adwatch")
    if script.exists():
        return [str(script), "crawl", "--", source_name]
    return [sys.executable, "-c", "from adwatch.cli import main; main()", "crawl", "--", source_name]


def child_env(settings: Settings) -> dict[str, str]:
    """The environment of a child command: this app's settings, whatever the process environment says."""
    env = dict(os.environ)
    env.update(
        ADWATCH_HOME=str(settings.home),
        ADWATCH_DATABASE_URL=settings.database_url,
        ADWATCH_SOURCES_DIR=str(settings.sources_dir),
    )
    if settings.redis_url:
        env["ADWATCH_REDIS_URL"] = settings.redis_url
    return env


@dataclass(frozen=True)
class Launched:
    pid: int
    log_path: Path
    argv: list[str]


def launch_crawl(settings: Settings, source_name: str) -> Launched:
    """Start ``adwatch crawl NAME`` detached; its output goes to a log file under ``logs_dir``."""
    settings.logs_dir.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^0-9A-Za-z_.-]+", "_", source_name)[:60] or "source"
    stamp = utcnow().astimezone(CHINA).strftime("%Y%m%d-%H%M%S")
    log_path = settings.logs_dir / f"crawl-now-{safe}-{stamp}-{os.getpid()}.log"
    argv = crawl_argv(source_name)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=child_env(settings),
            cwd=settings.home,
            start_new_session=True,
            close_fds=True,
        )
    # Reap the child when it ends, so a long-running web app collects no zombies.
    threading.Thread(target=proc.wait, name=f"reap-crawl-{proc.pid}", daemon=True).start()
    return Launched(proc.pid, log_path, argv)


def log_tail(settings: Settings, log_path: str | None, lines: int = TAIL_LINES) -> str | None:
    """The last lines of a run's log, or None if there is no readable log inside ADWATCH_HOME."""
    if not log_path:
        return None
    root = settings.home.resolve()
    path = Path(log_path)
    path = (path if path.is_absolute() else root / path).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - TAIL_BYTES))
        data = fh.read()
    text = data.decode("utf-8", errors="replace")
    if size > TAIL_BYTES:
        text = text.split("\n", 1)[-1]  # drop the partial first line
    return "\n".join(text.splitlines()[-lines:])

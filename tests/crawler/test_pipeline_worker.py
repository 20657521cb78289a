"""The pipeline worker processes live and die with their crawl process."""

from __future__ import annotations

import subprocess
import sys
import time

from adwatch.settings import Settings

CRAWL_PROCESS = r"""
import sys, time
from adwatch.settings import load_settings
from adwatch.db import Database
from crawler.pipeline_worker import make_worker
settings = load_settings({"ADWATCH_HOME": sys.argv[1]})
worker = make_worker(settings, Database(settings), None)
worker.submit([]).result()
print("ready", flush=True)
time.sleep(120)
"""


def _alive(pid: str) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _kill_and_collect(
    script: str, settings: Settings, ready: str, grace: float
) -> tuple[list[str], list[str]]:
    """Run ``script`` as a crawl process, SIGKILL it once it prints ``ready``; (its children, those
    still alive ``grace`` seconds later)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(settings.home)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == ready
        children = subprocess.run(
            ["pgrep", "-P", str(proc.pid)], capture_output=True, text=True
        ).stdout.split()
    finally:
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + grace
    while any(_alive(c) for c in children) and time.monotonic() < deadline:
        time.sleep(0.2)
    return children, [c for c in children if _alive(c)]


def test_a_killed_crawl_process_leaves_no_pipeline_worker_behind(sqlite_settings: Settings) -> None:
    children, survivors = _kill_and_collect(CRAWL_PROCESS, sqlite_settings, "ready", grace=15)
    assert children
    assert not survivors, "pipeline workers outlived their crawl process"


KILLED_WHILE_STARTING = r"""
import sys, time
from adwatch.settings import load_settings
from adwatch.db import Database
from crawler.pipeline_worker import make_worker
settings = load_settings({"ADWATCH_HOME": sys.argv[1]})
worker = make_worker(settings, Database(settings), None)
worker.submit([])
print("spawning", flush=True)
time.sleep(120)
"""


def test_a_crawl_killed_while_its_worker_starts_leaves_none_behind(sqlite_settings: Settings) -> None:
    # Killed at once: the worker is still starting its interpreter.
    _, survivors = _kill_and_collect(KILLED_WHILE_STARTING, sqlite_settings, "spawning", grace=20)
    assert not survivors, "a pipeline worker outlived its crawl process"


def test_warming_up_starts_every_process_before_the_crawl(sqlite_settings: Settings) -> None:
    """A process pool starts a process only when a batch finds none idle: warm_up starts them all."""
    from adwatch.db import Database
    from crawler.pipeline_worker import ProcessWorker

    worker = ProcessWorker(sqlite_settings, processes=2)
    try:
        worker.warm_up().result(timeout=120)
        assert len(worker.pool._processes) == 2  # noqa: SLF001 - the pool's own count of started processes
    finally:
        worker.close()
    Database(sqlite_settings).dispose()

"""Where the page pipeline runs during a crawl: off Scrapy's reactor thread.

Extraction and classification are CPU-bound; run on the reactor thread they would stall every
download. ``ProcessWorker`` runs the pipeline in child processes (true parallelism, the default);
``ThreadWorker`` runs it in one thread of the crawl process (no start-up cost, shares the GIL).
Both take a batch of FetchedPages and return a future of PageOutcomes. Each worker builds its own
database connection and pipeline from the settings (``crawler.components``).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any, Protocol

from adwatch.settings import Settings

logger = logging.getLogger(__name__)


class PipelineWorker(Protocol):
    slots: int  # batches it can work on at once

    def submit(self, pages: list[Any]) -> Future[list[Any]]: ...

    def warm_up(self) -> Future[Any]: ...

    def close(self) -> None: ...


# -- in a child process ----------------------------------------------------------------------

_pipeline: Any = None
_db: Any = None


def _init_process(settings: Settings, log_path: str | None, parent: int | None = None) -> None:
    global _pipeline, _db
    import signal

    # The crawl process decides when to stop; a Ctrl-C or SIGTERM to the process group must not
    # kill a worker in the middle of a batch (the parent waits for it, then closes the pool).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # The crawl process's pid comes from the crawl process itself: killed while this one was still
    # starting, os.getppid() here would already name init.
    threading.Thread(target=_exit_with_parent, args=(parent or os.getppid(),), daemon=True).start()
    root = logging.getLogger()
    root.handlers.clear()
    root.setLevel(logging.INFO)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if log_path:
        handler = logging.FileHandler(log_path, encoding="utf-8")
        handler.setFormatter(
            logging.Formatter("%(asctime)s [pipeline %(process)d] %(levelname)s: %(message)s")
        )
        root.addHandler(handler)
    from adwatch.db import Database
    from crawler.components import build_page_pipeline

    _db = Database(settings)
    _pipeline = build_page_pipeline(_db, settings)


def _exit_with_parent(parent: int) -> None:
    """Ignoring SIGTERM, a worker whose crawl process was killed would live on: leave when it is gone.
    A batch cut short here was never acknowledged, and its transaction rolls back whole."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def store_batch(pipeline: Any, db: Any, pages: list[Any]) -> list[Any]:
    """Run the pipeline on a batch, then note which run stored which page (for resuming)."""
    from crawler.runs import record_stored_pages

    outcomes = pipeline.process_many(pages)
    record_stored_pages(db, pages, outcomes)
    return outcomes


def _process_in_child(pages: list[Any]) -> list[Any]:
    return store_batch(_pipeline, _db, pages)


class ProcessWorker:
    def __init__(self, settings: Settings, processes: int, log_path: str | None = None) -> None:
        self.slots = processes * 2  # one batch in work, one waiting: the worker never idles
        self.processes = processes
        self.pool = ProcessPoolExecutor(
            max_workers=processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_process,
            initargs=(settings, log_path, os.getpid()),
        )

    def submit(self, pages: list[Any]) -> Future[list[Any]]:
        return self.pool.submit(_process_in_child, pages)

    def warm_up(self) -> Future[Any]:
        """Start every process now; done when each has taken an empty batch (or one failed).

        The pool starts a process only when a batch finds none idle, so left alone the second one
        would import its ~2 s of libraries in the middle of the crawl, beside the first.
        """
        return _all_done([self.submit([]) for _ in range(self.processes)])

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=False)


# -- in a thread -------------------------------------------------------------------------------


class ThreadWorker:
    def __init__(self, settings: Settings, db: Any = None) -> None:
        self.slots = 1
        self.settings = settings
        self.db = db
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="adwatch-pipeline")
        self._pipeline: Any = None
        self._lock = threading.Lock()

    def _process(self, pages: list[Any]) -> list[Any]:
        with self._lock:
            if self._pipeline is None:
                from adwatch.db import Database
                from crawler.components import build_page_pipeline

                self.db = self.db or Database(self.settings)
                self._pipeline = build_page_pipeline(self.db, self.settings)
            return store_batch(self._pipeline, self.db, pages)

    def submit(self, pages: list[Any]) -> Future[list[Any]]:
        return self.pool.submit(self._process, pages)

    def warm_up(self) -> Future[Any]:
        return self.submit([])

    def close(self) -> None:
        self.pool.shutdown(wait=True)


def _all_done(futures: list[Future[Any]]) -> Future[Any]:
    """One future for many: done when all are, failed with the first failure."""
    combined: Future[Any] = Future()
    remaining = [len(futures)]
    lock = threading.Lock()

    def one_done(future: Future[Any]) -> None:
        with lock:
            remaining[0] -= 1
            last = remaining[0] == 0
            if combined.done():
                return
            if future.exception() is not None:
                combined.set_exception(future.exception())  # type: ignore[arg-type]
            elif last:
                combined.set_result(None)

    for future in futures:
        future.add_done_callback(one_done)
    return combined


async def until_ready(ready: Future[Any], timeout: float = 60.0) -> None:
    """Wait (up to ``timeout``) for a worker's warm-up before the crawl's first fetch: pages fetched
    meanwhile would only queue, and the run's rate would count the start-up. A failed start is
    not raised here: the item pipeline reports it and stops the crawl with the reason."""
    await asyncio.wait([asyncio.wrap_future(ready)], timeout=timeout)


def make_worker(settings: Settings, db: Any = None, log_path: str | None = None) -> PipelineWorker:
    """``settings.pipeline_workers`` child processes, or a thread when it is 0."""
    if settings.pipeline_workers <= 0:
        return ThreadWorker(settings, db)
    return ProcessWorker(settings, settings.pipeline_workers, log_path)

"""What one crawl run carries through Scrapy: the source, the run row, the database.

The runner builds a RunContext and hands it to the spider; the extensions, middlewares and the
item pipeline read it from ``crawler.spider.ctx``. (Scrapy deep-copies its settings, so live
objects like the database travel here, not in the settings.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from adwatch.db import Database
from adwatch.settings import Settings
from crawler.sources import SourceDef

if TYPE_CHECKING:
    from crawler.runs import RunCounts

# Stats keys AdWatch keeps next to Scrapy's own.
PAGES = "adwatch/pages"  # responses fetched from the network for page requests
ITEMS = "adwatch/items"  # pages the pipeline stored
NEW_ITEMS = "adwatch/items_new"  # ... of which were new captures
SKIPPED = "adwatch/items_without_text"  # ... stored as raw captures only (not HTML, empty)
ERRORS = "adwatch/errors"  # everything that went wrong, counted once each
REPLAYED = "adwatch/replayed"  # pages read back from the store instead of fetched (resume)
ROBOTS_DENIED = "adwatch/robots_denied"
OVER_BUDGET = "adwatch/over_max_pages"
BYTES = "downloader/response_bytes"

MAX_ERROR_SAMPLES = 20


@dataclass
class RunSummary:
    source: str
    run_id: int
    status: str = "running"
    stop_reason: str = ""
    pages: int = 0
    items: int = 0
    new_items: int = 0
    without_text: int = 0
    errors: int = 0
    bytes: int = 0
    replayed: int = 0
    seconds: float = 0.0
    log_path: str = ""
    error_samples: list[str] = field(default_factory=list)
    labels: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.pages / self.seconds if self.seconds > 0 else 0.0


@dataclass
class RunContext:
    settings: Settings
    db: Database
    source: SourceDef
    source_id: int
    run_id: int
    log_path: str
    replay: dict[str, int] = field(default_factory=dict)  # url -> capture id to read back on resume
    progress: bool = False
    worker: Any = None  # the PipelineWorker, started by the runner before Scrapy (see runner.py)
    worker_ready: Any = None  # a Future that completes when the worker has built its pipeline
    summary: RunSummary | None = None
    frontier: Any = None  # distributed crawls: the worker's Frontier (crawler.distributed.frontier)
    error_samples: list[str] = field(default_factory=list)

    def note_error(self, message: str) -> None:
        if len(self.error_samples) < MAX_ERROR_SAMPLES:
            self.error_samples.append(message)


def counts_from_stats(stats: dict) -> RunCounts:
    from crawler.runs import RunCounts

    return RunCounts(
        pages=int(stats.get(PAGES, 0)),
        items=int(stats.get(ITEMS, 0)),
        errors=int(stats.get(ERRORS, 0)),
        bytes=int(stats.get(BYTES, 0)),
    )

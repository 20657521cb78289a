"""Starting a distributed run: its CrawlRun row, then its entry requests queued in Redis.

Used by ``adwatch crawl SOURCE`` / ``--url`` and by the scheduler daemon when
``ADWATCH_REDIS_URL`` is set. The run row has no pid: it belongs to whichever workers serve it,
and stays alive as long as one of them beats its heartbeat.
"""

from __future__ import annotations

import logging

from scrapy.utils.request import RequestFingerprinter
from sqlalchemy import update

from adwatch.db import Database
from adwatch.models import CrawlRun
from adwatch.settings import Settings
from crawler.context import RunContext
from crawler.distributed import codec
from crawler.distributed.frontier import Frontier
from crawler.distributed.scrapy_parts import request_fingerprint
from crawler.runs import finish_run, start_run
from crawler.source_store import get_source, source_def

logger = logging.getLogger(__name__)


def seed_run(db: Database, settings: Settings, frontier: Frontier, source: str, trigger: str) -> int:
    """Create the run of ``source`` and queue its entry requests; the run id.

    Raises RunAlreadyActive when the source is being crawled (by any worker or process).
    """
    from crawler.spiders import SPIDERS

    with db.session() as s:
        row = get_source(s, source)
        source_id = row.id
        defn = source_def(row)
    run = start_run(db, settings, source_id, trigger)
    with db.session() as s:
        s.execute(update(CrawlRun).where(CrawlRun.id == run.id).values(pid=None))
    ctx = RunContext(
        settings=settings, db=db, source=defn, source_id=source_id, run_id=run.id, log_path=run.log_path or ""
    )
    spider = SPIDERS[defn.kind](ctx=ctx)
    fingerprinter = RequestFingerprinter()
    queued = 0
    try:
        for url in defn.entry_urls:
            request = spider.entry_request(url)
            if frontier.mark_seen(run.id, request_fingerprint(request, fingerprinter)):
                frontier.push(run.id, codec.encode_request(request, spider), request.priority)
                queued += 1
        frontier.register_run(run.id, defn.name)  # last: workers see the run with its work queued
    except Exception as exc:
        finish_run(db, run.id, "failed", f"could not queue the entry requests in Redis: {exc}"[:500])
        raise
    logger.info("run %d of %s seeded into Redis: %d entry request(s)", run.id, defn.name, queued)
    return run.id

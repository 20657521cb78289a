"""A crawler process's share of a concurrency test: stores pages through its own PagePipeline."""

from __future__ import annotations

import random
from typing import Any

from adwatch.db import Database
from adwatch.settings import load_settings
from pipelines.process import PagePipeline
from tests.pipelines.pages import ARTICLE, content_farm_page, fetched

REPOSTS = 6
DISTINCT = 30


def pages() -> list[Any]:
    """Distinct articles plus one ad reposted (lightly edited) on several sites."""
    distinct = [
        fetched(f"http://site.example/a/{i}.html", content_farm_page((f"第{i}篇：" + "不同的内容" * (i + 3) + f"编号{i}。" * 5, ARTICLE[1][: 10 + i])))
        for i in range(DISTINCT)
    ]  # fmt: skip
    reposts = [
        fetched(f"http://repost{i}.example/ad.html", content_farm_page((ARTICLE[0], ARTICLE[1], ARTICLE[2].replace("meiyan_2026", f"agent_{i:04d}"), ARTICLE[3])))
        for i in range(REPOSTS)
    ]  # fmt: skip
    return distinct + reposts


def store_all(home: str, database_url: str, seed: int, start: Any, results: Any) -> None:
    """Wait for the start signal, then store every page in a shuffled order, in small batches."""
    settings = load_settings({"ADWATCH_HOME": home, "ADWATCH_DATABASE_URL": database_url})
    db = Database(settings)
    todo = pages()
    random.Random(seed).shuffle(todo)
    pipeline = PagePipeline(db, batch_size=4)
    start.wait(60)
    outcomes = pipeline.process_many(todo)
    results.put([(o.url, o.capture_id, o.document_id, o.new, o.campaign_id, o.error) for o in outcomes])
    db.dispose()


def store_slowly(home: str, database_url: str) -> None:
    """Store every page, slowly (each batch holds its transaction a while): a crawl to be killed."""
    import time

    def slow_evidence(session: Any, capture: Any, document: Any, flagged: bool) -> None:
        time.sleep(0.1)

    db = Database(load_settings({"ADWATCH_HOME": home, "ADWATCH_DATABASE_URL": database_url}))
    PagePipeline(db, evidence=slow_evidence, batch_size=3).process_many(pages())

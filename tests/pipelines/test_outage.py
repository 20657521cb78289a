"""A database that goes away mid-crawl: the pipeline waits for it, and never loses what it stored."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from adwatch.db import Database
from adwatch.devservers import ServerUnavailable, postgres_server
from adwatch.models import Capture
from adwatch.settings import Settings
from pipelines.process import PagePipeline
from tests.conftest import make_settings
from tests.pipelines.pages import content_farm_page, fetched


@pytest.fixture
def own_postgres(tmp_path):  # type: ignore[no-untyped-def]
    """A server of this test's own, to stop and start without disturbing the others."""
    try:
        with postgres_server() as server:
            yield server
    except ServerUnavailable as exc:
        pytest.skip(str(exc))


def _settings(tmp_path, server, **overrides) -> Settings:  # type: ignore[no-untyped-def]
    return make_settings(tmp_path, server.create_database("outage")).with_(**overrides)


def page(i: int):  # type: ignore[no-untyped-def]
    return fetched(
        f"http://farm.example/p/{i}.html", content_farm_page((f"第{i}篇：水光针团购到底靠不靠谱？",))
    )


def _captures(db: Database) -> int:
    with db.session() as s:
        return s.scalar(select(func.count(Capture.id))) or 0


def test_a_batch_waits_for_the_database_to_come_back(tmp_path, own_postgres) -> None:  # type: ignore[no-untyped-def]
    db = Database(_settings(tmp_path, own_postgres, database_outage_seconds=120))
    pipeline = PagePipeline(db)
    [first] = pipeline.process_many([page(1)])
    assert first.new
    own_postgres.stop()
    threading.Timer(3.0, own_postgres.start).start()
    started = time.monotonic()
    pages = [page(i) for i in range(2, 7)]
    outcomes = pipeline.process_many(pages)
    assert time.monotonic() - started >= 2.5  # it really waited
    assert [o.error for o in outcomes] == [None] * 5 and all(o.new for o in outcomes)
    assert _captures(db) == 6
    db.dispose()


def test_a_longer_outage_fails_the_batch_and_loses_nothing_stored(tmp_path, own_postgres) -> None:  # type: ignore[no-untyped-def]
    db = Database(_settings(tmp_path, own_postgres, database_outage_seconds=1))
    pipeline = PagePipeline(db)
    pipeline.process_many([page(1)])
    own_postgres.stop()
    with pytest.raises(OperationalError):
        pipeline.process_many([page(2)])
    own_postgres.start()
    assert _captures(db) == 1
    [again] = pipeline.process_many([page(2)])
    assert again.new and _captures(db) == 2
    db.dispose()

"""The distributed crawl's parts, one by one: the JSON request codec, fingerprints, the
in-flight ledger and its reaper, the shared page budget, unreachable servers."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import redis
import scrapy
from scrapy.utils.request import RequestFingerprinter

from adwatch.settings import Settings
from crawler.context import RunContext
from crawler.distributed import codec
from crawler.distributed.connection import RedisUnavailable, connect_redis
from crawler.distributed.frontier import Frontier, queue_key
from crawler.distributed.scrapy_parts import Backoff, LedgerScheduler, request_fingerprint
from crawler.sources import source_from_mapping
from crawler.spiders import SPIDERS, SourceSpider
from tests.conftest import make_settings
from tests.crawler.conftest import REPO, child_env


def spider_for(settings: Settings, render: str = "static", kind: str = "list") -> SourceSpider:
    defn = source_from_mapping(
        {"name": "s", "kind": kind, "start_urls": ["http://127.0.0.1:1/"], "render": render}, "test"
    )
    ctx = RunContext(settings=settings, db=None, source=defn, source_id=1, run_id=1, log_path="")  # type: ignore[arg-type]
    return SPIDERS[kind](ctx=ctx)


@pytest.fixture
def client(redis_url: str) -> Any:
    c = redis.Redis.from_url(redis_url)
    c.flushdb()
    yield c
    c.flushdb()
    c.close()


# -- codec ------------------------------------------------------------------------------------


def test_a_request_survives_the_round_trip_through_json(sqlite_settings: Settings) -> None:
    spider = spider_for(sqlite_settings)
    request = spider.page_request("http://127.0.0.1:1/页面?q=医美", 2)
    request = request.replace(
        method="POST",
        body=b"\x00\xff binary \x89PNG",
        headers={"X-Token": "abc", "Accept-Language": "zh-CN"},
        priority=7,
        cookies={"sid": "1"},
    )
    request.meta["redirect_urls"] = ["http://127.0.0.1:1/a"]
    data = codec.encode_request(request, spider)
    assert data.startswith(b"{") and b"pickle" not in data
    back = codec.decode_request(data, spider)
    assert (back.url, back.method, back.body, back.priority) == (request.url, "POST", request.body, 7)
    assert back.headers.get("X-Token") == b"abc"
    assert back.callback == spider.parse_page and back.errback == spider.on_error
    assert back.meta["adwatch_depth"] == 2 and back.meta["redirect_urls"] == ["http://127.0.0.1:1/a"]
    assert back.cookies == {"sid": "1"}


def test_the_serializer_module_reads_back_bytes_and_odd_keys() -> None:
    value = {"body": b"\x00\x01", "headers": {b"k": [b"v"]}, "$odd": 1, "list": [1, "二", None]}
    assert codec.loads(codec.dumps(value)) == value


def test_a_pickle_in_the_queue_is_refused_not_run(sqlite_settings: Settings) -> None:
    spider = spider_for(sqlite_settings)
    payload = pickle.dumps({"url": "http://127.0.0.1:1/", "callback": "parse_page"})
    with pytest.raises(codec.CodecError, match="pickle"):
        codec.decode_request(payload, spider)
    with pytest.raises(codec.CodecError, match="not AdWatch JSON"):
        codec.loads(b"not json at all")


@pytest.mark.parametrize("name", ["close", "__init__", "start", "parse_nothing", 42])
def test_a_callback_must_be_one_the_spider_lists(sqlite_settings: Settings, name: Any) -> None:
    spider = spider_for(sqlite_settings)
    data = codec.dumps({"url": "http://127.0.0.1:1/", "callback": name})
    with pytest.raises(codec.CodecError, match="callback"):
        codec.decode_request(data, spider)


def test_a_class_or_unknown_field_in_the_queue_is_refused(sqlite_settings: Settings) -> None:
    spider = spider_for(sqlite_settings)
    data = codec.dumps({"url": "http://127.0.0.1:1/", "_class": "os.system"})
    with pytest.raises(codec.CodecError, match="unknown fields"):
        codec.decode_request(data, spider)


def test_a_request_with_a_foreign_callback_is_not_queued(sqlite_settings: Settings) -> None:
    spider = spider_for(sqlite_settings)
    with pytest.raises(codec.CodecError, match="remote callbacks"):
        codec.encode_request(scrapy.Request("http://127.0.0.1:1/", callback=print), spider)
    with pytest.raises(codec.CodecError, match="JSON data only"):
        codec.encode_request(scrapy.Request("http://127.0.0.1:1/", meta={"x": object()}), spider)


def test_browser_settings_are_rebuilt_on_arrival_not_sent(sqlite_settings: Settings) -> None:
    spider = spider_for(sqlite_settings, render="browser")
    request = spider.page_request("http://127.0.0.1:1/a", 0)
    data = codec.encode_request(request, spider)
    assert b"playwright" not in data  # functions never travel
    back = codec.decode_request(data, spider)
    assert back.meta["playwright"] is True
    assert [m.method for m in back.meta["playwright_page_methods"]] == [
        m.method for m in request.meta["playwright_page_methods"]
    ]


# -- fingerprints -----------------------------------------------------------------------------


def test_a_browser_fetch_and_a_static_fetch_of_a_url_are_different_requests(
    sqlite_settings: Settings,
) -> None:
    fingerprinter = RequestFingerprinter()
    static = spider_for(sqlite_settings).page_request("http://127.0.0.1:1/a", 0)
    browser = spider_for(sqlite_settings, render="browser").page_request("http://127.0.0.1:1/a", 0)
    again = spider_for(sqlite_settings).page_request("http://127.0.0.1:1/a", 3)
    assert request_fingerprint(static, fingerprinter) != request_fingerprint(browser, fingerprinter)
    assert request_fingerprint(static, fingerprinter) == request_fingerprint(again, fingerprinter)
    assert request_fingerprint(static, fingerprinter).startswith(fingerprinter.fingerprint(static).hex())


# -- ledger and reaper ------------------------------------------------------------------------


def test_a_dead_workers_requests_go_back_to_the_queue(client: Any) -> None:
    dead = Frontier(client, "dead-worker", alive_seconds=1)
    alive = Frontier(client, "live-worker")
    for i in range(5):
        dead.push(7, f"req-{i}".encode(), priority=i)
    dead.beat()
    taken = [dead.pop(7), dead.pop(7)]
    assert taken == [b"req-4", b"req-3"]  # highest priority first
    assert dead.in_flight() == 2 and dead.queued(7) == 3
    assert not alive.drained(7)
    alive.beat()
    assert alive.reap() == {}  # still beating: nothing taken from it
    client.delete("adwatch:worker:dead-worker:alive")  # its heartbeat expired
    assert alive.reap() == {"dead-worker": 2}
    assert dead.in_flight() == 0 and alive.queued(7) == 5
    assert alive.pop(7) == b"req-4"  # back with its priority
    assert b"dead-worker" not in client.smembers("adwatch:workers")


def test_a_pop_whose_reply_was_lost_goes_back_to_the_queue(client: Any) -> None:
    """Redis stalled past the client's timeout still runs the pop: the worker never got the request,
    and without putting it back the run would never drain."""
    w = Frontier(client, "w-lost")
    w.beat()
    for i in range(3):
        w.push(9, f"req-{i}".encode(), priority=i)
    received = [w.pop(9), w.pop(9)]
    w.pop(9)  # its reply never arrived
    w.done(received)
    assert w.queued(9) == 0 and w.in_flight() == 1 and not w.drained(9)
    assert w.requeue_unheld([]) == 1
    assert w.in_flight() == 0 and w.queued(9) == 1
    again = w.pop(9)
    assert again == b"req-0"
    assert w.requeue_unheld([again]) == 0  # what the worker holds stays in its ledger
    w.done([again])
    assert w.drained(9)


def test_finished_requests_leave_the_ledger_with_their_counts(client: Any) -> None:
    w = Frontier(client, "w1")
    w.beat()
    w.push(3, b"a")
    assert w.pop(3) == b"a"
    assert not w.drained(3)  # queue empty but "a" in flight
    w.done([b"a"], {3: {"adwatch/pages": 1, "adwatch/items": 1}})
    w.done([], {3: {"adwatch/pages": 2}})
    assert w.drained(3)
    assert w.counts(3) == {"adwatch/pages": 3, "adwatch/items": 1}


def test_a_flush_retried_after_a_lost_reply_counts_once(client: Any) -> None:
    """Redis applied the flush but its reply was lost: the retry, under the same name, is a no-op."""
    w = Frontier(client, "w-retry")
    w.beat()
    w.push(5, b"a")
    w.pop(5)
    assert w.done([b"a"], {5: {"adwatch/pages": 1}}, batch="flush-1")
    assert not w.done([b"a"], {5: {"adwatch/pages": 1}}, batch="flush-1")
    assert w.done([], {5: {"adwatch/pages": 2}}, batch="flush-2")
    assert w.counts(5) == {"adwatch/pages": 3} and w.drained(5)


class LosesFirstReply:
    """A frontier whose first flush runs in Redis but whose reply never reaches the worker."""

    def __init__(self, frontier: Frontier) -> None:
        self.frontier, self.lost = frontier, False

    def done(self, *args: Any, **kwargs: Any) -> bool:
        applied = self.frontier.done(*args, **kwargs)
        if not self.lost:
            self.lost = True
            raise redis.ConnectionError("Timeout reading from socket")
        return applied


def test_the_scheduler_retries_a_flush_without_counting_it_twice(client: Any) -> None:
    frontier = Frontier(client, "w-sched")
    frontier.beat()
    frontier.push(6, b"page")
    popped = frontier.pop(6)
    stats = {"adwatch/pages": 1}
    scheduler = LedgerScheduler.__new__(LedgerScheduler)
    scheduler.crawler = SimpleNamespace(engine=None, stats=SimpleNamespace(get_stats=lambda: dict(stats)))
    scheduler.ctx = SimpleNamespace(run_id=6)
    scheduler.frontier = LosesFirstReply(frontier)  # type: ignore[assignment]
    scheduler.popped = {scrapy.Request("http://127.0.0.1/page"): popped}
    scheduler.finished, scheduler.unsent, scheduler.flushed_counts = [], [], {}
    scheduler.flush, scheduler.backoff = None, Backoff()
    scheduler.sweep()  # applied in Redis, reported as failed
    assert scheduler.flush is not None and frontier.counts(6) == {"adwatch/pages": 1}
    stats["adwatch/pages"] = 2  # another page stored meanwhile
    scheduler.sweep(final=True)  # the retry of the first flush, a no-op in Redis
    assert scheduler.flush is None and frontier.counts(6) == {"adwatch/pages": 1}
    scheduler.sweep()
    assert frontier.counts(6) == {"adwatch/pages": 2} and frontier.drained(6)


def test_a_clean_exit_hands_unfinished_requests_back(client: Any) -> None:
    w = Frontier(client, "w2")
    w.beat()
    w.push(4, b"x")
    w.pop(4)
    assert w.release() == 1
    assert w.queued(4) == 1 and not client.exists("adwatch:worker:w2:alive")


def test_the_page_budget_is_shared_and_counts_a_request_once(client: Any) -> None:
    a, b = Frontier(client, "a"), Frontier(client, "b")
    assert a.take_budget(9, "fp1", 2) and b.take_budget(9, "fp2", 2)
    assert a.take_budget(9, "fp1", 2)  # requeued and fetched again: not a new page
    assert not b.take_budget(9, "fp3", 2)
    assert a.budget_spent(9) == 2


def test_only_one_worker_records_the_end_of_a_run(client: Any) -> None:
    a, b = Frontier(client, "a"), Frontier(client, "b")
    a.register_run(5, "src")
    assert a.active_runs() == {5: "src"}
    assert [a.claim_finish(5), b.claim_finish(5)] == [True, False]
    assert client.zcard(queue_key(5)) == 0


# -- unreachable servers ----------------------------------------------------------------------


def test_unreachable_redis_is_one_clear_error_without_the_password(tmp_path: Path) -> None:
    s = make_settings(tmp_path, ADWATCH_REDIS_URL="redis://worker:s3cret@127.0.0.1:1/0")
    with pytest.raises(RedisUnavailable) as exc:
        connect_redis(s)
    message = str(exc.value)
    assert "redis://worker:***@127.0.0.1:1/0" in message and "s3cret" not in message


@pytest.mark.parametrize(
    ("variable", "url", "shown"),
    [
        ("ADWATCH_REDIS_URL", "redis://w:s3cret@127.0.0.1:1/0", "redis://w:***@127.0.0.1:1/0"),
        (
            "ADWATCH_DATABASE_URL",
            "postgresql+psycopg://adwatch:s3cret@127.0.0.1:1/adwatch",
            "postgresql+psycopg://adwatch:***@127.0.0.1:1/adwatch",
        ),
    ],
)
def test_a_worker_that_cannot_reach_a_server_says_which(
    sqlite_settings: Settings, redis_url: str, variable: str, url: str, shown: str
) -> None:
    env = child_env(sqlite_settings, ADWATCH_REDIS_URL=redis_url)
    env[variable] = url
    result = subprocess.run(
        [sys.executable, "-m", "crawler", "crawl", "--worker"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert shown in lines[0] and "s3cret" not in result.stderr

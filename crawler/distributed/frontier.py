"""The Redis side of a distributed crawl: run queues, seen sets, the in-flight ledger, the reaper.

Plain Python over a redis-py client (no Scrapy), so every rule here can be tested on its own.

Keys (all under ``adwatch:``):

* ``runs`` — hash run id → JSON ``{"source": name}``: the runs workers should serve;
* ``run:{id}:queue`` — sorted set of JSON requests, score = −priority (scrapy-redis's
  PriorityQueue layout); ``run:{id}:seen`` — the run's duplicate filter (fingerprints);
  ``run:{id}:budget`` — fingerprints of page requests counted against ``max_pages``;
  ``run:{id}:stats`` — counts summed over every worker (pages, items, errors, bytes …);
* ``workers`` — set of worker ids; ``worker:{id}:alive`` — expires unless the worker beats it;
  ``worker:{id}:inflight`` — hash request → ``"{queue key}\\n{score}"``: popped, not finished;
  ``worker:{id}:done:{batch}`` — marks a flush of finished requests as applied (an hour).

A request moves from the queue to its worker's ledger in one step (a Lua script), and leaves the
ledger only after everything it led to is done — its page stored, its links queued. So a worker
killed at any moment loses nothing: :meth:`Frontier.reap` puts the ledger of every worker whose
``alive`` key expired back into the queues it came from. A page fetched twice that way is stored
once (captures are unique by URL and body). A run is *drained* when its queue is empty and no
ledger — of a live worker or a dead one not reaped yet — holds one of its requests.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

PREFIX = "adwatch:"
RUNS = PREFIX + "runs"
WORKERS = PREFIX + "workers"
FINISHED_RUN_TTL = 24 * 3600  # a finished run's keys stay a day, for inspection
DONE_MARK_TTL = 3600  # a flush is retried within seconds; its mark need not outlive an hour


def queue_key(run_id: int) -> str:
    return f"{PREFIX}run:{run_id}:queue"


def seen_key(run_id: int) -> str:
    return f"{PREFIX}run:{run_id}:seen"


def budget_key(run_id: int) -> str:
    return f"{PREFIX}run:{run_id}:budget"


def stats_key(run_id: int) -> str:
    return f"{PREFIX}run:{run_id}:stats"


def alive_key(worker_id: str) -> str:
    return f"{PREFIX}worker:{worker_id}:alive"


def inflight_key(worker_id: str) -> str:
    return f"{PREFIX}worker:{worker_id}:inflight"


def done_key(worker_id: str, batch: str) -> str:
    return f"{PREFIX}worker:{worker_id}:done:{batch}"


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


# KEYS: queue, ledger. Pop the best request and note it in the ledger, atomically.
_POP = """
local r = redis.call('ZPOPMIN', KEYS[1])
if #r == 0 then return false end
redis.call('HSET', KEYS[2], r[1], KEYS[1] .. '\\n' .. r[2])
return r[1]
"""

# A ledger entry maps a request to its queue key and score (newline between): put it back there.
_REQUEUE = """
local function requeue(request, origin)
  local cut = string.find(origin, '\\n', 1, true)
  redis.call('ZADD', string.sub(origin, 1, cut - 1), tonumber(string.sub(origin, cut + 1)), request)
end
"""

# KEYS: alive, ledger, workers set. ARGV: worker id, force. Requeue a dead worker's ledger.
_REAP = (
    _REQUEUE
    + """
if ARGV[2] ~= '1' and redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
local items = redis.call('HGETALL', KEYS[2])
for i = 1, #items, 2 do requeue(items[i], items[i + 1]) end
redis.call('DEL', KEYS[2])
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[3], ARGV[1])
return #items / 2
"""
)

# KEYS: ledger. ARGV: the entries the worker holds. Requeue every other entry of its ledger.
_ORPHANS = (
    _REQUEUE
    + """
local held = {}
for i = 1, #ARGV do held[ARGV[i]] = true end
local items = redis.call('HGETALL', KEYS[1])
local n = 0
for i = 1, #items, 2 do
  if not held[items[i]] then
    requeue(items[i], items[i + 1])
    redis.call('HDEL', KEYS[1], items[i])
    n = n + 1
  end
end
return n
"""
)

# KEYS: batch mark, ledger, stats keys. ARGV: mark TTL, number of finished entries, the entries,
# then (index into KEYS, field, delta) per count. Applied once per batch mark: a retry whose first
# attempt ran (its reply lost) changes nothing, so counts are never added twice.
_DONE = """
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 0 end
local n = tonumber(ARGV[2])
for i = 3, 2 + n do redis.call('HDEL', KEYS[2], ARGV[i]) end
for i = 3 + n, #ARGV, 3 do
  redis.call('HINCRBY', KEYS[tonumber(ARGV[i])], ARGV[i + 1], ARGV[i + 2])
end
return 1
"""

# KEYS: queue, workers set. ARGV: ledger key prefix, suffix. 1 when the run is drained.
_DRAINED = """
if redis.call('ZCARD', KEYS[1]) > 0 then return 0 end
local tag = KEYS[1] .. '\\n'
for _, w in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  for _, v in ipairs(redis.call('HVALS', ARGV[1] .. w .. ARGV[2])) do
    if string.sub(v, 1, #tag) == tag then return 0 end
  end
end
return 1
"""

# KEYS: budget set. ARGV: fingerprint, max pages. 1 when the page may be fetched.
_BUDGET = """
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 1 end
if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('SADD', KEYS[1], ARGV[1])
return 1
"""


class Frontier:
    """One worker's (or seeder's) view of the shared crawl state in Redis."""

    def __init__(self, redis: Any, worker_id: str | None = None, alive_seconds: int = 15) -> None:
        self.redis = redis
        self.worker_id = worker_id or new_worker_id()
        self.alive_seconds = alive_seconds
        self._pop = redis.register_script(_POP)
        self._reap = redis.register_script(_REAP)
        self._drained = redis.register_script(_DRAINED)
        self._budget = redis.register_script(_BUDGET)
        self._orphans = redis.register_script(_ORPHANS)
        self._done = redis.register_script(_DONE)

    # -- runs ----------------------------------------------------------------------------------

    def register_run(self, run_id: int, source: str) -> None:
        """Make a seeded run visible to workers (after its entry requests are queued)."""
        self.redis.hset(RUNS, str(run_id), json.dumps({"source": source}))

    def active_runs(self) -> dict[int, str]:
        """Run id → source name, for every run workers should serve."""
        found: dict[int, str] = {}
        for key, value in self.redis.hgetall(RUNS).items():
            try:
                found[int(key)] = str(json.loads(value)["source"])
            except (ValueError, KeyError, TypeError):
                continue  # not ours; ignore rather than crash every worker
        return found

    def claim_finish(self, run_id: int) -> bool:
        """True for exactly one caller: the one that records the run's end."""
        return bool(self.redis.hdel(RUNS, str(run_id)))

    def forget_run(self, run_id: int, keep_seconds: int = FINISHED_RUN_TTL) -> None:
        """Stop serving a run; its keys expire after ``keep_seconds``."""
        pipe = self.redis.pipeline()
        pipe.hdel(RUNS, str(run_id))
        for key in (queue_key(run_id), seen_key(run_id), budget_key(run_id), stats_key(run_id)):
            pipe.expire(key, keep_seconds)
        pipe.execute()

    # -- requests ------------------------------------------------------------------------------

    def mark_seen(self, run_id: int, fingerprint: str) -> bool:
        """Record a fingerprint; True when it is new for the run."""
        return bool(self.redis.sadd(seen_key(run_id), fingerprint))

    def push(self, run_id: int, data: bytes, priority: int = 0) -> None:
        self.redis.zadd(queue_key(run_id), {data: -priority})

    def pop(self, run_id: int) -> bytes | None:
        """The next request of the run, now in this worker's ledger (None when the queue is empty)."""
        return self._pop(keys=[queue_key(run_id), inflight_key(self.worker_id)])

    def queued(self, run_id: int) -> int:
        return int(self.redis.zcard(queue_key(run_id)))

    def in_flight(self) -> int:
        return int(self.redis.hlen(inflight_key(self.worker_id)))

    def done(
        self,
        finished: Iterable[bytes],
        counts: Mapping[int, Mapping[str, int]] = {},  # noqa: B006
        batch: str | None = None,
    ) -> bool:
        """Finished requests leave the ledger, atomically with the counts they added.

        ``batch`` names this flush: retrying it under the same name after a lost reply is
        harmless. False when the batch had already been applied.
        """
        finished = list(finished)
        keys = [done_key(self.worker_id, batch or uuid.uuid4().hex), inflight_key(self.worker_id)]
        increments: list[Any] = []
        for run_id, deltas in counts.items():
            keys.append(stats_key(run_id))
            for name, delta in deltas.items():
                if delta:
                    increments += [len(keys), name, delta]  # Lua's KEYS is 1-based
        if not finished and not increments:
            return True
        return bool(self._done(keys=keys, args=[DONE_MARK_TTL, len(finished), *finished, *increments]))

    def requeue_unheld(self, held: Iterable[bytes]) -> int:
        """Put back ledger entries this worker does not hold; how many.

        A pop whose reply was lost (Redis stalled past the client's timeout, then ran the command)
        leaves a request in this worker's ledger that the worker never received: nobody would
        fetch it, and the run would never drain.
        """
        return int(self._orphans(keys=[inflight_key(self.worker_id)], args=list(held)))

    def drained(self, run_id: int) -> bool:
        """Nothing queued and nothing in flight anywhere for the run."""
        return bool(self._drained(keys=[queue_key(run_id), WORKERS], args=[PREFIX + "worker:", ":inflight"]))

    def take_budget(self, run_id: int, fingerprint: str, max_pages: int) -> bool:
        """Count a page request against the run's ``max_pages``, once per request across workers."""
        return bool(self._budget(keys=[budget_key(run_id)], args=[fingerprint, max_pages]))

    def budget_spent(self, run_id: int) -> int:
        return int(self.redis.scard(budget_key(run_id)))

    def counts(self, run_id: int) -> dict[str, int]:
        return {
            k.decode() if isinstance(k, bytes) else k: int(v)
            for k, v in self.redis.hgetall(stats_key(run_id)).items()
        }

    # -- workers -------------------------------------------------------------------------------

    def beat(self) -> None:
        """This worker is alive for another ``alive_seconds``."""
        pipe = self.redis.pipeline()
        pipe.sadd(WORKERS, self.worker_id)
        pipe.set(alive_key(self.worker_id), "1", ex=self.alive_seconds)
        pipe.execute()

    def reap(self) -> dict[str, int]:
        """Requeue the in-flight requests of every worker that stopped beating; worker → count."""
        reaped: dict[str, int] = {}
        for raw in self.redis.smembers(WORKERS):
            worker = raw.decode() if isinstance(raw, bytes) else raw
            if worker == self.worker_id:
                continue
            n = self._reap(keys=[alive_key(worker), inflight_key(worker), WORKERS], args=[worker, "0"])
            if n >= 0:
                reaped[worker] = int(n)
        return reaped

    def release(self) -> int:
        """On a clean exit: put this worker's unfinished requests back and leave."""
        me = self.worker_id
        return int(self._reap(keys=[alive_key(me), inflight_key(me), WORKERS], args=[me, "1"]))

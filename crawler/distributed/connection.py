"""The Redis connection of a worker, a seeder or the scheduler, checked before any work starts."""

from __future__ import annotations

from typing import Any

from adwatch.errors import AdWatchError
from adwatch.settings import Settings, mask_url

CONNECT_TIMEOUT = 5.0
IO_TIMEOUT = 10.0


class RedisUnavailable(AdWatchError):
    """The Redis server named by ADWATCH_REDIS_URL cannot be used."""


def connect_redis(settings: Settings) -> Any:
    """A redis-py client for ``settings.redis_url``, after a PING; RedisUnavailable if it fails.

    The message names the URL with its password masked. Timeouts are short so a worker notices
    a lost server quickly and backs off instead of hanging.
    """
    import redis
    from redis.exceptions import RedisError

    url = settings.redis_url
    if not url:
        raise RedisUnavailable("ADWATCH_REDIS_URL is not set; distributed crawling needs a Redis server")
    safe = mask_url(url)
    try:
        client = redis.Redis.from_url(
            url,
            socket_connect_timeout=CONNECT_TIMEOUT,
            socket_timeout=IO_TIMEOUT,
            health_check_interval=30,
        )
        client.ping()
    except (RedisError, ValueError, OSError) as exc:
        reason = str(exc).replace(url, safe) or type(exc).__name__
        raise RedisUnavailable(
            f"cannot reach Redis at {safe}: {reason} (check ADWATCH_REDIS_URL and that the server is running)"
        ) from None
    return client

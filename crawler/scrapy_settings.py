"""Scrapy settings for one source, built from AdWatch's Settings and the source definition.

Everything Scrapy is told comes from here: politeness (robots.txt, AutoThrottle, per-domain delay
and concurrency, User-Agent), bounds (size, time, retries, redirects), and safety (no telnet
console, no remote-control server, no feed exports, no HTTP cache).
"""

from __future__ import annotations

from typing import Any

from adwatch.settings import Settings
from crawler import browser
from crawler.sources import SourceDef

# Scrapy components that accept commands from outside the process: never on.
REMOTE_CONTROL_EXTENSIONS = (
    "scrapy.extensions.telnet.TelnetConsole",
    "scrapy.extensions.remote_control.RemoteControl",
)


def base_settings() -> dict[str, Any]:
    """Process-wide settings (the reactor, logging), shared by every crawl in the process."""
    return {
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
        "LOG_LEVEL": "INFO",
        "LOG_ENABLED": True,
        "LOG_INSTALL_ROOT_HANDLER": False,  # the runner logs each run to its own file
    }


def scrapy_settings(settings: Settings, source: SourceDef) -> dict[str, Any]:
    delay = settings.default_delay if source.delay is None else source.delay
    concurrency = source.concurrency or settings.default_concurrency
    values: dict[str, Any] = {
        **base_settings(),
        "BOT_NAME": "adwatch",
        "USER_AGENT": settings.user_agent,
        "ROBOTSTXT_OBEY": not source.ignore_robots,
        "EXTENSIONS": {
            **{name: None for name in REMOTE_CONTROL_EXTENSIONS},
            "scrapy.extensions.memdebug.MemoryDebugger": None,
            "scrapy.extensions.throttle.AutoThrottle": None,  # replaced by crawler.throttle's
            "crawler.throttle.AutoThrottle": 0,
            "crawler.extensions.RunTracker": 10,
            "crawler.extensions.Progress": 20,
        },
        "DOWNLOADER_MIDDLEWARES": {"crawler.middlewares.FrontierMiddleware": 105},
        "ITEM_PIPELINES": {"crawler.item_pipeline.StorePages": 300},
        "FEEDS": {},
        "HTTPCACHE_ENABLED": False,
        # Politeness
        "DOWNLOAD_DELAY": delay,
        "CONCURRENT_REQUESTS": max(concurrency, 16),
        "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
        "AUTOTHROTTLE_ENABLED": True,
        "AUTOTHROTTLE_START_DELAY": max(delay, 0.05),
        "AUTOTHROTTLE_MAX_DELAY": max(60.0, delay),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(concurrency),
        # Bounds
        "DOWNLOAD_MAXSIZE": settings.download_maxsize,
        "DOWNLOAD_WARNSIZE": settings.download_maxsize // 2,
        "DOWNLOAD_TIMEOUT": settings.download_timeout,
        "DNS_TIMEOUT": min(settings.download_timeout, 20),
        "RETRY_ENABLED": True,
        "RETRY_TIMES": settings.retry_times,
        "REDIRECT_MAX_TIMES": 10,
        "METAREFRESH_MAXDELAY": 30,
        "DEPTH_LIMIT": 0,  # the spiders count hops from entry pages themselves (see SourceDef.depth_limit)
        "URLLENGTH_LIMIT": 2083,
        "SCRAPER_SLOT_MAX_ACTIVE_SIZE": 8_000_000,
        "LOGSTATS_INTERVAL": 60.0,
        "CONCURRENT_ITEMS": 8,
    }
    if source.render == "browser":
        values.update(browser.scrapy_settings(source, settings))
        values["CONCURRENT_REQUESTS"] = min(concurrency, 4)
        values["CONCURRENT_REQUESTS_PER_DOMAIN"] = min(concurrency, 4)
    return values


def distributed_settings(settings: Settings, source: SourceDef, run_id: int) -> dict[str, Any]:
    """A source's settings for one worker's share of a distributed run (crawler.distributed):
    scrapy-redis's scheduler and duplicate filter on the run's Redis keys, the shared page
    budget and the shared run tracker instead of the single-process ones."""
    from crawler.distributed import frontier

    values = scrapy_settings(settings, source)
    values["EXTENSIONS"] = {
        **values["EXTENSIONS"],
        "crawler.extensions.RunTracker": None,
        "crawler.distributed.scrapy_parts.DistributedRunTracker": 10,
    }
    values["DOWNLOADER_MIDDLEWARES"] = {"crawler.distributed.scrapy_parts.SharedBudget": 105}
    values.update(
        {
            "SCHEDULER": "crawler.distributed.scrapy_parts.LedgerScheduler",
            "SCHEDULER_QUEUE_CLASS": "crawler.distributed.scrapy_parts.LedgerQueue",
            "SCHEDULER_SERIALIZER": "crawler.distributed.codec",
            "SCHEDULER_PERSIST": True,  # a worker leaving must never clear the shared queue
            "SCHEDULER_QUEUE_KEY": frontier.queue_key(run_id),
            "SCHEDULER_DUPEFILTER_KEY": frontier.seen_key(run_id),
            "DUPEFILTER_CLASS": "crawler.distributed.scrapy_parts.RunDupeFilter",
            "REDIS_URL": settings.redis_url,
        }
    )
    return values

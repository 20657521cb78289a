"""Distributed crawling: many worker processes share one crawl through Redis (scrapy-redis).

``ADWATCH_REDIS_URL`` switches it on. The pieces, each with one job:

* :mod:`.codec` — requests to and from JSON (never pickle), callbacks by name only;
* :mod:`.frontier` — the Redis side: run queues, duplicate filter, in-flight ledger, reaper,
  page budget, shared counts (plain Python, no Scrapy);
* :mod:`.scrapy_parts` — the thin Scrapy adapters over the frontier (scheduler, dupefilter,
  budget middleware, run tracker);
* :mod:`.seed` — starting a run: the CrawlRun row plus its entry requests in Redis;
* :mod:`.worker` — the worker process: one Scrapy crawler per active run it serves.
"""

"""A crawl killed mid-way — gracefully (SIGTERM) or not (SIGKILL) — and started again continues:
no page stored twice, none lost, and no page the site served is fetched again.

The site serves 20 pages and then holds every further request; the test waits until those 20 are
stored, kills the crawl, lets the site answer again and starts the crawl once more. The only
thing fetched twice is robots.txt (each run reads it once).
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter

import pytest

from adwatch.settings import Settings
from tests.crawler.conftest import Stored, adwatch, assert_ok, start_adwatch, write_source
from tests.crawler.sites import Page, Site, html

pytestmark = pytest.mark.slow

PAGES = 63  # /p1 … /p63, a binary tree: /pN links to /p2N and /p2N+1
HELD_AFTER = 20


def tree_site() -> Site:
    pages: dict[str, Page] = {
        "/robots.txt": Page(b"User-agent: *\nAllow: /\n", headers={"Content-Type": "text/plain"})
    }
    for n in range(1, PAGES + 1):
        children = [f"/p{c}.html" for c in (2 * n, 2 * n + 1) if c <= PAGES]
        pages[f"/p{n}.html"] = html(
            f"第{n}页", f"医美案例分享第{n}篇，欢迎咨询。" * 5, [*children, "/p1.html"]
        )
    return Site(pages)


def wait_until(condition, timeout: float = 90, what: str = "") -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def crawl_until_held(settings: Settings, stored: Stored, site: Site):  # type: ignore[no-untyped-def]
    """Start the crawl; return it once the site has served HELD_AFTER pages and all are stored."""
    site.hold_after(HELD_AFTER)
    proc = start_adwatch(settings, "crawl", "tree")
    wait_until(
        lambda: site.page_hits() == HELD_AFTER and len(stored.captures()) == HELD_AFTER,
        what=f"{HELD_AFTER} pages fetched and stored",
    )
    assert proc.poll() is None, proc.communicate()
    return proc


def assert_everything_once(stored: Stored, site: Site) -> None:
    per_url = Counter(c.url for c in stored.captures())
    assert len(per_url) == PAGES
    assert set(per_url.values()) == {1}, "a page was stored twice"
    fetched_twice = {path: n for path, n in site.hits.items() if n > 1 and path != "/robots.txt"}
    assert fetched_twice == {}
    assert len([p for p in site.hits if p != "/robots.txt"]) == PAGES


@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_a_killed_crawl_continues_where_it_stopped(how: str, settings: Settings, stored: Stored) -> None:
    site = tree_site()
    with site.serve():
        write_source(
            settings,
            "tree",
            f"name: tree\nkind: list\nstart_urls: ['{site.url('/p1.html')}']\nmax_depth: 10\n",
        )
        proc = crawl_until_held(settings, stored, site)
        if how == "SIGKILL":
            os.killpg(proc.pid, signal.SIGKILL)  # the crawl and its pipeline worker, no goodbye
            proc.wait(timeout=30)
            site.release()
        else:
            os.kill(proc.pid, signal.SIGTERM)
            time.sleep(1)
            site.release()  # the requests in flight complete, and are stored, before it exits
            proc.wait(timeout=90)
            assert proc.returncode == 130, proc.communicate()
        first_run_pages = len(stored.captures())

        result = adwatch(settings, "crawl", "tree")
        assert_ok(result)
        assert_everything_once(stored, site)

    first, second = stored.runs()
    if how == "SIGKILL":
        assert first.status == "failed" and first.stop_reason.startswith("process died")
    else:
        assert (first.status, first.stop_reason) == ("cancelled", "shutdown")
    assert (second.status, second.stop_reason) == ("finished", "finished")
    assert second.pages == PAGES - first_run_pages
    assert second.stats["adwatch/replayed"] == first_run_pages
    assert f"resumed past {first_run_pages} stored pages" in result.stdout


def test_a_fresh_crawl_fetches_everything_again(sqlite_settings: Settings, stored_sqlite: Stored) -> None:
    site = tree_site()
    with site.serve():
        write_source(
            sqlite_settings,
            "tree",
            f"name: tree\nkind: list\nstart_urls: ['{site.url('/p1.html')}']\nmax_depth: 2\n",
        )
        assert_ok(adwatch(sqlite_settings, "crawl", "tree"))
        assert_ok(adwatch(sqlite_settings, "crawl", "tree"))  # the last run finished: nothing to resume
        assert site.hits["/p1.html"] == 2
    second = stored_sqlite.last_run()
    assert second.pages == 7 and second.stats.get("adwatch/replayed", 0) == 0
    assert len(stored_sqlite.captures()) == 7  # same bodies: no new captures

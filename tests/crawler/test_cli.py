"""The crawl commands as a user meets them: sources list/add/show/validate, runs, demo."""

from __future__ import annotations

import datetime as dt
import json
import re
import signal
import socket
import subprocess
import time

import pytest
from sqlalchemy import select, update

from adwatch.db import Database
from adwatch.models import ApprovalFinding, Artifact, CrawlRun, Document, ReviewItem, Source
from adwatch.settings import Settings
from adwatch.timeutil import fmt_china, utcnow
from crawler.runs import finish_run, start_run
from tests.crawler.conftest import Stored, adwatch, assert_ok, start_adwatch, write_source


def test_sources_validate_names_file_line_and_field(sqlite_settings: Settings) -> None:
    write_source(sqlite_settings, "ok", "name: ok\nkind: feed\nstart_urls: [https://a.example.cn/rss.xml]\n")
    bad = write_source(
        sqlite_settings,
        "bad",
        "name: bad\nkind: list\nstart_urls: [https://a.example.cn/]\nschedule: '0 25 * * *'\n",
    )
    result = adwatch(sqlite_settings, "sources", "validate")
    assert result.returncode == 1
    assert f"{bad}:4: schedule: '0 25 * * *' is not a valid cron expression" in result.stderr
    assert "adwatch: error: 1 problem(s) found" in result.stderr
    bad.unlink()
    result = adwatch(sqlite_settings, "sources", "validate")
    assert_ok(result)
    assert "1 source file(s) OK" in result.stdout


def test_sources_list_shows_schedules_and_fire_times_in_china_time(settings: Settings) -> None:
    write_source(
        settings,
        "clinic",
        "name: clinic\nkind: list\nstart_urls: [https://c.example.cn/]\nschedule: '30 2 * * *'\n",
    )
    write_source(settings, "quiet", "name: quiet\nkind: list\nstart_urls: [https://q.example.cn/]\n")
    result = adwatch(settings, "sources", "list", "--json")
    assert_ok(result)
    rows = {r["name"]: r for r in map(json.loads, result.stdout.splitlines())}
    nxt = dt.datetime.fromisoformat(rows["clinic"]["next_fire_at"])
    assert nxt.tzinfo is not None and nxt > utcnow()
    assert fmt_china(nxt).endswith("02:30:00")
    assert rows["quiet"]["next_fire_at"] is None and rows["clinic"]["origin"] == "yaml:clinic.yaml"

    db = Database(settings)
    with db.session() as s:
        s.execute(
            update(Source)
            .where(Source.name == "clinic")
            .values(last_fire_at=dt.datetime(2026, 11, 23, 18, 30, tzinfo=dt.UTC))
        )
    db.dispose()
    table = adwatch(settings, "sources", "list", COLUMNS="200")
    assert_ok(table)
    assert "China time" in table.stdout
    assert "2026-11-24 02:30" in table.stdout  # last fire, shown in China time
    assert fmt_china(nxt, with_seconds=False) in table.stdout


def test_a_broken_sources_file_is_reported_and_the_last_good_sources_kept(sqlite_settings: Settings) -> None:
    write_source(sqlite_settings, "a", "name: a\nkind: list\nstart_urls: [https://a.example.cn/]\n")
    assert_ok(adwatch(sqlite_settings, "sources", "list"))
    write_source(
        sqlite_settings, "a", "name: a\nkind: list\nstart_urls: [https://a.example.cn/]\nmax_page: 3\n"
    )
    result = adwatch(sqlite_settings, "sources", "list", "--json")
    assert_ok(result)
    assert "a.yaml:4: max_page: unknown field" in result.stderr
    assert "using the sources as last imported" in result.stderr
    assert [json.loads(line)["name"] for line in result.stdout.splitlines()] == ["a"]


def test_sources_add_from_options_and_from_a_file(sqlite_settings: Settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = adwatch(
        sqlite_settings, "sources", "add", "--name", "bbs", "--kind", "search",
        "--search-url", "https://bbs.example.cn/s?q={keyword}", "--keyword", "水光针", "--keyword", "溶脂针",
        "--schedule", "0 */6 * * *", "--max-pages", "50",
    )  # fmt: skip
    assert_ok(result)
    assert "source 'bbs' added (search, schedule 0 */6 * * *)" in result.stdout
    again = adwatch(
        sqlite_settings, "sources", "add", "--name", "bbs", "--kind", "list", "--url", "https://x.example.cn/"
    )
    assert again.returncode == 1 and "already exists (use --replace" in again.stderr

    bad = adwatch(
        sqlite_settings,
        "sources",
        "add",
        "--name",
        "x",
        "--kind",
        "list",
        "--url",
        "https://x.example.cn/",
        "--max-pages",
        "0",
    )
    assert (
        bad.returncode == 1 and "options: max_pages: Input should be greater than or equal to 1" in bad.stderr
    )

    file = tmp_path / "gov.yaml"
    file.write_text(
        "name: gov\nkind: sitemap\nstart_urls: [https://gov.example.cn/sitemap.xml]\nrender: chrome\n",
        encoding="utf-8",
    )
    refused = adwatch(sqlite_settings, "sources", "add", "--file", str(file))
    assert (
        refused.returncode == 1 and f"{file}:4: render: 'static' or 'browser'; got 'chrome'" in refused.stderr
    )
    file.write_text(
        "name: gov\nkind: sitemap\nstart_urls: [https://gov.example.cn/sitemap.xml]\n", encoding="utf-8"
    )
    assert_ok(adwatch(sqlite_settings, "sources", "add", "--file", str(file)))

    shown = adwatch(sqlite_settings, "sources", "show", "bbs")
    assert_ok(shown)
    assert (
        "# bbs: cli" in shown.stdout
        and "- 水光针" in shown.stdout
        and "search_url: https://bbs.example.cn/s?q={keyword}" in shown.stdout
    )
    listed = [
        json.loads(x) for x in adwatch(sqlite_settings, "sources", "list", "--json").stdout.splitlines()
    ]
    assert {(r["name"], r["origin"]) for r in listed} == {("bbs", "cli"), ("gov", "cli")}


def test_runs_lists_newest_first_with_the_tail_of_each_log(settings: Settings) -> None:
    db = Database(settings)
    with db.session() as s:
        s.add(Source(name="clinic", kind="list", definition={}))
    with db.session() as s:
        source_id = s.scalar(select(Source.id))
    first = start_run(db, settings, source_id, "manual")
    with open(first.log_path, "w", encoding="utf-8") as log:
        log.write("first line\nsecond line\nSpider closed (finished)\n")
    finish_run(db, first.id, "finished", "finished")
    second = start_run(db, settings, source_id, "schedule")
    with db.session() as s:  # its process died long ago
        s.execute(
            update(CrawlRun)
            .where(CrawlRun.id == second.id)
            .values(heartbeat_at=utcnow() - dt.timedelta(hours=1), pid=None)
        )
    db.dispose()
    result = adwatch(settings, "runs", "--tail", "2")
    assert_ok(result)
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"#{second.id}  clinic  failed  {fmt_china(second.started_at)}")
    assert "stop reason: process died: no heartbeat since" in result.stdout  # reaped on the way
    assert "    | second line" in result.stdout and "    | Spider closed (finished)" in result.stdout
    assert "first line" not in result.stdout


def test_crawl_needs_a_source_or_a_url(sqlite_settings: Settings) -> None:
    result = adwatch(sqlite_settings, "crawl")
    assert result.returncode == 2 and "give either SOURCE or --url URL" in result.stderr
    result = adwatch(sqlite_settings, "crawl", "x", "--max-pages", "3")
    assert result.returncode == 2 and "go with --url" in result.stderr
    result = adwatch(sqlite_settings, "crawl", "--url", "ftp://x.example.cn/")
    assert result.returncode == 1 and "--url: 'ftp://x.example.cn/' is not an http(s) URL" in result.stderr


@pytest.mark.slow
def test_demo_crawls_classifies_links_and_queues_every_demo_source(
    sqlite_settings: Settings, stored_sqlite: Stored
) -> None:
    from adwatch.demo_site import demo_pages

    result = adwatch(sqlite_settings, "demo", "--no-serve", timeout=600)
    assert_ok(result)
    for name in ("demo-portal", "demo-sitemap", "demo-rss", "demo-atom", "demo-search", "demo-feed-js"):
        assert f"  {name}  finished" in result.stdout
    runs = stored_sqlite.runs()
    assert {r.status for r in runs} == {"finished"} and {r.trigger for r in runs} == {"demo"}
    stored_paths = {c.url.split("/", 3)[3] for c in stored_sqlite.captures()}
    expected = {p.path.lstrip("/") for p in demo_pages() if not p.disallowed_by_robots}
    assert expected <= stored_paths, expected - stored_paths
    assert not any("private" in p for p in stored_paths)  # robots.txt obeyed
    js = [c for c in stored_sqlite.captures() if c.render == "browser"]
    assert len(js) == 2
    assert "stored:" in result.stdout and "approval records:" in result.stdout

    # Classified, linked and queued: the flagged demo pages wait for review with their evidence.
    with stored_sqlite.db.session() as s:
        flagged = {
            d.url.split("/", 3)[3]
            for d in s.scalars(select(Document).join(ReviewItem, ReviewItem.document_id == Document.id))
        }
        findings = {f.kind for f in s.scalars(select(ApprovalFinding))}
        kinds = {a.kind for a in s.scalars(select(Artifact))}
    violating = {p.path.lstrip("/") for p in demo_pages() if set(p.expected_labels) - {"medical_ad"}}
    assert len(violating & flagged) >= 0.8 * len(violating), violating - flagged
    assert {"approval_missing", "approval_unknown", "approval_expired"} <= findings
    assert {"raw", "warc", "screenshot"} <= kinds


@pytest.mark.slow
def test_demo_serves_the_web_app_and_its_printed_users_can_log_in(sqlite_settings: Settings) -> None:
    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = start_adwatch(sqlite_settings, "demo", "--web-port", str(port))
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            assert line, f"demo ended early:\n{''.join(lines)}\n{proc.stderr.read()[-3000:]}"
            lines.append(line)
            if "AdWatch web app:" in line:
                break
        users = {
            m.group(1): m.group(3) for m in re.finditer(r"^  (demo_\w+) +(\w+) +(\S+)$", "".join(lines), re.M)
        }
        assert set(users) == {"demo_admin", "demo_staff", "demo_reviewer", "demo_enforcer"}
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=10) as client:
            for _ in range(100):
                try:
                    page = client.get("/login")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            assert page.status_code == 200
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            form = {"username": "demo_reviewer", "password": users["demo_reviewer"]}
            if token:
                form["csrf_token"] = token.group(1)
            client.post("/login", data=form, follow_redirects=True)
            queue = client.get("/queue", follow_redirects=True)
            assert queue.status_code == 200 and "demo_reviewer" in queue.text
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_sources_add_from_a_file_takes_no_other_fields(sqlite_settings: Settings) -> None:
    path = sqlite_settings.home / "one.yaml"
    path.write_text("name: one\nkind: list\nstart_urls: [https://a.example.cn/]\n", encoding="utf-8")
    result = adwatch(sqlite_settings, "sources", "add", "--file", str(path), "--name", "two")
    assert result.returncode == 2 and "--file takes the whole definition" in result.stderr
    assert_ok(adwatch(sqlite_settings, "sources", "add", "--file", str(path), "--replace"))

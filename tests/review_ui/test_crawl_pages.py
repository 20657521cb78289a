"""Crawl staff pages: sources (enable, cron schedule in China time, crawl now) and runs (log tail)."""

import datetime as dt
import sys
import time

import pytest
from sqlalchemy import select

from adwatch.models import AuditEvent, CrawlRun, Source
from review_ui import crawl_control
from tests.review_ui.factories import make_source


@pytest.fixture
def source_id(db):
    with db.session() as s:
        return make_source(s, "douyin-search", schedule="0 3 * * *").id


def test_sources_list_shows_schedule_and_state(browser_for, source_id):
    html = browser_for("crawl_staff").get("/sources").text
    assert "douyin-search" in html and "0 3 * * *" in html and "立即抓取" in html


def test_a_schedule_is_validated_and_its_next_fire_is_in_china_time(browser_for, db, source_id):
    client = browser_for("crawl_staff")
    bad = client.post_form(f"/sources/{source_id}/schedule", {"schedule": "61 3 * * *"})
    assert bad.status_code == 400 and "无法识别的定时表达式" in bad.text
    assert client.post_form(f"/sources/{source_id}/schedule", {"schedule": "0 3 * *"}).status_code == 400
    assert (
        client.post_form(f"/sources/{source_id}/schedule", {"schedule": " 30  2 * * * "}).status_code == 303
    )
    with db.session() as s:
        source = s.get(Source, source_id)
        assert source.schedule == "30 2 * * *"
        local = source.next_fire_at.astimezone(dt.timezone(dt.timedelta(hours=8)))
        assert (local.hour, local.minute) == (2, 30)  # 02:30 Beijing = 18:30 UTC the day before
        assert source.next_fire_at - dt.datetime.now(dt.UTC) <= dt.timedelta(days=1)
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "source.schedule"))
        assert event.detail == {"name": "douyin-search", "old": "0 3 * * *", "new": "30 2 * * *"}
    assert client.post_form(f"/sources/{source_id}/schedule", {"schedule": ""}).status_code == 303
    with db.session() as s:
        assert s.get(Source, source_id).schedule is None and s.get(Source, source_id).next_fire_at is None


def test_sources_can_be_disabled_and_enabled(browser_for, db, source_id):
    client = browser_for("crawl_staff")
    client.post_form(f"/sources/{source_id}/enabled", {"enabled": "0"})
    with db.session() as s:
        assert not s.get(Source, source_id).enabled and s.get(Source, source_id).next_fire_at is None
    client.post_form(f"/sources/{source_id}/enabled", {"enabled": "1"})
    with db.session() as s:
        assert s.get(Source, source_id).enabled and s.get(Source, source_id).next_fire_at is not None
        assert [
            e for (e,) in s.execute(select(AuditEvent.action).where(AuditEvent.action.like("source.%")))
        ] == ["source.disable", "source.enable"]


def test_crawl_now_starts_the_crawl_command_detached_with_a_log(browser_for, db, settings, source_id):
    response = browser_for("crawl_staff").post_form(f"/sources/{source_id}/crawl")
    assert response.status_code == 303
    with db.session() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "source.crawl_now"))
    assert event.ip == "testclient" and event.detail["name"] == "douyin-search" and event.detail["pid"] > 0
    log = settings.logs_dir / event.detail["log"].rsplit("/", 1)[-1]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not log.read_text():
        time.sleep(0.2)
    assert log.read_text()  # the child ran and wrote its output


def test_a_source_name_is_never_read_as_an_option():
    argv = crawl_control.crawl_argv("--url=http://evil.example/")
    assert argv[-2:] == ["--", "--url=http://evil.example/"]
    assert argv[0].startswith(sys.prefix) or argv[0] == sys.executable


def test_runs_show_counts_and_the_tail_of_the_log(browser_for, db, settings, source_id):
    log = settings.logs_dir / "run-1.log"
    log.write_text("".join(f"line {i} 抓取\n" for i in range(5000)) + "<script>alert(1)</script>\n")
    with db.session() as s:
        run = CrawlRun(
            source_id=source_id,
            status="failed",
            pages=40,
            items=7,
            errors=3,
            log_path=str(log),
            stop_reason="closespider_errorcount",
        )
        outside = CrawlRun(source_id=source_id, status="finished", log_path="/etc/passwd")
        s.add_all([run, outside])
    client = browser_for("crawl_staff")
    listing = client.get("/runs?status=failed").text
    assert f'href="/runs/{run.id}"' in listing and f'href="/runs/{outside.id}"' not in listing
    html = client.get(f"/runs/{run.id}").text
    assert "line 4999 抓取" in html and "line 100 抓取" not in html  # the tail only
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "closespider_errorcount" in html
    assert "没有可显示的日志" in client.get(f"/runs/{outside.id}").text  # never outside ADWATCH_HOME

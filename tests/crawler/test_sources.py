"""Source definitions: what is accepted, and how each mistake is reported (file, line, field)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from adwatch.db import Database
from adwatch.models import Source
from adwatch.settings import Settings
from crawler.source_store import add_source, sync_yaml_sources
from crawler.sources import SourcesInvalid, load_source_file, load_sources_dir, parse_source

GOOD = """\
name: clinic-ads
kind: list
description: 医美诊所官网
start_urls:
  - https://clinic.example.cn/
follow:
  allow: ['/news/', '/case/']
  deny: ['\\.pdf$']
render: static
delay: 1.5
concurrency: 2
max_pages: 200
max_depth: 3
schedule: "0 3 * * *"
"""


def problems_of(text: str) -> list[str]:
    defn, problems = parse_source(text, "sources/x.yaml")
    assert defn is None
    return [str(p) for p in problems]


def test_a_complete_list_source_is_accepted_with_its_derived_values() -> None:
    defn, problems = parse_source(GOOD, "sources/clinic.yaml")
    assert problems == []
    assert defn is not None
    assert defn.domains == ["clinic.example.cn"]
    assert defn.depth_limit == 3
    assert defn.follow.allows("https://clinic.example.cn/news/1.html")
    assert not defn.follow.allows("https://clinic.example.cn/news/price.pdf")
    assert not defn.follow.allows("https://clinic.example.cn/about.html")


def test_a_search_source_expands_chinese_keywords_in_the_sites_encoding() -> None:
    text = (
        "name: s\nkind: search\nsearch_url: 'https://bbs.example.cn/search.php?kw={keyword}'\n"
        "keywords: [水光针, 玻尿酸]\nkeyword_encoding: gbk\n"
    )
    defn, problems = parse_source(text, "s.yaml")
    assert problems == [] and defn is not None
    assert defn.entry_urls == [
        "https://bbs.example.cn/search.php?kw=%CB%AE%B9%E2%D5%EB",
        "https://bbs.example.cn/search.php?kw=%B2%A3%C4%F2%CB%E1",
    ]
    assert defn.depth_limit == 1


def test_every_error_names_file_line_and_field() -> None:
    text = """\
name: bad
kind: list
start_urls:
  - https://ok.example.cn/
  - ftp://files.example.cn/
follow:
  allow: ['([']
  dney: []
max_pages: lots
schedule: "0 9 * *"
render: browserx
"""
    assert problems_of(text) == [
        "sources/x.yaml:5: start_urls.1: 'ftp://files.example.cn/' is not an http(s) URL",
        "sources/x.yaml:7: follow.allow.0: '([' is not a valid regular expression: unterminated character set at position 1",
        "sources/x.yaml:8: follow.dney: unknown field (check the spelling; see sources/README.md for the fields)",
        "sources/x.yaml:9: max_pages: Input should be a valid integer, unable to parse string as an integer",
        "sources/x.yaml:10: schedule: '0 9 * *' is not a 5-field cron expression (minute hour day-of-month month day-of-week)",
        "sources/x.yaml:11: render: 'static' or 'browser'; got 'browserx'",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "name: a\nkind: list\nstart_urls: [https://a.cn/]\nschedule: '61 * * * *'\n",
            "x.yaml:4: schedule: '61 * * * *' is not a valid cron expression",
        ),
        (
            "name: a\nkind: list\nstart_urls: [https://a.cn/]\nschedule: '0 0 31 2 *'\n",
            "x.yaml:4: schedule: '0 0 31 2 *'",
        ),
        (
            "name: a\nkind: crawl\nstart_urls: [https://a.cn/]\n",
            "x.yaml:2: kind: 'list', 'sitemap', 'feed' or 'search'; got 'crawl'",
        ),
        ("name: a\nkind: list\n", "x.yaml:1: start_urls: kind list needs at least one start URL"),
        (
            "name: a\nkind: search\nsearch_url: 'https://a.cn/s?q='\nkeywords: [x]\n",
            "x.yaml:3: search_url: 'https://a.cn/s?q=' must contain the placeholder {keyword} exactly once",
        ),
        (
            "name: a\nkind: list\nstart_urls: [https://a.cn/]\nwait_for: '#x'\n",
            "x.yaml:4: wait_for: wait_for needs render: browser",
        ),
        (
            "name: a\nkind: list\nstart_urls: [https://a.cn/]\nallowed_domains: [b.cn]\n",
            "x.yaml:3: start_urls: https://a.cn/ is outside allowed_domains ['b.cn']",
        ),
        ("name: a b\nkind: list\nstart_urls: [https://a.cn/]\n", "x.yaml:1: name: 'a b' is not a valid name"),
        (
            "name: a\nkind: list\nstart_urls: [https://a.cn/]\nmax_depth: 2\nmax_depth: 3\n",
            "x.yaml:5: max_depth: duplicate field",
        ),
        ("base: &b {kind: list}\nname: a\n", "x.yaml:1: YAML anchors and aliases are not allowed here"),
        ("name: a\nkind: [list\n", "x.yaml:3: malformed YAML"),
        ("- name: a\n", "x.yaml:1: a source must be a mapping of field: value"),
        ("name: a\nkind: list\nstart_urls: ['https://user:pw@a.cn/']\n", "sources must not hold secrets"),
        (
            "name: a\nkind: list\nstart_urls: [https://a.cn/]\nselectors: {title: 'h1[', text: 'xpath://div[@id='}\n",
            "x.yaml:4: selectors.title: 'h1[' is not a valid CSS selector",
        ),
    ],
)
def test_mistakes_are_reported_clearly(text: str, expected: str) -> None:
    found = problems_of(text)
    assert any(expected in p for p in found), found


def test_a_file_without_a_name_is_named_after_the_file(tmp_path: Path) -> None:
    path = tmp_path / "gov-notices.yaml"
    path.write_text("kind: feed\nstart_urls: [https://wsjkw.example.gov.cn/rss.xml]\n", encoding="utf-8")
    defn, problems = load_source_file(path)
    assert problems == [] and defn is not None and defn.name == "gov-notices"


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "gbk.yaml"
    path.write_bytes("name: 诊所\nkind: list\n".encode("gbk"))
    _, problems = load_source_file(path)
    assert "not UTF-8 text" in str(problems[0])


def test_the_same_name_in_two_files_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("name: x\nkind: list\nstart_urls: [https://a.cn/]\n")
    (tmp_path / "b.yaml").write_text("kind: list\nname: x\nstart_urls: [https://b.cn/]\n")
    loaded, problems = load_sources_dir(tmp_path)
    assert [d.name for _, d in loaded] == ["x"]
    assert [str(p) for p in problems] == [
        f"{tmp_path / 'b.yaml'}:2: name: 'x' is already used by {tmp_path / 'a.yaml'}"
    ]


def test_the_bundled_example_sources_are_valid() -> None:
    examples = Path(__file__).resolve().parents[2] / "sources"
    loaded, problems = load_sources_dir(examples)
    assert problems == []
    assert {d.kind for _, d in loaded} == {"list", "sitemap", "feed", "search"}


# -- syncing sources/ into the database ---------------------------------------------------------


def names(db: Database) -> dict[str, bool]:
    with db.session() as s:
        return {r.name: r.enabled for r in s.scalars(select(Source))}


def test_yaml_sources_sync_all_or_nothing(db: Database, settings: Settings) -> None:
    settings.sources_dir.mkdir(parents=True, exist_ok=True)
    (settings.sources_dir / "a.yaml").write_text("name: a\nkind: list\nstart_urls: [https://a.cn/]\n")
    (settings.sources_dir / "b.yaml").write_text(
        "name: b\nkind: list\nstart_urls: [https://b.cn/]\nbogus: 1\n"
    )
    with pytest.raises(SourcesInvalid) as err:
        sync_yaml_sources(db, settings)
    assert "b.yaml:4: bogus: unknown field" in str(err.value)
    assert names(db) == {}  # a.yaml was fine, but nothing is half-imported

    (settings.sources_dir / "b.yaml").write_text(
        "name: b\nkind: list\nstart_urls: [https://b.cn/]\nschedule: '*/5 * * * *'\n"
    )
    result = sync_yaml_sources(db, settings)
    assert sorted(result.added) == ["a", "b"]
    with db.session() as s:
        b = s.scalar(select(Source).where(Source.name == "b"))
        assert b.origin == "yaml" and b.schedule == "*/5 * * * *" and b.next_fire_at is not None
        assert b.definition["start_urls"] == ["https://b.cn/"]


def test_a_removed_yaml_file_disables_its_source(db: Database, settings: Settings) -> None:
    settings.sources_dir.mkdir(parents=True, exist_ok=True)
    path = settings.sources_dir / "a.yaml"
    path.write_text("name: a\nkind: list\nstart_urls: [https://a.cn/]\n")
    sync_yaml_sources(db, settings)
    path.unlink()
    assert sync_yaml_sources(db, settings).disabled == ["a"]
    assert names(db) == {"a": False}


def test_a_yaml_file_cannot_take_the_name_of_a_cli_source(db: Database, settings: Settings) -> None:
    defn, _ = parse_source("name: a\nkind: list\nstart_urls: [https://a.cn/]\n", "cli")
    add_source(db, defn)
    settings.sources_dir.mkdir(parents=True, exist_ok=True)
    (settings.sources_dir / "a.yaml").write_text("name: a\nkind: list\nstart_urls: [https://b.cn/]\n")
    with pytest.raises(SourcesInvalid, match="already a source added by cli"):
        sync_yaml_sources(db, settings)

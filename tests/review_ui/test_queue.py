"""The queue: priority order, every filter, full-text search (Chinese two-character terms too) through
the index, and keyset pagination that neither skips nor repeats an item."""

import datetime as dt
import re

import pytest
from sqlalchemy import text

from review_ui import search
from review_ui.queue import PAGE_SIZE, QueueFilters, page
from tests.review_ui.factories import (
    FILLER_AD,
    NEWS_TEXT,
    TRAINING_AD,
    TRAINING_TERMS,
    flag,
    make_record,
    make_source,
    utc,
)

ROW_RE = re.compile(r'<tr data-href="/items/(\d+)"')


def ids_on(html: str) -> list[int]:
    return [int(x) for x in ROW_RE.findall(html)]


@pytest.fixture
def mixed(db):
    """Items of several kinds, sources, times and scores."""
    with db.session() as s:
        forum, video = make_source(s, "forum"), make_source(s, "video", kind="list")
        make_record(s)
        items = {
            "filler": flag(
                s,
                source=forum,
                title="玻尿酸填充特惠",
                institutions=["北京美丽人生医疗美容诊所"],
                fetched_at=utc(2026, 3, 1, 15, 30),
            ),  # 23:30 China time on 03-01
            "training": flag(
                s,
                source=video,
                text=TRAINING_AD,
                title="零基础学微整",
                scores={"medical_ad": 0.8, "training_pitch": 0.88},
                terms=TRAINING_TERMS,
                fetched_at=utc(2026, 3, 1, 16, 30),
            ),  # 00:30 China time on 03-02
            "news": flag(
                s,
                source=forum,
                text=NEWS_TEXT,
                title="监管提醒 BOTOX 注意",
                scores={"medical_ad": 0.55, "false_promise": 0.3},
                terms={},
                fetched_at=utc(2026, 3, 5),
            ),
            "campaign": flag(
                s,
                source=video,
                text=FILLER_AD + "同款转发",
                title="转发",
                campaign_size=9,
                fetched_at=utc(2026, 3, 6),
            ),
        }
        return {k: v.id for k, v in items.items()}


def ids(db, **filters) -> list[int]:
    with db.session() as s:
        return [i.id for i in page(s, QueueFilters(**filters)).items]


def test_the_queue_is_ordered_by_priority(db, mixed):
    with db.session() as s:
        items = page(s, QueueFilters()).items
    assert [i.priority for i in items] == sorted((i.priority for i in items), reverse=True)
    assert items[0].id == mixed["campaign"]  # same ad as "filler", but reposted nine times


def test_filters(db, mixed):
    assert ids(db, label="training_pitch") == [mixed["training"]]
    assert set(ids(db, label="false_promise")) == {mixed["filler"], mixed["campaign"]}
    assert set(ids(db, finding="approval_missing")) == {mixed["training"], mixed["news"]}
    with db.session() as s:
        forum = s.execute(text("SELECT id FROM sources WHERE name = 'forum'")).scalar()
    assert set(ids(db, source=forum)) == {mixed["filler"], mixed["news"]}
    assert set(ids(db, min_score=0.85)) == {mixed["filler"], mixed["training"], mixed["campaign"]}
    assert ids(db, label="false_promise", min_score=0.95) == []
    assert ids(db, status="confirmed") == []


def test_date_filters_use_china_days(db, mixed):
    # 2026-03-01 16:30 UTC is 03-02 in China: it belongs to the 2nd, not the 1st.
    assert ids(db, date_from=dt.date(2026, 3, 1), date_to=dt.date(2026, 3, 1)) == [mixed["filler"]]
    assert ids(db, date_from=dt.date(2026, 3, 2), date_to=dt.date(2026, 3, 2)) == [mixed["training"]]
    assert set(ids(db, date_from=dt.date(2026, 3, 5))) == {mixed["news"], mixed["campaign"]}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("无效退款", {"filler", "campaign", "news"}),  # four characters, in text
        ("包拿证", {"training"}),  # three characters
        ("隆鼻", set()),  # two characters, absent
        ("微整", {"training"}),  # two characters, in a title only
        ("宝妈", {"training"}),  # two characters, in text
        ("同款转发", {"campaign"}),  # at the very end of a text
        ("botox", {"news"}),  # Latin, any case
        ("退", {"filler", "campaign", "news"}),  # one character: a scan, but still right
        ('"%_\\', set()),  # FTS and LIKE syntax are plain characters
    ],
)
def test_full_text_search_in_title_and_text(db, mixed, query, expected):
    assert set(ids(db, q=query)) == {mixed[k] for k in expected}


def test_search_goes_through_the_index(db, mixed):
    with db.session() as s:
        sub = search.matching_document_ids(s, "包拿证")
        compiled = str(sub)
        if db.dialect == "sqlite":
            assert "documents_search MATCH" in compiled
            assert "documents_search MATCH" in str(search.matching_document_ids(s, "宝妈"))
        else:
            s.execute(text("SET LOCAL enable_seqscan = off"))
            plan = "\n".join(
                r[0]
                for r in s.execute(text(f"EXPLAIN {compiled}"), {"grams": ["包拿", "拿证"], "q": "包拿证"})
            )
            assert "ix_documents_search_bigrams" in plan


def test_documents_stored_later_are_searchable(db, mixed):
    with db.session() as s:
        late = flag(s, text="新到的溶脂针广告，私信下单", title="溶脂针").id
    assert ids(db, q="溶脂针") == [late]
    assert ids(db, q="溶脂") == [late]


def test_keyset_pages_cover_every_item_once_in_order(db):
    with db.session() as s:
        for i in range(PAGE_SIZE * 2 + 7):
            flag(
                s,
                text=f"第{i}条 {FILLER_AD}",
                scores={"medical_ad": 0.9, "false_promise": 0.5 + (i % 10) / 25},
                terms={},
            )
    seen, after = [], None
    with db.session() as s:
        while True:
            p = page(s, QueueFilters(), after=after)
            seen.extend((i.priority, i.id) for i in p.items)
            if not p.next_cursor:
                break
            previous_first = p.items[0].id
            after = p.next_cursor
        back = page(s, QueueFilters(), before=p.prev_cursor)
    assert len(seen) == len(set(seen)) == PAGE_SIZE * 2 + 7
    assert seen == sorted(seen, reverse=True)
    assert back.items[0].id == previous_first and len(back.items) == PAGE_SIZE


def test_queue_page_shows_labels_findings_and_filters(browser_for, mixed):
    client = browser_for("reviewer")
    html = client.get("/queue?label=training_pitch").text
    assert ids_on(html) == [mixed["training"]]
    assert "违规医美培训/致富宣传 <b>88%</b>" in html and "未标注医疗广告审查证明文号" in html
    assert '<option value="training_pitch" selected>' in html
    html = client.get("/queue?q=宝妈&status=bogus&min_score=7&from=not-a-date").text  # junk is ignored
    assert ids_on(html) == [mixed["training"]]


def test_the_cases_page_shows_only_confirmed_items(browser_for, db, mixed):
    with db.session() as s:
        s.execute(text("UPDATE review_items SET status = 'confirmed' WHERE id = :i"), {"i": mixed["news"]})
    html = browser_for("enforcement").get("/cases?status=pending").text
    assert ids_on(html) == [mixed["news"]]


def test_the_app_repairs_search_triggers_a_table_rebuild_dropped(db, settings, mixed):
    if db.dialect != "sqlite":
        pytest.skip("the triggers are SQLite's; PostgreSQL indexes an expression")
    with db.engine.begin() as conn:  # what an Alembic batch rebuild of `documents` leaves behind
        for trigger in search.SQLITE_TRIGGERS:
            conn.exec_driver_sql(f"DROP TRIGGER {trigger}")
    from review_ui.app import create_app

    create_app(settings, db)
    with db.session() as s:
        late = flag(s, text="修复后新增的文档：热玛吉团购", title="团购").id
    assert ids(db, q="热玛吉团购") == [late]
    assert set(ids(db, q="包拿证")) == {mixed["training"]}  # the old documents are still found


def test_postgresql_indexes_every_character_pair_of_long_multibyte_text(db):
    if db.dialect != "postgresql":
        pytest.skip("the bigram function is PostgreSQL's")
    body = "玻尿酸💉水光针，ＶＸ：meiyan2026。" * 3000  # 72,000 characters, some outside the BMP
    with db.engine.begin() as conn:
        grams = conn.execute(text("SELECT adwatch_bigrams(:t)"), {"t": body}).scalar_one()
    assert sorted(grams) == sorted({body[i : i + 2] for i in range(len(body) - 1)})

"""Main text, title, publish time, author and links from real-looking Chinese pages."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pipelines.extract import extract
from tests.pipelines.pages import (
    ARTICLE,
    FOOTER,
    FORUM_POSTS,
    HOT,
    LATEST,
    NAV,
    RECOMMENDED,
    content_farm_page,
    forum_thread_page,
    ruby_page,
)

CHINA = dt.timezone(dt.timedelta(hours=8))


def test_content_farm_keeps_the_article_and_drops_the_boilerplate() -> None:
    page = extract(content_farm_page(), "http://farm.example/p/2.html")
    for paragraph in ARTICLE:
        assert paragraph in page.text
    for junk in (
        *NAV,
        *RECOMMENDED,
        *LATEST,
        *HOT,
        FOOTER,
        "推荐阅读",
        "最新更新",
        "热门文章",
        "分享到",
        "上一篇",
        "首页",
        "统计代码",
    ):
        assert junk not in page.text, junk
    assert page.text.startswith(ARTICLE[0][:10])  # no leading indentation or header text


def test_content_farm_metadata() -> None:
    page = extract(content_farm_page(), "http://farm.example/p/2.html")
    assert page.title == "北京做双眼皮哪家医院好？亲身经历分享"
    assert page.published_at == dt.datetime(2026, 10, 28, 10, 15, tzinfo=CHINA)
    assert page.published_at.tzinfo is not None and page.published_at.utcoffset() == dt.timedelta(0)
    assert page.author == "小美"
    assert page.links == [{"url": "https://clinic.example.cn/booking", "text": "在线预约"}]


def test_forum_thread_keeps_every_reply() -> None:
    page = extract(forum_thread_page(), "http://bbs.example/thread-1.html")
    for _who, _when, text in FORUM_POSTS:
        assert text in page.text
    assert "论坛首页" not in page.text and "Powered by" not in page.text and "下一页" not in page.text
    assert page.published_at == dt.datetime(2026, 11, 1, 20, 12, tzinfo=CHINA)
    assert page.author == "小白兔"


def test_ruby_pinyin_is_removed_from_the_text() -> None:
    page = extract(ruby_page(), "http://science.example/1")
    assert "醫療美容需要到正規機構" in page.text
    assert "玻尿酸注射" in page.text
    for pinyin in ("yī", "liáo", "bō", "niào", "("):
        assert pinyin not in page.text


def test_publish_time_from_meta_and_json_ld() -> None:
    meta = '<meta property="article:published_time" content="2026-10-01T08:00:00+08:00">'
    html = f"<html><head>{meta}</head><body><p>{ARTICLE[0]}</p></body></html>"
    assert extract(html, "http://x/").published_at == dt.datetime(2026, 10, 1, 0, 0, tzinfo=dt.UTC)
    jsonld = '<script type="application/ld+json">{"@type":"NewsArticle","datePublished":"2026-09-30 12:00","author":{"name":"李医生"}}</script>'
    html = f"<html><head>{jsonld}</head><body><p>{ARTICLE[0]}</p></body></html>"
    page = extract(html, "http://x/")
    assert page.published_at == dt.datetime(2026, 9, 30, 12, 0, tzinfo=CHINA)
    assert page.author == "李医生"


def test_chinese_date_forms() -> None:
    html = f"<html><body><h1>医美探店</h1><div>2026年11月02日 09:30</div><p>{ARTICLE[1]}</p></body></html>"
    assert extract(html, "http://x/").published_at == dt.datetime(2026, 11, 2, 9, 30, tzinfo=CHINA)


def test_relative_dates_need_the_fetch_time() -> None:
    html = f"<html><body><h1>医美探店</h1><div>发布于 3天前</div><p>{ARTICLE[1]}</p></body></html>"
    assert extract(html, "http://x/").published_at is None
    fetched = dt.datetime(2026, 11, 5, 4, 0, tzinfo=dt.UTC)
    assert extract(html, "http://x/", now=fetched).published_at == fetched - dt.timedelta(days=3)


def test_impossible_dates_are_ignored() -> None:
    html = f"<html><body><h1>医美</h1><div>发布时间：2026-13-45</div><p>{ARTICLE[1]}</p></body></html>"
    assert extract(html, "http://x/").published_at is None


def test_links_are_absolute_and_bounded() -> None:
    anchors = "".join(f'<a href="/item/{i}">第{i}个案例的详细介绍和价格说明</a>，' for i in range(500))
    html = f'<html><head><base href="https://m.example.cn/news/"></head><body><div>{ARTICLE[0]}{anchors}</div></body></html>'
    page = extract(html, "http://ignored.example/")
    assert 0 < len(page.links) <= 200
    assert page.links[0]["url"] == "https://m.example.cn/item/0"


def test_pathological_markup_is_bounded_and_never_hangs() -> None:
    deep = "<div>" * 50_000 + ARTICLE[0] + "</div>" * 50_000
    page = extract(deep, "http://x/")
    assert isinstance(page.text, str)
    huge = "<p>" + "医" * 400_000 + "</p>"
    page = extract(huge, "http://x/", max_text_chars=1000)
    assert len(page.text) == 1000 and page.truncated


def test_garbage_and_empty_input() -> None:
    assert extract("", "http://x/").text == ""
    assert extract("\x00\x01<<<>>>", "http://x/").method in ("empty", "fallback", "heuristic")
    xml_declared = '<?xml version="1.0" encoding="gbk"?><html><body><p>' + ARTICLE[0] + "</p></body></html>"
    assert ARTICLE[0] in extract(xml_declared, "http://x/").text


def test_plain_short_post_without_paragraphs() -> None:
    html = "<html><body><div>求推荐 私我VX：abc12345</div></body></html>"
    assert "私我VX：abc12345" in extract(html, "http://x/").text


def test_wechat_article_account_and_publish_time_from_scripts() -> None:
    html = f"""<html><head><title>变美攻略</title></head><body>
<div id="js_article"><h1 id="activity-name">冬季补水，这支水光针就够了</h1>
<div id="meta_content"><span id="js_name">某某医美研究所</span></div>
<div id="js_content"><p>{ARTICLE[0]}</p><p>{ARTICLE[2]}</p></div></div>
<script>var nickname = htmlDecode("某某医美研究所"); var ct = "1761616800"; var user_name = "gh_abc";</script>
</body></html>"""
    page = extract(html, "https://mp.weixin.qq.com/s/abc")
    assert page.author == "某某医美研究所"
    assert page.published_at == dt.datetime(2025, 10, 28, 2, 0, tzinfo=dt.UTC)
    assert ARTICLE[2] in page.text and page.title == "冬季补水，这支水光针就够了"


def test_a_feed_whose_best_block_climbs_to_an_unscored_container() -> None:
    # The demo site's JavaScript feed as Chromium leaves it: the best post climbs to <main>.
    html = (Path(__file__).parent / "data" / "rendered_feed.html").read_text(encoding="utf-8")
    page = extract(html, "http://127.0.0.1/feed/")
    assert "水光针体验价199" in page.text and "光子嫩肤" in page.text

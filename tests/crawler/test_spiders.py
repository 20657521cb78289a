"""Real crawls, over HTTP on 127.0.0.1, of small sites made here: one per source kind, politeness,
limits, encodings, and every kind of bad answer counted while the crawl goes on."""

from __future__ import annotations

import gzip
import socket
from pathlib import Path
from urllib.parse import unquote

import pytest

from adwatch.settings import Settings
from tests.crawler.conftest import Stored, adwatch, assert_ok, write_source
from tests.crawler.sites import Page, Site, html

pytestmark = pytest.mark.slow

ROBOTS = Page(b"User-agent: *\nDisallow: /private/\n", headers={"Content-Type": "text/plain"})
TEXT = "这是一家医疗美容诊所的页面，介绍水光针和玻尿酸项目。"


def clinic_site() -> Site:
    return Site(
        {
            "/robots.txt": ROBOTS,
            "/": html(
                "首页",
                TEXT,
                [
                    "/a/1.html",
                    "/a/2.html",
                    "/b/skip.html",
                    "/private/secret.html",
                    "http://elsewhere.example.cn/x.html",
                ],
            ),
            "/a/1.html": html("案例一", TEXT, ["/a/1-1.html", "/"]),
            "/a/2.html": html("案例二", TEXT, ["/a/1.html#top", "/a/photo.jpg"]),
            "/a/1-1.html": html("案例一续", TEXT, ["/a/1-1-1.html"]),
            "/a/1-1-1.html": html("太深了", TEXT),
            "/b/skip.html": html("不跟随", TEXT),
            "/private/secret.html": html("会员区", TEXT),
        }
    )


def test_a_list_source_follows_its_rules_to_its_depth(settings: Settings, stored: Stored) -> None:
    with clinic_site().serve() as site:
        write_source(
            settings,
            "clinic",
            f"name: clinic\nkind: list\nstart_urls: ['{site.url('/')}']\nfollow:\n  deny: ['/b/']\nmax_depth: 2\n",
        )
        result = adwatch(settings, "crawl", "clinic")
        assert_ok(result)
        hits = dict(site.hits)
    assert stored.captured_paths(site.base_url) == ["/", "/a/1-1.html", "/a/1.html", "/a/2.html"]
    # Denied by the follow rule, by robots.txt, by depth, or an image: never requested.
    assert set(hits) == {"/robots.txt", "/", "/a/1.html", "/a/2.html", "/a/1-1.html"}
    assert all(n == 1 for n in hits.values())
    run = stored.last_run()
    assert (run.status, run.stop_reason, run.pages, run.items, run.errors) == (
        "finished",
        "finished",
        4,
        4,
        0,
    )
    assert run.stats["adwatch/robots_denied"] == 1
    assert run.trigger == "manual" and run.heartbeat_at is not None and run.ended_at is not None
    doc = stored.document_by_path(site.base_url, "/a/1.html")
    assert "水光针" in doc.text
    assert f"run {run.id}  clinic  finished (finished)" in result.stdout
    assert "pages 4" in result.stdout and "stored 4 (new 4)" in result.stdout


def test_robots_txt_can_be_ignored_for_a_source_that_may(
    sqlite_settings: Settings, stored_sqlite: Stored
) -> None:
    with clinic_site().serve() as site:
        write_source(
            sqlite_settings,
            "clinic",
            f"name: clinic\nkind: list\nstart_urls: ['{site.url('/')}']\nmax_depth: 1\nignore_robots: true\n",
        )
        assert_ok(adwatch(sqlite_settings, "crawl", "clinic"))
        assert "/robots.txt" not in site.hits
    assert "/private/secret.html" in stored_sqlite.captured_paths(site.base_url)


def test_an_adhoc_crawl_fetches_no_more_than_max_pages(
    sqlite_settings: Settings, stored_sqlite: Stored
) -> None:
    pages = {"/robots.txt": ROBOTS}
    for i in range(30):
        pages[f"/p{i}.html"] = html(f"第{i}页", TEXT, [f"/p{j}.html" for j in range(30)])
    with Site(pages).serve() as site:
        result = adwatch(
            sqlite_settings, "crawl", "--url", site.url("/p0.html"), "--max-pages", "7", "--max-depth", "5"
        )
        assert_ok(result)
        assert site.page_hits() == 7
    run = stored_sqlite.last_run()
    assert (run.pages, run.items, run.stop_reason) == (7, 7, "max_pages")
    assert len(stored_sqlite.captures()) == 7
    assert run.trigger == "adhoc"


def test_a_sitemap_source_reads_robots_sitemap_lines_indexes_and_gzip(
    sqlite_settings: Settings, stored_sqlite: Stored
) -> None:
    site = Site({})
    urlset = '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{}</urlset>'
    loc = "<url><loc>{}</loc></url>"
    site.pages.update(
        {
            "/robots.txt": lambda _: Page(
                f"User-agent: *\nSitemap: {site.url('/sitemap_index.xml')}\n".encode(),
                headers={"Content-Type": "text/plain"},
            ),
            "/sitemap_index.xml": lambda _: Page(
                (
                    '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                    f"<sitemap><loc>{site.url('/sitemap-1.xml')}</loc></sitemap>"
                    f"<sitemap><loc>{site.url('/sitemap-2.xml.gz')}</loc></sitemap></sitemapindex>"
                ).encode(),
                headers={"Content-Type": "application/xml"},
            ),
            "/sitemap-1.xml": lambda _: Page(
                urlset.format(
                    loc.format(site.url("/s/1.html")) + loc.format(site.url("/s/tag/2.html"))
                ).encode(),
                headers={"Content-Type": "application/xml"},
            ),
            "/sitemap-2.xml.gz": lambda _: Page(
                gzip.compress(urlset.format(loc.format(site.url("/s/3.html"))).encode()),
                headers={"Content-Type": "application/x-gzip"},
            ),
            "/s/1.html": html("公告一", TEXT, ["/s/4.html"]),
            "/s/3.html": html("公告三", TEXT),
            "/s/tag/2.html": html("标签页", TEXT),
            "/s/4.html": html("链接页", TEXT),
        }
    )
    with site.serve():
        write_source(
            sqlite_settings,
            "gov",
            f"name: gov\nkind: sitemap\nstart_urls: ['{site.url('/robots.txt')}']\nfollow:\n  deny: ['/tag/']\n",
        )
        assert_ok(adwatch(sqlite_settings, "crawl", "gov"))
    # The pages the sitemaps list (minus the denied one); links from them not followed (depth 0);
    # the sitemaps themselves are navigation, not stored.
    assert stored_sqlite.captured_paths(site.base_url) == ["/s/1.html", "/s/3.html"]


def test_a_feed_source_fetches_rss_and_atom_entries(sqlite_settings: Settings, stored_sqlite: Stored) -> None:
    site = Site({})
    site.pages.update(
        {
            "/robots.txt": ROBOTS,
            "/rss.xml": lambda _: Page(
                (
                    '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>医美资讯</title>'
                    f"<item><title>水光针</title><link>{site.url('/n/1.html')}</link></item>"
                    "<item><title>相对链接</title><link>/n/2.html</link></item>"
                    "</channel></rss>"
                ).encode(),
                headers={"Content-Type": "application/rss+xml"},
            ),
            "/atom.xml": lambda _: Page(
                (
                    '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
                    f'<entry><title>玻尿酸</title><link href="{site.url("/n/3.html")}"/><id>3</id></entry>'
                    '<entry><title>外站</title><link href="http://elsewhere.example.cn/n/9.html"/><id>9</id></entry>'
                    "</feed>"
                ).encode(),
                headers={"Content-Type": "application/atom+xml"},
            ),
            "/n/1.html": html("一", TEXT),
            "/n/2.html": html("二", TEXT),
            "/n/3.html": html("三", TEXT),
        }
    )
    with site.serve():
        write_source(
            sqlite_settings,
            "news",
            f"name: news\nkind: feed\nstart_urls: ['{site.url('/rss.xml')}', '{site.url('/atom.xml')}']\n",
        )
        assert_ok(adwatch(sqlite_settings, "crawl", "news"))
    assert stored_sqlite.captured_paths(site.base_url) == ["/n/1.html", "/n/2.html", "/n/3.html"]


def test_a_search_source_sends_chinese_keywords_and_follows_the_results(
    sqlite_settings: Settings, stored_sqlite: Stored
) -> None:
    def search(target: str) -> Page:
        keyword = unquote(target.split("q=", 1)[1])
        number = {"水光针": 1, "玻尿酸": 2}.get(keyword, 0)
        return html(f"搜索：{keyword}", f"找到 1 条关于{keyword}的结果", [f"/thread/{number}.html"])

    site = Site(
        {
            "/robots.txt": ROBOTS,
            "/search": search,
            "/thread/1.html": html("水光针团购", TEXT, ["/thread/99.html"]),
            "/thread/2.html": html("玻尿酸", TEXT),
            "/thread/99.html": html("更深", TEXT),
        }
    )
    with site.serve():
        write_source(
            sqlite_settings,
            "bbs",
            f"name: bbs\nkind: search\nsearch_url: '{site.url('/search?q={keyword}')}'\nkeywords: [水光针, 玻尿酸]\n",
        )
        assert_ok(adwatch(sqlite_settings, "crawl", "bbs"))
        searched = sorted(unquote(k) for k in site.hits if k.startswith("/search"))
    assert searched == ["/search?q=水光针", "/search?q=玻尿酸"]
    paths = stored_sqlite.captured_paths(site.base_url)
    assert "/thread/1.html" in paths and "/thread/2.html" in paths
    assert "/thread/99.html" not in paths  # results are one hop from the search page


def test_chinese_pages_decode_right_whatever_their_headers_say(
    sqlite_settings: Settings, stored_sqlite: Stored
) -> None:
    gbk_text = "本院提供玻尿酸注射，保证效果，无效退款。"
    big5_text = "本診所提供肉毒桿菌除皺，醫療美容廣告。"

    def page(text: str, encoding: str, header: str | None, meta: str | None) -> Page:
        head = f'<meta charset="{meta}">' if meta else ""
        body = f"<html><head>{head}<title>網頁</title></head><body><article><p>{text}</p><p>{text}</p></article></body></html>"
        ctype = f"text/html; charset={header}" if header else "text/html"
        return Page(body.encode(encoding), headers={"Content-Type": ctype})

    pages = {
        "/robots.txt": ROBOTS,
        "/": html("入口", TEXT, ["/gbk.html", "/big5.html", "/wrong-header.html", "/no-charset.html"]),
        "/gbk.html": page(gbk_text, "gbk", "gbk", "gbk"),
        "/big5.html": page(big5_text, "big5", "big5", None),
        "/wrong-header.html": page(gbk_text, "gbk", "utf-8", "gbk"),
        "/no-charset.html": page(gbk_text, "gbk", None, None),
    }
    with Site(pages).serve() as site:
        assert_ok(adwatch(sqlite_settings, "crawl", "--url", site.url("/")))
    for path, expected in [
        ("/gbk.html", gbk_text),
        ("/big5.html", big5_text),
        ("/wrong-header.html", gbk_text),
        ("/no-charset.html", gbk_text),
    ]:
        doc = stored_sqlite.document_by_path(site.base_url, path)
        assert expected in doc.text, (path, doc.text[:200])
    raw = {c.url.removeprefix(site.base_url): c for c in stored_sqlite.captures()}
    assert raw["/big5.html"].sha256  # the raw bytes are kept as fetched


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_bad_answers_are_counted_and_the_crawl_goes_on(
    sqlite_settings: Settings, stored_sqlite: Stored
) -> None:
    unreachable = f"http://127.0.0.1:{closed_port()}/gone.html"
    pages = {
        "/robots.txt": ROBOTS,
        "/": html(
            "入口",
            TEXT,
            [
                "/missing.html",
                "/error.html",
                "/loop-a.html",
                "/huge.html",
                "/price.pdf",
                unreachable,
                "/good-1.html",
                "/good-2.html",
            ],
        ),
        "/error.html": Page(b"<html>oops</html>", status=500),
        "/loop-a.html": Page(b"", status=302, headers={"Location": "/loop-b.html"}),
        "/loop-b.html": Page(b"", status=302, headers={"Location": "/loop-a.html"}),
        "/huge.html": Page(b"<html><body>" + "广告".encode() * 150_000 + b"</body></html>"),
        "/price.pdf": Page(b"%PDF-1.4\n% price list\n", headers={"Content-Type": "application/pdf"}),
        "/good-1.html": html("好页一", TEXT),
        "/good-2.html": html("好页二", TEXT),
    }
    with Site(pages).serve() as site:
        result = adwatch(sqlite_settings, "crawl", "--url", site.url("/"), ADWATCH_DOWNLOAD_MAXSIZE="200000")
        assert_ok(result)
    run = stored_sqlite.last_run()
    assert run.status == "finished"
    errors = {
        k.removeprefix("adwatch/errors/"): v for k, v in run.stats.items() if k.startswith("adwatch/errors/")
    }
    assert errors == {"http_404": 1, "http_500": 1, "redirect_loop": 1, "too_large": 1, "unreachable": 1}
    assert run.errors == 5
    paths = stored_sqlite.captured_paths(site.base_url)
    assert paths == ["/", "/good-1.html", "/good-2.html", "/price.pdf"]
    pdf = [c for c in stored_sqlite.captures() if c.url.endswith(".pdf")][0]
    assert pdf.content_type == "application/pdf"
    assert run.stats["adwatch/items_without_text"] == 1
    for fragment in [
        "HTTP 404",
        "HTTP 500",
        "redirect loop (",
        "larger than the download size limit",
        "connection refused",
    ]:
        assert fragment in result.stdout
    log = Path(run.log_path).read_text(encoding="utf-8")
    assert "error [http_404]" in log and "/missing.html" in log


def test_crawl_refuses_an_unknown_source_with_a_clear_message(sqlite_settings: Settings) -> None:
    result = adwatch(sqlite_settings, "crawl", "nope")
    assert result.returncode == 1
    assert "adwatch: error: no source named 'nope'" in result.stderr


def test_telnet_and_remote_control_are_never_on(sqlite_settings: Settings, stored_sqlite: Stored) -> None:
    with clinic_site().serve() as site:
        assert_ok(adwatch(sqlite_settings, "crawl", "--url", site.url("/"), "--max-pages", "1"))
    log = Path(stored_sqlite.last_run().log_path).read_text(encoding="utf-8")
    enabled = log.split("Enabled extensions:", 1)[1].split("]", 1)[0]
    assert "TelnetConsole" not in enabled and "RemoteControl" not in enabled
    assert "crawler.extensions.RunTracker" in enabled

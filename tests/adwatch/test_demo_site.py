"""The bundled demo site and the generated benchmark site, over real HTTP on 127.0.0.1.

What the crawler, pipelines, classifier and review UI rely on: every page is served in the
encoding its metadata declares, the awkward routes behave as listed, feeds and sitemaps list
real pages, every sub-site is crawlable from its index, the labels and approval findings in the
metadata are consistent with the pages and with SAMPLE_APPROVALS, and the generated site has
exactly the pages it says.
"""

from __future__ import annotations

import collections
import csv
import datetime as dt
import html
import re
import subprocess
import sys
import time
import urllib.robotparser
from collections.abc import Iterator
from urllib.parse import quote, urljoin, urlsplit

import charset_normalizer
import feedparser
import httpx
import lxml.html
import pytest
from lxml import etree

from adwatch.demo_site import (
    APPROVAL_COLUMNS,
    SAMPLE_APPROVALS,
    SPECIAL_ROUTES,
    DemoPage,
    DemoSite,
    GeneratedSite,
    demo_pages,
    sections,
)
from adwatch.labels import LABEL_IDS, VIOLATION_LABELS
from adwatch.settings import CHROMIUM_ARGS
from pipelines.approval_numbers import find_approval_numbers, normalize_approval_number

PAGES = demo_pages()
BY_PATH = {p.path: p for p in PAGES}
CJK = re.compile(r"[\u4e00-\u9fff]")
DEMO_TODAY = dt.date(2026, 11, 1)


@pytest.fixture(scope="module")
def site() -> Iterator[DemoSite]:
    with DemoSite.serve(port=0) as running:
        yield running


@pytest.fixture(scope="module")
def client(site: DemoSite) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site.base_url, timeout=10) as http:
        yield http


@pytest.fixture(scope="module")
def texts(client: httpx.Client) -> dict[str, str]:
    """Every page's visible text as served, by path."""
    return {p.path: visible_text(client.get(p.path).content, p.encoding) for p in PAGES}


def visible_text(body: bytes, encoding: str) -> str:
    root = lxml.html.document_fromstring(body.decode(encoding))
    for element in root.xpath("//script|//style|//head|//rt"):
        element.drop_tree()
    return root.text_content()


def header_charset(response: httpx.Response) -> str | None:
    match = re.search(r"charset=([\w-]+)", response.headers.get("content-type", ""))
    return match.group(1).lower() if match else None


def approvals() -> list[dict[str, str]]:
    with SAMPLE_APPROVALS.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


# --- Pages and encodings ------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES, ids=[p.path for p in PAGES])
def test_every_page_is_served_in_its_declared_encoding_and_reads_as_chinese(
    client: httpx.Client, page: DemoPage
) -> None:
    response = client.get(page.path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert header_charset(response) == page.header_charset
    assert response.headers["last-modified"]
    text = response.content.decode(page.encoding)  # strict: the body really is in that encoding
    assert page.title in html.unescape(text)
    assert len(CJK.findall(text)) > 20
    head = text[: text.find("<body")].lower()
    if page.meta_charset:
        assert re.search(rf"charset=\"?{page.meta_charset}\b", head)
    else:
        assert "charset" not in text.lower()
    if page.render == "static":
        assert page.main_excerpt in " ".join(visible_text(response.content, page.encoding).split())


def test_a_header_that_says_utf_8_over_a_gbk_body_fails_to_decode(client: httpx.Client) -> None:
    page = BY_PATH["/bbs/forum.php?mod=viewthread&tid=2004"]
    body = client.get(page.path).content
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    assert page.title in body.decode("gbk")


def test_a_header_that_says_latin_1_over_a_gbk_body_decodes_to_mojibake(client: httpx.Client) -> None:
    page = BY_PATH["/bbs/forum.php?mod=viewthread&tid=2005"]
    response = client.get(page.path)
    assert header_charset(response) == "iso-8859-1"
    wrong = response.content.decode("iso-8859-1")  # never fails, which is the trap
    assert not CJK.search(wrong)
    assert page.title in response.content.decode("gbk")


def test_a_page_without_any_charset_is_recognised_by_detection(client: httpx.Client) -> None:
    page = BY_PATH["/bbs/forum.php?mod=viewthread&tid=2006"]
    response = client.get(page.path)
    assert "charset" not in response.headers["content-type"]
    best = charset_normalizer.from_bytes(response.content).best()
    assert best is not None and page.title in str(best)


def test_the_gb18030_page_uses_characters_outside_gbk(client: httpx.Client) -> None:
    body = client.get("/bbs/forum.php?mod=viewthread&tid=2003").content
    with pytest.raises(UnicodeDecodeError):
        body.decode("gbk")
    text = body.decode("gb18030")
    assert "䶮" in text and "𠮷" in text


def test_big5_pages_are_traditional_chinese(client: httpx.Client) -> None:
    body = client.get("/tw/clinic-promo.html").content
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    assert "醫美診所" in body.decode("big5")


def test_discuz_pages_are_found_whatever_the_order_of_their_query(client: httpx.Client) -> None:
    a = client.get("/bbs/forum.php?mod=viewthread&tid=2001").content
    b = client.get("/bbs/forum.php?tid=2001&mod=viewthread").content
    assert a == b


def test_the_ruby_page_carries_pinyin_annotations(client: httpx.Client) -> None:
    body = client.get("/tw/ruby.html").text
    assert "<ruby>醫<rt>yī</rt></ruby>" in body
    assert "醫美療程" in visible_text(body.encode(), "utf-8")


def test_the_hostile_page_carries_live_hostile_markup(client: httpx.Client) -> None:
    body = client.get("/forum/thread-1011.html").text
    title = body[body.find("<title>") : body.find("</title>")]
    assert "<script>alert(1)</script>" in title
    for markup in (
        "onerror=alert(1)",
        "<svg onload=alert(1)>",
        'href="javascript:',
        '<iframe src="javascript:',
    ):
        assert markup in body
    assert '<script>alert("text")</script>' in visible_text(body.encode(), "utf-8")


# --- Special routes -----------------------------------------------------------------------------


def test_special_routes_answer_with_the_status_they_declare(client: httpx.Client) -> None:
    for route in SPECIAL_ROUTES:
        if route.path.startswith(("/special/huge", "/special/slow")):
            continue  # tested on their own below
        assert client.get(route.path).status_code == route.status, route.path


def test_a_redirect_chain_goes_301_then_302_then_to_a_page(client: httpx.Client) -> None:
    first = client.get("/special/redirect-301.html")
    assert first.status_code == 301
    second = client.get(first.headers["location"])
    assert second.status_code == 302
    final = client.get(second.headers["location"])
    assert final.status_code == 200 and urlsplit(str(final.url)).path in BY_PATH


def test_a_redirect_loop_never_ends(site: DemoSite) -> None:
    with (
        httpx.Client(base_url=site.base_url, follow_redirects=True, max_redirects=10) as http,
        pytest.raises(httpx.TooManyRedirects),
    ):
        http.get("/special/loop-a.html")


def test_errors_deleted_pages_and_the_500_page(client: httpx.Client) -> None:
    thread = client.get("/forum/thread-1007.html").text
    assert 'href="/forum/thread-9001.html"' in thread
    deleted = client.get("/forum/thread-9001.html")
    assert deleted.status_code == 404 and "不存在" in deleted.text
    assert 'href="/special/error-500.html"' in client.get("/news/").text
    assert client.get("/special/error-500.html").status_code == 500


@pytest.mark.parametrize("path", ["/special/huge.html", "/special/huge-chunked.html"])
def test_the_huge_page_is_over_12_mb(client: httpx.Client, path: str) -> None:
    with client.stream("GET", path) as response:
        declared = response.headers.get("content-length")
        received = sum(len(chunk) for chunk in response.iter_raw())
    assert received == 12 * 1024 * 1024
    if path.endswith("chunked.html"):
        assert declared is None and response.headers["transfer-encoding"] == "chunked"
    else:
        assert int(declared) == received


def test_the_slow_page_waits_as_long_as_asked(client: httpx.Client) -> None:
    start = time.monotonic()
    assert client.get("/special/slow.html?delay=0.5").status_code == 200
    assert time.monotonic() - start >= 0.5
    with pytest.raises(httpx.ReadTimeout):
        client.get("/special/slow.html?delay=3", timeout=0.3)


def test_non_html_bodies_are_linked_from_pages(client: httpx.Client) -> None:
    pdf = client.get("/files/qiyun-price-list.pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
    png = client.get("/files/salon-poster.png")
    assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert 'href="/files/qiyun-price-list.pdf"' in client.get("/clinic/").text
    assert 'src="/files/salon-poster.png"' in client.get("/salon/vip.html").text


def test_last_modified_is_honoured(client: httpx.Client) -> None:
    first = client.get("/forum/thread-1001.html")
    again = client.get(
        "/forum/thread-1001.html", headers={"If-Modified-Since": first.headers["last-modified"]}
    )
    assert again.status_code == 304 and again.content == b""


def test_hits_count_every_request_target(site: DemoSite, client: httpx.Client) -> None:
    before = site.hits["/qa/q-5002.html"]
    client.get("/qa/q-5002.html")
    client.get("/qa/q-5002.html")
    assert site.hits["/qa/q-5002.html"] == before + 2


def test_the_server_keeps_quiet(
    site: DemoSite, client: httpx.Client, capfd: pytest.CaptureFixture[str]
) -> None:
    client.get("/")
    client.get("/no/such/page.html")
    assert capfd.readouterr().err == ""


# --- robots.txt, sitemaps, feeds, search, the JS feed --------------------------------------------


def test_robots_txt_disallows_exactly_the_pages_marked_so(site: DemoSite, client: httpx.Client) -> None:
    robots = urllib.robotparser.RobotFileParser()
    robots.parse(client.get("/robots.txt").text.splitlines())
    for page in PAGES:
        assert robots.can_fetch("AdWatch", site.base_url + page.path) != page.disallowed_by_robots, page.path
    assert robots.site_maps() == [site.base_url + "/sitemap.xml"]
    assert any(p.disallowed_by_robots for p in PAGES)


def test_the_sitemaps_list_the_news_clinic_and_gov_pages(site: DemoSite, client: httpx.Client) -> None:
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    index = etree.fromstring(client.get("/sitemap.xml").content)
    listed = set()
    for loc in index.xpath("//s:sitemap/s:loc/text()", namespaces=ns):
        urlset = etree.fromstring(client.get(loc).content)
        for url in urlset.xpath("//s:url", namespaces=ns):
            listed.add(url.findtext("s:loc", namespaces=ns))
            dt.datetime.fromisoformat(url.findtext("s:lastmod", namespaces=ns))
    expected = {site.base_url + p.path for p in PAGES if p.in_sitemap}
    assert listed == expected
    assert {p.section for p in PAGES if p.in_sitemap} == {"news", "clinic", "gov"}


@pytest.mark.parametrize("path", ["/rss.xml", "/atom.xml"])
def test_the_feeds_list_the_forum_threads_and_news_articles(
    site: DemoSite, client: httpx.Client, path: str
) -> None:
    parsed = feedparser.parse(client.get(path).content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == ("rss20" if path == "/rss.xml" else "atom10")
    links = {entry.link for entry in parsed.entries}
    assert links == {site.base_url + p.path for p in PAGES if p.in_feed}
    assert {p.section for p in PAGES if p.in_feed} == {"forum", "news"}
    titles = {entry.link: entry.title for entry in parsed.entries}
    assert titles[site.base_url + "/forum/thread-1001.html"] == BY_PATH["/forum/thread-1001.html"].title


def test_site_search_finds_pages_by_url_encoded_chinese_keywords(client: httpx.Client) -> None:
    results = client.get("/search?q=" + quote("玻尿酸")).text
    assert "相关的结果" in results
    links = lxml.html.fromstring(results).xpath("//li[@class='result']/a/@href")
    assert 1 <= len(links) <= 10
    assert "/news/2026/1018/8650.html" in links
    assert "/forum/private/vip-group.html" not in links
    for link in links:
        assert (
            "玻尿酸" in visible_text(client.get(link).content, BY_PATH[link].encoding)
            or "玻尿酸" in BY_PATH[link].title
        )


def test_site_search_pages_through_results(client: httpx.Client) -> None:
    first = lxml.html.fromstring(client.get("/search", params={"q": "医疗"}).text)
    count = int(re.search(r"找到约 (\d+) 条", first.text_content()).group(1))
    assert count > 10
    second = lxml.html.fromstring(client.get(first.xpath("//div[@class='pages']/a/@href")[0]).text)
    page_one = set(first.xpath("//li[@class='result']/a/@href"))
    page_two = set(second.xpath("//li[@class='result']/a/@href"))
    assert page_two and not page_one & page_two
    assert "找到约 0 条" in client.get("/search", params={"q": "绝对不会出现的词"}).text


def test_the_js_feed_is_an_empty_shell_until_its_json_arrives(client: httpx.Client) -> None:
    for page in (p for p in PAGES if p.render == "browser"):
        shell = client.get(page.path).text
        source = re.search(r'data-source="([^"]+)"', shell).group(1)
        posts = client.get(html.unescape(source)).json()["posts"]
        assert len(posts) >= 5
        for post in posts:
            assert CJK.search(post["text"]) and post["text"] not in shell
            dt.datetime.fromisoformat(post["time"])


@pytest.mark.e2e
def test_chromium_renders_the_js_feed(site: DemoSite, client: httpx.Client) -> None:
    from playwright.sync_api import sync_playwright

    posts = client.get("/feed/api/posts.json?topic=main").json()["posts"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=list(CHROMIUM_ARGS))
        try:
            tab = browser.new_page()
            tab.goto(site.base_url + "/feed/")
            tab.wait_for_selector("#feed[data-loaded=true]", timeout=15_000)
            rendered = tab.locator(".post .post-text").all_inner_texts()
            tab.goto(site.base_url + "/forum/thread-1011.html")
            hostile_ran = tab.evaluate("window.__adwatchHostileRan === true")
        finally:
            browser.close()
    assert rendered == [p["text"] for p in posts]
    assert hostile_ran  # the hostile page is really hostile: a browser that runs it, runs its script


# --- Crawlability --------------------------------------------------------------------------------


def crawl(
    base_url: str, start: str, prefix: str, max_depth: int, robots: urllib.robotparser.RobotFileParser | None
) -> dict[str, int]:
    """Breadth-first over <a href> links under ``prefix``: request target -> depth first seen."""
    seen = {start: 0}
    queue = collections.deque([start])
    with httpx.Client(base_url=base_url, timeout=10) as http:
        while queue:
            target = queue.popleft()
            response = http.get(target)
            if seen[target] == max_depth or not response.headers.get("content-type", "").startswith(
                "text/html"
            ):
                continue
            for href in lxml.html.document_fromstring(response.content).xpath("//a/@href"):
                url = urlsplit(urljoin(base_url + target, href))
                link = url.path + (f"?{url.query}" if url.query else "")
                if (
                    url.scheme != "http"
                    or url.netloc != urlsplit(base_url).netloc
                    or not link.startswith(prefix)
                ):
                    continue
                if robots is not None and not robots.can_fetch("AdWatch", base_url + link):
                    continue
                if link not in seen:
                    seen[link] = seen[target] + 1
                    queue.append(link)
    return seen


@pytest.mark.parametrize(
    "section", [s for s in sections().values() if s.name != "portal"], ids=lambda s: s.name
)
def test_every_page_is_reachable_from_its_sub_sites_index_within_depth_3(
    site: DemoSite, client: httpx.Client, section
) -> None:
    robots = urllib.robotparser.RobotFileParser()
    robots.parse(client.get("/robots.txt").text.splitlines())
    prefix = section.index.split("?")[0].rsplit("/", 1)[0] + "/"
    reached = crawl(site.base_url, section.index, prefix, 3, robots)
    wanted = {p.path for p in PAGES if p.section == section.name and not p.disallowed_by_robots}

    def normal(target: str) -> str:
        path, _, query = target.partition("?")
        return path + ("?" + "&".join(sorted(query.split("&"))) if query else "")

    assert {normal(p) for p in wanted} <= {normal(p) for p in reached}


def test_the_portal_links_every_sub_site(client: httpx.Client) -> None:
    links = set(lxml.html.fromstring(client.get("/").text).xpath("//a/@href"))
    assert {s.index for s in sections().values() if s.name != "portal"} <= links


# --- What the pages should teach AdWatch -----------------------------------------------------------


def test_there_are_enough_pages_of_every_kind_encoding_and_label() -> None:
    assert len(PAGES) >= 60
    assert len({p.path for p in PAGES}) == len(PAGES)
    kinds = {p.kind for p in PAGES}
    assert {"forum", "farm", "notice", "qa", "feed", "shop", "gov", "salon", "training", "complaint"} <= kinds
    assert {"utf-8", "gbk", "gb18030", "big5"} <= {p.encoding for p in PAGES}
    assert any(p.header_charset not in (None, p.encoding) for p in PAGES)
    assert any(p.header_charset is None and p.meta_charset is None for p in PAGES)
    counts = collections.Counter(label for p in PAGES for label in p.expected_labels)
    assert all(counts[label] >= 3 for label in LABEL_IDS), counts
    assert sum(p.clean for p in PAGES) >= len(PAGES) / 2
    assert sum(p.expected_labels == ["medical_ad"] for p in PAGES) >= 5  # licensed, plain notices


def test_labels_follow_the_corpus_rules() -> None:
    for page in PAGES:
        assert page.expected_labels == [label for label in LABEL_IDS if label in page.expected_labels]
        implies_ad = set(page.expected_labels) & (set(VIOLATION_LABELS) - {"training_pitch"})
        if implies_ad:
            assert "medical_ad" in page.expected_labels, page.path
        if "medical_ad" not in page.expected_labels:
            assert page.expected_findings == [], page.path


def test_pages_carry_publish_times_authors_and_contacts_as_ads_write_them(texts: dict[str, str]) -> None:
    with_time = [p for p in PAGES if p.kind != "index" and p.published_at is not None]
    assert len(with_time) >= 50
    assert all(p.published_at.utcoffset() == dt.timedelta(hours=8) for p in with_time)
    assert sum(p.author is not None for p in PAGES) >= 50
    everything = "\n".join(texts.values())
    for evasion in ("薇信", "➕V", "V信", "bo尿酸", "rou毒", "零*基*础", "💉", "扣扣", "企鹅", "LINE："):
        assert evasion in everything, evasion
    assert re.search(r"1[3-9]\d \d{4} \d{4}", everything)  # a mobile number split by spaces
    for path, shown in [
        ("/salon/vip.html", "2026年10月26日 18:30"),
        ("/gov/art/2026/10/30/art_1201_58821.html", "发布时间：2026-10-30"),
        ("/qa/q-5001.html", "2026.10.28 08:21"),
        ("/bbs/forum.php?mod=viewthread&tid=2001", "发表于 2026-10-5 21:14"),
        ("/tw/clinic-promo.html", "民國115年10月3日"),
        ("/forum/thread-1001.html", "2026-10-30 21:14"),
    ]:
        assert shown in texts[path], (path, shown)
    codes = re.findall(r"统一社会信用代码：([0-9A-Z]{18})", everything)
    assert len(codes) >= 5 and all(_valid_credit_code(c) for c in codes)


# --- Approval records ------------------------------------------------------------------------------


def test_sample_approvals_parse_with_the_contract_columns() -> None:
    with SAMPLE_APPROVALS.open(encoding="utf-8", newline="") as f:
        header = next(csv.reader(f))
    assert tuple(header) == APPROVAL_COLUMNS
    rows = approvals()
    assert len(rows) >= 10
    keys = [normalize_approval_number(row["文号"]) for row in rows]
    assert len(set(keys)) == len(keys)
    for row in rows:
        start, end = dt.date.fromisoformat(row["有效期起"]), dt.date.fromisoformat(row["有效期止"])
        assert start < end and row["机构名称"] in row["审查内容"]
    expired = [row for row in rows if dt.date.fromisoformat(row["有效期止"]) < DEMO_TODAY]
    assert len(expired) == 1


def test_expected_findings_agree_with_the_pages_and_the_approval_records(texts: dict[str, str]) -> None:
    records = {normalize_approval_number(row["文号"]): row for row in approvals()}
    for page in PAGES:
        if "medical_ad" not in page.expected_labels:
            continue
        numbers = find_approval_numbers(page.title + "\n" + texts[page.path])
        if not numbers:
            assert page.expected_findings == ["approval_missing"], page.path
            continue
        derived = set()
        for number in numbers:
            record = records.get(number.key)
            if record is None:
                derived.add("approval_unknown")
                continue
            if page.published_at.date() > dt.date.fromisoformat(record["有效期止"]):
                derived.add("approval_expired")
            if record["机构名称"] not in texts[page.path]:
                derived.add("approval_mismatch")
        assert derived <= set(page.expected_findings), page.path
        assert set(page.expected_findings) - derived <= {"approval_mismatch"}, page.path
    assert {f for p in PAGES for f in p.expected_findings} == {
        "approval_missing",
        "approval_unknown",
        "approval_expired",
        "approval_mismatch",
    }


def test_the_page_that_departs_from_its_approved_copy(texts: dict[str, str]) -> None:
    page = BY_PATH["/clinic/autumn.html"]
    record = next(r for r in approvals() if r["文号"] in page.approval_numbers)
    assert record["机构名称"] in texts[page.path]
    for added in ("热玛吉", "6800元", "终身", "零风险"):
        assert added in texts[page.path] and added not in record["审查内容"]
    assert page.expected_findings == ["approval_mismatch"]


def test_plain_notices_reproduce_their_approved_copy(texts: dict[str, str]) -> None:
    records = {normalize_approval_number(row["文号"]): row for row in approvals()}
    for path in ("/clinic/", "/news/2026/1015/8633.html", "/news/biz/nanzhi.html"):
        page = BY_PATH[path]
        (number,) = find_approval_numbers(texts[path])
        approved = re.sub(r"\s", "", records[number.key]["审查内容"])
        assert approved in re.sub(r"\s", "", texts[path]), path
        assert page.expected_labels == ["medical_ad"] and page.expected_findings == []


# --- The generated site --------------------------------------------------------------------------


@pytest.mark.parametrize("pages", [2000, 2])
def test_a_crawl_of_the_generated_site_finds_exactly_its_pages(pages: int) -> None:
    with GeneratedSite.serve(pages=pages, seed=1) as gen:
        assert len(gen.page_paths) == len(set(gen.page_paths)) == pages
        robots = urllib.robotparser.RobotFileParser()
        robots.parse(httpx.get(gen.base_url + "/robots.txt").text.splitlines())
        reached = crawl(gen.base_url, "/", "/", 3, robots)
        assert set(reached) == set(gen.page_paths)
        assert all(count == 1 for count in gen.hits.values())


def test_generated_articles_are_3_to_6_kb_of_chinese_with_5_to_10_links() -> None:
    gen = GeneratedSite(pages=500, seed=3)
    articles = [p for p in gen.page_paths if p.startswith("/a/")]
    for path in articles:
        body = gen.page(path)
        assert 3 * 1024 <= len(body) <= 6 * 1024, path
        links = set(lxml.html.fromstring(body).xpath("//a/@href"))
        assert links <= set(gen.page_paths) and 5 <= len(links) <= 10, path
        assert len(CJK.findall(body.decode())) > 600


def test_the_generated_site_is_deterministic() -> None:
    one, same, other = GeneratedSite(300, seed=1), GeneratedSite(300, seed=1), GeneratedSite(300, seed=2)
    assert all(one.page(p) == same.page(p) for p in one.page_paths)
    assert sum(one.page(p) != other.page(p) for p in one.page_paths) > 250
    assert one.page("/a/000301.html") is None and one.page("/list/01.html") is None
    with pytest.raises(ValueError):
        GeneratedSite(pages=0)


# --- The command line ----------------------------------------------------------------------------


def test_python_m_adwatch_demo_site_serves_in_the_foreground() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "adwatch.demo_site", "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    try:
        first = proc.stdout.readline()
        base_url = re.search(r"http://127\.0\.0\.1:\d+", first).group(0)
        assert httpx.get(base_url + "/forum/").status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# --- helpers -------------------------------------------------------------------------------------


def _valid_credit_code(code: str) -> bool:
    """GB 32100-2015 check digit of a 统一社会信用代码."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    if any(c not in alphabet for c in code):
        return False
    check = (31 - sum(alphabet.index(c) * w for c, w in zip(code, weights, strict=False)) % 31) % 31
    return alphabet[check] == code[-1]

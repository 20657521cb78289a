"""Page-pipeline speed, per stage, on realistic 5-50 KB Chinese content-farm pages.

    python -m benchmarks.bench_pipeline [--pages 2000] [--database-url URL] [--trafilatura]

Prints pages/s for decode, extract, facts (contacts, 文号, institutions, credit codes,
addresses), MinHash signature, and for the whole ``PagePipeline.process_many`` into a fresh
SQLite database (or the one given), batches of 100, without a classifier. ``--trafilatura``
also times trafilatura on a sample of the same pages, for comparison with our extractor.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import tempfile
import time
from pathlib import Path

from adwatch.db import Database
from adwatch.settings import load_settings
from pipelines.contacts import find_contacts
from pipelines.decode import decode_body
from pipelines.dedup import text_signature
from pipelines.entities import find_addresses, find_credit_codes, find_institutions
from pipelines.extract import extract
from pipelines.facts import approval_numbers
from pipelines.page import FetchedPage
from pipelines.process import PagePipeline

SENTENCES = (
    "很多姐妹都在问做双眼皮哪家医院好，我去年做了全切双眼皮，今天来分享一下我的经历。",
    "术前医生给我做了详细的面诊，设计了适合我的宽度，手术过程大概一个小时。",
    "玻尿酸注射后效果维持多久因人而异，一般在六个月到一年之间，需要到正规医疗机构进行。",
    "热玛吉是一种射频紧肤项目，通过加热真皮层刺激胶原蛋白再生，达到紧致提升的效果。",
    "市场监管部门提醒消费者，选择医疗美容服务时应查验机构的医疗机构执业许可证。",
    "水光针并不是一种药品的名称，而是一种将营养成分注入真皮层的治疗方式。",
    "现在三个月过去了，效果非常自然，保证永久不会变窄，不满意可以无效退款！",
    "想了解的姐妹可以加我薇信：meiyan_2026，或者打电话 138 1234 5678 咨询。",
    "地址：北京市朝阳区建国路88号SOHO现代城A座10层。（京）医广【2025】第11-01-0203号",
    "专家团队从业二十年，安全无副作用，即打即走无恢复期，前50名再送水光针一次。",
    "吸脂手术属于四级手术，必须在具备相应资质的医院由有资质的医生实施。",
    "近日，某地卫生健康委员会通报了一批非法医疗美容案件，涉及无证行医和非法使用药品。",
)
TITLES = ("双眼皮", "玻尿酸", "热玛吉", "水光针", "吸脂", "隆鼻", "祛斑", "植发", "超声刀", "皮秒")


def make_page(rng: random.Random, i: int) -> str:
    """A content-farm page: 1-20 KB of article inside 4-30 KB of navigation, lists and footer."""
    title = (
        f"{rng.choice(TITLES)}{rng.choice(('多少钱', '效果怎么样', '哪家好', '的危害', '维持多久'))}？第{i}期"
    )
    paragraphs = "".join(
        f"<p>\u3000\u3000{''.join(rng.choice(SENTENCES) for _ in range(rng.randint(1, 6)))}</p>\n"
        for _ in range(rng.randint(3, 40))
    )

    def links(n: int, base: str) -> str:
        return "".join(
            f'<li><a href="/{base}/{rng.randint(1, 99999)}.html">{rng.choice(TITLES)}{rng.choice(SENTENCES)[:14]}</a>'
            f"<span>2026-10-{rng.randint(10, 28)}</span></li>"
            for _ in range(n)
        )

    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}_美容知识网</title>
<meta name="description" content="{rng.choice(SENTENCES)}"><script>var a={{}};{"x" * rng.randint(100, 3000)}</script>
<style>body{{margin:0}}{".c{color:red}" * rng.randint(10, 200)}</style></head><body>
<div id="header"><ul class="nav">{links(rng.randint(10, 40), "c")}</ul></div>
<div class="crumbs"><a href="/">首页</a> &gt; <a href="/zx">整形</a> &gt; 正文</div>
<div class="main"><div class="left"><div class="article"><h1>{title}</h1>
<div class="info">发布时间：2026-10-{rng.randint(10, 28)} 10:15 来源：美容知识网 作者：小美</div>
<div class="content">{paragraphs}</div>
<div class="share">分享到：<a href="#">微博</a><a href="#">微信</a></div>
<div class="xgyd"><h3>推荐阅读</h3><ul>{links(rng.randint(5, 20), "p")}</ul></div>
<div class="comments"><h3>网友评论</h3>{"".join(f'<div class="comment"><span>网友{k}</span><p>{rng.choice(SENTENCES)}</p></div>' for k in range(rng.randint(0, 8)))}</div>
</div></div><div class="right"><div class="box"><div class="tit">最新更新</div><ul>{links(rng.randint(10, 30), "p")}</ul></div>
<div class="box"><div class="tit">热门文章</div><ul>{links(rng.randint(10, 30), "p")}</ul></div></div></div>
<div class="footer"><p>Copyright © 2026 美容知识网 版权所有 京ICP备12345678号</p></div></body></html>"""


def make_pages(n: int, seed: int = 7) -> list[FetchedPage]:
    rng = random.Random(seed)
    fetched_at = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    pages = []
    for i in range(n):
        html = make_page(rng, i)
        gbk = i % 5 == 0  # a fifth of the pages are GBK, as on older Chinese sites
        body = (
            html.replace('charset="utf-8"', 'charset="gbk"').encode("gb18030")
            if gbk
            else html.encode("utf-8")
        )
        headers = {"content-type": "text/html; charset=" + ("gbk" if gbk else "utf-8")}
        url = f"http://farm{i % 20}.example/p/{i}.html"
        pages.append(FetchedPage(url, url, 200, headers, body, fetched_at))
    return pages


class Clock:
    """Wall and CPU time since the last ``lap``: CPU time stays meaningful on a loaded machine."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def lap(self, label: str, n: int) -> None:
        wall, cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu
        print(
            f"{label:<36} {n / wall:>7.0f} pages/s wall  {cpu / n * 1000:6.2f} ms CPU/page  ({n / cpu:.0f} pages/s of CPU)"
        )
        self.wall, self.cpu = time.perf_counter(), time.process_time()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--trafilatura", action="store_true")
    args = parser.parse_args()

    pages = make_pages(args.pages)
    sizes = [len(p.body) for p in pages]
    print(f"{len(pages)} pages, body size median {statistics.median(sizes) / 1024:.0f} KB, "
          f"min {min(sizes) / 1024:.0f} KB, max {max(sizes) / 1024:.0f} KB")  # fmt: skip

    clock = Clock()
    decoded = [decode_body(p.body, p.headers, p.url) for p in pages]
    clock.lap("decode", len(pages))
    extracted = [extract(d.text, p.url, now=p.fetched_at) for d, p in zip(decoded, pages, strict=True)]
    clock.lap("extract (lxml heuristic)", len(pages))
    texts = [e.text for e in extracted]
    print(f"{'':<36} main text median {statistics.median(len(x) for x in texts):.0f} chars")
    clock = Clock()
    for text in texts:
        find_contacts(text)
    clock.lap("  contacts", len(pages))
    for text in texts:
        approval_numbers(text)
    clock.lap("  文号", len(pages))
    for text in texts:
        find_institutions(text)
        find_credit_codes(text)
        find_addresses(text)
    clock.lap("  institutions, credit codes, addresses", len(pages))
    for text in texts:
        text_signature(text)
    clock.lap("MinHash signature", len(pages))

    if args.trafilatura:
        import trafilatura

        sample = decoded[:100]
        clock = Clock()
        for d in sample:
            trafilatura.extract(d.text)
        clock.lap("extract (trafilatura, 100 pages)", len(sample))

    with tempfile.TemporaryDirectory() as home:
        url = args.database_url or f"sqlite:///{Path(home) / 'bench.db'}"
        db = Database(load_settings({"ADWATCH_HOME": home, "ADWATCH_DATABASE_URL": url}))
        pipeline = PagePipeline(db, batch_size=100)
        clock = Clock()
        outcomes = pipeline.process_many(pages)
        clock.lap(f"PagePipeline.process_many ({db.dialect})", len(pages))
        assert all(o.document_id for o in outcomes), [o.error for o in outcomes if not o.document_id][:3]
        for stage, seconds in sorted(pipeline.timings.items(), key=lambda kv: -kv[1]):
            print(f"  {stage:<34} {seconds / len(pages) * 1000:6.2f} ms/page (wall)")
        clock = Clock()
        pipeline.process_many(pages)
        clock.lap("  …again, all unchanged", len(pages))
        db.dispose()


if __name__ == "__main__":
    main()

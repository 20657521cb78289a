"""Realistic pages for the pipeline tests, written the way the sites we crawl write them."""

from __future__ import annotations

import datetime as dt

from pipelines.page import FetchedPage

ARTICLE = (
    "很多姐妹都在问北京做双眼皮哪家医院好，我去年在北京美丽人生医疗美容诊所做了全切双眼皮，今天来分享一下我的经历。",
    "术前医生给我做了详细的面诊，设计了适合我的宽度。手术过程大概一个小时，基本没有感觉到疼痛，恢复期也很短，一周就拆线了。",
    "现在三个月过去了，效果非常自然，保证永久不会变窄，不满意可以无效退款！想了解的姐妹可以加我薇信：meiyan_2026，或者打电话 138 1234 5678 咨询。",
    "地址：北京市朝阳区建国路88号SOHO现代城A座10层。（京）医广【2025】第11-01-0203号",
)
NAV = ("整形美容", "皮肤护理", "减肥瘦身", "美容知识", "口腔健康")
RECOMMENDED = ("玻尿酸隆鼻能维持多久", "热玛吉一次多少钱", "水光针的功效与作用", "吸脂手术安全吗")
LATEST = ("韩式半永久纹眉好不好", "超声刀和热玛吉的区别", "隆胸假体品牌排行")
HOT = ("哪家整形医院最好", "面部吸脂价格")
FOOTER = "Copyright © 2026 美容知识网 版权所有 京ICP备12345678号"


def content_farm_page(paragraphs: tuple[str, ...] = ARTICLE, charset: str = "utf-8") -> str:
    """A content-farm article: header, nav, breadcrumbs, article, share bar, prev/next, 推荐阅读,
    a sidebar with 最新更新 and 热门文章, and a footer."""
    nav = "".join(f'<li><a href="/c/{i}">{name}</a></li>' for i, name in enumerate(NAV))
    body = "".join(f"<p>\u3000\u3000{p}</p>\n" for p in paragraphs)
    rec = "".join(f'<li><a href="/p/{10 + i}.html">{t}？</a></li>' for i, t in enumerate(RECOMMENDED))
    latest = "".join(
        f'<li><a href="/p/{20 + i}.html">{t}</a><span>2026-10-2{i}</span></li>' for i, t in enumerate(LATEST)
    )
    hot = "".join(f'<li><a href="/p/{30 + i}.html">{t}</a></li>' for i, t in enumerate(HOT))
    return f"""<!DOCTYPE html>
<html><head><meta charset="{charset}"><title>北京做双眼皮哪家医院好？亲身经历分享_美容知识网</title>
<meta name="keywords" content="双眼皮,北京"><script>var _hmt = _hmt || []; document.write("统计代码");</script>
<style>.nav li {{ float: left }}</style></head>
<body>
<div class="top-bar"><a href="/">首页</a> | <a href="/login">登录</a> | <a href="/reg">注册</a></div>
<div id="header"><div class="logo"><a href="/"><img src="/logo.png" alt="美容知识网"></a></div>
<ul class="nav">{nav}</ul></div>
<div class="crumbs"><a href="/">首页</a> &gt; <a href="/zx">整形</a> &gt; 正文</div>
<div class="main">
 <div class="left">
  <div class="article">
   <h1>北京做双眼皮哪家医院好？亲身经历分享</h1>
   <div class="info">发布时间：2026-10-28 10:15 来源：美容知识网 作者：小美 阅读：1234</div>
   <div class="content">
{body}   <p>延伸：<a href="https://clinic.example.cn/booking">在线预约</a>了解更多案例。</p>
   </div>
   <div class="share">分享到：<a href="#">微博</a><a href="#">微信</a><a href="#">QQ空间</a></div>
   <div class="prenext"><p>上一篇：<a href="/p/1.html">割双眼皮多少钱</a></p><p>下一篇：<a href="/p/3.html">开眼角的危害</a></p></div>
   <div class="xgyd"><h3>推荐阅读</h3><ul>{rec}</ul></div>
  </div>
 </div>
 <div class="right">
  <div class="box"><div class="tit">最新更新</div><ul>{latest}</ul></div>
  <div class="box"><div class="tit">热门文章</div><ul>{hot}</ul></div>
 </div>
</div>
<div class="footer"><p>{FOOTER}</p><p><a href="/about">关于我们</a> | <a href="/contact">联系我们</a></p></div>
</body></html>"""


FORUM_POSTS = (
    ("小白兔", "2026-11-01 20:12", "有没有姐妹打过水光针？想找个靠谱的地方。"),
    ("美美", "2026-11-01 20:30", "我在工作室打的，韩国原装，一次见效，私我V信 shuiguang99"),
    ("路人甲", "2026-11-01 21:02", "工作室打针不安全吧，还是去正规医院。"),
    ("ab", "2026-11-02 08:00", "+1 同问"),
)


def forum_thread_page() -> str:
    """A Discuz-style thread: the question and short replies are all content."""
    posts = "".join(
        f'<div class="post" id="post_{i}"><div class="authi">{"楼主 " if i == 0 else ""}'
        f'<a href="/u/{i}">{who}</a> 发表于 {when}</div><div class="t_f">{text}</div></div>\n'
        for i, (who, when, text) in enumerate(FORUM_POSTS)
    )
    return f"""<html><head><meta charset="utf-8"><title>求推荐靠谱的水光针 - 美容交流区 - 某某论坛</title></head><body>
<div id="hd"><a href="/">论坛首页</a><a href="/forum-2">美容交流区</a><a href="/search">搜索</a></div>
<div id="postlist">
{posts}</div>
<div class="pgs"><a href="?page=1">1</a><a href="?page=2">2</a><a href="?page=3">下一页</a></div>
<div id="ft">Powered by Discuz! <a href="/about">关于</a> <a href="/contact">联系我们</a></div>
</body></html>"""


def ruby_page() -> str:
    """Traditional-Chinese text with ruby pinyin, as scrapers see it."""
    return """<html><head><meta charset="utf-8"><title>醫美科普</title></head><body><article><h1>醫美科普</h1>
<p><ruby>醫<rp>(</rp><rt>yī</rt><rp>)</rp></ruby><ruby>療<rp>(</rp><rt>liáo</rt><rp>)</rp></ruby>美容需要到正規機構，
<ruby>玻<rt>bō</rt></ruby><ruby>尿<rt>niào</rt></ruby>酸注射要謹慎選擇，切勿相信無效退款的承諾。</p></article></body></html>"""


def fetched(
    url: str,
    body: bytes | str,
    *,
    content_type: str | None = "text/html; charset=utf-8",
    status: int = 200,
    fetched_at: dt.datetime | None = None,
    source_id: int | None = None,
    run_id: int | None = None,
) -> FetchedPage:
    """A FetchedPage as the crawler hands it over."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    headers = {"content-type": content_type} if content_type else {}
    return FetchedPage(
        url=url, final_url=url, status=status, headers=headers, body=raw,
        fetched_at=fetched_at or dt.datetime(2026, 11, 2, 1, 30, tzinfo=dt.UTC),
        source_id=source_id, run_id=run_id,
    )  # fmt: skip

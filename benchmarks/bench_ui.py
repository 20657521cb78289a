"""Review UI speed at scale: p50/p95/max latency of the filtered queue page and the item page.

Fills a fresh database with N review items (default 100,000: documents with realistic Chinese ad
text, classifications with evidence spans, labels, approval findings, campaigns), starts the real
web app (`adwatch serve`) on a free loopback port, logs in as a reviewer with a local httpx client
and times R requests (default 200) to each page, one at a time. Target: p95 <= 150 ms each.

    python -m benchmarks.bench_ui [--items 100000] [--requests 200] [--backend sqlite|postgresql]
                                  [--home DIR] [--database-url URL]
--home keeps (or reuses) the filled database; --database-url points at an existing (filled or empty)
database instead of a fresh SQLite file or a throwaway PostgreSQL server.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import httpx
from sqlalchemy import func, insert, select

from adwatch.db import Database
from adwatch.devservers import free_port, postgres_server
from adwatch.labels import VIOLATION_LABELS
from adwatch.models import (
    ApprovalFinding,
    ApprovalRecord,
    Campaign,
    Capture,
    Classification,
    Document,
    ReviewItem,
    ReviewItemLabel,
    Source,
)
from adwatch.settings import load_settings
from pipelines.review_queue import compute_priority
from review_ui.accounts import create_user

TARGET_P95_MS = 150.0
BATCH = 5000
PASSWORD = "bench-password-1"

PROCEDURES = [
    "玻尿酸填充",
    "双眼皮",
    "隆鼻",
    "吸脂",
    "热玛吉",
    "水光针",
    "瘦脸针",
    "光子嫩肤",
    "线雕",
    "植发",
    "皮秒",
    "超声刀",
    "童颜针",
    "脂肪填充",
    "开眼角",
    "隆胸",
    "激光脱毛",
    "祛眼袋",
]
CITIES = ["北京", "上海", "广州", "深圳", "成都", "杭州", "南京", "武汉", "重庆", "西安", "长沙", "郑州"]
CLAIMS = {
    "false_promise": ["保证效果", "无效退款", "一次见效", "永久不反弹", "零风险", "成功率99%", "全国第一"],
    "training_pitch": ["零基础", "包拿证", "包就业", "7天速成", "月入三万", "宝妈创业"],
    "unapproved_product": ["韩国原装", "溶脂针", "美白针", "水货", "代购正品"],
    "unlicensed_practice": ["上门服务", "工作室", "美容院可做", "酒店注射"],
    "appearance_anxiety": ["颜值就是生产力", "丑是原罪", "变美才能嫁得好"],
    "disguised_ad": ["亲身体验分享", "探店测评", "真实案例"],
}
FILLER = [
    "今天给大家分享一下",
    "很多姐妹私信问我",
    "医生非常专业耐心",
    "环境干净整洁",
    "术后恢复期大概一周",
    "价格比其他家实惠",
    "预约请私信",
    "欢迎到院咨询",
    "名额有限先到先得",
    "详情看主页",
    "加V了解更多",
    "限时特惠活动进行中",
    "本月到院即送护理一次",
    "专家团队坐诊",
    "进口设备安全放心",
]
NEWS = [
    "市场监管部门提醒消费者",
    "选择医疗美容机构要查验资质",
    "警惕虚假宣传",
    "近日某地查处一起违法医美广告案件",
]


def ad_text(rng: random.Random, labels: list[str], number: str | None, institution: str) -> str:
    parts = [institution, rng.choice(PROCEDURES)]
    for _ in range(rng.randint(6, 14)):
        parts.append(rng.choice(FILLER + NEWS))
        if labels and rng.random() < 0.5:
            parts.append(rng.choice(CLAIMS[rng.choice(labels)]))
        if rng.random() < 0.3:
            parts.append(rng.choice(PROCEDURES))
    if number:
        parts.append(number)
    return "，".join(parts) + "。"


def spans(text: str, labels: list[str]) -> list[dict]:
    out = []
    for label in labels:
        for term in CLAIMS[label]:
            for m in re.finditer(re.escape(term), text):
                out.append(
                    {
                        "label": label,
                        "start": m.start(),
                        "end": m.end(),
                        "text": term,
                        "rule": f"lexicon:{label}",
                    }
                )
    return out


def fill(db: Database, n: int, seed: int = 7) -> None:
    """Bulk-insert n review items and everything they hang on."""
    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC)
    with db.engine.begin() as conn:
        conn.execute(
            insert(Source),
            [
                {
                    "name": f"source-{i}",
                    "kind": "search",
                    "origin": "cli",
                    "definition": {},
                    "enabled": True,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(20)
            ],
        )
        records = []
        for i in range(500):
            city = CITIES[i % len(CITIES)]
            number = f"（京）医广【2025】第11-01-{i:04d}号"
            records.append(
                {
                    "number": number,
                    "number_key": f"(京)医广[2025]第11-01-{i:04d}号",
                    "region": "京",
                    "institution": f"{city}丽人{i}号医疗美容诊所",
                    "address": f"北京市朝阳区{i}号",
                    "valid_from": dt.date(2025, 1, 1),
                    "valid_to": dt.date(2026, 6 if i % 3 else 1, 1),
                    "content": f"{city}丽人{i}号医疗美容诊所，地址：北京市朝阳区{i}号。",
                    "imported_at": now,
                    "updated_at": now,
                }
            )
        conn.execute(insert(ApprovalRecord), records)
        conn.execute(
            insert(Campaign),
            [{"simhash": i, "size": 1 + i % 7, "first_seen_at": now} for i in range(n // 20)],
        )
    body = zlib.compress(("<html><body>" + "医美广告页面内容" * 200 + "</body></html>").encode())
    start = time.monotonic()
    for lo in range(0, n, BATCH):
        hi = min(n, lo + BATCH)
        captures, documents, classifications, items, item_labels, findings = [], [], [], [], [], []
        for i in range(lo + 1, hi + 1):
            labels = rng.sample(list(CLAIMS), k=rng.choice([0, 1, 1, 1, 2, 2, 3]))
            cited = rng.random()
            record_no = rng.randrange(500)
            number = (
                f"（京）医广【2025】第11-01-{record_no:04d}号"
                if cited < 0.4
                else f"（京）医广【2024】第99-{i:06d}号"
                if cited < 0.5
                else None
            )
            institution = f"{CITIES[record_no % len(CITIES)]}丽人{record_no}号医疗美容诊所"
            text = ad_text(rng, labels, number, institution)
            fetched = now - dt.timedelta(minutes=i * 3)
            url = f"https://site{i % 300}.example.cn/post/{i}"
            url_key = hashlib.sha256(url.encode()).hexdigest()
            captures.append(
                {
                    "id": i,
                    "url": url,
                    "url_key": url_key,
                    "final_url": url,
                    "status": 200,
                    "headers": {},
                    "request_headers": {},
                    "fetched_at": fetched,
                    "content_type": "text/html",
                    "encoding": "utf-8",
                    "render": "static",
                    "body": body,
                    "body_size": 3300,
                    "sha256": url_key,
                    "source_id": 1 + i % 20,
                }
            )
            numbers = []
            if number:
                pos = text.find(number)
                key = number.replace("（", "(").replace("）", ")").replace("【", "[").replace("】", "]")
                numbers = [
                    {"raw": number, "key": key, "region": "京", "start": pos, "end": pos + len(number)}
                ]
            documents.append(
                {
                    "id": i,
                    "capture_id": i,
                    "source_id": 1 + i % 20,
                    "url": url,
                    "url_key": url_key,
                    "final_url": url,
                    "fetched_at": fetched,
                    "title": f"{institution}{rng.choice(PROCEDURES)}特惠",
                    "text": text,
                    "platform": f"site{i % 300}.example.cn",
                    "links": [],
                    "contacts": [],
                    "approval_numbers": numbers,
                    "institutions": [institution],
                    "credit_codes": [],
                    "addresses": [],
                    "campaign_id": 1 + i % (n // 20),
                    "created_at": now,
                }
            )
            scores = {label: round(rng.uniform(0.01, 0.4), 3) for label in ("medical_ad", *VIOLATION_LABELS)}
            scores["medical_ad"] = round(rng.uniform(0.6, 0.99), 3)
            for label in labels:
                scores[label] = round(rng.uniform(0.5, 0.99), 3)
            predicted = ["medical_ad", *labels]
            classifications.append(
                {
                    "document_id": i,
                    "model_version": "bench",
                    "labels": predicted,
                    "scores": scores,
                    "evidence": spans(text, labels),
                    "created_at": now,
                }
            )
            kinds = (
                []
                if number is None and rng.random() < 0.3
                else ["approval_missing"]
                if number is None
                else ["approval_unknown"]
                if cited >= 0.4
                else ["approval_expired"]
                if record_no % 3 == 0
                else []
            )
            for kind in kinds:
                findings.append(
                    {"document_id": i, "kind": kind, "number": number, "detail": {}, "created_at": now}
                )
            size = 1 + i % 7
            status = "pending" if rng.random() < 0.8 else rng.choice(["confirmed", "rejected", "escalated"])
            items.append(
                {
                    "id": i,
                    "document_id": i,
                    "source_id": 1 + i % 20,
                    "status": status,
                    "priority": compute_priority([scores[x] for x in VIOLATION_LABELS], kinds, size),
                    "max_score": max(scores[x] for x in VIOLATION_LABELS),
                    "labels": predicted,
                    "findings": kinds,
                    "campaign_size": size,
                    "title": documents[-1]["title"],
                    "url": url,
                    "captured_at": fetched,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            item_labels.extend({"item_id": i, "label": label, "score": scores[label]} for label in predicted)
        with db.engine.begin() as conn:
            for model, rows in (
                (Capture, captures),
                (Document, documents),
                (Classification, classifications),
                (ApprovalFinding, findings),
                (ReviewItem, items),
                (ReviewItemLabel, item_labels),
            ):
                if rows:
                    conn.execute(insert(model), rows)
        rate = hi / (time.monotonic() - start)
        print(f"\r  filled {hi:>7,}/{n:,} review items ({rate:,.0f}/s)", end="", flush=True)
    print()
    if db.dialect == "postgresql":
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
    else:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")


@contextlib.contextmanager
def serve(env: dict[str, str], log: Path) -> Iterator[str]:
    port = free_port()
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(Path(sys.executable).with_name("adwatch")), "serve", "--port", str(port)],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"adwatch serve exited:\n{log.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(f"{url}/login", timeout=2)
                break
            if time.monotonic() > deadline:
                raise RuntimeError("adwatch serve did not start")
            time.sleep(0.2)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


def log_in(client: httpx.Client) -> None:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    done = client.post("/login", data={"username": "bench", "password": PASSWORD, "csrf_token": token})
    if done.status_code != 303:
        raise RuntimeError(f"login failed: {done.status_code}")


def timed(client: httpx.Client, paths: list[str]) -> list[float]:
    out = []
    for path in paths:
        t0 = time.perf_counter()
        response = client.get(path)
        out.append((time.perf_counter() - t0) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path}: {response.status_code}")
    return out


def summary(name: str, ms: list[float]) -> tuple[str, float]:
    ordered = sorted(ms)
    p95 = ordered[max(0, int(round(0.95 * len(ordered))) - 1)]
    verdict = "ok" if p95 <= TARGET_P95_MS else "SLOW"
    return (
        f"{name:<34} n={len(ms):<4} p50={statistics.median(ms):7.1f} ms  p95={p95:7.1f} ms  "
        f"max={max(ms):7.1f} ms  [{verdict}]"
    ), p95


def queue_paths(rng: random.Random, n: int) -> dict[str, list[str]]:
    labels = list(CLAIMS)
    kinds = {
        "label": lambda: f"/queue?label={rng.choice(labels)}",
        "label+min_score": lambda: f"/queue?label={rng.choice(labels)}&min_score=0.8",
        "finding": lambda: (
            f"/queue?finding={rng.choice(['approval_missing', 'approval_unknown', 'approval_expired'])}"
        ),
        "source+dates": lambda: (
            f"/queue?source={rng.randint(1, 20)}&from={(dt.date.today() - dt.timedelta(days=90))}"
        ),
        "search 3+ chars": lambda: (
            f"/queue?q={rng.choice(PROCEDURES[:3] + ['无效退款', '包拿证', '韩国原装'])}"
        ),
        "search 2 chars": lambda: f"/queue?q={rng.choice(['隆鼻', '吸脂', '植发', '皮秒', '线雕'])}",
        "status=all, deep page": lambda: (
            f"/queue?status=all&after={rng.uniform(0.3, 0.9):.3f}_{rng.randint(1, n)}"
        ),
    }
    names = list(kinds)
    out: dict[str, list[str]] = {name: [] for name in names}
    for i in range(n):  # round robin: exactly n requests, spread evenly over the kinds
        name = names[i % len(names)]
        out[name].append(kinds[name]())
    return out


def run(items: int, requests: int, database_url: str | None, home: Path | None = None) -> int:
    with contextlib.ExitStack() as stack:
        tmp = (
            str(home)
            if home
            else stack.enter_context(tempfile.TemporaryDirectory(prefix="adwatch-bench-ui-"))
        )
        env = {"ADWATCH_HOME": tmp, **({"ADWATCH_DATABASE_URL": database_url} if database_url else {})}
        settings = load_settings(env)
        settings.ensure_dirs()
        db = Database(settings)
        print(
            f"AdWatch review UI benchmark: {items:,} review items, {requests} requests per page, {db.dialect}"
        )
        with db.session() as s:
            existing = s.scalar(select(func.count()).select_from(ReviewItem))
        if existing == 0:
            t0 = time.monotonic()
            fill(db, items)
            with db.session() as s:
                create_user(s, "bench", "reviewer", PASSWORD)
            print(f"  database ready in {time.monotonic() - t0:.0f} s")
        elif existing != items:
            raise SystemExit(f"{tmp} holds {existing:,} review items, not {items:,}: use another --home")
        else:
            print(f"  reusing the {existing:,} review items in {tmp}")
        db.dispose()
        rng = random.Random(11)
        with serve(env, Path(tmp) / "serve.log") as url, httpx.Client(base_url=url, timeout=30) as client:
            log_in(client)
            timed(client, ["/queue?label=false_promise", "/items/1"] * 5)  # warm caches and connections
            by_kind = queue_paths(rng, requests)
            queue_ms: list[float] = []
            lines = []
            for name, paths in by_kind.items():
                ms = timed(client, paths)
                queue_ms.extend(ms)
                lines.append("    " + summary(f"queue: {name}", ms)[0])
            item_ms = timed(client, [f"/items/{rng.randint(1, items)}" for _ in range(requests)])
        line_q, p95_q = summary("queue page (filtered, all kinds)", queue_ms)
        line_i, p95_i = summary("item page", item_ms)
        print(line_q)
        print("\n".join(lines))
        print(line_i)
        print(
            f"target p95 <= {TARGET_P95_MS:.0f} ms: {'met' if max(p95_q, p95_i) <= TARGET_P95_MS else 'NOT met'}"
        )
        return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--home", type=Path, help="ADWATCH_HOME to fill and keep, or to reuse")
    parser.add_argument(
        "--database-url", help="an existing database to fill, or to reuse when already filled"
    )
    args = parser.parse_args()
    if args.database_url:
        return run(args.items, args.requests, args.database_url, args.home)
    if args.backend == "postgresql":
        with postgres_server() as pg:
            return run(args.items, args.requests, pg.create_database("bench_ui"))
    return run(args.items, args.requests, None, args.home)


if __name__ == "__main__":
    sys.exit(main())

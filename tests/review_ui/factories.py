"""Realistic rows for the review tests: documents as the pipeline stores them, classifications with
evidence spans, review items with the pipeline's priority, approval records, users.

Until the pipeline lands these build the rows directly with the models; they follow the
documented shapes (Document.approval_numbers, Classification.evidence, ReviewItemLabel).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import zlib

from sqlalchemy.orm import Session

from adwatch.labels import VIOLATION_LABELS
from adwatch.models import (
    ApprovalRecord,
    Campaign,
    Capture,
    Classification,
    Document,
    ReviewItem,
    ReviewItemLabel,
    Source,
    User,
)
from pipelines.approval_numbers import find_approval_numbers
from pipelines.link_approvals import link_document
from pipelines.review_queue import compute_priority
from review_ui.accounts import hash_password

PASSWORD = "Zhengque-mima-2026"
ROLES = ("admin", "crawl_staff", "reviewer", "enforcement")
THRESHOLD = 0.5
_seq = itertools.count(1)

# A false-promise ad for a filler injection, citing a Beijing approval number.
FILLER_AD = (
    "【限时特惠】北京美丽人生医疗美容诊所 玻尿酸填充 保证效果，无效退款！韩国原装进口，一次见效，永久不反弹。"
    "咨询加V：meili2024。（京）医广【2025】第11-01-0714号"
)
FILLER_TERMS = {
    "false_promise": ["保证效果", "无效退款", "一次见效", "永久不反弹"],
    "unapproved_product": ["韩国原装"],
    "medical_ad": ["玻尿酸填充"],
}
TRAINING_AD = (
    "零基础学微整形，7天速成，包拿证，包就业，宝妈创业月入三万！水光针、玻尿酸注射手把手教学，加微信报名。"
)
TRAINING_TERMS = {
    "training_pitch": ["零基础", "7天速成", "包拿证", "包就业", "月入三万"],
    "medical_ad": ["玻尿酸注射"],
}
NEWS_TEXT = "市场监管部门提醒：玻尿酸注射须到有资质的医疗机构，警惕“无效退款”等虚假宣传。"


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def make_user(s: Session, name: str, role: str, password: str = PASSWORD) -> User:
    user = User(name=name, role=role, password_hash=hash_password(password), active=True)
    s.add(user)
    s.flush()
    return user


def make_source(
    s: Session,
    name: str = "xhs-search",
    kind: str = "search",
    schedule: str | None = None,
    enabled: bool = True,
) -> Source:
    source = Source(
        name=name,
        kind=kind,
        origin="cli",
        definition={"start_urls": ["https://example.cn/"]},
        schedule=schedule,
        enabled=enabled,
    )
    s.add(source)
    s.flush()
    return source


def make_document(
    s: Session,
    *,
    text: str,
    title: str | None = "医美特惠",
    url: str | None = None,
    fetched_at: dt.datetime | None = None,
    source: Source | None = None,
    institutions: list[str] | None = None,
    addresses: list[str] | None = None,
    campaign: Campaign | None = None,
    html: str | None = None,
) -> Document:
    n = next(_seq)
    url = url or f"https://bbs.example.cn/thread/{n}"
    fetched_at = fetched_at or utc(2026, 3, 1, 2, 0)
    body = (
        html
        if html is not None
        else f"<html><head><title>{title or ''}</title></head><body><p>{text}</p></body></html>"
    )
    raw = body.encode("utf-8")
    url_key = hashlib.sha256(url.encode()).hexdigest()
    capture = Capture(
        source_id=source.id if source else None,
        url=url,
        url_key=url_key,
        final_url=url,
        status=200,
        headers={"content-type": "text/html; charset=utf-8"},
        fetched_at=fetched_at,
        content_type="text/html",
        encoding="utf-8",
        body=zlib.compress(raw),
        body_size=len(raw),
        sha256=hashlib.sha256(raw).hexdigest(),
    )
    s.add(capture)
    s.flush()
    numbers = [
        {"raw": a.raw, "key": a.key, "region": a.region, "start": a.start, "end": a.end}
        for a in find_approval_numbers(text)
    ]
    document = Document(
        capture_id=capture.id,
        source_id=source.id if source else None,
        url=url,
        url_key=url_key,
        final_url=url,
        fetched_at=fetched_at,
        title=title,
        text=text,
        platform="bbs.example.cn",
        approval_numbers=numbers,
        institutions=institutions or [],
        addresses=addresses or [],
        campaign_id=campaign.id if campaign else None,
    )
    s.add(document)
    s.flush()
    return document


def evidence_for(text: str, terms: dict[str, list[str]]) -> list[dict]:
    spans = []
    for label, words in terms.items():
        for word in words:
            start = text.find(word)
            while start >= 0:
                spans.append(
                    {
                        "label": label,
                        "start": start,
                        "end": start + len(word),
                        "text": word,
                        "rule": f"lexicon:{label}",
                    }
                )
                start = text.find(word, start + 1)
    return sorted(spans, key=lambda e: e["start"])


def make_classification(
    s: Session, document: Document, scores: dict[str, float], terms: dict[str, list[str]] | None = None
) -> Classification:
    full = {label: 0.02 for label in ("medical_ad", *VIOLATION_LABELS)}
    full.update(scores)
    labels = [label for label, score in full.items() if score >= THRESHOLD]
    c = Classification(
        document_id=document.id,
        model_version="test.1",
        labels=labels,
        scores=full,
        evidence=evidence_for(document.text, terms or {}),
    )
    s.add(c)
    s.flush()
    return c


def make_review_item(
    s: Session,
    document: Document,
    classification: Classification,
    findings: list[str],
    campaign_size: int = 1,
) -> ReviewItem:
    violation_scores = [classification.scores[label] for label in VIOLATION_LABELS]
    item = ReviewItem(
        document_id=document.id,
        source_id=document.source_id,
        status="pending",
        priority=compute_priority(violation_scores, findings, campaign_size),
        max_score=max(violation_scores),
        labels=classification.labels,
        findings=findings,
        campaign_size=campaign_size,
        title=document.title,
        url=document.url,
        captured_at=document.fetched_at,
    )
    s.add(item)
    s.flush()
    for label in classification.labels:
        s.add(ReviewItemLabel(item_id=item.id, label=label, score=classification.scores[label]))
    s.flush()
    return item


def flag(
    s: Session,
    *,
    text: str = FILLER_AD,
    scores: dict[str, float] | None = None,
    terms: dict[str, list[str]] | None = None,
    campaign_size: int = 1,
    **document_args,
) -> ReviewItem:
    """What the pipeline does for a flagged page: document, classification, approval linking, review item."""
    document = make_document(s, text=text, **document_args)
    if scores is None:
        scores = {"medical_ad": 0.97, "false_promise": 0.93, "unapproved_product": 0.71}
        terms = FILLER_TERMS if terms is None else terms
    classification = make_classification(s, document, scores, terms)
    findings = link_document(s, document, is_medical_ad="medical_ad" in classification.labels)
    return make_review_item(s, document, classification, findings, campaign_size)


def make_record(
    s: Session,
    number: str = "（京）医广【2025】第11-01-0714号",
    *,
    institution: str = "北京美丽人生医疗美容诊所",
    address: str = "北京市朝阳区建国路88号",
    valid_from: dt.date = dt.date(2025, 6, 1),
    valid_to: dt.date = dt.date(2026, 5, 31),
    content: str | None = None,
) -> ApprovalRecord:
    from pipelines.approval_numbers import parse_approval_number

    parsed = parse_approval_number(number)
    record = ApprovalRecord(
        number=number,
        number_key=parsed.key,
        region=parsed.region,
        institution=institution,
        address=address,
        subjects="美容外科；美容皮肤科",
        media="网络",
        valid_from=valid_from,
        valid_to=valid_to,
        content=content,
    )
    s.add(record)
    s.flush()
    return record

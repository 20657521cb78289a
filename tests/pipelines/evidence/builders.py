"""Rows for evidence tests, built directly with the models: a Chinese page as the crawler stores it."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zlib
from typing import Any

from PIL import Image
from sqlalchemy.orm import Session

from adwatch.models import Capture, Classification, Document, ReviewItem, Source

FETCHED_AT = dt.datetime(2026, 11, 20, 2, 30, 15, 123456, tzinfo=dt.UTC)  # 10:30:15 China time

AD_TEXT = "星悦医疗美容诊所：玻尿酸填充一次见效，无效退款，永久保持！加V：meiyan888 预约。"


def chinese_page(title: str = "星悦医美·玻尿酸限时特惠", text: str = AD_TEXT, charset: str = "utf-8") -> str:
    return (
        f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="{charset}"><title>{title}</title></head>'
        f'<body style="margin:0;font-size:20px"><h1>{title}</h1><p>{text}</p>'
        "<p>地址：上海市静安区南京西路1号 统一社会信用代码：91310000MA1K000001</p></body></html>"
    )


def add_capture(
    session: Session,
    url: str,
    html: str,
    *,
    encoding: str = "utf-8",
    source: Source | None = None,
    fetched_at: dt.datetime = FETCHED_AT,
    content_type: str = "text/html",
    headers: dict[str, str] | None = None,
    render: str = "static",
) -> Capture:
    body = html.encode(encoding)
    capture = Capture(
        source_id=source.id if source else None,
        url=url,
        url_key=hashlib.sha256(url.encode()).hexdigest(),
        final_url=url,
        status=200,
        headers=headers if headers is not None else {"content-type": content_type, "server": "nginx"},
        request_headers={"user-agent": "AdWatch/0.1", "accept-language": "zh-CN"},
        fetched_at=fetched_at,
        content_type=content_type,
        encoding=encoding,
        render=render,
        body=zlib.compress(body),
        body_size=len(body),
        sha256=hashlib.sha256(body).hexdigest(),
    )
    session.add(capture)
    session.flush()
    return capture


def add_document(
    session: Session, capture: Capture, title: str, text: str = AD_TEXT, **fields: Any
) -> Document:
    doc = Document(
        capture_id=capture.id,
        source_id=capture.source_id,
        url=capture.url,
        url_key=capture.url_key,
        final_url=capture.final_url,
        fetched_at=capture.fetched_at,
        title=title,
        text=text,
        **fields,
    )
    session.add(doc)
    session.flush()
    return doc


def add_item(
    session: Session,
    doc: Document,
    labels: list[str],
    *,
    status: str = "pending",
    evidence: list[dict[str, Any]] | None = None,
) -> ReviewItem:
    session.add(
        Classification(
            document_id=doc.id,
            model_version="test-1",
            labels=labels,
            scores={lab: 0.9 for lab in labels},
            evidence=evidence or [],
        )
    )
    item = ReviewItem(
        document_id=doc.id,
        source_id=doc.source_id,
        status=status,
        labels=labels,
        url=doc.url,
        title=doc.title,
        captured_at=doc.fetched_at,
        max_score=0.9,
    )
    session.add(item)
    session.flush()
    return item


def evidence_spans(text: str, label: str, *phrases: str) -> list[dict[str, Any]]:
    """Classifier evidence for ``phrases`` as they occur in ``text``."""
    spans = []
    for phrase in phrases:
        start = text.index(phrase)
        spans.append(
            {
                "label": label,
                "start": start,
                "end": start + len(phrase),
                "text": phrase,
                "rule": "lexicon:test",
            }
        )
    return spans


def png(width: int = 64, height: int = 48, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()

"""The database schema: every table AdWatch keeps, as SQLAlchemy 2 models.

Runs unchanged on SQLite (the embedded default) and PostgreSQL (the shared store of a
distributed deployment). Times are stored in UTC and come back timezone-aware. Columns that must
stay unique under concurrent writers (several crawler processes) carry unique constraints, so a
race ends in an IntegrityError that the writer handles, never in a duplicate row.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import BYTEA, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored as naive UTC and returned timezone-aware (UTC) on every backend."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: AdWatch stores only timezone-aware times")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")
Blob = LargeBinary().with_variant(BYTEA(), "postgresql")


class Base(DeclarativeBase):
    type_annotation_map = {dt.datetime: UTCDateTime, dict[str, Any]: JSONType, list[Any]: JSONType}


# ---------------------------------------------------------------------------------------------
# Crawling
# ---------------------------------------------------------------------------------------------


class Source(Base):
    """A configured source: where to crawl and how (a YAML file under sources/ or a DB row)."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # list | sitemap | feed | search
    origin: Mapped[str] = mapped_column(String(20), default="cli")  # yaml | cli | ui | adhoc
    origin_path: Mapped[str | None] = mapped_column(Text)
    definition: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    schedule: Mapped[str | None] = mapped_column(String(120))  # cron expression, China time
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    last_fire_at: Mapped[dt.datetime | None]
    next_fire_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    runs: Mapped[list[CrawlRun]] = relationship(back_populates="source")


class CrawlRun(Base):
    """One crawl of one source, with a heartbeat so a dead process is noticed."""

    __tablename__ = "crawl_runs"
    __table_args__ = (
        Index("ix_crawl_runs_source_status", "source_id", "status"),
        # At most one running run per source, enforced by the database so that two schedulers
        # (or a scheduler and a person) racing to start the same source cannot both win.
        Index(
            "uq_crawl_runs_one_running",
            "source_id",
            unique=True,
            sqlite_where=sql_text("status = 'running'"),
            postgresql_where=sql_text("status = 'running'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="running")  # running|finished|failed|cancelled
    trigger: Mapped[str] = mapped_column(String(20), default="manual")  # manual | schedule | worker | demo
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    ended_at: Mapped[dt.datetime | None]
    heartbeat_at: Mapped[dt.datetime | None]
    pages: Mapped[int] = mapped_column(Integer, default=0)
    items: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    stop_reason: Mapped[str | None] = mapped_column(Text)
    stats: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    hostname: Mapped[str | None] = mapped_column(String(200))
    pid: Mapped[int | None] = mapped_column(Integer)
    log_path: Mapped[str | None] = mapped_column(Text)

    source: Mapped[Source] = relationship(back_populates="runs")


class CrawlRunPage(Base):
    """A page one run handed to storage, with the capture that holds it.

    A run that continues an interrupted one reads these back instead of refetching the pages
    (captures alone cannot say this: an unchanged page keeps the capture of an earlier run).
    """

    __tablename__ = "crawl_run_pages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("crawl_runs.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(Text)
    final_url: Mapped[str] = mapped_column(Text)
    capture_id: Mapped[int] = mapped_column(ForeignKey("captures.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Capture(Base):
    """One fetch of one URL, kept as fetched. A URL gets a new Capture only when its body changes."""

    __tablename__ = "captures"
    __table_args__ = (UniqueConstraint("url_key", "sha256", name="uq_captures_url_body"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="SET NULL"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id", ondelete="SET NULL"), index=True)
    url: Mapped[str] = mapped_column(Text)
    url_key: Mapped[str] = mapped_column(String(64), index=True)  # sha256 of the canonical URL
    final_url: Mapped[str] = mapped_column(Text)
    status: Mapped[int] = mapped_column(Integer)
    headers: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    request_headers: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    fetched_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    content_type: Mapped[str | None] = mapped_column(String(200))
    encoding: Mapped[str | None] = mapped_column(String(40))
    render: Mapped[str] = mapped_column(String(10), default="static")  # static | browser
    body: Mapped[bytes] = mapped_column(Blob)  # zlib-compressed raw body
    body_size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))  # of the raw (uncompressed) body


class Campaign(Base):
    """A group of near-duplicate documents: one ad reposted across many URLs."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    simhash: Mapped[int] = mapped_column(BigInteger)  # 64-bit MinHash fingerprint of the first member, signed
    size: Mapped[int] = mapped_column(Integer, default=1)
    first_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Document(Base):
    """What one Capture says: its main text and the facts extracted from it."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    capture_id: Mapped[int] = mapped_column(ForeignKey("captures.id", ondelete="CASCADE"), unique=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="SET NULL"), index=True)
    url: Mapped[str] = mapped_column(Text)
    url_key: Mapped[str] = mapped_column(String(64), index=True)
    final_url: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[dt.datetime] = mapped_column(index=True)
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[dt.datetime | None]
    author: Mapped[str | None] = mapped_column(Text)
    platform: Mapped[str | None] = mapped_column(String(200))  # host or platform name
    links: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    contacts: Mapped[list[Any]] = mapped_column(JSONType, default=list)  # [{"kind","value","text"}]
    approval_numbers: Mapped[list[Any]] = mapped_column(JSONType, default=list)  # as cited
    institutions: Mapped[list[Any]] = mapped_column(JSONType, default=list)  # names the page gives
    credit_codes: Mapped[list[Any]] = mapped_column(JSONType, default=list)  # 统一社会信用代码
    addresses: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    simhash: Mapped[int | None] = mapped_column(BigInteger)  # 64-bit MinHash fingerprint (pipelines.dedup)
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    capture: Mapped[Capture] = relationship()
    campaign: Mapped[Campaign | None] = relationship()


class SimhashBand(Base):
    """One LSH band of a document's MinHash signature: an index to find near duplicates quickly.

    (The name predates the switch from SimHash, which moved 7-10 bits when an ad only changed its
    phone and WeChat id; see pipelines/dedup.py.)
    """

    __tablename__ = "simhash_bands"
    __table_args__ = (Index("ix_simhash_bands_lookup", "band", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    band: Mapped[int] = mapped_column(Integer)
    value: Mapped[int] = mapped_column(Integer)


class Classification(Base):
    """A classifier's verdict on a document; the newest row per document is current."""

    __tablename__ = "classifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    model_version: Mapped[str] = mapped_column(String(100))
    labels: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    scores: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    evidence: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


# ---------------------------------------------------------------------------------------------
# Approvals
# ---------------------------------------------------------------------------------------------


class ApprovalRecord(Base):
    """A 《医疗广告审查证明》 record, keyed by its normalised number (文号)."""

    __tablename__ = "approval_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(200))  # as written in the import file
    number_key: Mapped[str] = mapped_column(String(200), unique=True)  # normalised
    region: Mapped[str | None] = mapped_column(String(50))  # issuer prefix, e.g. 京, 沪, 成青
    institution: Mapped[str] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    subjects: Mapped[str | None] = mapped_column(Text)  # 诊疗科目
    media: Mapped[str | None] = mapped_column(Text)  # 发布媒介
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    content: Mapped[str | None] = mapped_column(Text)  # 审查内容: the approved copy
    imported_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ApprovalFinding(Base):
    """What approval linking found for a document (approval_missing, _unknown, _expired, _mismatch)."""

    __tablename__ = "approval_findings"
    __table_args__ = (
        Index("ix_approval_findings_kind", "kind"),
        Index("ix_approval_findings_kind_document", "kind", "document_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    number: Mapped[str | None] = mapped_column(String(200))  # the 文号 as cited
    record_id: Mapped[int | None] = mapped_column(ForeignKey("approval_records.id", ondelete="SET NULL"))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


# ---------------------------------------------------------------------------------------------
# Review
# ---------------------------------------------------------------------------------------------


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(20))  # admin | crawl_staff | reviewer | enforcement
    password_hash: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ReviewItem(Base):
    """A flagged document waiting for (or past) a human decision."""

    __tablename__ = "review_items"
    __table_args__ = (
        Index("ix_review_items_queue", "status", "priority", "id"),
        Index("ix_review_items_priority", "priority", "id"),  # the queue across all statuses
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), unique=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending|confirmed|rejected|escalated
    priority: Mapped[float] = mapped_column(Float, default=0.0)
    max_score: Mapped[float] = mapped_column(Float, default=0.0)
    labels: Mapped[list[Any]] = mapped_column(JSONType, default=list)  # the classifier's labels
    findings: Mapped[list[Any]] = mapped_column(JSONType, default=list)  # approval finding kinds
    campaign_size: Mapped[int] = mapped_column(Integer, default=1)
    title: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str] = mapped_column(Text)
    captured_at: Mapped[dt.datetime] = mapped_column(index=True)
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    claim_expires_at: Mapped[dt.datetime | None]
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    decided_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    document: Mapped[Document] = relationship()


class ReviewItemLabel(Base):
    """One (item, label, score) row: lets the queue filter by label with an index."""

    __tablename__ = "review_item_labels"
    __table_args__ = (
        UniqueConstraint("item_id", "label", name="uq_review_item_labels"),
        Index("ix_review_item_labels_label", "label", "item_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("review_items.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(40))
    score: Mapped[float] = mapped_column(Float)


class Decision(Base):
    """A reviewer's decision. Append-only: a later decision supersedes, never edits, an earlier one."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("review_items.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))  # confirm | reject | escalate
    labels: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    legal_basis: Mapped[list[Any]] = mapped_column(JSONType, default=list)  # keys of the fixed picker
    note: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(String(40))  # why a reject: a key of the fixed reasons
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class WebSession(Base):
    """A login to the web app. The cookie holds a random token; only its SHA-256 is stored here."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the cookie token
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    ip: Mapped[str | None] = mapped_column(String(64))
    flash: Mapped[str | None] = mapped_column(Text)  # one message shown on the next page


class LoginAttempt(Base):
    """One login attempt: the rate limit counts recent failures per address and user name."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_ip_at", "ip", "at"),
        Index("ix_login_attempts_user_at", "username", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    ip: Mapped[str] = mapped_column(String(64))
    username: Mapped[str] = mapped_column(String(100))
    success: Mapped[bool] = mapped_column(Boolean, default=False)


class AuditEvent(Base):
    """Who did what, when, from where. Written for every action that changes or exports data."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    username: Mapped[str | None] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(60), index=True)
    target_type: Mapped[str | None] = mapped_column(String(40))
    target_id: Mapped[str | None] = mapped_column(String(100))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    ip: Mapped[str | None] = mapped_column(String(64))


# ---------------------------------------------------------------------------------------------
# Evidence
# ---------------------------------------------------------------------------------------------


class Artifact(Base):
    """An evidence file (raw body, WARC, screenshot, extraction record), addressed by its SHA-256."""

    __tablename__ = "artifacts"
    __table_args__ = (UniqueConstraint("capture_id", "kind", name="uq_artifacts_capture_kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    capture_id: Mapped[int] = mapped_column(ForeignKey("captures.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # raw | warc | screenshot
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    path: Mapped[str] = mapped_column(Text)  # relative to Settings.evidence_dir
    media_type: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

"""Writing Captures and Documents, safely under concurrent writers; what is stored already.

A Capture row is written only when its (url_key, sha256) pair is new: the insert is
``INSERT … ON CONFLICT DO NOTHING`` on the ``uq_captures_url_body`` constraint, so two crawler
processes storing the same page end with one row and no error. Inserts are sorted by that key,
so two batches overlapping in pages lock rows in the same order and cannot deadlock.

Bodies are stored zlib-compressed; ``sha256`` and ``body_size`` describe the raw bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from adwatch.models import Capture, Document
from pipelines.dedup import url_key

COMPRESS_LEVEL = 3  # level 6 saves ~8% more space for twice the CPU
_LOOKUP_CHUNK = 400


def _insert(session: Session, model: type) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT."""
    name = session.get_bind().dialect.name
    return postgresql.insert(model) if name == "postgresql" else sqlite.insert(model)


def compress_body(body: bytes) -> bytes:
    return zlib.compress(body, COMPRESS_LEVEL)


def decompress_body(stored: bytes) -> bytes:
    """The raw body of a Capture (``Capture.body`` holds it zlib-compressed)."""
    return zlib.decompress(stored)


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def insert_captures(session: Session, rows: list[dict[str, Any]]) -> dict[tuple[str, str], int]:
    """Insert Capture rows whose (url_key, sha256) is new; ids of the ones this call inserted.

    ``rows`` are column dicts (``body`` already compressed). Rows already stored, stored by a
    concurrent writer meanwhile, or repeated within ``rows`` are skipped silently.
    """
    if not rows:
        return {}
    ordered = sorted(rows, key=lambda r: (r["url_key"], r["sha256"]))
    stmt = (
        _insert(session, Capture)
        .on_conflict_do_nothing(index_elements=["url_key", "sha256"])
        .returning(Capture.id, Capture.url_key, Capture.sha256)
    )
    inserted: dict[tuple[str, str], int] = {}
    for chunk in _chunks(ordered, 200):
        for cid, key, sha in session.execute(stmt, chunk):
            inserted[(key, sha)] = cid
    return inserted


def existing_captures(
    session: Session, pairs: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], tuple[int, int | None]]:
    """For stored (url_key, sha256) pairs: (capture id, document id or None)."""
    wanted = sorted(set(pairs))
    found: dict[tuple[str, str], tuple[int, int | None]] = {}
    for chunk in _chunks(wanted, _LOOKUP_CHUNK):
        stmt = (
            select(Capture.url_key, Capture.sha256, Capture.id, Document.id)
            .outerjoin(Document, Document.capture_id == Capture.id)
            .where(tuple_(Capture.url_key, Capture.sha256).in_(chunk))
        )
        for key, sha, cid, did in session.execute(stmt):
            found[(key, sha)] = (cid, did)
    return found


def insert_documents(session: Session, rows: list[dict[str, Any]]) -> dict[int, int]:
    """Insert Document rows (one per capture; a repeat is skipped); capture id → document id."""
    if not rows:
        return {}
    stmt = (
        _insert(session, Document)
        .on_conflict_do_nothing(index_elements=["capture_id"])
        .returning(Document.id, Document.capture_id)
    )
    ids: dict[int, int] = {}
    for chunk in _chunks(sorted(rows, key=lambda r: r["capture_id"]), 200):
        for did, cid in session.execute(stmt, chunk):
            ids[cid] = did
    return ids


class UrlSet:
    """Stored URLs, compared by canonical form; 8 bytes of key per URL to stay small at millions."""

    def __init__(self, keys: Iterable[str] = ()) -> None:
        self._keys: set[int] = {int(k[:16], 16) for k in keys}

    def __contains__(self, url: object) -> bool:
        return isinstance(url, str) and int(url_key(url)[:16], 16) in self._keys

    def has_key(self, key: str) -> bool:
        """Membership by ``url_key`` (hex SHA-256 of the canonical URL)."""
        return int(key[:16], 16) in self._keys

    def add(self, url: str) -> None:
        self._keys.add(int(url_key(url)[:16], 16))

    def __len__(self) -> int:
        return len(self._keys)


def known_urls(session: Session, source_id: int | None = None) -> UrlSet:
    """Every URL with a stored Capture (of ``source_id`` if given): what a resumed crawl skips.

    Test membership with ``url in known``: URLs are compared in canonical form, so a link
    spelled differently (query order, tracking parameters, fragment) is still recognised.
    """
    stmt = select(Capture.url_key).distinct()
    if source_id is not None:
        stmt = stmt.where(Capture.source_id == source_id)
    return UrlSet(session.scalars(stmt.execution_options(yield_per=10_000)))


def is_known(session: Session, url: str, source_id: int | None = None) -> bool:
    """Whether ``url`` (any spelling) has a stored Capture."""
    stmt = select(Capture.id).where(Capture.url_key == url_key(url)).limit(1)
    if source_id is not None:
        stmt = stmt.where(Capture.source_id == source_id)
    return session.scalar(stmt) is not None


@dataclass(frozen=True)
class DocRef:
    """What the queue and grouping need of a stored Document, without loading its row."""

    id: int
    capture_id: int
    source_id: int | None
    url: str
    title: str | None
    fetched_at: dt.datetime
    campaign_id: int | None = None


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()

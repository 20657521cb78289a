"""The evidence hook of the page pipeline: raw body and WARC for every flagged page, at once.

The page pipeline calls :class:`EvidenceRecorder` for each stored page. For a flagged page (one that
gets a review item or an approval finding) it stores the raw body as fetched and a WARC file of the
request and response, each with its SHA-256, in the same transaction as the page. Both are cheap
and need nothing but the stored capture. The full-page screenshot is slower (a browser), so it is
only *due*: a flagged capture without a screenshot artifact is picked up later by
:func:`pipelines.evidence.screenshots.render_pending`, which renders many captures in one Chromium.
No extra table records "due": the joins below say it.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.orm import Session

from adwatch.db import Database
from adwatch.errors import AdWatchError
from adwatch.models import ApprovalFinding, Artifact, Capture, Document, ReviewItem
from adwatch.settings import Settings
from adwatch.timeutil import iso
from pipelines.evidence.store import (
    ArtifactStore,
    extension_for,
    find_artifact,
    record_artifact,
    sha256_bytes,
)
from pipelines.evidence.warc import WARC_MEDIA_TYPE, build_warc

log = logging.getLogger(__name__)

RAW, WARC, SCREENSHOT = "raw", "warc", "screenshot"
KINDS = (RAW, WARC, SCREENSHOT)


def capture_body(capture: Capture) -> bytes:
    """The raw body as fetched, checked against the SHA-256 taken when it was fetched."""
    try:
        body = zlib.decompress(capture.body)
    except zlib.error as exc:
        raise AdWatchError(
            f"capture {capture.id} ({capture.url}): stored body is not zlib data: {exc}"
        ) from exc
    if capture.sha256 and sha256_bytes(body) != capture.sha256:
        raise AdWatchError(
            f"capture {capture.id} ({capture.url}): stored body does not match the SHA-256 taken at fetch"
            " time; the database row was altered — investigate before making evidence from it"
        )
    return body


def media_type_of(capture: Capture) -> str:
    base = (capture.content_type or "").split(";", 1)[0].strip().lower()
    return base or "application/octet-stream"


def record_raw_and_warc(
    session: Session, store: ArtifactStore, capture: Capture, *, fresh: bool = False
) -> list[Artifact]:
    """Store the raw body and the WARC file of ``capture`` unless they are stored already
    (``fresh``: the capture was stored in this transaction, so they cannot be)."""
    if capture.id is None:
        session.flush()
    made: list[Artifact] = []
    need_raw = fresh or find_artifact(session, capture.id, RAW) is None
    need_warc = fresh or find_artifact(session, capture.id, WARC) is None
    if not (need_raw or need_warc):
        return made
    body = capture_body(capture)
    digest = capture.sha256 or sha256_bytes(body)
    common = {"captured_at": iso(capture.fetched_at), "url": capture.url, "final_url": capture.final_url}
    if need_raw:
        media = media_type_of(capture)
        stored = store.put(body, extension_for(media))
        detail = {
            **common,
            "method": "response body as received by the crawler",
            "encoding": capture.encoding,
        }
        made.append(record_artifact(session, capture, RAW, stored, media, detail, fresh=fresh))
    if need_warc:
        stored = store.put(build_warc(capture, body, digest), ".warc.gz")
        detail = {**common, "method": "WARC/1.1 warcinfo + response + request records (warcio)"}
        made.append(record_artifact(session, capture, WARC, stored, WARC_MEDIA_TYPE, detail, fresh=fresh))
    return made


class EvidenceRecorder:
    """Called by the page pipeline for each stored page: ``recorder(session, capture, document, flagged)``.

    ``screenshot`` is the PNG a browser render took at fetch time (``FetchedPage.screenshot``); when
    given it is stored as the page's screenshot, and no offline render is due. ``fresh``: the
    capture was stored in the caller's transaction (the crawl pipeline), so it has no artifacts yet.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = ArtifactStore(settings.evidence_dir)

    def __call__(
        self,
        session: Session,
        capture: Capture,
        document: Document | None,
        flagged: bool,
        screenshot: bytes | None = None,
        fresh: bool = False,
    ) -> None:
        if not flagged:
            return
        record_raw_and_warc(session, self.store, capture, fresh=fresh)
        if screenshot:
            from pipelines.evidence.screenshots import store_browser_screenshot

            store_browser_screenshot(session, capture, screenshot, settings=self.settings)


def flagged_capture_ids() -> Select[tuple[int]]:
    """Captures whose document got a review item or an approval finding."""
    has_item = exists().where(ReviewItem.document_id == Document.id)
    has_finding = exists().where(ApprovalFinding.document_id == Document.id)
    return select(Document.capture_id).where(or_(has_item, has_finding))


def missing_artifact_ids(session: Session, kind: str, limit: int | None = None) -> Sequence[int]:
    """Flagged captures (or captures already holding evidence) that lack an artifact of ``kind``."""
    has_kind = exists().where(Artifact.capture_id == Capture.id, Artifact.kind == kind)
    has_any = exists().where(Artifact.capture_id == Capture.id)
    query = (
        select(Capture.id)
        .where(or_(Capture.id.in_(flagged_capture_ids()), has_any), ~has_kind)
        .order_by(Capture.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return session.scalars(query).all()


@dataclass
class CaptureResult:
    done: int = 0  # captures that gained a raw body or WARC artifact
    failed: list[str] = field(default_factory=list)  # one message per capture that could not


def capture_missing(db: Database, settings: Settings, limit: int | None = None) -> CaptureResult:
    """Make the raw body and WARC artifacts that flagged captures lack.

    For pages flagged before the evidence hook was wired in, or by a later re-classification.
    One transaction per capture, so one bad row does not undo the others.
    """
    store = ArtifactStore(settings.evidence_dir)
    with db.session() as s:
        ids = sorted(set(missing_artifact_ids(s, RAW, limit)) | set(missing_artifact_ids(s, WARC, limit)))
    result = CaptureResult()
    for capture_id in ids[:limit] if limit is not None else ids:
        try:
            with db.session() as s:
                capture = s.get(Capture, capture_id)
                if capture is not None and record_raw_and_warc(s, store, capture):
                    result.done += 1
        except AdWatchError as exc:
            log.error("evidence for capture %s not made: %s", capture_id, exc)
            result.failed.append(str(exc))
    return result

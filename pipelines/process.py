"""The page pipeline: from a fetched page to stored, grouped, classified and queued rows.

``PagePipeline.process_many(pages)`` runs, per batch:

1. identity — url_key and body SHA-256; pages whose (url_key, sha256) is already stored are
   answered from the database and cost nothing more (a recrawl of unchanged pages, a resumed
   crawl);
2. CPU stages, outside any transaction — decode, extract, contacts, 文号, institutions, credit
   codes, addresses, MinHash signature, and the classifier if one is given;
3. one write transaction — Captures (``ON CONFLICT DO NOTHING``), Documents, evidence hook,
   approval linker, campaign grouping, Classification and ReviewItem rows — then commit.

A page that fails in step 2 still gets its Capture (the raw bytes are evidence) and an error in
its outcome. If the batch transaction fails, each page is retried in its own transaction so
one bad page cannot lose the others; hook failures (linker, evidence) are contained in a
savepoint and reported, never losing the page. Non-HTML bodies (PDF, images) and non-2xx
responses are stored as Captures without a Document and reported as skipped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from adwatch.db import Database
from adwatch.models import Capture, Classification, Document
from adwatch.settings import Settings
from pipelines.campaigns import assign_campaigns
from pipelines.decode import Decoded, decode_body
from pipelines.dedup import TextSignature, body_sha256, text_signature, url_key
from pipelines.extract import Extracted, extract
from pipelines.facts import document_facts
from pipelines.page import FetchedPage
from pipelines.queue import record_fresh_classifications
from pipelines.store import DocRef, compress_body, existing_captures, insert_captures, insert_documents

log = logging.getLogger("adwatch.pipelines")

Linker = Callable[[Session, Document, Any], list[str]]
EvidenceHook = Callable[[Session, Capture, Document | None, bool], Any]

HTML_TYPES = ("text/html", "application/xhtml+xml", "application/xml", "text/xml", "text/plain")
_SNIFF_HTML = (
    b"<!doctype html",
    b"<html",
    b"<head",
    b"<body",
    b"<meta",
    b"<title",
    b"<div",
    b"<p",
    b"<!--",
    b"<?xml",
)
_BINARY_MAGIC = (
    b"%PDF",
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF8",
    b"PK\x03\x04",
    b"RIFF",
    b"\x1f\x8b",
    b"BM",
    b"\x00\x00\x01\x00",
)
RETRIES = 3


@dataclass
class PageOutcome:
    """What happened to one page. ``new`` is False when the same URL and body were stored already."""

    url: str
    capture_id: int | None = None
    document_id: int | None = None
    new: bool = False
    labels: list[str] = field(default_factory=list)
    error: str | None = None  # the page was not (fully) processed: what and why
    skipped: str | None = None  # stored as a Capture only: non-HTML, HTTP error status, empty body
    note: str | None = None  # processed with a caveat, e.g. undecodable bytes replaced
    findings: list[str] = field(default_factory=list)
    campaign_id: int | None = None
    campaign_size: int | None = None
    review_item_id: int | None = None


@dataclass
class _Prepared:
    page: FetchedPage
    outcome: PageOutcome
    url_key: str
    sha256: str
    content_type: str | None
    decoded: Decoded | None = None
    extracted: Extracted | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    signature: TextSignature | None = None
    result: Any = None
    store: bool = True  # write a Capture (False: oversize, nothing to keep)
    # What was inserted, kept so later stages need not load the rows back (with their blobs).
    capture_row: dict[str, Any] = field(default_factory=dict)
    document_row: dict[str, Any] = field(default_factory=dict)


def storable(value: Any) -> Any:
    """Strings (also inside lists and dicts) as every backend stores them: PostgreSQL refuses NUL
    characters, and JSON-LD can smuggle in lone surrogates that no database can encode."""
    if isinstance(value, str):
        if "\x00" in value:
            value = value.replace("\x00", "")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = value.encode("utf-8", "replace").decode("utf-8")
        return value
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable(v) for v in value]
    return value


def content_type_of(headers: dict[str, str]) -> str | None:
    for name, value in headers.items():
        if name.lower() == "content-type" and value:
            return value.split(";", 1)[0].strip().lower()[:200] or None
    return None


def looks_like_html(content_type: str | None, body: bytes) -> bool:
    """HTML by header; with no or a generic header, by the body's first bytes."""
    head = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if any(head.startswith(magic.lower()) for magic in _BINARY_MAGIC):
        return False
    if content_type and content_type not in ("application/octet-stream", "binary/octet-stream"):
        return content_type.startswith(HTML_TYPES) or content_type.endswith("+xml")
    return head.startswith(_SNIFF_HTML) or b"<html" in head


def is_disconnect(exc: BaseException) -> bool:
    """The database went away (restart, network, connection refused), as opposed to refusing a row."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    code = getattr(getattr(exc, "orig", None), "sqlstate", None) or ""
    if code.startswith("08") or code in ("57P01", "57P02", "57P03"):
        return True
    return not code and isinstance(exc, OperationalError) and "connect" in str(exc.orig).lower()


def _is_retryable(exc: BaseException) -> bool:
    """Deadlocks, serialisation failures and SQLite 'database is locked': worth one more try."""
    if isinstance(exc, OperationalError):
        return True
    code = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return code in ("40001", "40P01")


class PagePipeline:
    """Decode → extract → store → group → classify → link approvals → queue → evidence.

    ``classifier``: an object with ``classify(text, title=...)`` (or a callable taking the same),
    returning something with ``labels``, ``scores``, ``evidence``, ``model``.
    ``linker(session, document, result) -> list[finding kinds]``: called for every new Document
    the classifier gave a label (every one without a classifier, ``result`` then None); it writes
    its own ApprovalFinding rows.
    ``evidence(session, capture, document, flagged, screenshot=png)``: called, after classification,
    for every new Capture whose document got any label or approval finding (``flagged`` is then
    True); ``screenshot`` only when the browser took one at fetch time.
    """

    def __init__(
        self,
        db: Database,
        settings: Settings | None = None,
        classifier: Any = None,
        linker: Linker | None = None,
        evidence: EvidenceHook | None = None,
        *,
        batch_size: int = 100,
    ) -> None:
        self.db = db
        self.settings = settings or db.settings
        self.classifier = classifier
        self._classify = None if classifier is None else getattr(classifier, "classify", classifier)
        self.linker = linker
        self.evidence = evidence
        self.batch_size = batch_size
        self.timings: dict[str, float] = {}

    # ---- public ------------------------------------------------------------------------------

    def process(self, page: FetchedPage) -> PageOutcome:
        return self.process_many([page])[0]

    def process_many(self, pages: Iterable[FetchedPage]) -> list[PageOutcome]:
        """Process pages in batches of ``batch_size``; one outcome per page, in order. Never raises
        for a bad page; raises only when the database itself is unusable."""
        pages = list(pages)
        outcomes: list[PageOutcome] = []
        for i in range(0, len(pages), self.batch_size):
            outcomes.extend(self._batch(pages[i : i + self.batch_size]))
        return outcomes

    # ---- stages ------------------------------------------------------------------------------

    def _tick(self, stage: str, started: float) -> float:
        now = time.perf_counter()
        self.timings[stage] = self.timings.get(stage, 0.0) + now - started
        return now

    def _batch(self, pages: Sequence[FetchedPage]) -> list[PageOutcome]:
        t = time.perf_counter()
        items = [self._identify(page) for page in pages]
        t = self._tick("identify", t)
        stored = self._waiting_out_outages(
            lambda: self._existing([(it.url_key, it.sha256) for it in items if it.store])
        )
        for it in items:
            known = stored.get((it.url_key, it.sha256))
            if known is not None:
                it.outcome.capture_id, it.outcome.document_id = known
                it.store = False
        t = self._tick("lookup", t)
        fresh = [it for it in items if it.store]
        for it in fresh:
            self._prepare(it)
        t = self._tick("prepare", t)
        if self.classifier is not None:
            self._classify_all([it for it in fresh if it.extracted is not None and it.extracted.text])
            self._tick("classify", t)
        if fresh:
            self._write_with_retries(fresh)
        self._fill_known(items)
        return [it.outcome for it in items]

    def _existing(self, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, int | None]]:
        with self.db.session() as session:
            return existing_captures(session, pairs)

    def _waiting_out_outages(self, read: Callable[[], Any]) -> Any:
        """``read()``, retried with a growing back-off while the database is unreachable (up to
        ``settings.database_outage_seconds``); other errors, and a longer outage, raise."""
        started = time.monotonic()
        tries = 0
        while True:
            try:
                return read()
            except DBAPIError as exc:
                if (
                    not is_disconnect(exc)
                    or time.monotonic() - started >= self.settings.database_outage_seconds
                ):
                    raise
                pause = min(30.0, 0.5 * 2**tries)
                tries += 1
                log.warning("database unreachable (%s); retrying in %.1f s", type(exc.orig).__name__, pause)
                time.sleep(pause)

    def _identify(self, page: FetchedPage) -> _Prepared:
        outcome = PageOutcome(url=page.url)
        it = _Prepared(
            page, outcome, url_key(page.url), body_sha256(page.body), content_type_of(page.headers)
        )
        limit = self.settings.download_maxsize
        if limit and len(page.body) > limit:
            outcome.error = (
                f"body of {len(page.body)} bytes exceeds the size limit of {limit} bytes "
                f"(ADWATCH_DOWNLOAD_MAXSIZE); not stored: {page.url}"
            )
            it.store = False
            log.warning("%s", outcome.error)
        return it

    def _prepare(self, it: _Prepared) -> None:
        """The CPU stages. Any failure is recorded on the outcome; the Capture is still written."""
        page, outcome = it.page, it.outcome
        if not page.body:
            outcome.skipped = "empty body"
            return
        if not 200 <= page.status < 300:
            outcome.skipped = f"HTTP status {page.status}"
            return
        if not looks_like_html(it.content_type, page.body):
            outcome.skipped = f"not HTML ({it.content_type or 'unknown content type'})"
            return
        try:
            t = time.perf_counter()
            it.decoded = decode_body(page.body, page.headers, page.url)
            t = self._tick("decode", t)
            if it.decoded.replaced:
                log.info("%s: %d undecodable bytes replaced", page.url, it.decoded.replaced)
                outcome.note = (
                    f"{it.decoded.replaced} undecodable bytes replaced (decoded as {it.decoded.encoding}, "
                    f"{it.decoded.how})"
                )
            it.extracted = extract(
                it.decoded.text,
                page.final_url or page.url,
                now=page.fetched_at,
                max_text_chars=self.settings.max_text_chars,
            )
            t = self._tick("extract", t)
            text = it.extracted.text
            it.facts = document_facts(text)
            t = self._tick("facts", t)
            it.signature = text_signature(text)
            self._tick("signature", t)
        except Exception as exc:  # a hostile page must not stop the crawl
            log.exception("processing %s failed", page.url)
            outcome.error = f"could not process {page.url}: {type(exc).__name__}: {exc}"
            it.extracted = None
            it.result = None

    def _classify_all(self, items: list[_Prepared]) -> None:
        """One ``classify_many`` call for the batch when the classifier has it (its lexicon and
        feature stages work on many texts at once); a page it fails on is classified alone, so
        one hostile text costs only its own labels."""
        texts = [(it.extracted.text, it.extracted.title) for it in items]  # type: ignore[union-attr]
        many = getattr(self.classifier, "classify_many", None)
        if many is not None:
            try:
                for it, result in zip(items, many(texts), strict=True):
                    it.result = result
                return
            except Exception:
                log.exception(
                    "classifying a batch of %d pages failed; classifying them one by one", len(items)
                )
        for it, (text, title) in zip(items, texts, strict=True):
            try:
                it.result = self._classify(text, title=title)
            except Exception as exc:
                log.exception("classifying %s failed", it.page.url)
                it.outcome.error = f"could not classify {it.page.url}: {type(exc).__name__}: {exc}"
                it.result = None

    # ---- writing -----------------------------------------------------------------------------

    def _write_with_retries(self, items: list[_Prepared]) -> None:
        """One transaction for the batch; conflicts are retried, other failures split the batch.

        While the database is unreachable the batch waits with a growing back-off, up to
        ``settings.database_outage_seconds``: the crawl stalls behind it and resumes when the
        database returns, instead of dropping the pages fetched meanwhile.
        """
        reason = ""
        attempt = 0
        outage_started: float | None = None
        outage_tries = 0
        while attempt < RETRIES:
            try:
                with self.db.writing() as session:
                    self._write(session, items)
                if outage_started is not None:
                    log.warning("database is back after %.0f s", time.monotonic() - outage_started)
                return
            except Exception as exc:  # the database said no: retry, or isolate the page at fault
                self._reset(items)
                origin = getattr(exc, "orig", None) or exc
                reason = f"{type(origin).__name__}: {str(origin).strip().splitlines()[0] if str(origin).strip() else ''}"
                if is_disconnect(exc):
                    now = time.monotonic()
                    outage_started = outage_started or now
                    waited = now - outage_started
                    if waited < self.settings.database_outage_seconds:
                        pause = min(30.0, 0.5 * 2**outage_tries)
                        outage_tries += 1
                        log.warning(
                            "database unreachable (%s); %d pages wait, retrying in %.1f s",
                            reason,
                            len(items),
                            pause,
                        )
                        time.sleep(pause)
                        continue
                    log.error("database unreachable for %.0f s; giving up on %d pages", waited, len(items))
                    for it in items:
                        it.outcome.error = f"could not store {it.page.url}: database unreachable ({reason})"
                    return
                attempt += 1
                if isinstance(exc, DBAPIError) and _is_retryable(exc) and attempt < RETRIES:
                    log.warning("batch write conflict (%s), retrying", reason)
                    time.sleep(0.05 * attempt)
                    continue
                log.warning("writing a batch of %d pages failed (%s)", len(items), reason, exc_info=True)
                break
        if len(items) == 1:
            it = items[0]
            it.outcome.error = (
                it.outcome.error or f"could not store {it.page.url}: database write failed ({reason})"
            )
            log.error("%s", it.outcome.error)
            return
        for it in items:
            self._write_with_retries([it])

    @staticmethod
    def _reset(items: list[_Prepared]) -> None:
        for it in items:
            o = it.outcome
            o.capture_id = o.document_id = o.campaign_id = o.campaign_size = o.review_item_id = None
            o.new = False
            o.findings = []
            o.labels = []

    def _write(self, session: Session, items: list[_Prepared]) -> None:
        t = time.perf_counter()
        rows = []
        for it in items:
            page = it.page
            it.capture_row = {
                "source_id": page.source_id,
                "run_id": page.run_id,
                "url": storable(page.url[:8000]),
                "url_key": it.url_key,
                "final_url": storable((page.final_url or page.url)[:8000]),
                "status": page.status,
                "headers": storable(dict(page.headers)),
                "request_headers": storable(dict(page.request_headers)),
                "fetched_at": page.fetched_at,
                "content_type": it.content_type,
                "encoding": it.decoded.encoding if it.decoded else None,
                "render": page.render,
                "body": compress_body(page.body),
                "body_size": len(page.body),
                "sha256": it.sha256,
            }
            rows.append(it.capture_row)
        inserted = insert_captures(session, rows)
        doc_rows = []
        mine: list[_Prepared] = []
        owners: dict[int, _Prepared] = {}
        for it in items:
            cid = inserted.get((it.url_key, it.sha256))
            if cid is None or cid in owners:
                continue  # stored meanwhile by another writer, or repeated in this batch
            owners[cid] = it
            it.outcome.capture_id, it.outcome.new = cid, True
            mine.append(it)
            if it.extracted is not None and it.outcome.error is None:
                it.document_row = self._document_row(it, cid)
                doc_rows.append(it.document_row)
        doc_ids = insert_documents(session, doc_rows)
        for it in mine:
            it.outcome.document_id = doc_ids.get(it.outcome.capture_id)
        t = self._tick("store", t)

        with_docs = [it for it in mine if it.outcome.document_id is not None]
        if self.linker is not None:
            # Approval findings concern advertisements: a document the classifier gave no label
            # cannot have any, and skipping it saves the linker's statements on most pages.
            for it in with_docs:
                if it.result is None or it.result.labels:
                    it.outcome.findings = self._run_linker(session, it)
            t = self._tick("link", t)

        groups = assign_campaigns(
            session, [(it.outcome.document_id, it.signature) for it in with_docs if it.signature is not None]
        )
        for it in with_docs:
            group = groups.get(it.outcome.document_id)
            if group is not None:
                it.outcome.campaign_id, it.outcome.campaign_size = group.campaign_id, group.size
        t = self._tick("group", t)

        classified = [it for it in with_docs if it.result is not None]
        item_ids = record_fresh_classifications(
            session,
            [
                (self._ref(it), it.result, it.outcome.findings, it.outcome.campaign_size or 1)
                for it in classified
            ],
        )
        for it, item_id in zip(classified, item_ids, strict=True):
            it.outcome.review_item_id = item_id
            it.outcome.labels = list(it.result.labels)  # type: ignore[union-attr]
        t = self._tick("queue", t)

        if self.evidence is not None:
            for it in mine:
                self._run_evidence(session, it)
            self._tick("evidence", t)

    def _document_row(self, it: _Prepared, capture_id: int) -> dict[str, Any]:
        page, ex = it.page, it.extracted
        assert ex is not None
        return {
            "capture_id": capture_id,
            "source_id": page.source_id,
            "url": storable(page.url[:8000]),
            "url_key": it.url_key,
            "final_url": storable((page.final_url or page.url)[:8000]),
            "fetched_at": page.fetched_at,
            "title": storable(ex.title),
            "text": storable(ex.text),
            "published_at": ex.published_at,
            "author": storable(ex.author),
            "platform": storable(urlsplit(page.final_url or page.url).hostname or None),
            "links": storable(ex.links),
            "simhash": it.signature.fingerprint if it.signature else None,
            **storable(it.facts),
        }

    def _ref(self, it: _Prepared) -> DocRef:
        ex = it.extracted
        return DocRef(
            id=it.outcome.document_id or 0,
            capture_id=it.outcome.capture_id or 0,
            source_id=it.page.source_id,
            url=it.page.url,
            title=ex.title if ex else None,
            fetched_at=it.page.fetched_at,
            campaign_id=it.outcome.campaign_id,
        )

    @staticmethod
    def _transient(model: type[Any], row: dict[str, Any], row_id: int | None) -> Any:
        """The row just inserted, as an object outside the session: the hooks read its fields
        without a SELECT of the stored row (and its body blob), and nothing is written through it."""
        return model(id=row_id, **row)

    def _run_linker(self, session: Session, it: _Prepared) -> list[str]:
        assert self.linker is not None
        document = self._transient(Document, it.document_row, it.outcome.document_id)
        try:
            with session.begin_nested():
                return list(self.linker(session, document, it.result) or [])
        except Exception as exc:
            log.exception("approval linking failed for %s", it.page.url)
            it.outcome.note = _join(it.outcome.note, f"approval linking failed: {type(exc).__name__}: {exc}")
            return []

    def _run_evidence(self, session: Session, it: _Prepared) -> None:
        assert self.evidence is not None
        if not (it.outcome.labels or it.outcome.findings):
            return  # evidence is kept for flagged pages only; loading rows for the rest costs ~1 ms
        capture = self._transient(Capture, it.capture_row, it.outcome.capture_id)
        document = (
            self._transient(Document, it.document_row, it.outcome.document_id)
            if it.outcome.document_id
            else None
        )
        try:
            with session.begin_nested():
                if it.page.screenshot:
                    self.evidence(session, capture, document, True, screenshot=it.page.screenshot)
                else:
                    self.evidence(session, capture, document, True)
        except Exception as exc:
            log.exception("evidence capture failed for %s", it.page.url)
            it.outcome.note = _join(it.outcome.note, f"evidence capture failed: {type(exc).__name__}: {exc}")

    def _fill_known(self, items: list[_Prepared]) -> None:
        """Ids and labels (latest Classification) of pages another writer or an earlier batch stored."""
        lost = [it for it in items if it.store and not it.outcome.new and it.outcome.error is None]
        if lost:
            with self.db.session() as session:
                stored = existing_captures(session, [(it.url_key, it.sha256) for it in lost])
            for it in lost:
                if (it.url_key, it.sha256) in stored:
                    it.outcome.capture_id, it.outcome.document_id = stored[(it.url_key, it.sha256)]
                    it.outcome.skipped = None
        known = [it for it in items if not it.outcome.new and it.outcome.document_id]
        if not known:
            return
        with self.db.session() as session:
            for it in known:
                labels = session.scalar(
                    select(Classification.labels)
                    .where(Classification.document_id == it.outcome.document_id)
                    .order_by(Classification.id.desc())
                    .limit(1)
                )
                it.outcome.labels = list(labels or [])


def _join(a: str | None, b: str) -> str:
    return f"{a}; {b}" if a else b

"""The evidence list: one row per review item, in the columns enforcement teams use (DOMAIN.md).

Rows are read in chunks of review items (keyset pagination on the item id) with every related
table loaded per chunk, so a list of 100,000 items streams in constant memory and a few queries
per chunk. A row carries its artifacts (screenshot, raw page, WARC) so a bundle can copy them.
Times are shown in China time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from adwatch.errors import AdWatchError
from adwatch.exports.disposition import disposition
from adwatch.exports.filters import STATUS_ZH, ExportFilters
from adwatch.labels import FINDINGS, LEGAL_BASIS_BY_KEY, label_zh
from adwatch.models import (
    ApprovalFinding,
    ApprovalRecord,
    Artifact,
    Classification,
    Decision,
    Document,
    ReviewItem,
    Source,
    User,
)
from adwatch.timeutil import fmt_china
from pipelines.approval_numbers import normalize_approval_number
from pipelines.evidence.store import checked_path

CHUNK = 500
MAX_EXCERPTS = 5
MAX_EXCERPT_CHARS = 80

# (header, column width in characters) — the order of the list.
COLUMNS: tuple[tuple[str, int], ...] = (
    ("序号", 6),
    ("当事人/机构名称", 28),
    ("统一社会信用代码", 22),
    ("地址", 30),
    ("发布平台/账号", 24),
    ("页面标题", 36),
    ("URL", 48),
    ("发现时间", 20),
    ("截图文件", 40),
    ("违法事实", 70),
    ("违法类型", 26),
    ("法律依据", 50),
    ("处罚依据", 26),
    ("审查证明文号及核验结果", 42),
    ("处理建议", 44),
    ("移送部门", 20),
    ("审核人", 12),
    ("审核时间", 20),
    ("SHA-256", 76),
    ("审核状态", 10),
)
HEADERS: tuple[str, ...] = tuple(name for name, _ in COLUMNS)
WRAPPED: frozenset[str] = frozenset({"违法事实", "法律依据", "审查证明文号及核验结果", "处理建议", "SHA-256"})
ARTIFACT_ZH = {"screenshot": "截图", "raw": "网页源码", "warc": "WARC"}


@dataclass(frozen=True)
class ArtifactFile:
    """A stored evidence file of the item's capture."""

    kind: str
    path: str  # absolute, under the evidence directory
    relative: str  # as stored in the Artifact row
    sha256: str
    size: int
    media_type: str
    created_at: dt.datetime
    tool: str = ""  # the renderer that made a screenshot, for the extraction record


@dataclass
class EvidenceRow:
    item_id: int
    capture_id: int
    status: str
    url: str
    title: str
    fetched_at: dt.datetime
    institution: str
    credit_code: str
    address: str
    platform_account: str
    facts: str
    violation_types: str
    legal_basis: str
    penalty_basis: str
    approval_check: str
    suggestion: str
    transfer_to: str
    reviewer: str
    reviewed_at: dt.datetime | None
    labels: list[str]
    source: str
    artifacts: dict[str, ArtifactFile] = field(default_factory=dict)
    seq: int = 0

    def hashes_text(self) -> str:
        return "\n".join(
            f"{ARTIFACT_ZH[kind]} {self.artifacts[kind].sha256}"
            for kind in ("screenshot", "raw", "warc")
            if kind in self.artifacts
        )

    def cells(self, screenshot_name: str) -> list[Any]:
        """The row's values in :data:`COLUMNS` order; ``screenshot_name`` as the list should cite it."""
        return [
            self.seq,
            self.institution,
            self.credit_code,
            self.address,
            self.platform_account,
            self.title,
            self.url,
            fmt_china(self.fetched_at),
            screenshot_name,
            self.facts,
            self.violation_types,
            self.legal_basis,
            self.penalty_basis,
            self.approval_check,
            self.suggestion,
            self.transfer_to,
            self.reviewer,
            fmt_china(self.reviewed_at),
            self.hashes_text(),
            STATUS_ZH.get(self.status, self.status),
        ]


def _join(values: Iterable[Any], sep: str = "；") -> str:
    seen: dict[str, None] = {}
    for value in values:
        text = str(value).strip() if value is not None else ""
        if text:
            seen.setdefault(text, None)
    return sep.join(seen)


def _texts(values: Sequence[Any] | None, *keys: str) -> list[str]:
    """Strings from a JSON list whose entries are strings or objects (the first of ``keys`` present)."""
    out = []
    for value in values or []:
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, dict):
            out.extend(str(value[k]) for k in keys[:1] if value.get(k))
            if not value.get(keys[0]):
                out.extend([str(value[k]) for k in keys[1:] if value.get(k)][:1])
    return out


def _number_key(number: str) -> str:
    try:
        return normalize_approval_number(number)
    except ValueError:
        return number.strip()


def resolve_source(session: Session, name: str) -> int:
    """A source's id from its name (or its id written as a number)."""
    found = session.scalar(select(Source.id).where(Source.name == name))
    if found is None and name.isdigit():
        found = session.scalar(select(Source.id).where(Source.id == int(name)))
    if found is None:
        known = ", ".join(session.scalars(select(Source.name).order_by(Source.name).limit(20)))
        raise AdWatchError(f"unknown source {name!r}" + (f": known sources are {known}" if known else ""))
    return found


@dataclass
class _Chunk:
    """Everything a chunk of items refers to, loaded in one query per table."""

    docs: dict[int, Any]  # rows of columns, not ORM objects: cheaper, and nothing to expunge
    decisions: dict[int, Any]
    evidence: dict[int, list[Any]]
    findings: dict[int, list[Any]]
    records: dict[int, Any]
    artifacts: dict[int, dict[str, Any]]


class RowReader:
    """Reads evidence rows for :class:`ExportFilters`, chunk by chunk."""

    def __init__(
        self, session: Session, filters: ExportFilters, evidence_dir: Path, chunk: int = CHUNK
    ) -> None:
        self.session = session
        self.filters = filters
        self.evidence_dir = evidence_dir
        self.chunk = chunk
        self.source_id = resolve_source(session, filters.source) if filters.source else None
        self._users: dict[int, str] = {}
        self._sources: dict[int, str] = dict(session.execute(select(Source.id, Source.name)).all())
        self._root = str(evidence_dir)

    def __iter__(self) -> Iterator[EvidenceRow]:
        seq = 0
        last_id = 0
        while True:
            items = self._items(last_id)
            if not items:
                return
            last_id = items[-1].id
            loaded = self._load(items)
            for item in items:
                row = self._row(item, loaded)
                if row is None or not self._wanted(row):
                    continue
                seq += 1
                row.seq = seq
                yield row

    def _items(self, after: int) -> Sequence[Any]:
        f = self.filters
        query = select(
            ReviewItem.id,
            ReviewItem.document_id,
            ReviewItem.source_id,
            ReviewItem.status,
            ReviewItem.labels,
            ReviewItem.url,
            ReviewItem.title,
            ReviewItem.captured_at,
        ).where(ReviewItem.status.in_(f.statuses), ReviewItem.id > after)
        if self.source_id is not None:
            query = query.where(ReviewItem.source_id == self.source_id)
        if f.since is not None:
            query = query.where(ReviewItem.captured_at >= f.since)
        if f.until is not None:
            query = query.where(ReviewItem.captured_at < f.until)
        return self.session.execute(query.order_by(ReviewItem.id).limit(self.chunk)).all()

    def _load(self, items: Sequence[Any]) -> _Chunk:
        s = self.session
        item_ids = [i.id for i in items]
        doc_ids = [i.document_id for i in items]
        docs = {
            d.id: d
            for d in s.execute(
                select(
                    Document.id,
                    Document.capture_id,
                    Document.url,
                    Document.final_url,
                    Document.fetched_at,
                    Document.title,
                    Document.author,
                    Document.platform,
                    Document.institutions,
                    Document.credit_codes,
                    Document.addresses,
                    Document.approval_numbers,
                ).where(Document.id.in_(doc_ids))
            )
        }
        decisions: dict[int, Any] = {}
        for decision in s.execute(
            select(
                Decision.item_id,
                Decision.user_id,
                Decision.labels,
                Decision.legal_basis,
                Decision.note,
                Decision.created_at,
            )
            .where(Decision.item_id.in_(item_ids))
            .order_by(Decision.created_at, Decision.id)
        ):
            decisions[decision.item_id] = decision  # the latest wins
        evidence: dict[int, list[Any]] = {}
        for doc_id, ev in s.execute(
            select(Classification.document_id, Classification.evidence)
            .where(Classification.document_id.in_(doc_ids))
            .order_by(Classification.created_at, Classification.id)
        ):
            evidence[doc_id] = ev or []
        findings: dict[int, list[Any]] = {}
        for finding in s.execute(
            select(
                ApprovalFinding.document_id,
                ApprovalFinding.kind,
                ApprovalFinding.number,
                ApprovalFinding.record_id,
                ApprovalFinding.detail,
            )
            .where(ApprovalFinding.document_id.in_(doc_ids))
            .order_by(ApprovalFinding.id)
        ):
            findings.setdefault(finding.document_id, []).append(finding)
        record_ids = {f.record_id for fs in findings.values() for f in fs if f.record_id}
        records = (
            {
                r.id: r
                for r in s.execute(
                    select(ApprovalRecord.id, ApprovalRecord.institution, ApprovalRecord.valid_to).where(
                        ApprovalRecord.id.in_(record_ids)
                    )
                )
            }
            if record_ids
            else {}
        )
        capture_ids = [d.capture_id for d in docs.values()]
        artifacts: dict[int, dict[str, Any]] = {}
        for artifact in s.execute(
            select(
                Artifact.capture_id,
                Artifact.kind,
                Artifact.path,
                Artifact.sha256,
                Artifact.size,
                Artifact.media_type,
                Artifact.created_at,
                Artifact.detail,
            ).where(Artifact.capture_id.in_(capture_ids))
        ):
            artifacts.setdefault(artifact.capture_id, {})[artifact.kind] = artifact
        missing_users = {d.user_id for d in decisions.values()} - set(self._users)
        if missing_users:
            self._users.update(s.execute(select(User.id, User.name).where(User.id.in_(missing_users))).all())
        return _Chunk(docs, decisions, evidence, findings, records, artifacts)

    def _row(self, item: Any, c: _Chunk) -> EvidenceRow | None:
        doc = c.docs.get(item.document_id)
        if doc is None:
            return None
        decision = c.decisions.get(item.id)
        decided = decision is not None and item.status in ("confirmed", "rejected")
        labels = list(decision.labels) if decided and decision.labels else list(item.labels or [])
        findings = c.findings.get(doc.id, [])
        kinds = list(dict.fromkeys([f.kind for f in findings] + [lab for lab in labels if lab in FINDINGS]))
        violation = [lab for lab in labels if lab != "medical_ad" and lab not in FINDINGS]
        types = [label_zh(lab) for lab in violation] + [FINDINGS.get(k, k) for k in kinds]
        if not types and "medical_ad" in labels:
            types = [label_zh("medical_ad")]
        bases = (
            [LEGAL_BASIS_BY_KEY[k] for k in (decision.legal_basis or []) if k in LEGAL_BASIS_BY_KEY]
            if decided
            else []
        )
        suggestion, transfer = disposition(item.status, violation + kinds)
        artifacts = {
            kind: ArtifactFile(
                kind,
                checked_path(self._root, a.path, a.sha256),
                a.path,
                a.sha256,
                a.size,
                a.media_type,
                a.created_at,
                str((a.detail or {}).get("renderer") or ""),
            )
            for kind, a in c.artifacts.get(doc.capture_id, {}).items()
        }
        return EvidenceRow(
            item_id=item.id,
            capture_id=doc.capture_id,
            status=item.status,
            url=doc.final_url or doc.url or item.url,
            title=doc.title or item.title or "",
            fetched_at=doc.fetched_at or item.captured_at,
            institution=self._institution(doc, findings, c.records),
            credit_code=_join(_texts(doc.credit_codes, "code", "value", "text"), "、"),
            address=_join(_texts(doc.addresses, "address", "value", "text"), "、"),
            platform_account=_join([doc.platform, doc.author], " / "),
            facts=self._facts(
                item.status,
                violation,
                c.evidence.get(doc.id, []),
                findings,
                c.records,
                decision if decided else None,
            ),
            violation_types="、".join(dict.fromkeys(types)),
            legal_basis=_join(b.articles for b in bases),
            penalty_basis=_join(b.penalty for b in bases),
            approval_check=self._approval_check(doc, findings, c.records),
            suggestion=suggestion,
            transfer_to=transfer,
            reviewer=self._users.get(decision.user_id, "") if decided and decision else "",
            reviewed_at=decision.created_at if decided and decision else None,
            labels=list(dict.fromkeys(labels + kinds)),
            source=self._sources.get(item.source_id, "") if item.source_id else "",
            artifacts=artifacts,
        )

    def _wanted(self, row: EvidenceRow) -> bool:
        f = self.filters
        if f.label and f.label not in row.labels:
            return False
        return not (f.institution and f.institution.casefold() not in row.institution.casefold())

    @staticmethod
    def _institution(doc: Any, findings: list[Any], records: dict[int, Any]) -> str:
        names = _texts(doc.institutions, "name", "value", "text")
        if not names:
            names = [records[f.record_id].institution for f in findings if f.record_id in records]
        return _join(names, "、")

    @staticmethod
    def _facts(
        status: str,
        violation: list[str],
        evidence: list[Any],
        findings: list[Any],
        records: dict[int, Any],
        decision: Any,
    ) -> str:
        parts = []
        how = "经审核认定" if status == "confirmed" else "经模型识别，待审核"
        for label in violation:
            texts = (
                str(e.get("text") or "").strip()
                for e in evidence
                if isinstance(e, dict) and e.get("label") == label
            )
            excerpts = [t[:MAX_EXCERPT_CHARS] for t in dict.fromkeys(texts) if t][:MAX_EXCERPTS]
            quoted = "、".join(f"“{t}”" for t in excerpts)
            parts.append(f"【{label_zh(label)}】" + (f"页面含{quoted}" if quoted else how))
        for finding in findings:
            parts.append(f"【{FINDINGS.get(finding.kind, finding.kind)}】{_finding_text(finding, records)}")
        if decision is not None and decision.note:
            parts.append(f"审核意见：{decision.note.strip()}")
        return "；".join(parts)

    @staticmethod
    def _approval_check(doc: Any, findings: list[Any], records: dict[int, Any]) -> str:
        parts = []
        flagged = set()
        for finding in findings:
            if finding.number:
                flagged.add(_number_key(finding.number))
                parts.append(f"{finding.number}：{FINDINGS.get(finding.kind, finding.kind)}")
            elif finding.kind == "approval_missing":
                parts.append("页面未标注审查证明文号")
        for number in _texts(doc.approval_numbers, "raw", "number", "text", "key"):
            if _number_key(number) not in flagged:
                parts.append(f"{number}：与审查证明记录一致")
                flagged.add(_number_key(number))
        return _join(parts)


def _finding_text(finding: Any, records: dict[int, Any]) -> str:
    record = records.get(finding.record_id) if finding.record_id else None
    number = f"“{finding.number}”" if finding.number else ""
    if finding.kind == "approval_missing":
        return "页面发布医疗美容广告，未标注医疗广告审查证明文号"
    if finding.kind == "approval_unknown":
        return f"页面所示文号{number}在审查证明记录中查无此号"
    if finding.kind == "approval_expired" and record is not None and record.valid_to:
        return f"文号{number}有效期至{record.valid_to:%Y-%m-%d}，页面发现时已过期"
    if finding.kind == "approval_mismatch" and record is not None:
        return f"文号{number}核准机构为“{record.institution}”，与页面发布主体或内容不符"
    reason = (finding.detail or {}).get("reason") or (finding.detail or {}).get("message")
    return f"文号{number}" + (f"：{reason}" if reason else "")

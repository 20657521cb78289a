"""Approval linking: match the 文号 a document cites to 《医疗广告审查证明》 records, and say what is wrong.

Findings (DESIGN.md, DOMAIN.md):

Only documents the classifier labels ``medical_ad`` get findings:

- ``approval_missing``: a medical ad that cites no number.
- ``approval_unknown``: a cited number that no imported record has.
- ``approval_expired``: captured (China date of ``document.fetched_at``) outside the record's validity.
- ``approval_mismatch``: the record is for another institution (the ad names a different one, or
  names none), the ad sits in another province than the issuer, or the ad's text departs from
  the approved copy (审查内容) by more than :data:`NOVELTY_THRESHOLD`.

Numbers are matched by their normalised key (``pipelines.approval_numbers``), which keeps the
issuer prefix, so a Beijing number never matches a Shanghai record. The pipeline calls
:func:`link_document` for every document; ``approvals import`` calls :func:`relink_all`.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from adwatch.labels import VIOLATION_LABELS
from adwatch.models import (
    ApprovalFinding,
    ApprovalRecord,
    Classification,
    Document,
    ReviewItem,
    ReviewItemLabel,
)
from adwatch.timeutil import to_china
from pipelines.approval_numbers import province_of
from pipelines.review_queue import compute_priority

# Share of the ad's character bigrams (after masking digits and URLs, so an updated phone or
# address number is harmless) that the approved copy does not contain. Harmless edits (a new
# phone, a removed sentence, a renamed street) stay under 0.06 in the tests; one added claim
# sentence in a short ad is above 0.15. MIN_NOVEL_BIGRAMS keeps a single changed word in a very
# short ad from counting.
NOVELTY_THRESHOLD = 0.15
MIN_NOVEL_BIGRAMS = 8

PROVINCE_NAMES = (
    "北京",
    "天津",
    "上海",
    "重庆",
    "河北",
    "山西",
    "辽宁",
    "吉林",
    "黑龙江",
    "江苏",
    "浙江",
    "安徽",
    "福建",
    "江西",
    "山东",
    "河南",
    "湖北",
    "湖南",
    "广东",
    "广西",
    "海南",
    "四川",
    "贵州",
    "云南",
    "西藏",
    "陕西",
    "甘肃",
    "青海",
    "宁夏",
    "新疆",
    "内蒙古",
)
CITY_PROVINCE = {
    "广州": "广东",
    "深圳": "广东",
    "东莞": "广东",
    "佛山": "广东",
    "珠海": "广东",
    "汕头": "广东",
    "惠州": "广东",
    "成都": "四川",
    "绵阳": "四川",
    "杭州": "浙江",
    "宁波": "浙江",
    "温州": "浙江",
    "南京": "江苏",
    "苏州": "江苏",
    "无锡": "江苏",
    "常州": "江苏",
    "武汉": "湖北",
    "长沙": "湖南",
    "郑州": "河南",
    "济南": "山东",
    "青岛": "山东",
    "烟台": "山东",
    "潍坊": "山东",
    "石家庄": "河北",
    "太原": "山西",
    "沈阳": "辽宁",
    "大连": "辽宁",
    "长春": "吉林",
    "哈尔滨": "黑龙江",
    "合肥": "安徽",
    "福州": "福建",
    "厦门": "福建",
    "南昌": "江西",
    "南宁": "广西",
    "海口": "海南",
    "三亚": "海南",
    "贵阳": "贵州",
    "昆明": "云南",
    "拉萨": "西藏",
    "西安": "陕西",
    "兰州": "甘肃",
    "西宁": "青海",
    "银川": "宁夏",
    "乌鲁木齐": "新疆",
    "呼和浩特": "内蒙古",
}
_PLACES = sorted([*PROVINCE_NAMES, *CITY_PROVINCE], key=len, reverse=True)
_PLACE_RE = re.compile("|".join(map(re.escape, _PLACES)))
_URL_RE = re.compile(r"(?:https?://|www\.)[^\s，。；、）)]+", re.IGNORECASE)
_DIGITS_RE = re.compile(r"\d+")
_KEEP_RE = re.compile(r"[^0-9a-z\u3400-\u9fff]+")
_ORG_SUFFIX_RE = re.compile(r"(有限责任公司|股份有限公司|有限公司|分公司)$")


def first_province(text: str | None) -> str | None:
    """The province of the first place name in an address (addresses start with it)."""
    if not text:
        return None
    m = _PLACE_RE.search(unicodedata.normalize("NFKC", text))
    if m is None:
        return None
    return CITY_PROVINCE.get(m.group(0), m.group(0))


def leading_province(name: str) -> str | None:
    """The province an institution's name starts with (上海美莱… → 上海), if any."""
    m = _PLACE_RE.match(unicodedata.normalize("NFKC", name).strip())
    return CITY_PROVINCE.get(m.group(0), m.group(0)) if m else None


def comparable(text: str) -> str:
    """Text for comparison: full-width folded, lower case, URLs and digit runs masked, no punctuation."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _URL_RE.sub("网址", text)
    text = _DIGITS_RE.sub("0", text)
    return _KEEP_RE.sub("", text)


def novelty(ad_text: str, approved: str) -> tuple[float, int]:
    """Share (and count) of the ad's character bigrams that the approved copy lacks.

    Asymmetric on purpose: removing approved sentences is harmless (DOMAIN.md), adding claims is not.
    """
    ad, ok = comparable(ad_text), comparable(approved)
    grams = [ad[i : i + 2] for i in range(len(ad) - 1)]
    if not grams:
        return 0.0, 0
    approved_grams = {ok[i : i + 2] for i in range(len(ok) - 1)}
    novel = sum(1 for g in grams if g not in approved_grams)
    return novel / len(grams), novel


def institution_key(name: str) -> str:
    return _ORG_SUFFIX_RE.sub("", comparable(name))


def institution_core(name: str) -> str:
    """The name without its leading place (北京市美莱医疗美容门诊部 → 美莱医疗美容门诊部)."""
    key = institution_key(name)
    m = _PLACE_RE.match(key)
    if m:
        key = key[m.end() :]
        key = key[1:] if key[:1] in ("省", "市") else key
    return key


def same_institution(a: str, b: str) -> bool:
    """One name contains the other after folding, or both name the same institution in the same place.

    北京美莱医疗美容门诊部 ~ 美莱医疗美容门诊部 ~ 北京市美莱医疗美容门诊部, but never ~ 上海美莱医疗美容门诊部.
    """
    ka, kb = institution_key(a), institution_key(b)
    if not ka or not kb:
        return False
    if ka in kb or kb in ka:
        return True
    pa, pb = leading_province(a), leading_province(b)
    if pa and pb and pa != pb:
        return False
    ca, cb = institution_core(a), institution_core(b)
    return bool(ca and cb) and (ca in cb or cb in ca)


@dataclass(frozen=True)
class CitedNumber:
    raw: str
    key: str
    region: str

    @property
    def province(self) -> str | None:
        return province_of(self.region)


@dataclass
class Assessment:
    """What one cited number says about a document."""

    cited: CitedNumber
    record: ApprovalRecord | None
    kinds: list[str] = field(default_factory=list)  # finding kinds, empty when all is well
    reasons: list[str] = field(default_factory=list)  # mismatch reasons: institution, province, content
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.kinds


def cited_numbers(document: Document) -> list[CitedNumber]:
    """The distinct numbers ``document.approval_numbers`` holds (as the extraction found them)."""
    seen: dict[str, CitedNumber] = {}
    for entry in document.approval_numbers or []:
        if not isinstance(entry, dict) or not entry.get("key"):
            continue
        key = str(entry["key"])
        seen.setdefault(key, CitedNumber(str(entry.get("raw") or key), key, str(entry.get("region") or "")))
    return list(seen.values())


def captured_on(document: Document) -> dt.date:
    return to_china(document.fetched_at).date()


def assess(session: Session, document: Document) -> list[Assessment]:
    """One assessment per cited number, each with its record (if any) and findings."""
    cited = cited_numbers(document)
    if not cited:
        return []
    records = {
        r.number_key: r
        for r in session.scalars(
            select(ApprovalRecord).where(ApprovalRecord.number_key.in_([c.key for c in cited]))
        )
    }
    return [_assess_one(document, c, records.get(c.key), cited) for c in cited]


def _without(text: str, parts: Iterable[str]) -> str:
    for part in parts:
        if part:
            text = text.replace(part, " ")
    return text


def _assess_one(
    document: Document, cited: CitedNumber, record: ApprovalRecord | None, all_cited: list[CitedNumber]
) -> Assessment:
    result = Assessment(cited, record)
    if record is None:
        result.kinds.append("approval_unknown")
        result.detail = {"key": cited.key}
        return result
    day = captured_on(document)
    if (record.valid_from and day < record.valid_from) or (record.valid_to and day > record.valid_to):
        result.kinds.append("approval_expired")
        result.detail.update(
            captured_on=day.isoformat(),
            valid_from=record.valid_from.isoformat() if record.valid_from else None,
            valid_to=record.valid_to.isoformat() if record.valid_to else None,
        )
    names = [str(n) for n in (document.institutions or []) if str(n).strip()]
    if names:
        if not any(same_institution(n, record.institution) for n in names):
            result.reasons.append("institution")
    elif institution_core(record.institution) not in comparable(f"{document.title or ''}{document.text}"):
        result.reasons.append("institution")  # 办法 Art. 14: the ad must show the institution's name
    number_province = cited.province
    ad_provinces = {
        p for p in (first_province(a) for a in document.addresses or [] if isinstance(a, str)) if p
    }
    ad_provinces |= {p for p in (leading_province(n) for n in names) if p}
    if number_province and ad_provinces and number_province not in ad_provinces:
        result.reasons.append("province")
    if record.content and record.content.strip():
        # The number itself may or may not be part of the approved copy; it is checked above, not here.
        raws = [c.raw for c in all_cited] + [record.number]
        share, count = novelty(_without(document.text or "", raws), _without(record.content, raws))
        result.detail.update(novelty=round(share, 3), novel_bigrams=count)
        if share > NOVELTY_THRESHOLD and count >= MIN_NOVEL_BIGRAMS:
            result.reasons.append("content")
    if result.reasons:
        result.kinds.append("approval_mismatch")
        result.detail.update(
            reasons=result.reasons,
            record_institution=record.institution,
            ad_institutions=names,
            number_province=number_province,
            ad_provinces=sorted(ad_provinces),
        )
    return result


def link_document(session: Session, document: Document, *, is_medical_ad: bool) -> list[str]:
    """Replace the document's ApprovalFinding rows with fresh ones; return the finding kinds (sorted).

    Only an advertisement can break the approval rules: a regulator's notice or a news report that
    cites (even a revoked) 文号 gets no finding.
    """
    session.execute(delete(ApprovalFinding).where(ApprovalFinding.document_id == document.id))
    if not is_medical_ad:
        session.flush()
        return []
    assessments = assess(session, document)
    kinds: set[str] = set()
    if not assessments and is_medical_ad:
        session.add(ApprovalFinding(document_id=document.id, kind="approval_missing", number=None, detail={}))
        kinds.add("approval_missing")
    for a in assessments:
        for kind in a.kinds:
            session.add(
                ApprovalFinding(
                    document_id=document.id,
                    kind=kind,
                    number=a.cited.raw[:200],
                    record_id=a.record.id if a.record else None,
                    detail=a.detail,
                )
            )
            kinds.add(kind)
    session.flush()
    return sorted(kinds)


def _nonempty_json_list(session: Session, column: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return func.jsonb_array_length(column) > 0
    return func.json_array_length(column) > 0


def _is_medical_ad(session: Session, document_id: int) -> bool:
    labels = session.scalar(
        select(Classification.labels)
        .where(Classification.document_id == document_id)
        .order_by(Classification.id.desc())
        .limit(1)
    )
    return "medical_ad" in (labels or [])


def relink_all(session: Session, batch: int = 500) -> int:
    """Link again every document that cites a number (after an import); refresh their review items.

    Documents citing nothing are left alone: their only possible finding, approval_missing, does not
    depend on the records. Returns how many documents were linked.
    """
    ids = list(
        session.scalars(
            select(Document.id)
            .where(_nonempty_json_list(session, Document.approval_numbers))
            .order_by(Document.id)
        )
    )
    for i in range(0, len(ids), batch):
        chunk = ids[i : i + batch]
        for document in session.scalars(select(Document).where(Document.id.in_(chunk))):
            kinds = link_document(session, document, is_medical_ad=_is_medical_ad(session, document.id))
            refresh_review_item(session, document.id, kinds)
    session.flush()
    return len(ids)


def refresh_review_item(session: Session, document_id: int, findings: Iterable[str]) -> None:
    """Set a document's review item's findings and priority (same formula as the pipeline)."""
    item = session.scalar(select(ReviewItem).where(ReviewItem.document_id == document_id))
    if item is None:
        return
    findings = sorted(findings)
    scores = session.scalar(
        select(Classification.scores)
        .where(Classification.document_id == document_id)
        .order_by(Classification.id.desc())
        .limit(1)
    )
    if scores:
        violation_scores = [float(scores.get(label, 0.0)) for label in VIOLATION_LABELS]
    else:
        violation_scores = list(
            session.scalars(
                select(ReviewItemLabel.score).where(
                    ReviewItemLabel.item_id == item.id, ReviewItemLabel.label.in_(VIOLATION_LABELS)
                )
            )
        )
    item.findings = findings
    item.priority = compute_priority(violation_scores, findings, item.campaign_size)

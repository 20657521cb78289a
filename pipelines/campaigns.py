"""Grouping near-duplicate Documents into Campaigns, safely under concurrent writers.

Each document with enough text has a MinHash signature (pipelines.dedup): 16 band hashes and a
64-bit fingerprint. Earlier documents sharing a band are candidates; the nearest candidate whose
fingerprint agrees (estimated Jaccard ≥ 0.5) gives its campaign, otherwise the document founds
a new one. Campaign sizes are bumped with ``size = size + n`` in campaign-id order.

Concurrency: two writers grouping near-duplicates at the same moment would each miss the other's
uncommitted rows and found two campaigns. On PostgreSQL the grouping step therefore takes a
transaction-scoped advisory lock (held until the batch commits, which follows right after);
on SQLite the writer already holds the database's write lock. Grouping runs last in a batch,
after every other write, so a writer holding the lock never waits for another writer's rows.

To keep lookups bounded when a campaign is reposted thousands of times, a document's band rows
are written only when it founds a campaign or differs noticeably from what it matched: exact
reposts add no rows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import insert, select, text, tuple_, update
from sqlalchemy.orm import Session

from adwatch.models import Campaign, Document, SimhashBand
from adwatch.timeutil import utcnow
from pipelines.dedup import MAX_FINGERPRINT_DISTANCE, TextSignature, fingerprint_distance

GROUPING_LOCK = 7_243_101  # pg_advisory_xact_lock key for campaign grouping
MAX_CANDIDATES = 2000
NEW_VARIANT_DISTANCE = 3  # a member this far from its match gets its own band rows


@dataclass(frozen=True)
class Grouping:
    campaign_id: int
    size: int  # the campaign's size after this document joined
    founded: bool  # the document started the campaign


def lock_grouping(session: Session) -> None:
    """Serialise grouping across writers until this transaction ends (PostgreSQL; no-op on SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": GROUPING_LOCK})


def _candidates(
    session: Session, pairs: list[tuple[int, int]]
) -> dict[tuple[int, int], list[tuple[int, int]]]:
    """(band, value) → [(campaign id, fingerprint)] of stored documents."""
    found: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    for i in range(0, len(pairs), 400):
        chunk = pairs[i : i + 400]
        stmt = (
            select(SimhashBand.band, SimhashBand.value, Document.campaign_id, Document.simhash)
            .join(Document, Document.id == SimhashBand.document_id)
            .where(tuple_(SimhashBand.band, SimhashBand.value).in_(chunk), Document.campaign_id.is_not(None))
            .distinct()
            .limit(MAX_CANDIDATES)
        )
        for band, value, campaign_id, fingerprint in session.execute(stmt):
            found[(band, value)].append((campaign_id, fingerprint))
    return found


def assign_campaigns(session: Session, documents: list[tuple[int, TextSignature]]) -> dict[int, Grouping]:
    """Put each (document id, signature) into a campaign; returns document id → Grouping.

    Call inside the writing transaction, after the documents are inserted and before commit.
    """
    if not documents:
        return {}
    lock_grouping(session)
    pairs = sorted({(band, value) for _, sig in documents for band, value in enumerate(sig.bands)})
    index = _candidates(session, pairs)

    joined: dict[int, tuple[int, int]] = {}  # document id → (campaign id or -n for new, distance)
    new_fingerprints: dict[int, int] = {}  # placeholder id (negative) → founding fingerprint
    band_rows: list[dict[str, int]] = []
    founders: set[int] = set()
    for document_id, sig in documents:
        best: tuple[int, int] | None = None  # (distance, campaign)
        # Pages of one site share bands with many others: check each candidate once, not per band.
        candidates = {c for band, value in enumerate(sig.bands) for c in index.get((band, value), ())}
        for campaign_id, fingerprint in candidates:
            distance = fingerprint_distance(sig.fingerprint, fingerprint)
            if distance <= MAX_FINGERPRINT_DISTANCE and (best is None or (distance, campaign_id) < best):
                best = (distance, campaign_id)
        if best is None:
            placeholder = -(len(new_fingerprints) + 1)
            new_fingerprints[placeholder] = sig.fingerprint
            joined[document_id] = (placeholder, 0)
            founders.add(document_id)
        else:
            joined[document_id] = (best[1], best[0])
        campaign, distance = joined[document_id]
        if campaign < 0 or distance >= NEW_VARIANT_DISTANCE:
            for band, value in enumerate(sig.bands):
                band_rows.append({"document_id": document_id, "band": band, "value": value})
                index[(band, value)].append((campaign, sig.fingerprint))  # later documents of the batch

    # Count members per campaign; found the new campaigns with their final size in one statement.
    members: dict[int, list[int]] = defaultdict(list)
    for document_id, (campaign, _) in joined.items():
        members[campaign].append(document_id)
    now = utcnow()
    placeholders = sorted(new_fingerprints, reverse=True)  # -1, -2, …: founding order
    real_id: dict[int, int] = {}
    sizes: dict[int, int] = {}
    if placeholders:
        rows = [
            {"simhash": new_fingerprints[p], "size": len(members[p]), "first_seen_at": now}
            for p in placeholders
        ]
        ids = session.scalars(
            insert(Campaign).returning(Campaign.id, sort_by_parameter_order=True), rows
        ).all()
        for placeholder, campaign_id in zip(placeholders, ids, strict=True):
            real_id[placeholder] = campaign_id
            sizes[campaign_id] = len(members[placeholder])
    # Existing campaigns grow with size = size + n, in id order (no two writers lock rows crosswise).
    for campaign_id in sorted(c for c in members if c > 0):
        sizes[campaign_id] = session.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id)
            .values(size=Campaign.size + len(members[campaign_id]))
            .returning(Campaign.size)
        ).scalar_one()
    session.execute(
        update(Document),
        [{"id": d, "campaign_id": real_id.get(c, c)} for d, (c, _) in sorted(joined.items())],
    )
    if band_rows:
        session.execute(insert(SimhashBand), band_rows)
    return {
        document_id: Grouping(
            real_id.get(campaign, campaign), sizes[real_id.get(campaign, campaign)], document_id in founders
        )
        for document_id, (campaign, _) in joined.items()
    }

"""How many items an export would hold, shown before the user starts it.

Status, source and period are columns of the review item: one SQL count, exact and fast at any
size. The label and institution filters are decided per row by the exporter itself (the
reviewer's labels or the classifier's, plus approval findings; institutions from the page or the
linked approval record), so the preview asks the same :class:`~adwatch.exports.rows.RowReader`
— never a second copy of those rules. That reader builds about 3,000 rows a second on the test
machine, so it runs only when the SQL count leaves at most :data:`PREVIEW_SCAN` candidates;
beyond that the page shows the candidate count and says the rest is checked during the export.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from adwatch.exports.filters import ExportFilters
from adwatch.exports.rows import RowReader, resolve_source
from adwatch.models import ReviewItem

PREVIEW_SCAN = 2000


@dataclass(frozen=True)
class Preview:
    candidates: int  # items with the chosen status, source and period
    matching: int | None  # items passing every filter; None when too many candidates to check here

    @property
    def exact(self) -> bool:
        return self.matching is not None


def preview(
    session: Session, filters: ExportFilters, evidence_dir: Path, scan_limit: int = PREVIEW_SCAN
) -> Preview:
    query = select(func.count()).select_from(ReviewItem).where(ReviewItem.status.in_(filters.statuses))
    if filters.source:
        query = query.where(ReviewItem.source_id == resolve_source(session, filters.source))
    if filters.since is not None:
        query = query.where(ReviewItem.captured_at >= filters.since)
    if filters.until is not None:
        query = query.where(ReviewItem.captured_at < filters.until)
    candidates = session.scalar(query) or 0
    if not filters.label and not filters.institution:
        return Preview(candidates, candidates)
    if candidates > scan_limit:
        return Preview(candidates, None)
    return Preview(candidates, sum(1 for _ in RowReader(session, filters, evidence_dir)))

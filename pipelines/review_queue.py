"""The review queue's ordering: one priority formula for every writer of ReviewItem rows."""

from __future__ import annotations

from collections.abc import Iterable

# Findings a reviewer should see first: an ad with no, an unknown or an expired approval is
# a likely 广告法 Art. 46 case on top of whatever the text says.
FINDING_WEIGHT = {
    "approval_missing": 0.3,
    "approval_unknown": 0.4,
    "approval_expired": 0.35,
    "approval_mismatch": 0.3,
}


def compute_priority(violation_scores: Iterable[float], findings: Iterable[str], campaign_size: int) -> float:
    """Highest violation score, plus weight for approval findings, plus a little for reposted campaigns.

    Scores are the classifier's calibrated probabilities of the violation labels (not medical_ad).
    """
    top = max(violation_scores, default=0.0)
    finding_boost = max((FINDING_WEIGHT.get(f, 0.0) for f in findings), default=0.0)
    campaign_boost = min(0.3, 0.1 * max(0, campaign_size - 1) ** 0.5)
    return round(top + finding_boost + campaign_boost, 6)

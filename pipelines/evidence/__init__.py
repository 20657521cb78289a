"""Evidence capture: raw bodies, WARC files and screenshots of flagged pages, each with its SHA-256.

- :class:`EvidenceRecorder` — the page pipeline's hook (raw body + WARC at once; screenshot due).
- :func:`render_pending` — screenshots that are due, many pages in one offline Chromium.
- :func:`store_browser_screenshot` — keep a screenshot the crawler's browser took at fetch time.
- :func:`capture_missing` — make raw/WARC artifacts that flagged captures lack.
"""

from pipelines.evidence.recorder import EvidenceRecorder, capture_missing
from pipelines.evidence.screenshots import render_pending, store_browser_screenshot

__all__ = ["EvidenceRecorder", "capture_missing", "render_pending", "store_browser_screenshot"]

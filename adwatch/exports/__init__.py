"""Evidence exports: the list (XLSX/CSV), the ZIP bundle, verification and statistics.

- :func:`adwatch.exports.service.export_evidence` — `adwatch export` and the download page.
- :func:`adwatch.exports.verify.verify_bundle` / :func:`~adwatch.exports.verify.verify_store` — `adwatch evidence verify`.
- :func:`adwatch.exports.stats.compute_stats`, :func:`~adwatch.exports.stats.stats_charts` — `adwatch stats` and the page.
"""

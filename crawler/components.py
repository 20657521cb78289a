"""The one place a crawl's page pipeline is assembled.

``build_page_pipeline`` is called once per pipeline worker (a thread or a process, see
``crawler.pipeline_worker``) and must build everything from ``settings`` alone. The classifier,
the approval linker and the evidence hook are plugged in here and nowhere else; a hook that is not
built yet is ``None`` and the pipeline runs without that stage.
"""

from __future__ import annotations

from typing import Any

from adwatch.db import Database
from adwatch.settings import Settings


def build_classifier(settings: Settings) -> Any | None:
    """The classifier the pipeline labels documents with (classifiers/; wired by the lead)."""
    return None


def build_linker(db: Database, settings: Settings) -> Any | None:
    """The approval linker (文号 → approval records; wired by the lead)."""
    return None


def build_evidence(db: Database, settings: Settings) -> Any | None:
    """The evidence hook (raw body, WARC, screenshot artifacts; wired by the lead)."""
    return None


def build_page_pipeline(db: Database, settings: Settings) -> Any:
    from pipelines.process import PagePipeline

    return PagePipeline(
        db,
        settings,
        classifier=build_classifier(settings),
        linker=build_linker(db, settings),
        evidence=build_evidence(db, settings),
    )

"""The one place a crawl's page pipeline is assembled.

``build_page_pipeline`` is called once per pipeline worker (a thread or a process, see
``crawler.pipeline_worker``) and must build everything from ``settings`` alone. The classifier,
the approval linker and the evidence hook are plugged in here and nowhere else.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from adwatch.db import Database
from adwatch.models import Document
from adwatch.settings import Settings


def build_classifier(settings: Settings) -> Any:
    """The model version in use (``classifiers/models``, or ``ADWATCH_MODEL_VERSION``)."""
    from classifiers.api import Classifier

    return Classifier.load(settings)


def build_linker(db: Database, settings: Settings) -> Any:
    """文号 → approval records: findings for every new document (approval_missing needs medical_ad)."""
    from pipelines.link_approvals import link_document

    def link(session: Session, document: Document, result: Any) -> list[str]:
        is_medical_ad = bool(result is not None and "medical_ad" in result.labels)
        return link_document(session, document, is_medical_ad=is_medical_ad)

    return link


def build_evidence(db: Database, settings: Settings) -> Any:
    """Raw body, WARC record and the fetch-time screenshot of every flagged page, hashed at capture."""
    from pipelines.evidence.recorder import EvidenceRecorder

    return EvidenceRecorder(settings)


def build_page_pipeline(db: Database, settings: Settings) -> Any:
    from pipelines.process import PagePipeline

    return PagePipeline(
        db,
        settings,
        classifier=build_classifier(settings),
        linker=build_linker(db, settings),
        evidence=build_evidence(db, settings),
    )

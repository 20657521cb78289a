"""Fixtures for crawler tests: run ``adwatch`` in a child process, read what it stored.

Scrapy's reactor starts once per process, so every crawl runs as ``python -m crawler …`` in a
child process with the test's settings in its environment — exactly how the scheduler runs it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from adwatch.db import Database
from adwatch.models import Capture, CrawlRun, Document
from adwatch.settings import Settings
from crawler.scheduler import settings_env

REPO = Path(__file__).resolve().parents[2]


def child_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADWATCH_")}
    env.update(settings_env(settings))
    env.update(extra)
    return env


def adwatch(
    settings: Settings, *args: str, timeout: float = 180, **env: str
) -> subprocess.CompletedProcess[str]:
    """``adwatch ARGS`` in a child process on the test's settings."""
    return subprocess.run(
        [sys.executable, "-m", "crawler", *args],
        env=child_env(settings, **env),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_adwatch(settings: Settings, *args: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "crawler", *args],
        env=child_env(settings, **env),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def write_source(settings: Settings, name: str, text: str) -> Path:
    settings.sources_dir.mkdir(parents=True, exist_ok=True)
    path = settings.sources_dir / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


class Stored:
    """Read-only views of what the crawls stored."""

    def __init__(self, settings: Settings) -> None:
        self.db = Database(settings)

    def captures(self) -> list[Capture]:
        with self.db.session() as s:
            return list(s.scalars(select(Capture).order_by(Capture.id)))

    def documents(self) -> list[Document]:
        with self.db.session() as s:
            return list(s.scalars(select(Document).order_by(Document.id)))

    def runs(self) -> list[CrawlRun]:
        with self.db.session() as s:
            return list(s.scalars(select(CrawlRun).order_by(CrawlRun.id)))

    def last_run(self) -> CrawlRun:
        return self.runs()[-1]

    def captured_paths(self, base_url: str) -> list[str]:
        return sorted(c.url.removeprefix(base_url) for c in self.captures())

    def document_by_path(self, base_url: str, path: str) -> Document:
        for doc in self.documents():
            if doc.url == base_url + path:
                return doc
        raise AssertionError(f"no document for {path}; have {[d.url for d in self.documents()]}")


@pytest.fixture
def stored(settings: Settings) -> Any:
    s = Stored(settings)
    yield s
    s.db.dispose()


@pytest.fixture
def stored_sqlite(sqlite_settings: Settings) -> Any:
    s = Stored(sqlite_settings)
    yield s
    s.db.dispose()


def assert_ok(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, (
        f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr[-4000:]}"
    )

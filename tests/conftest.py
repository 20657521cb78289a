"""Shared fixtures: settings in a temporary home, and a database on every backend.

A test that takes ``db`` runs twice: on SQLite and on a real PostgreSQL started for the session
on a loopback port (set ADWATCH_TEST_BACKENDS=sqlite to skip PostgreSQL while iterating). A test
that takes ``redis_url`` gets a real Redis server, also started for the session.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from adwatch.db import Database
from adwatch.devservers import PostgresServer, postgres_server, redis_server
from adwatch.settings import Settings, load_settings

BACKENDS = [b for b in os.environ.get("ADWATCH_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]
_db_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    with postgres_server() as server:
        yield server


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    with redis_server() as server:
        yield server.url


def make_settings(home: Path, database_url: str | None = None, **env: str) -> Settings:
    """Settings for a test: everything under ``home``, nothing read from the real environment."""
    mapping = {
        "ADWATCH_HOME": str(home),
        "ADWATCH_SOURCES_DIR": str(home / "sources"),
        "ADWATCH_PIPELINE_WORKERS": "1",  # small test crawls: one pipeline process starts fastest
        **env,
    }
    if database_url:
        mapping["ADWATCH_DATABASE_URL"] = database_url
    return load_settings(mapping)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'home' / 'adwatch.db'}"
    server: PostgresServer = request.getfixturevalue("pg_server")
    return server.create_database(f"t{os.getpid()}_{next(_db_counter)}")


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Settings on the parametrised backend, home in a temporary directory."""
    s = make_settings(tmp_path / "home", database_url)
    s.ensure_dirs()
    return s


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    """Settings on SQLite only, for tests that are about something other than the database."""
    s = make_settings(tmp_path / "home")
    s.ensure_dirs()
    return s


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    """A migrated database on each backend."""
    database = Database(settings)
    yield database
    database.dispose()

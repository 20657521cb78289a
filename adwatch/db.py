"""Engines, sessions and migrations: the one way AdWatch talks to its database.

SQLite gets WAL, foreign keys and a busy timeout so a crawler and the web app can share the file.
PostgreSQL is reached through psycopg 3. Every command calls :func:`open_database`, which
migrates the schema to the newest Alembic revision on first use (under a lock, so several
workers starting at once do not race).
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from adwatch.errors import AdWatchError
from adwatch.settings import Settings, get_settings, mask_url

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_PG_MIGRATION_LOCK = 7_243_001


class DatabaseUnavailable(AdWatchError):
    """The database named by the settings cannot be reached."""


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with AdWatch's connection settings."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def _current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@contextlib.contextmanager
def _migration_lock(engine: Engine, settings: Settings) -> Iterator[None]:
    """Serialise migrations across processes: an advisory lock on PostgreSQL, a file lock on SQLite."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_MIGRATION_LOCK})
                conn.commit()
    else:
        settings.home.mkdir(parents=True, exist_ok=True)
        with open(settings.home / ".migrate.lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)


def migrate(engine: Engine, settings: Settings) -> None:
    """Bring the schema to the newest revision; a no-op when it is already there."""
    head = _head_revision()
    if _current_revision(engine) == head:
        return
    with _migration_lock(engine, settings):
        if _current_revision(engine) == head:
            return
        cfg = alembic_config(engine.url.render_as_string(hide_password=False))
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")


class Database:
    """An engine plus its session factory, migrated and ready."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = make_engine(settings.database_url)
        try:
            migrate(self.engine, settings)
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise DatabaseUnavailable(
                f"cannot reach the database at {mask_url(settings.database_url)}: {reason}"
                " (check ADWATCH_DATABASE_URL and that the server is running)"
            ) from exc
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        session = self.sessionmaker()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(settings: Settings | None = None) -> Database:
    """A migrated database for ``settings`` (the process settings by default)."""
    return Database(settings or get_settings())


@lru_cache(maxsize=4)
def _cached(settings: Settings) -> Database:
    return Database(settings)


def shared_database(settings: Settings | None = None) -> Database:
    """One Database per settings for the process: for long-lived users like the web app."""
    return _cached(settings or get_settings())

"""Engines, sessions and migrations: the one way AdWatch talks to its database.

SQLite gets WAL, foreign keys and a busy timeout so a crawler and the web app can share the file.
PostgreSQL is reached through psycopg 3. Every command calls :func:`open_database`, which
migrates the schema to the newest Alembic revision on first use (under a lock, so several
workers starting at once do not race).
"""

from __future__ import annotations

import contextlib
import fcntl
import re
import sqlite3
import time
from collections.abc import Iterator
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from adwatch.errors import AdWatchError
from adwatch.settings import Settings, get_settings, mask_url

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_PG_MIGRATION_LOCK = 7_243_001


class DatabaseUnavailable(AdWatchError):
    """The database named by the settings cannot be reached."""


_SQLITE_BUSY_SECONDS = 30.0


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout={int(_SQLITE_BUSY_SECONDS * 1000)}")
    _switch_to_wal(cur)
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _switch_to_wal(cur: sqlite3.Cursor) -> None:
    """Put the file in WAL mode, waiting out other connections doing the same.

    Processes opening a new database file at once can deadlock on the switch: SQLite then answers
    "database is locked" at once, without calling the busy handler, and its documented remedy is to
    try again. Once the file is in WAL mode the pragma is a read and never waits.
    """
    deadline = time.monotonic() + _SQLITE_BUSY_SECONDS
    pause = 0.005
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.25)


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with AdWatch's connection settings."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": _SQLITE_BUSY_SECONDS})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


_REVISION = re.compile(r"^revision(?::[^=]+)?=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)
_DOWN = re.compile(r"^down_revision(?::[^=]+)?=\s*(.+)$", re.MULTILINE)


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest revision, read from the revision files' headers.

    Importing Alembic costs most of a second; every command checks the schema, so the check
    reads the revision graph itself and Alembic is loaded only when there is work to do.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        rev, down = _REVISION.search(source), _DOWN.search(source)
        if rev is None or down is None:
            raise RuntimeError(f"{path}: cannot read its revision header")
        revisions.add(rev.group(1))
        parents.update(re.findall(r"['\"]([^'\"]+)['\"]", down.group(1)))
    heads = revisions - parents
    if len(heads) != 1:
        raise RuntimeError(f"migrations in {MIGRATIONS_DIR} have {len(heads)} heads: {sorted(heads)}")
    return heads.pop()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


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
    head = head_revision()
    if current_revision(engine) == head:
        return
    from alembic import command

    with _migration_lock(engine, settings):
        if current_revision(engine) == head:
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

    @contextlib.contextmanager
    def writing(self) -> Iterator[Session]:
        """A session for a write-heavy transaction (a batch of pages); commits or rolls back.

        SQLite takes one writer at a time and makes the others poll, sleeping up to 100 ms between
        tries, which leaves a waiting pipeline process idle long after the lock is free.
        Writers here queue on a file lock next to the database instead, which wakes the next one
        the moment the last lets go. PostgreSQL writers run concurrently, unlocked.
        """
        path = self._write_lock_path
        if path is None:
            with self.session() as session:
                yield session
            return
        with open(path, "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                with self.session() as session:
                    yield session
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    @cached_property
    def _write_lock_path(self) -> str | None:
        url = self.engine.url
        if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
            return None
        return f"{url.database}.write-lock"

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

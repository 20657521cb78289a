"""The database: migrated on first use, on SQLite and PostgreSQL alike; times come back in UTC."""

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from adwatch.db import Database, DatabaseUnavailable
from adwatch.models import Capture, Source
from adwatch.settings import load_settings


def test_migrates_on_first_use_and_is_idempotent(db, settings):
    with db.session() as s:
        s.add(Source(name="forum", kind="list"))
    again = Database(settings)  # a second process opening the same database
    with again.session() as s:
        assert s.scalar(select(Source.name)) == "forum"
    again.dispose()


def test_times_are_stored_utc_and_returned_aware(db):
    local = dt.datetime(2026, 11, 23, 20, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    with db.session() as s:
        s.add(Source(name="s", kind="list", last_fire_at=local))
    with db.session() as s:
        got = s.scalar(select(Source.last_fire_at))
    assert got == local and got.tzinfo is not None and got.utcoffset() == dt.timedelta(0)


def test_naive_times_are_refused(db):
    with pytest.raises(Exception, match="naive datetime"), db.session() as s:
        s.add(Source(name="s", kind="list", last_fire_at=dt.datetime(2026, 1, 1)))


def test_same_body_for_same_url_is_one_capture(db):
    with db.session() as s:
        src = Source(name="s", kind="list")
        s.add(src)
        s.flush()
        for _ in range(2):
            s.add(
                Capture(
                    source_id=src.id,
                    url="http://a/",
                    url_key="k",
                    final_url="http://a/",
                    status=200,
                    body=b"x",
                    body_size=1,
                    sha256="h",
                )
            )
        with pytest.raises(IntegrityError):
            s.flush()
        s.rollback()


def test_unreachable_database_names_the_url_without_password(tmp_path):
    settings = load_settings(
        {
            "ADWATCH_HOME": str(tmp_path),
            "ADWATCH_DATABASE_URL": "postgresql+psycopg://aw:s3cret@127.0.0.1:1/adwatch",
        }
    )
    with pytest.raises(DatabaseUnavailable) as info:
        Database(settings)
    message = str(info.value)
    assert "127.0.0.1:1/adwatch" in message and "s3cret" not in message


def test_head_read_from_files_is_alembics_head():
    from alembic.script import ScriptDirectory

    from adwatch.db import alembic_config, head_revision

    assert head_revision() == ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def test_sqlite_writers_queue_on_a_lock_and_postgres_writers_do_not(db, settings):
    """writing(): on SQLite one writer at a time, the next woken when the last commits."""
    import threading
    import time

    events: list[str] = []
    first_in = threading.Event()

    def first() -> None:
        with db.writing() as s:
            s.add(Source(name="first", kind="list"))
            first_in.set()
            time.sleep(0.5)
            events.append("first commits")

    thread = threading.Thread(target=first)
    thread.start()
    first_in.wait(10)
    other = Database(settings)  # as another pipeline process would
    with other.writing() as s:
        events.append("second writes")
        s.add(Source(name="second", kind="list"))
    thread.join()
    other.dispose()
    if db.dialect == "sqlite":
        assert events == ["first commits", "second writes"]
    else:
        assert events == ["second writes", "first commits"]
    with db.session() as s:
        assert sorted(s.scalars(select(Source.name))) == ["first", "second"]


def test_connections_opening_a_new_sqlite_file_at_once_all_get_in(tmp_path):
    """Switching a new file to WAL can deadlock; SQLite then fails at once instead of waiting.

    Four connections race on a fresh file 200 times: without the retry, about one round in ten
    ends with "database is locked" (pipeline processes starting together on a new home hit it).
    """
    import sqlite3
    import threading

    from adwatch.db import _sqlite_pragmas

    def open_and_write(path: str, start: threading.Barrier, errors: list[str]) -> None:
        start.wait()
        try:
            conn = sqlite3.connect(path, timeout=30, check_same_thread=False)
            _sqlite_pragmas(conn, None)
            conn.execute("CREATE TABLE IF NOT EXISTS t (x)")
            conn.commit()
            conn.close()
        except sqlite3.Error as exc:
            errors.append(str(exc))

    errors: list[str] = []
    for round_ in range(200):
        path = str(tmp_path / f"{round_}.db")
        start = threading.Barrier(4)
        threads = [threading.Thread(target=open_and_write, args=(path, start, errors)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert sqlite3.connect(str(tmp_path / "0.db")).execute("PRAGMA journal_mode").fetchone() == ("wal",)

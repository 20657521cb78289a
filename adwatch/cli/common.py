"""What every command shares: the settings and a migrated database."""

from __future__ import annotations

from typing import TYPE_CHECKING

from adwatch.settings import Settings, get_settings

if TYPE_CHECKING:
    from adwatch.db import Database


def settings() -> Settings:
    s = get_settings()
    s.ensure_dirs()
    return s


def database() -> Database:
    """The migrated database named by the settings (raises DatabaseUnavailable with a clear message).

    Imported here, not at the top: ``adwatch classify`` and ``--help`` never need SQLAlchemy."""
    from adwatch.db import open_database

    return open_database(settings())

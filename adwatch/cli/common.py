"""What every command shares: the settings and a migrated database."""

from __future__ import annotations

from adwatch.db import Database, open_database
from adwatch.settings import Settings, get_settings


def settings() -> Settings:
    s = get_settings()
    s.ensure_dirs()
    return s


def database() -> Database:
    """The migrated database named by the settings (raises DatabaseUnavailable with a clear message)."""
    return open_database(settings())

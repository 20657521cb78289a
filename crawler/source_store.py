"""Source rows: syncing ``sources/*.yaml`` into the database, adding sources, looking them up.

Every write here is all-or-nothing: one transaction, and nothing is written when any definition
in the batch is wrong.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from croniter import croniter
from sqlalchemy import select
from sqlalchemy.orm import Session

from adwatch.db import Database
from adwatch.errors import AdWatchError
from adwatch.models import Source
from adwatch.settings import Settings
from adwatch.timeutil import CHINA, utcnow
from crawler.sources import SourceDef, SourceProblem, SourcesInvalid, definition_of, load_sources_dir


class SourceNotFound(AdWatchError):
    pass


@dataclass
class SyncResult:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    disabled: list[str] = field(default_factory=list)


def next_fire(schedule: str | None, after: dt.datetime | None = None) -> dt.datetime | None:
    """The next time a cron expression (China time) fires after ``after``, in UTC."""
    if not schedule:
        return None
    base = (after or utcnow()).astimezone(CHINA)
    return croniter(schedule, base).get_next(dt.datetime).astimezone(dt.UTC)


def _apply(row: Source, defn: SourceDef) -> bool:
    """Copy a definition onto a row; True when anything changed."""
    new = {
        "kind": defn.kind,
        "definition": defn.to_definition(),
        "schedule": defn.schedule,
        "enabled": defn.enabled,
    }
    changed = any(getattr(row, k) != v for k, v in new.items())
    if changed:
        schedule_changed = row.schedule != defn.schedule or row.enabled != defn.enabled
        for k, v in new.items():
            setattr(row, k, v)
        if schedule_changed:
            row.next_fire_at = next_fire(defn.schedule) if defn.enabled else None
    return changed


def sync_yaml_sources(db: Database, settings: Settings) -> SyncResult:
    """Bring the ``yaml`` Source rows in line with ``settings.sources_dir``.

    Raises SourcesInvalid (and changes nothing) if any file is wrong. A source whose file was
    removed is disabled, not deleted, so its runs and captures keep their source.
    """
    loaded, problems = load_sources_dir(settings.sources_dir)
    result = SyncResult()
    with db.session() as s:
        rows = {r.name: r for r in s.scalars(select(Source))}
        for path, defn in loaded:
            row = rows.get(defn.name)
            if row is not None and row.origin != "yaml":
                problems.append(
                    SourceProblem(
                        str(path), None, "name", f"{defn.name!r} is already a source added by {row.origin}"
                    )
                )
        if problems:
            raise SourcesInvalid(problems)
        seen = set()
        for path, defn in loaded:
            seen.add(defn.name)
            row = rows.get(defn.name)
            if row is None:
                row = Source(name=defn.name, origin="yaml", origin_path=str(path))
                _apply(row, defn)
                row.next_fire_at = next_fire(defn.schedule) if defn.enabled else None
                s.add(row)
                result.added.append(defn.name)
            else:
                row.origin_path = str(path)
                if _apply(row, defn):
                    result.updated.append(defn.name)
        for name, row in rows.items():
            if row.origin == "yaml" and name not in seen and row.enabled:
                row.enabled = False
                row.next_fire_at = None
                result.disabled.append(name)
    return result


def add_source(db: Database, defn: SourceDef, origin: str = "cli", replace: bool = False) -> Source:
    """Create (or with ``replace``, overwrite) a database-defined source."""
    with db.session() as s:
        row = s.scalar(select(Source).where(Source.name == defn.name))
        if row is not None:
            if row.origin == "yaml":
                raise AdWatchError(
                    f"source {defn.name!r} is defined by {row.origin_path}; edit that file instead"
                )
            if not replace:
                raise AdWatchError(f"source {defn.name!r} already exists (use --replace to overwrite it)")
        else:
            row = Source(name=defn.name, origin=origin)
            s.add(row)
        _apply(row, defn)
        row.next_fire_at = next_fire(defn.schedule) if defn.enabled else None
        s.flush()
        return row


def adhoc_source(db: Database, defn: SourceDef) -> Source:
    """The row for an ad-hoc ``crawl --url``: one per host, its definition replaced each time."""
    with db.session() as s:
        row = s.scalar(select(Source).where(Source.name == defn.name))
        if row is None:
            row = Source(name=defn.name, origin="adhoc")
            s.add(row)
        elif row.origin != "adhoc":
            raise AdWatchError(f"source name {defn.name!r} is taken by a {row.origin} source")
        _apply(row, defn)
        row.schedule = None
        row.next_fire_at = None
        s.flush()
        return row


def get_source(session: Session, name: str) -> Source:
    row = session.scalar(select(Source).where(Source.name == name))
    if row is None:
        names = session.scalars(select(Source.name).order_by(Source.name)).all()
        hint = f"known sources: {', '.join(names)}" if names else "no sources are defined yet"
        raise SourceNotFound(f"no source named {name!r} ({hint}; see `adwatch sources list`)")
    return row


def source_def(row: Source) -> SourceDef:
    return definition_of(row.definition)


def all_sources(session: Session) -> list[Source]:
    return list(session.scalars(select(Source).order_by(Source.name)))


def origin_label(row: Source) -> str:
    if row.origin == "yaml" and row.origin_path:
        return f"yaml:{Path(row.origin_path).name}"
    return row.origin

"""`adwatch export` and the enforcement download page: the one entry point for evidence exports.

Who may export: enforcement staff and admins (a reviewer decides, an enforcement team acts). The
command line runs with shell access to the store and exports as ``cli:<os user>``, or as a named
user when ``--user`` is given (then that user's role is checked). Every export writes an audit
event with who, when, the filters, the item count and the SHA-256 of the file produced. Output
is written to a temporary file next to the target and renamed into place, so a failed export never
leaves a half-written file under the requested name.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from adwatch.db import Database
from adwatch.errors import AdWatchError
from adwatch.exports.bundle import LIST_SHEET, write_bundle
from adwatch.exports.filters import FORMATS, ExportFilters
from adwatch.exports.rows import COLUMNS, HEADERS, WRAPPED, EvidenceRow, RowReader
from adwatch.exports.writers import CsvWriter, XlsxWriter
from adwatch.models import AuditEvent, User
from adwatch.settings import Settings
from adwatch.timeutil import fmt_china, iso, utcnow
from pipelines.evidence.store import sha256_file

EXPORT_ROLES = ("enforcement", "admin")
EXPORT_ACTION = "export"


class ExportForbidden(AdWatchError):
    """The user's role may not export evidence."""


@dataclass(frozen=True)
class Exporter:
    """Who exports: a user of the web app, or the command line's OS user."""

    name: str
    user_id: int | None = None
    role: str | None = None

    @classmethod
    def command_line(cls) -> Exporter:
        try:
            who = getpass.getuser()
        except (KeyError, OSError):
            who = str(os.getuid())
        return cls(name=f"cli:{who}")

    @classmethod
    def for_user(cls, user: User) -> Exporter:
        """The exporter for ``user``; raises ExportForbidden unless the role may export."""
        require_export_role(user)
        return cls(name=user.name, user_id=user.id, role=user.role)


def can_export(role: str | None) -> bool:
    return role in EXPORT_ROLES


def require_export_role(user: User) -> None:
    if not user.active:
        raise ExportForbidden(f"user {user.name!r} is deactivated")
    if not can_export(user.role):
        raise ExportForbidden(
            f"user {user.name!r} has role {user.role!r}; only {' and '.join(EXPORT_ROLES)} users may export evidence"
        )


def exporter_named(db: Database, name: str) -> Exporter:
    """The exporter for a user name (``--user``), role checked."""
    with db.session() as s:
        user = s.scalar(select(User).where(User.name == name))
        if user is None:
            raise AdWatchError(f"no user named {name!r} (create one with `adwatch users add`)")
        return Exporter.for_user(user)


@dataclass(frozen=True)
class ExportResult:
    path: Path
    format: str
    items: int
    sha256: str
    bytes: int
    created_at: dt.datetime
    audit_id: int


def _screenshot_file(row: EvidenceRow) -> str:
    """Where a list without a bundle finds the screenshot: its path under $ADWATCH_HOME."""
    shot = row.artifacts.get("screenshot")
    return f"evidence/{shot.relative}" if shot else ""


def _write_list(
    rows: RowReader,
    fmt: str,
    path: Path,
    created_at: dt.datetime,
    exporter: Exporter,
    filters: ExportFilters,
    progress: Callable[[int], None] | None,
) -> int:
    count = 0
    if fmt == "csv":
        with CsvWriter(path, HEADERS) as out:
            for row in rows:
                out.append(row.cells(_screenshot_file(row)))
                count += 1
                if progress:
                    progress(count)
        return count
    with XlsxWriter(path) as xlsx:
        xlsx.add_sheet(LIST_SHEET, COLUMNS, wrap=WRAPPED)
        for row in rows:
            xlsx.append(row.cells(_screenshot_file(row)))
            count += 1
            if progress:
                progress(count)
        xlsx.add_sheet("导出说明", [("项目", 16), ("内容", 80)])
        for label, value in (
            ("导出时间", f"{fmt_china(created_at)}（北京时间）"),
            ("导出人", exporter.name),
            ("筛选条件", filters.describe_zh()),
            ("条目数", count),
            ("截图文件", "相对于 $ADWATCH_HOME 的证据文件路径；完整证据请导出 ZIP 证据包"),
        ):
            xlsx.append([label, value])
    return count


def _checked_output(output: Path) -> Path:
    output = output.expanduser().resolve()
    if output.is_dir():
        raise AdWatchError(f"--output {output} is a directory; give a file name")
    if not output.parent.is_dir():
        raise AdWatchError(f"cannot write {output}: directory {output.parent} does not exist")
    return output


def _write_atomically(output: Path, write: Callable[[Path], int]) -> tuple[int, str, int]:
    """``write(tmp)`` beside ``output``, hashed, then renamed into place: a failed export leaves no
    half-written file. Returns (items written, sha256, bytes)."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".part", dir=output.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        count = write(tmp)
        digest, size = sha256_file(tmp)
        os.replace(tmp, output)
    finally:
        tmp.unlink(missing_ok=True)
    return count, digest, size


def _audit_export(
    db: Database,
    exporter: Exporter,
    created_at: dt.datetime,
    ip: str | None,
    output: Path,
    fmt: str,
    filters: dict[str, Any],
    count: int,
    digest: str,
    size: int,
) -> ExportResult:
    """Every export is an audit event: who, when, filters and the file's hash."""
    with db.session() as s:
        event = AuditEvent(
            at=created_at,
            user_id=exporter.user_id,
            username=exporter.name,
            action=EXPORT_ACTION,
            target_type="export",
            target_id=digest,
            detail={
                "format": fmt,
                "filters": filters,
                "items": count,
                "sha256": digest,
                "bytes": size,
                "file": output.name,
            },
            ip=ip,
        )
        s.add(event)
        s.flush()
        audit_id = event.id
    return ExportResult(output, fmt, count, digest, size, created_at, audit_id)


def export_evidence(
    db: Database,
    settings: Settings,
    fmt: str,
    output: Path,
    filters: ExportFilters,
    exporter: Exporter,
    progress: Callable[[int], None] | None = None,
    ip: str | None = None,
) -> ExportResult:
    """Write the evidence list (xlsx, csv) or bundle (zip) for ``filters`` to ``output``, and audit it."""
    if fmt not in FORMATS:
        raise AdWatchError(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")
    if exporter.role is not None and not can_export(exporter.role):
        raise ExportForbidden(f"role {exporter.role!r} may not export evidence")
    output = _checked_output(output)
    created_at = utcnow()

    def write(tmp: Path) -> int:
        with db.session() as s:
            rows = RowReader(s, filters, settings.evidence_dir)
            if fmt == "zip":
                return write_bundle(rows, tmp, created_at, exporter.name, filters, progress)
            return _write_list(rows, fmt, tmp, created_at, exporter, filters, progress)

    count, digest, size = _write_atomically(output, write)
    return _audit_export(db, exporter, created_at, ip, output, fmt, filters.to_dict(), count, digest, size)


def export_summary(
    db: Database,
    output: Path,
    exporter: Exporter,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    source: str | None = None,
    unit: str = "",
    ip: str | None = None,
) -> ExportResult:
    """The 监督检查工作信息汇总表 as XLSX, audited like every export."""
    from adwatch.exports.rows import resolve_source
    from adwatch.exports.stats import compute_stats, supervision_summary, write_summary_xlsx

    if exporter.role is not None and not can_export(exporter.role):
        raise ExportForbidden(f"role {exporter.role!r} may not export statistics")
    output = _checked_output(output)
    created_at = utcnow()
    with db.session() as s:
        source_id = resolve_source(s, source) if source else None
        summary = supervision_summary(compute_stats(s, since, until, source_id))

    def write(tmp: Path) -> int:
        write_summary_xlsx(summary, tmp, unit)
        return int(summary["totals"]["items"])

    count, digest, size = _write_atomically(output, write)
    filters = {"since": iso(since), "until": iso(until), "source": source}
    return _audit_export(db, exporter, created_at, ip, output, "summary-xlsx", filters, count, digest, size)

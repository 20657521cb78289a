"""`adwatch evidence verify`: re-hash the evidence store, or a bundle against its manifest.

Store: every Artifact row's file is re-hashed and compared with the SHA-256 taken when it was
made (and with the hash its name carries). Bundle: the ZIP is read, never extracted, so a hostile
bundle cannot write anywhere; every member name is checked first (no absolute paths, ``..``,
backslashes, drive letters or links: Zip Slip), then every file the manifest lists is streamed and
hashed, files the manifest does not list are named, and manifest.sha256 must agree with
manifest.json. :func:`extract_bundle` unpacks a bundle that verified, and only inside its target.
Each problem names the file; any problem means a non-zero exit status.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import select

from adwatch.db import Database
from adwatch.errors import AdWatchError
from adwatch.exports.bundle import MANIFEST, MANIFEST_SHA256
from adwatch.models import Artifact
from adwatch.settings import Settings
from pipelines.evidence.store import CHUNK, ArtifactStore, sha256_file

MAX_MANIFEST_BYTES = 64 * 1024 * 1024
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_SUM_LINE = re.compile(r"^([0-9a-fA-F]{64}) [ *](.+)$")


class UnsafeBundle(AdWatchError):
    """A bundle whose member names would write outside the extraction directory (Zip Slip)."""


@dataclass(frozen=True)
class Problem:
    path: str
    kind: str  # changed | missing | unexpected | invalid
    detail: str

    def __str__(self) -> str:
        return f"{self.kind.upper()}: {self.path} — {self.detail}"


@dataclass
class VerifyReport:
    target: str
    checked: int = 0
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


# ---------------------------------------------------------------------------------------------
# The store
# ---------------------------------------------------------------------------------------------


def verify_store(
    db: Database, settings: Settings, progress: Callable[[int], None] | None = None
) -> VerifyReport:
    """Re-hash every stored artifact against the SHA-256 recorded when it was made."""
    root = settings.evidence_dir
    store = ArtifactStore(root)
    report = VerifyReport(target=str(root))
    with db.session() as s:
        rows = s.execute(
            select(
                Artifact.id, Artifact.capture_id, Artifact.kind, Artifact.path, Artifact.sha256, Artifact.size
            )
            .order_by(Artifact.id)
            .execution_options(yield_per=1000)
        )
        for art_id, capture_id, kind, rel, recorded, size in rows:
            report.checked += 1
            label = f"{rel} (artifact {art_id}, capture {capture_id}, {kind})"
            try:
                path = store.absolute(rel, recorded)
            except AdWatchError as exc:
                report.problems.append(Problem(label, "invalid", str(exc)))
                continue
            if not path.is_file():
                report.problems.append(Problem(label, "missing", "file not found in the evidence store"))
                continue
            digest, actual_size = sha256_file(path)
            if digest != recorded:
                report.problems.append(
                    Problem(
                        label,
                        "changed",
                        f"SHA-256 is {digest}, recorded {recorded} ({actual_size} bytes, recorded {size})",
                    )
                )
            if progress is not None:
                progress(report.checked)
    return report


# ---------------------------------------------------------------------------------------------
# Bundles
# ---------------------------------------------------------------------------------------------


def unsafe_reason(name: str) -> str | None:
    """Why a member name may not be extracted, or None when it is a plain relative path."""
    if not name or "\x00" in name:
        return "empty name or NUL byte"
    if "\\" in name:
        return "backslash in name"
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return "absolute path"
    parts = PurePosixPath(name).parts
    if any(part in ("..", ".") for part in name.split("/")):
        return "path traversal ('..' or '.')"
    if not parts:
        return "empty path"
    return None


def _is_link(info: zipfile.ZipInfo) -> bool:
    mode = info.external_attr >> 16
    return info.create_system == 3 and stat.S_ISLNK(mode)


def check_members(zf: zipfile.ZipFile) -> None:
    """Refuse the bundle if any member could escape the directory it is unpacked into."""
    for info in zf.infolist():
        reason = unsafe_reason(info.filename)
        if reason is None and _is_link(info):
            reason = "symbolic link"
        if reason is not None:
            raise UnsafeBundle(
                f"bundle member {info.filename!r} refused: {reason} (possible Zip Slip attack)"
            )


def _hash_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> tuple[str, int]:
    """SHA-256 and size of a member, read at most ``limit`` + 1 bytes (a lying size cannot bomb us)."""
    digest = hashlib.sha256()
    size = 0
    with zf.open(info) as member:
        while block := member.read(CHUNK):
            size += len(block)
            digest.update(block)
            if size > limit:
                break
    return digest.hexdigest(), size


def _load_manifest(zf: zipfile.ZipFile, report: VerifyReport) -> dict[str, Any] | None:
    try:
        info = zf.getinfo(MANIFEST)
    except KeyError:
        report.problems.append(Problem(MANIFEST, "missing", "the bundle has no manifest.json"))
        return None
    if info.file_size > MAX_MANIFEST_BYTES:
        report.problems.append(Problem(MANIFEST, "invalid", f"larger than {MAX_MANIFEST_BYTES} bytes"))
        return None
    try:
        manifest = json.loads(zf.read(info).decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        report.problems.append(Problem(MANIFEST, "invalid", f"not valid JSON: {exc}"))
        return None
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, list) or not all(
        isinstance(f, dict)
        and isinstance(f.get("path"), str)
        and isinstance(f.get("sha256"), str)
        and _HEX64.match(f["sha256"])
        and isinstance(f.get("bytes"), int)
        for f in files
    ):
        report.problems.append(
            Problem(MANIFEST, "invalid", 'expected {"files": [{"path", "sha256", "bytes"}, …]}')
        )
        return None
    for f in files:
        reason = unsafe_reason(f["path"])
        if reason is not None:
            raise UnsafeBundle(f"manifest path {f['path']!r} refused: {reason} (possible Zip Slip attack)")
    return manifest


def _check_sums(zf: zipfile.ZipFile, listed: dict[str, str], manifest_sha: str, report: VerifyReport) -> None:
    """manifest.sha256 must list every file of manifest.json, and manifest.json itself, with the same hashes."""
    try:
        info = zf.getinfo(MANIFEST_SHA256)
    except KeyError:
        report.problems.append(Problem(MANIFEST_SHA256, "missing", "the bundle has no manifest.sha256"))
        return
    if info.file_size > MAX_MANIFEST_BYTES:
        report.problems.append(Problem(MANIFEST_SHA256, "invalid", f"larger than {MAX_MANIFEST_BYTES} bytes"))
        return
    expected = {**listed, MANIFEST: manifest_sha}
    seen: dict[str, str] = {}
    for number, line in enumerate(zf.read(info).decode("utf-8", "replace").splitlines(), start=1):
        match = _SUM_LINE.match(line)
        if not match:
            report.problems.append(
                Problem(MANIFEST_SHA256, "invalid", f"line {number} is not `<sha256>  <path>`")
            )
            continue
        seen[match.group(2)] = match.group(1).lower()
    for path, digest in expected.items():
        if path not in seen:
            report.problems.append(Problem(path, "missing", "not listed in manifest.sha256"))
        elif seen[path] != digest:
            what = (
                "manifest.json changed" if path == MANIFEST else "manifest.sha256 and manifest.json disagree"
            )
            report.problems.append(
                Problem(path, "changed", f"{what}: manifest.sha256 says {seen[path]}, expected {digest}")
            )
    for path in seen.keys() - expected.keys():
        report.problems.append(
            Problem(path, "unexpected", "listed in manifest.sha256 but not in manifest.json")
        )


def _open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except FileNotFoundError as exc:
        raise AdWatchError(f"bundle {path} not found") from exc
    except (zipfile.BadZipFile, OSError) as exc:
        raise AdWatchError(f"{path} is not a readable ZIP bundle: {exc}") from exc


def verify_bundle(path: Path, progress: Callable[[int], None] | None = None) -> VerifyReport:
    """Check every file of a bundle against its manifest; raises UnsafeBundle on a Zip Slip name."""
    report = VerifyReport(target=str(path))
    with _open_zip(path) as zf:
        check_members(zf)
        manifest = _load_manifest(zf, report)
        if manifest is None:
            return report
        members = {info.filename: info for info in zf.infolist() if not info.is_dir()}
        listed: dict[str, str] = {}
        for entry in manifest["files"]:
            name, recorded, size = entry["path"], entry["sha256"].lower(), entry["bytes"]
            listed[name] = recorded
            report.checked += 1
            info = members.get(name)
            if info is None:
                report.problems.append(
                    Problem(name, "missing", "listed in the manifest but not in the bundle")
                )
                continue
            digest, actual = _hash_member(zf, info, size)
            if digest != recorded or actual != size:
                report.problems.append(
                    Problem(
                        name,
                        "changed",
                        f"SHA-256 is {digest}, manifest says {recorded} ({actual} bytes, manifest says {size})",
                    )
                )
            if progress is not None:
                progress(report.checked)
        for name in members.keys() - listed.keys() - {MANIFEST, MANIFEST_SHA256}:
            report.problems.append(Problem(name, "unexpected", "in the bundle but not in the manifest"))
        manifest_sha, _ = _hash_member(zf, members[MANIFEST], MAX_MANIFEST_BYTES)
        _check_sums(zf, listed, manifest_sha, report)
        report.notes.append(
            f"created_at {manifest.get('created_at')}, exported_by {manifest.get('exported_by')}, SHA-256 of the"
            f" bundle {sha256_file(path)[0]}"
        )
    return report


def _inside(root: Path, name: str) -> Path:
    target = (root / name).resolve()
    if os.path.commonpath([root, target]) != str(root):
        raise UnsafeBundle(f"bundle member {name!r} would be written outside {root} (Zip Slip)")
    return target


def extract_bundle(path: Path, dest: Path) -> list[Path]:
    """Unpack a bundle into ``dest`` (created; must be empty): names checked, sizes bounded by the manifest."""
    report = verify_bundle(path)
    if not report.ok:
        raise AdWatchError(f"bundle {path} did not verify ({len(report.problems)} problems); not extracted")
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()
    if any(root.iterdir()):
        raise AdWatchError(f"extraction directory {root} is not empty")
    written = []
    with _open_zip(path) as zf:
        check_members(zf)
        for info in _files(zf):
            target = _inside(root, info.filename)
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(target, "xb") as out:
                remaining = info.file_size
                while block := src.read(min(CHUNK, remaining + 1)):
                    remaining -= len(block)
                    if remaining < 0:
                        raise UnsafeBundle(f"bundle member {info.filename!r} is larger than its header says")
                    out.write(block)
            written.append(target)
    return written


def _files(zf: zipfile.ZipFile) -> Iterator[zipfile.ZipInfo]:
    return (info for info in zf.infolist() if not info.is_dir())

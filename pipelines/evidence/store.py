"""The evidence store: files addressed by their SHA-256 under ``settings.evidence_dir``, never overwritten.

A file's name is its hash (``ab/cd/abcd….png``), so the same bytes are stored once and a stored file
can never be replaced by different bytes under the same name: a new write goes to a temporary file
and is hard-linked into place only if nothing is there yet. Stored files are made read-only. Each
file is described by an :class:`~adwatch.models.Artifact` row holding the SHA-256 taken when the
file was made; ``adwatch evidence verify`` re-hashes the files against those rows.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from adwatch.errors import AdWatchError
from adwatch.models import Artifact, Capture
from adwatch.timeutil import utcnow

CHUNK = 1024 * 1024
STORE_PATH = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{2}/([0-9a-f]{64})(?:\.[a-z0-9]+){0,2}$")

# Media types of raw bodies and the file extensions they are stored under.
EXTENSIONS = {
    "text/html": ".html",
    "application/xhtml+xml": ".xhtml",
    "application/xml": ".xml",
    "text/xml": ".xml",
    "application/rss+xml": ".xml",
    "application/atom+xml": ".xml",
    "application/json": ".json",
    "text/plain": ".txt",
    "application/pdf": ".pdf",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "application/warc": ".warc.gz",
}


def extension_for(media_type: str | None) -> str:
    """The file extension for a media type (``.bin`` when unknown)."""
    base = (media_type or "").split(";", 1)[0].strip().lower()
    return EXTENSIONS.get(base, ".bin")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def iter_file(fh: BinaryIO, chunk: int = CHUNK) -> Iterator[bytes]:
    while block := fh.read(chunk):
        yield block


def sha256_file(path: Path) -> tuple[str, int]:
    """SHA-256 and size of a file, read in chunks (a screenshot may be large)."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        for block in iter_file(fh):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def checked_path(root: str, relative: str, sha256: str | None = None) -> str:
    """``root/relative`` for a path of the store (named by ``sha256`` when given); anything else is refused."""
    match = STORE_PATH.match(relative)
    if match is None or (sha256 is not None and match.group(1) != sha256):
        raise AdWatchError(
            f"evidence path {relative!r} is not a path of the evidence store"
            + (f" for SHA-256 {sha256}" if sha256 else "")
            + "; the artifact row was altered — investigate"
        )
    return os.path.join(root, relative)


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    path: str  # relative to the evidence directory


class ArtifactStore:
    """Content-addressed, write-once files under one directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def relative_path(self, sha256: str, ext: str) -> str:
        relative = f"{sha256[:2]}/{sha256[2:4]}/{sha256}{ext}"
        if STORE_PATH.match(relative) is None:
            raise ValueError(f"not a store path: {relative!r}")
        return relative

    def absolute(self, relative: str, sha256: str | None = None) -> Path:
        """The file of a stored path; refuses anything but ``ab/cd/<sha256><ext>`` (a row could be forged)."""
        return Path(checked_path(str(self.root), relative, sha256))

    def put(self, data: bytes, ext: str) -> StoredFile:
        """Store ``data`` under its hash; an existing file of that name is left as it is."""
        digest = sha256_bytes(data)
        relative = self.relative_path(digest, ext)
        final = self.root / relative
        if not final.exists():
            final.parent.mkdir(parents=True, exist_ok=True)
            tmp = final.parent / f".tmp-{uuid.uuid4().hex}"
            try:
                with open(tmp, "xb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.chmod(tmp, 0o444)
                with contextlib.suppress(FileExistsError):  # the name exists: never overwrite
                    os.link(tmp, final)
            except OSError as exc:
                raise AdWatchError(
                    f"cannot write evidence file {final}: {exc.strerror or exc}"
                    f" (check free space and permissions under {self.root})"
                ) from exc
            finally:
                tmp.unlink(missing_ok=True)
        return StoredFile(sha256=digest, size=len(data), path=relative)


def find_artifact(session: Session, capture_id: int, kind: str) -> Artifact | None:
    return session.scalar(select(Artifact).where(Artifact.capture_id == capture_id, Artifact.kind == kind))


def record_artifact(
    session: Session,
    capture: Capture,
    kind: str,
    stored: StoredFile,
    media_type: str,
    detail: dict[str, Any] | None = None,
    created_at: dt.datetime | None = None,
    fresh: bool = False,
) -> Artifact:
    """The Artifact row for a stored file; one per (capture, kind), the first one made wins.

    Two processes may make the same artifact at once (two renderers, a crawler and a renderer): the
    unique constraint turns the race into an IntegrityError inside a savepoint, and the row already
    there is returned. ``fresh``: the capture was stored in this very transaction, so no other
    writer can see it yet and neither the look-up nor the savepoint is needed.
    """
    if not fresh:
        existing = find_artifact(session, capture.id, kind)
        if existing is not None:
            return existing
    artifact = Artifact(
        capture_id=capture.id,
        kind=kind,
        sha256=stored.sha256,
        size=stored.size,
        path=stored.path,
        media_type=media_type,
        created_at=created_at or utcnow(),
        detail=detail or {},
    )
    if fresh:
        session.add(artifact)
        return artifact
    try:
        with session.begin_nested():
            session.add(artifact)
    except IntegrityError:
        winner = find_artifact(session, capture.id, kind)
        if winner is None:
            raise
        return winner
    return artifact

"""Files the web app generates for download: written to disk, streamed, then removed.

An evidence bundle can be hundreds of MB (10,000 items with screenshots make ~770 MB), so nothing
is built in memory: each download gets a private directory under ``$ADWATCH_HOME/tmp/downloads``,
the exporter writes its file there, and the response streams it from disk and removes the
directory once sent. A client that disconnects mid-transfer makes Starlette skip that clean-up,
so each new download first sweeps directories older than :data:`KEEP_SECONDS`.

Exports are CPU-bound, so at most :data:`MAX_RUNNING` run at once in the whole app and one per
user; anyone else is told to wait (HTTP 429) rather than queued behind a long bundle.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from starlette.background import BackgroundTask
from starlette.responses import FileResponse

from adwatch.settings import Settings
from adwatch.timeutil import CHINA, utcnow

KEEP_SECONDS = 3600
MAX_RUNNING = 2
MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "zip": "application/zip",
}


class DownloadBusy(Exception):
    """The user already has an export running, or the app is at its limit; the message says which."""


class DownloadSlots:
    """Who is generating a download right now (user ids), bounded per user and in total."""

    def __init__(self, limit: int = MAX_RUNNING) -> None:
        self.limit = limit
        self._running: set[int] = set()
        self._lock = threading.Lock()

    @contextmanager
    def hold(self, user_id: int) -> Iterator[None]:
        with self._lock:
            if user_id in self._running:
                raise DownloadBusy("你已有一个导出正在生成，请等它完成后再试")
            if len(self._running) >= self.limit:
                raise DownloadBusy(f"已有 {len(self._running)} 个导出正在生成，请稍后再试")
            self._running.add(user_id)
        try:
            yield
        finally:
            with self._lock:
                self._running.discard(user_id)


SLOTS = DownloadSlots()


def downloads_root(settings: Settings) -> Path:
    return settings.home / "tmp" / "downloads"


def sweep(root: Path, keep_seconds: float = KEEP_SECONDS, now: float | None = None) -> int:
    """Remove download directories older than ``keep_seconds`` (left by interrupted transfers)."""
    now = time.time() if now is None else now
    removed = 0
    if not root.is_dir():
        return 0
    for entry in os.scandir(root):
        try:
            old = entry.is_dir(follow_symlinks=False) and now - entry.stat().st_mtime > keep_seconds
        except OSError:
            continue
        if old:
            remove(Path(entry.path))
            removed += 1
    return removed


def private_dir(settings: Settings) -> Path:
    """A new directory (mode 0700) for one download, after sweeping stale ones."""
    root = downloads_root(settings)
    root.mkdir(parents=True, exist_ok=True)
    sweep(root)
    return Path(tempfile.mkdtemp(prefix="dl-", dir=root))


def stamp() -> str:
    """The China time now, for file names: ``20261124-093015``."""
    return f"{utcnow().astimezone(CHINA):%Y%m%d-%H%M%S}"


def remove(directory: Path) -> None:
    shutil.rmtree(directory, ignore_errors=True)


def content_disposition(name: str, fallback: str) -> str:
    """``attachment`` with the Chinese ``name`` (RFC 5987/6266 ``filename*``) and an ASCII ``fallback``
    for clients that read only ``filename``."""
    if not fallback.isascii() or any(c in fallback for c in '"\\;\r\n'):
        raise ValueError(f"fallback file name must be plain ASCII: {fallback!r}")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def file_download(
    path: Path, name: str, fallback: str, media_type: str, headers: dict[str, str] | None = None
) -> FileResponse:
    """Stream ``path`` (in its private directory) as an attachment; the directory goes once it is sent."""
    return FileResponse(
        path,
        media_type=media_type,
        headers={"Content-Disposition": content_disposition(name, fallback), **(headers or {})},
        background=BackgroundTask(remove, path.parent),
    )

"""The app's secret key: generated once into ``settings.secret_key_file`` (mode 0600) and kept.

It keys the HMAC that binds a login form's CSRF token to its browser, so it must survive restarts
and be the same for every worker process on the machine.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from adwatch.errors import AdWatchError
from adwatch.settings import Settings

KEY_BYTES = 32


def load_or_create_secret(settings: Settings) -> bytes:
    path: Path = settings.secret_key_file
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(KEY_BYTES)
    # O_EXCL: two workers starting together never overwrite each other's key.
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise AdWatchError(
            f"secret key file {path} is readable by others (mode {mode:o}): run `chmod 600 {path}`"
        )
    value = path.read_text().strip()
    if len(value) < 32:
        raise AdWatchError(f"secret key file {path} is too short: delete it and restart to make a new one")
    return value.encode()

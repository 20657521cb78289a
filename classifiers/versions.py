"""Where model versions live and which one is in use.

``settings.models_dir/<version>/`` holds versions built by ``adwatch train``;
``settings.models_dir/current.json`` names the one in use. A fresh ``ADWATCH_HOME`` has neither,
and then the version shipped inside the package (``classifiers/models/<version>/``, built by
``adwatch train --ship``) is used, so classification never needs a training run or a download.
Version names are ``YEAR.MONTH.N``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from adwatch.errors import AdWatchError
from adwatch.settings import Settings

SHIPPED_DIR = Path(__file__).resolve().parent / "models"
VERSION_RE = re.compile(r"^(\d{4})\.(\d{1,2})\.(\d+)$")
POINTER = "current.json"


def _versions_in(folder: Path) -> list[str]:
    """The model versions stored in ``folder``, oldest first."""
    if not folder.is_dir():
        return []
    names = [
        p.name
        for p in folder.iterdir()
        if p.is_dir() and VERSION_RE.match(p.name) and (p / "model.json").exists()
    ]
    return sorted(names, key=version_key)


def version_key(name: str) -> tuple[int, int, int]:
    m = VERSION_RE.match(name)
    if not m:
        raise ValueError(f"not a model version name: {name!r}")
    return int(m[1]), int(m[2]), int(m[3])


def shipped_version() -> str:
    versions = _versions_in(SHIPPED_DIR)
    if not versions:
        raise AdWatchError(
            f"no model is shipped in {SHIPPED_DIR} and none is trained in ADWATCH_HOME: run `adwatch train`"
        )
    return versions[-1]


def current_version(settings: Settings) -> tuple[str, Path]:
    """The version in use and its folder."""
    pointer = settings.models_dir / POINTER
    if pointer.exists():
        try:
            version = json.loads(pointer.read_text(encoding="utf-8"))["version"]
        except (ValueError, KeyError, TypeError) as exc:
            raise AdWatchError(
                f"{pointer} is damaged ({exc}): delete it to fall back to the shipped model"
            ) from exc
        folder = settings.models_dir / version
        if not (folder / "model.json").exists():
            raise AdWatchError(
                f"{pointer} names version {version}, but {folder} holds no model: run `adwatch train`"
            )
        return version, folder
    version = shipped_version()
    return version, SHIPPED_DIR / version


def version_folder(settings: Settings, version: str) -> Path:
    """The folder of a named version: trained in ADWATCH_HOME, else shipped in the package."""
    for folder in (settings.models_dir / version, SHIPPED_DIR / version):
        if folder.exists():
            return folder
    known = sorted(set(_versions_in(settings.models_dir)) | set(_versions_in(SHIPPED_DIR)), key=version_key)
    raise AdWatchError(
        f"no model version {version!r} in {settings.models_dir} or the package;"
        f" known versions: {', '.join(known) or 'none'}"
    )


def next_version(settings: Settings, now: dt.datetime | None = None, *, ship: bool = False) -> str:
    """``YEAR.MONTH.N`` with N one past every version of that month, shipped or trained."""
    now = now or dt.datetime.now(dt.UTC)
    taken = _versions_in(SHIPPED_DIR) + ([] if ship else _versions_in(settings.models_dir))
    same_month = [version_key(v)[2] for v in taken if version_key(v)[:2] == (now.year, now.month)]
    return f"{now.year}.{now.month}.{max(same_month, default=0) + 1}"


def set_current(settings: Settings, version: str) -> None:
    settings.models_dir.mkdir(parents=True, exist_ok=True)
    pointer = settings.models_dir / POINTER
    tmp = pointer.with_suffix(".tmp")
    tmp.write_text(json.dumps({"version": version}) + "\n", encoding="utf-8")
    tmp.replace(pointer)

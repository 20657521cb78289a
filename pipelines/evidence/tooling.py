"""Names and versions of the tools that make evidence: recorded in artifacts and extraction records."""

from __future__ import annotations

import importlib.metadata
from functools import cache


@cache
def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def adwatch_version() -> str:
    return _version("adwatch")


def warcio_version() -> str:
    return _version("warcio")


def playwright_version() -> str:
    return _version("playwright")

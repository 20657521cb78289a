"""All of AdWatch's settings, in one place.

Every component reads its configuration from a :class:`Settings` object built here from
environment variables (CONTRACT.md lists the public ones). Nothing else reads ``os.environ``.
Tests build their own ``Settings`` with :func:`load_settings` and an explicit ``env`` mapping.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

CHINA_TZ = "Asia/Shanghai"

CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)


@dataclass(frozen=True)
class Settings:
    """Resolved configuration. Paths are absolute."""

    home: Path
    database_url: str
    redis_url: str | None = None
    sources_dir: Path = Path("sources")
    chromium_path: str = "/usr/bin/chromium"
    chromium_args: tuple[str, ...] = CHROMIUM_ARGS
    user_agent: str = "AdWatch/0.1 (+regulatory monitoring; contact: monitoring@example.gov.cn)"
    download_maxsize: int = 10 * 1024 * 1024
    download_timeout: int = 30
    retry_times: int = 2
    default_delay: float = 0.0
    default_concurrency: int = 8
    browser_timeout_ms: int = 30_000
    screenshot_width: int = 1280  # evidence screenshots: viewport width in CSS pixels
    screenshot_max_height: int = 16_384  # taller pages are cut here (recorded in the artifact)
    max_text_chars: int = 200_000
    claim_lease_seconds: int = 900
    run_heartbeat_seconds: int = 10
    run_stale_seconds: int = 120
    misfire_grace_seconds: int = 3600
    resume_max_age_seconds: int = 12 * 3600  # a crawl interrupted longer ago starts afresh
    database_outage_seconds: int = 600  # how long a crawl's writes wait for a database that went away
    pipeline_workers: int = (
        1  # processes running the page pipeline during a crawl; 0 = a thread (env default: cores, ≤ 4)
    )
    display_tz: str = CHINA_TZ
    web_host: str = "127.0.0.1"
    web_port: int = 8000
    cookie_secure: bool = False  # set ADWATCH_COOKIE_SECURE=1 when the app is served over HTTPS
    session_hours: int = 12  # absolute lifetime of a login
    session_idle_minutes: int = 120  # a login unused this long ends
    login_max_failures: int = 5  # per address and user name, within login_window_seconds
    login_max_failures_per_ip: int = 30  # per address, whatever the user name
    login_window_seconds: int = 900
    max_upload_bytes: int = 20 * 1024 * 1024  # approval-record files uploaded through the web app

    @property
    def evidence_dir(self) -> Path:
        return self.home / "evidence"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def jobs_dir(self) -> Path:
        """Scrapy JOBDIRs, one per source, so killed crawls resume."""
        return self.home / "jobs"

    @property
    def secret_key_file(self) -> Path:
        return self.home / "secret.key"

    @property
    def database_url_safe(self) -> str:
        """The database URL with any password masked, for messages and logs."""
        return mask_url(self.database_url)

    @property
    def redis_url_safe(self) -> str | None:
        return mask_url(self.redis_url) if self.redis_url else None

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)

    def ensure_dirs(self) -> None:
        for d in (self.home, self.evidence_dir, self.models_dir, self.logs_dir, self.jobs_dir):
            d.mkdir(parents=True, exist_ok=True)


def mask_url(url: str) -> str:
    """``scheme://user:***@host/db`` — never print a password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"environment variable {name}={raw!r} is not an integer") from exc


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build settings from an environment mapping (``os.environ`` by default)."""
    env = os.environ if env is None else env
    home = Path(env.get("ADWATCH_HOME") or "var").expanduser().resolve()
    database_url = env.get("ADWATCH_DATABASE_URL") or f"sqlite:///{home / 'adwatch.db'}"
    return Settings(
        home=home,
        database_url=database_url,
        redis_url=env.get("ADWATCH_REDIS_URL") or None,
        sources_dir=Path(env.get("ADWATCH_SOURCES_DIR") or "sources").expanduser().resolve(),
        chromium_path=env.get("ADWATCH_CHROMIUM") or "/usr/bin/chromium",
        user_agent=env.get("ADWATCH_USER_AGENT") or Settings.user_agent,
        download_maxsize=_int(env, "ADWATCH_DOWNLOAD_MAXSIZE", Settings.download_maxsize),
        download_timeout=_int(env, "ADWATCH_DOWNLOAD_TIMEOUT", Settings.download_timeout),
        claim_lease_seconds=_int(env, "ADWATCH_CLAIM_LEASE_SECONDS", Settings.claim_lease_seconds),
        screenshot_width=_int(env, "ADWATCH_SCREENSHOT_WIDTH", Settings.screenshot_width),
        screenshot_max_height=_int(env, "ADWATCH_SCREENSHOT_MAX_HEIGHT", Settings.screenshot_max_height),
        run_heartbeat_seconds=_int(env, "ADWATCH_RUN_HEARTBEAT_SECONDS", Settings.run_heartbeat_seconds),
        run_stale_seconds=_int(env, "ADWATCH_RUN_STALE_SECONDS", Settings.run_stale_seconds),
        misfire_grace_seconds=_int(env, "ADWATCH_MISFIRE_GRACE_SECONDS", Settings.misfire_grace_seconds),
        # The pipeline costs about twice the crawl's CPU per page: one process per core keeps up.
        pipeline_workers=_int(env, "ADWATCH_PIPELINE_WORKERS", min(4, os.cpu_count() or 1)),
        database_outage_seconds=_int(
            env, "ADWATCH_DATABASE_OUTAGE_SECONDS", Settings.database_outage_seconds
        ),
        web_host=env.get("ADWATCH_HOST") or Settings.web_host,
        web_port=_int(env, "ADWATCH_PORT", Settings.web_port),
        cookie_secure=(env.get("ADWATCH_COOKIE_SECURE") or "").lower() in ("1", "true", "yes"),
        session_hours=_int(env, "ADWATCH_SESSION_HOURS", Settings.session_hours),
        login_max_failures=_int(env, "ADWATCH_LOGIN_MAX_FAILURES", Settings.login_max_failures),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return load_settings()

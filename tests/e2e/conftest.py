"""End-to-end fixtures: the real `adwatch serve` on a free loopback port, and Debian's Chromium.

The server is a separate process on a SQLite database the test fills through the models; the
browser is driven with Playwright's sync API. Both are stopped when the test ends.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from adwatch.db import Database
from adwatch.devservers import free_port
from adwatch.settings import CHROMIUM_ARGS, Settings
from tests.conftest import make_settings
from tests.review_ui.factories import PASSWORD, ROLES, make_user

pytestmark = pytest.mark.e2e


@dataclass
class Server:
    url: str
    settings: Settings
    db: Database
    log: Path


def _wait_http(port: int, proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"adwatch serve exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"adwatch serve did not listen on {port}:\n{log.read_text()[-3000:]}")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    settings = make_settings(tmp_path / "home")
    settings.ensure_dirs()
    db = Database(settings)
    with db.session() as s:
        for role in ROLES:
            make_user(s, role, role)
    port = free_port()
    env = {
        **os.environ,
        "ADWATCH_HOME": str(settings.home),
        "ADWATCH_DATABASE_URL": settings.database_url,
        "ADWATCH_SOURCES_DIR": str(settings.sources_dir),
    }
    log = tmp_path / "serve.log"
    script = Path(sys.executable).with_name("adwatch")
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(script), "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_http(port, proc, log)
        yield Server(f"http://127.0.0.1:{port}", settings, db, log)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        db.dispose()


@pytest.fixture(scope="package")
def chromium():  # noqa: ANN201
    """One browser for the e2e package, closed when it ends: sync Playwright holds an event loop
    in this thread while it is open, which later sync-Playwright users in the session would trip on."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=list(CHROMIUM_ARGS))
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):  # noqa: ANN201
    context = chromium.new_context(locale="zh-CN", viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def log_in(page, server: Server, name: str) -> None:  # noqa: ANN001
    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()

"""Full-page PNG screenshots of flagged pages, rendered offline from the stored bytes.

The live page may have changed since it was fetched, so it is never fetched again: the stored
body is served to Chromium from memory for the capture's own URL and every other request
(stylesheets, images, frames, redirects, prefetches) is aborted; host resolution is disabled
as a second wall. JavaScript is off (the markup is written by lawbreakers), the viewport width is
fixed, the height is bounded, every wait is bounded. One Chromium renders a whole batch, each page
in a fresh browser context. A page that fails to render is logged as an audit event and retried on
the next batch, at most :data:`MAX_ATTEMPTS` times.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import io
import logging
import re
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from adwatch.db import Database
from adwatch.errors import AdWatchError
from adwatch.models import AuditEvent, Capture
from adwatch.settings import Settings, get_settings
from adwatch.timeutil import iso
from pipelines.evidence.recorder import SCREENSHOT, capture_body, media_type_of, missing_artifact_ids
from pipelines.evidence.store import ArtifactStore, find_artifact, record_artifact
from pipelines.evidence.tooling import playwright_version

log = logging.getLogger(__name__)

PNG = "image/png"
MAX_ATTEMPTS = 3
FAILED_ACTION = "evidence.screenshot_failed"
_CHARSET = re.compile(r"^[A-Za-z0-9._-]{1,40}$")
_AS_IS = (
    "text/html",
    "application/xhtml+xml",
    "text/plain",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
)
# No script, plugin, frame or worker even if JavaScript were somehow on; network is aborted anyway.
_CSP = "script-src 'none'; object-src 'none'; frame-src 'none'; worker-src 'none'; base-uri 'none'"


class RenderError(AdWatchError):
    """A stored page could not be rendered."""


@dataclass(frozen=True)
class Screenshot:
    png: bytes
    width: int
    height: int
    page_height: int  # the page's full height; more than ``height`` when the page was cut
    truncated: bool


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG, read from its header; anything else is refused."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != "PNG":
                raise RenderError(f"screenshot is {image.format}, not PNG")
            return image.size
    except (OSError, Image.DecompressionBombError) as exc:
        raise RenderError(f"screenshot is not a readable PNG: {exc}") from exc


def served_content_type(capture: Capture) -> str:
    """The Content-Type the stored body is served with: its own media type and the detected charset."""
    media = media_type_of(capture)
    if media == "application/pdf":
        raise RenderError(f"capture {capture.id} is a PDF; Chromium cannot screenshot PDFs headless")
    if media not in _AS_IS and not media.startswith("text/"):
        media = "text/plain"  # show the bytes as text rather than let Chromium download them
    charset = capture.encoding if capture.encoding and _CHARSET.match(capture.encoding) else None
    if charset and not media.startswith("image/"):
        return f"{media}; charset={charset}"
    return media


class OfflineRenderer:
    """One headless Chromium for a batch of stored pages: ``with OfflineRenderer(settings) as r: r.render(c)``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._playwright: Any = None
        self._browser: Any = None

    def __enter__(self) -> OfflineRenderer:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        try:
            self._browser = self._playwright.chromium.launch(
                executable_path=self.settings.chromium_path,
                args=[*self.settings.chromium_args, "--host-resolver-rules=MAP * ~NOTFOUND"],
                timeout=self.settings.browser_timeout_ms,
            )
        except PlaywrightError as exc:
            self._playwright.stop()
            raise AdWatchError(
                f"cannot start Chromium at {self.settings.chromium_path}: {str(exc).splitlines()[0]}"
                " (install Debian's chromium package or set ADWATCH_CHROMIUM)"
            ) from exc
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if self._browser is not None:
                self._browser.close()
        finally:
            self._playwright.stop()

    @property
    def browser_version(self) -> str:
        return self._browser.version if self._browser is not None else "unknown"

    def render(self, capture: Capture, body: bytes | None = None) -> Screenshot:
        """A full-page PNG of the stored body, at the fixed width, cut at the maximum height."""
        from playwright.sync_api import Error as PlaywrightError

        if self._browser is None:
            raise RuntimeError("OfflineRenderer used outside its with-block")
        body = capture_body(capture) if body is None else body
        url = capture.final_url or capture.url
        headers = {"content-type": served_content_type(capture), "content-security-policy": _CSP}
        width, timeout = self.settings.screenshot_width, self.settings.browser_timeout_ms
        context = self._browser.new_context(
            java_script_enabled=False,
            viewport={"width": width, "height": 800},
            service_workers="block",
            accept_downloads=False,
            locale="zh-CN",
            timezone_id=self.settings.display_tz,
        )
        try:
            context.set_default_timeout(timeout)
            page = context.new_page()
            served = False

            def handle(route: Any) -> None:
                nonlocal served
                request = route.request
                if not served and request.is_navigation_request() and request.frame == page.main_frame:
                    served = True
                    route.fulfill(status=200, headers=headers, body=body)
                else:
                    route.abort("aborted")  # a cancelled navigation leaves the stored page in place

            page.route("**/*", handle)
            page.goto(url, wait_until="load", timeout=timeout)
            page_height = int(
                page.evaluate(
                    "() => Math.max(document.documentElement ? document.documentElement.scrollHeight : 0,"
                    " document.body ? document.body.scrollHeight : 0, 1)"
                )
            )
            height = min(page_height, self.settings.screenshot_max_height)
            png = page.screenshot(
                full_page=True,
                clip={"x": 0, "y": 0, "width": width, "height": height},
                animations="disabled",
                caret="hide",
                timeout=timeout,
            )
        except PlaywrightError as exc:
            raise RenderError(f"capture {capture.id} ({url}): {str(exc).splitlines()[0]}") from exc
        finally:
            context.close()
        got_width, got_height = png_size(png)
        return Screenshot(png, got_width, got_height, page_height, truncated=page_height > height)


def store_browser_screenshot(
    session: Session, capture: Capture, png_bytes: bytes, *, settings: Settings | None = None
) -> None:
    """Keep the screenshot a browser render took at fetch time as the capture's screenshot."""
    settings = settings or get_settings()
    width, height = png_size(png_bytes)
    if capture.id is None:
        session.flush()
    stored = ArtifactStore(settings.evidence_dir).put(png_bytes, ".png")
    detail = {
        "captured_at": iso(capture.fetched_at),
        "url": capture.final_url or capture.url,
        "method": "full-page screenshot taken by the crawler's browser when the page was fetched",
        "renderer": "the crawler's headless Chromium (Playwright), at fetch time",
        "width": width,
        "height": height,
    }
    record_artifact(session, capture, SCREENSHOT, stored, PNG, detail)


def _failures(session: Session) -> dict[int, int]:
    rows = session.execute(
        select(AuditEvent.target_id, func.count())
        .where(AuditEvent.action == FAILED_ACTION, AuditEvent.target_type == "capture")
        .group_by(AuditEvent.target_id)
    )
    return {int(target): count for target, count in rows if target and target.isdigit()}


def pending_screenshots(session: Session, limit: int | None = None) -> list[int]:
    """Captures that are due a screenshot and have not failed :data:`MAX_ATTEMPTS` times."""
    failures = _failures(session)
    due = [cid for cid in missing_artifact_ids(session, SCREENSHOT) if failures.get(cid, 0) < MAX_ATTEMPTS]
    return due[:limit] if limit is not None else due


def render_pending(db: Database, settings: Settings, limit: int | None = None) -> int:
    """Render the screenshots that are due, in one Chromium; returns how many were stored.

    Blocking. Playwright's sync API cannot run on a thread that runs an asyncio loop (a Scrapy
    asyncio reactor, a web request), so from there the work moves to a worker thread; async callers
    should rather ``await asyncio.to_thread(render_pending, db, settings)``.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _render_pending(db, settings, limit)
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="adwatch-screenshots") as pool:
        return pool.submit(_render_pending, db, settings, limit).result()


def _render_pending(db: Database, settings: Settings, limit: int | None) -> int:
    with db.session() as s:
        due = pending_screenshots(s, limit)
    if not due:
        return 0
    store = ArtifactStore(settings.evidence_dir)
    done = 0
    with OfflineRenderer(settings) as renderer:
        for capture_id in due:
            with db.session() as s:
                capture = s.get(Capture, capture_id)
                if capture is None or find_artifact(s, capture_id, SCREENSHOT) is not None:
                    continue
                s.expunge(capture)  # no transaction held open while the browser works
            try:
                shot = renderer.render(capture)
            except AdWatchError as exc:
                log.warning("screenshot of capture %s failed: %s", capture_id, exc)
                with db.session() as s:
                    s.add(
                        AuditEvent(
                            username="system:evidence",
                            action=FAILED_ACTION,
                            target_type="capture",
                            target_id=str(capture_id),
                            detail={"error": str(exc)[:2000]},
                        )
                    )
                continue
            stored = store.put(shot.png, ".png")
            detail = {
                "captured_at": iso(capture.fetched_at),
                "url": capture.final_url or capture.url,
                "method": "stored body rendered offline in headless Chromium; network and JavaScript disabled",
                "renderer": f"Chromium {renderer.browser_version} via Playwright {playwright_version()}",
                "width": shot.width,
                "height": shot.height,
                "page_height": shot.page_height,
                "truncated": shot.truncated,
            }
            with db.session() as s:
                record_artifact(s, capture, SCREENSHOT, stored, PNG, detail)
            done += 1
    return done

"""Every area of the web app, one module each; the app registers the routers listed here.

To add an area: write ``routes/<area>.py`` with a ``router`` (an APIRouter) and an optional
``NAV`` list, and add the module to ``AREAS``.
"""

from __future__ import annotations

from review_ui.nav import NavItem
from review_ui.routes import admin, approvals, auth, crawl, exports, items, queue, stats

AREAS = [auth, queue, items, approvals, exports, stats, crawl, admin]

ROUTERS = [area.router for area in AREAS]
NAV: list[NavItem] = sorted(
    (item for area in AREAS for item in getattr(area, "NAV", ())), key=lambda i: i.order
)

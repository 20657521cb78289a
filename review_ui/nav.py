"""The navigation bar: each route module declares its entries in a ``NAV`` list.

``routes/__init__.py`` collects them, so a new area (exports, statistics) adds its own link by
declaring ``NAV = [NavItem("导出", "/exports", ("enforcement",), 60)]`` next to its router.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NavItem:
    title: str
    path: str
    roles: tuple[str, ...]  # admin sees every entry
    order: int = 50

    def visible_to(self, role: str) -> bool:
        return role == "admin" or role in self.roles

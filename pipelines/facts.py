"""The facts a Document records about its text: contacts, 文号, institutions, credit codes, addresses.

``Document.approval_numbers`` is a list of ``{"raw", "key", "region", "start", "end"}``: each
advertising-approval number as cited in the text (``raw``), its normalised ``key`` (the form
``ApprovalRecord.number_key`` uses, from ``pipelines.approval_numbers``), the issuer prefix
``region`` (京, 沪, 成青 …) and character offsets into ``Document.text``. Approval linking reads it.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from pipelines.approval_numbers import find_approval_numbers, guang_characters
from pipelines.contacts import find_contacts
from pipelines.entities import find_addresses, find_credit_codes, find_institutions

# A 文号 spans at most a few dozen characters around its 广 (region prefixes before, serial after);
# evaders may write 广 as the Kangxi radical ⼴, which folds to it.
_BEFORE_GUANG, _AFTER_GUANG = 24, 56


@functools.cache
def _guang() -> re.Pattern[str]:
    return re.compile("[" + "".join(sorted(guang_characters())) + "]")


def approval_numbers(text: str) -> list[dict[str, Any]]:
    """Every 文号 in ``text``; the matcher runs only on short windows around each 广 (or ⼴)."""
    windows: list[tuple[int, int]] = []
    for match in _guang().finditer(text):
        pos = match.start()
        start, end = max(0, pos - _BEFORE_GUANG), min(len(text), pos + _AFTER_GUANG)
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], end)
        else:
            windows.append((start, end))
    found: dict[int, dict[str, Any]] = {}
    for start, end in windows:
        for n in find_approval_numbers(text[start:end]):
            if n.end + start < end or end == len(text):  # not cut off by the window's edge
                found.setdefault(
                    n.start + start,
                    {
                        "raw": n.raw,
                        "key": n.key,
                        "region": n.region,
                        "start": n.start + start,
                        "end": n.end + start,
                    },
                )
    return [found[k] for k in sorted(found)]


def document_facts(text: str) -> dict[str, Any]:
    """The JSON columns of a Document that are read off its text."""
    return {
        "contacts": find_contacts(text),
        "approval_numbers": approval_numbers(text),
        "institutions": find_institutions(text),
        "credit_codes": find_credit_codes(text),
        "addresses": find_addresses(text),
    }

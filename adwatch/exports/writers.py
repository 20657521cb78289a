"""XLSX and CSV writers for the evidence list, one row at a time (never the whole list in memory).

Cell text comes from crawled pages, so it is hostile: control characters that XLSX cannot hold are
dropped, cells are cut at Excel's 32,767 characters, a value that starts like a formula stays text
(typed as a string in XLSX; prefixed with ``'`` in CSV, the usual guard against CSV injection).
XLSX: write-only workbook, frozen bold header, readable column widths, long-text columns wrapped.
CSV: UTF-8 with BOM and CRLF line ends, so spreadsheet software opens Chinese correctly.
"""

from __future__ import annotations

import contextlib
import csv
import os
from collections.abc import Collection, Sequence
from copy import copy
from pathlib import Path
from types import TracebackType
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

MAX_CELL_CHARS = 32_767
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
_WRAP = Alignment(wrap_text=True, vertical="top")


def clean_text(value: Any) -> Any:
    """A cell value fit for a spreadsheet: numbers as they are, text without control characters."""
    if value is None:
        return ""
    if isinstance(value, int | float):
        return value
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    return text[:MAX_CELL_CHARS]


class XlsxWriter:
    """A write-only workbook: ``add_sheet`` then ``append`` rows; ``close`` saves.

    Only the columns named in ``wrap`` get a style (wrapped text, top-aligned): openpyxl writes a
    styled cell several times slower than a plain value, and most columns hold one short line.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.workbook = Workbook(write_only=True)
        self.sheet: Any = None
        self._wrap: frozenset[int] = frozenset()
        self._wrap_style: Any = None

    def add_sheet(self, title: str, columns: Sequence[tuple[str, int]], wrap: Collection[str] = ()) -> None:
        self.sheet = self.workbook.create_sheet(title)
        self._wrap = frozenset(i for i, (name, _) in enumerate(columns) if name in wrap)
        # Resolved once and copied to each wrapped cell (assigning .alignment re-hashes it every time).
        template = WriteOnlyCell(self.sheet)
        template.alignment = _WRAP
        self._wrap_style = template._style
        for index, (_, width) in enumerate(columns, start=1):
            self.sheet.column_dimensions[get_column_letter(index)].width = width
        self.sheet.freeze_panes = "A2"
        header = []
        for name, _ in columns:
            cell = WriteOnlyCell(self.sheet, value=name)
            cell.font = _HEADER_FONT
            cell.fill = _HEADER_FILL
            header.append(cell)
        self.sheet.append(header)

    def append(self, values: Sequence[Any]) -> None:
        row: list[Any] = []
        for index, value in enumerate(values):
            value = clean_text(value)
            if value == "":
                row.append(None)  # no cell at all: a fifth of the cost when many columns are empty
                continue
            wrapped = index in self._wrap
            if wrapped or (isinstance(value, str) and value.startswith("=")):
                cell = WriteOnlyCell(self.sheet, value=value)
                if cell.data_type == "f":
                    cell.data_type = "s"  # never a formula, whatever the page said
                if wrapped:
                    cell._style = copy(self._wrap_style)
                value = cell
            row.append(value)
        self.sheet.append(row)

    def close(self) -> None:
        self.workbook.save(self.path)

    def abort(self) -> None:
        """Give up a half-written workbook: finish openpyxl's streams (and its temporary files) into nothing."""
        with contextlib.suppress(Exception):
            self.workbook.save(os.devnull)

    def __enter__(self) -> XlsxWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def csv_safe(value: Any) -> Any:
    value = clean_text(value)
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


class CsvWriter:
    """UTF-8 with BOM, CRLF, every field quoted when needed (multi-line cells stay one record)."""

    def __init__(self, path: Path, headers: Sequence[str]) -> None:
        self.path = path
        self._fh = open(path, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115 (closed in close)
        self._writer = csv.writer(self._fh, lineterminator="\r\n")
        self._writer.writerow(headers)

    def append(self, values: Sequence[Any]) -> None:
        self._writer.writerow([csv_safe(v) for v in values])

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> CsvWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

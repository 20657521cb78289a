"""XLSX and CSV writers for the evidence list, one row at a time (never the whole list in memory).

Cell text comes from crawled pages, so it is hostile: control characters that XLSX cannot hold are
dropped, cells are cut at Excel's 32,767 characters, a value that starts like a formula stays text
(typed as a string in XLSX; prefixed with ``'`` in CSV, the usual guard against CSV injection).
XLSX: write-only workbook, frozen bold header, readable column widths, wrapped text.
CSV: UTF-8 with BOM and CRLF line ends, so spreadsheet software opens Chinese correctly.
"""

from __future__ import annotations

import contextlib
import csv
import os
from collections.abc import Sequence
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
    """A write-only workbook: ``add_sheet`` then ``append`` rows; ``close`` saves."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.workbook = Workbook(write_only=True)
        self.sheet: Any = None

    def add_sheet(self, title: str, columns: Sequence[tuple[str, int]], wrap: bool = True) -> None:
        self.sheet = self.workbook.create_sheet(title)
        self.wrap = wrap
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
        cells = []
        for value in values:
            cell = WriteOnlyCell(self.sheet, value=clean_text(value))
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula, whatever the page said
            if self.wrap:
                cell.alignment = _WRAP
            cells.append(cell)
        self.sheet.append(cells)

    def append_plain(self, values: Sequence[Any]) -> None:
        """A row without wrapping: for notes and titles."""
        cells = []
        for value in values:
            cell = WriteOnlyCell(self.sheet, value=clean_text(value))
            if isinstance(cell.value, str):
                cell.data_type = "s"
            cells.append(cell)
        self.sheet.append(cells)

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

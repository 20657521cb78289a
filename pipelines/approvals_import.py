"""Import 《医疗广告审查证明》 records from CSV or XLSX, all or nothing.

Every row is read and checked before anything is written; one bad row means nothing is imported
and the error report names every bad row and column (spreadsheet numbering: the header is row 1,
columns A, B, …). Re-importing a 文号 (by its normalised key) updates that record. After a
successful import every document citing a number is linked again.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlalchemy.orm import Session

from adwatch.errors import AdWatchError
from adwatch.models import ApprovalRecord
from adwatch.timeutil import utcnow
from pipelines.approval_numbers import parse_approval_number, province_of
from pipelines.link_approvals import first_province, relink_all

# Header → model field, in the order CONTRACT/issue lists them.
COLUMNS: dict[str, str] = {
    "文号": "number",
    "机构名称": "institution",
    "地址": "address",
    "诊疗科目": "subjects",
    "发布媒介": "media",
    "有效期起": "valid_from",
    "有效期止": "valid_to",
    "审查内容": "content",
}
REQUIRED_VALUES = ("文号", "机构名称", "有效期起", "有效期止")
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ROWS = 200_000
MAX_CHARS = {"审查内容": 20_000}
DEFAULT_MAX_CHARS = 500
MAX_REPORTED_ERRORS = 1000


@dataclass(frozen=True)
class RowError:
    row: int  # spreadsheet row number; the header is row 1
    column: str  # column letter, "" for the whole row
    header: str
    message: str

    def __str__(self) -> str:
        where = f"第{self.row}行" + (f" {self.column}列（{self.header}）" if self.column else "")
        return f"{where}：{self.message}"


class ApprovalImportError(AdWatchError):
    """The file was refused; ``errors`` names every bad row and column. Nothing was imported."""

    def __init__(self, path: Path, errors: list[RowError]) -> None:
        self.path = path
        self.errors = errors
        rows = sorted({e.row for e in errors})
        super().__init__(
            f"{path}: nothing imported, {len(errors)} error(s) in {len(rows)} row(s)"
            f" (rows {', '.join(map(str, rows[:20]))}{' …' if len(rows) > 20 else ''}): fix them and import again"
        )


@dataclass
class ParsedRecord:
    row: int
    number: str
    number_key: str
    region: str
    institution: str
    address: str | None
    subjects: str | None
    media: str | None
    valid_from: dt.date
    valid_to: dt.date
    content: str | None


@dataclass
class ImportReport:
    path: Path
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    relinked: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


def _header_name(value: Any) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value or "")))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFC", str(value)).strip()


_DATE_PATTERNS = (
    re.compile(r"^(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$"),
    re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def parse_date(value: Any) -> dt.date:
    """A date from a spreadsheet cell: a date/datetime, or 2025-01-31, 2025/1/31, 2025.1.31, 2025年1月31日, 20250131."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = unicodedata.normalize("NFKC", _cell(value))
    for pattern in _DATE_PATTERNS:
        m = pattern.match(text)
        if m:
            try:
                return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                raise ValueError(f"不存在的日期 {text!r}") from None
    raise ValueError(f"无法识别的日期 {text!r}（应为 2025-01-31 或 2025年1月31日 等格式）")


def _read_rows(path: Path) -> list[list[Any]]:
    """Raw rows (header first) of a CSV (UTF-8 or GB18030) or XLSX (first sheet)."""
    if not path.is_file():
        raise AdWatchError(f"{path}: no such file")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise AdWatchError(f"{path}: file too large ({size} bytes, at most {MAX_FILE_BYTES})")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        data = path.read_bytes()
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                decoded = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:  # pragma: no cover - gb18030 decodes any byte string
            raise AdWatchError(f"{path}: cannot decode as UTF-8 or GB18030")
        return [row for row in csv.reader(io.StringIO(decoded, newline=""))]
    if suffix == ".xlsx":
        try:
            workbook = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a broken file
            raise AdWatchError(
                f"{path}: not a readable XLSX workbook ({exc.__class__.__name__}: {exc})"
            ) from exc
        try:
            sheet = workbook.worksheets[0]
            rows = []
            for row in sheet.iter_rows(values_only=True):
                rows.append(list(row))
                if len(rows) > MAX_ROWS + 1:
                    break
            return rows
        finally:
            workbook.close()
    raise AdWatchError(f"{path}: unsupported file type {suffix!r}: use .csv or .xlsx")


def read_approval_file(path: Path) -> tuple[list[ParsedRecord], list[str]]:
    """Every record of the file, checked; ApprovalImportError with every bad row if any is bad.

    Returns the records and warnings (things worth a look that do not stop the import).
    """
    rows = _read_rows(path)
    errors: list[RowError] = []
    warnings: list[str] = []
    if not rows:
        raise ApprovalImportError(
            path, [RowError(1, "", "", "文件为空：第一行应为表头（文号、机构名称、…）")]
        )
    header = [_header_name(h) for h in rows[0]]
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        if name in COLUMNS:
            if name in positions:
                errors.append(RowError(1, get_column_letter(index + 1), name, "表头重复"))
            positions[name] = index
    for name in COLUMNS:
        if name not in positions:
            errors.append(RowError(1, "", name, f"缺少列“{name}”（表头须包含：{'、'.join(COLUMNS)}）"))
    if errors:
        raise ApprovalImportError(path, errors)
    body = rows[1:]
    if len(body) > MAX_ROWS:
        raise ApprovalImportError(path, [RowError(MAX_ROWS + 2, "", "", f"行数过多（最多 {MAX_ROWS} 行）")])

    records: list[ParsedRecord] = []
    first_row_of_key: dict[str, int] = {}
    for offset, raw in enumerate(body):
        row_no = offset + 2
        values = {name: (raw[i] if i < len(raw) else None) for name, i in positions.items()}
        if all(_cell(v) == "" for v in values.values()):
            continue  # blank line
        row_errors: list[RowError] = []

        def bad(
            name: str, message: str, row_no: int = row_no, row_errors: list[RowError] = row_errors
        ) -> None:
            row_errors.append(RowError(row_no, get_column_letter(positions[name] + 1), name, message))

        texts = {name: _cell(v) for name, v in values.items()}
        for name in REQUIRED_VALUES:
            if texts[name] == "":
                bad(name, "不能为空")
        for name, text in texts.items():
            limit = MAX_CHARS.get(name, DEFAULT_MAX_CHARS)
            if len(text) > limit:
                bad(name, f"过长（{len(text)} 字，最多 {limit} 字）")
        parsed_number = None
        if texts["文号"]:
            try:
                parsed_number = parse_approval_number(texts["文号"])
            except ValueError:
                bad("文号", f"不是医疗广告审查证明文号：{texts['文号'][:60]!r}")
        dates: dict[str, dt.date] = {}
        for name in ("有效期起", "有效期止"):
            if texts[name]:
                try:
                    dates[name] = parse_date(values[name])
                except ValueError as exc:
                    bad(name, str(exc))
        if len(dates) == 2 and dates["有效期止"] < dates["有效期起"]:
            bad("有效期止", f"早于有效期起（{dates['有效期起']} → {dates['有效期止']}）")
        if parsed_number is not None:
            key = parsed_number.key
            if key in first_row_of_key:
                bad("文号", f"与第{first_row_of_key[key]}行的文号重复（{key}）")
            else:
                first_row_of_key[key] = row_no
            number_province = province_of(parsed_number.region)
            address_province = first_province(texts["地址"])
            if number_province and address_province and number_province != address_province:
                warnings.append(
                    f"第{row_no}行：文号属{number_province}，地址却在{address_province}（{texts['地址'][:40]}），请核对"
                )
        if row_errors:
            errors.extend(row_errors)
            continue
        assert parsed_number is not None
        records.append(
            ParsedRecord(
                row=row_no,
                number=texts["文号"],
                number_key=parsed_number.key,
                region=parsed_number.region,
                institution=texts["机构名称"],
                address=texts["地址"] or None,
                subjects=texts["诊疗科目"] or None,
                media=texts["发布媒介"] or None,
                valid_from=dates["有效期起"],
                valid_to=dates["有效期止"],
                content=texts["审查内容"] or None,
            )
        )
    if errors:
        raise ApprovalImportError(path, errors[:MAX_REPORTED_ERRORS])
    if not records:
        raise ApprovalImportError(path, [RowError(2, "", "", "没有任何记录：表头之后全是空行")])
    return records, warnings


_FIELDS = (
    "number",
    "region",
    "institution",
    "address",
    "subjects",
    "media",
    "valid_from",
    "valid_to",
    "content",
)


def import_approvals(session: Session, path: Path) -> ImportReport:
    """Check the whole file, then create or update every record (by 文号) and relink documents.

    Runs in the caller's transaction: on any error nothing is written.
    """
    path = Path(path)
    records, warnings = read_approval_file(path)
    report = ImportReport(path=path, warnings=warnings)
    existing = {}
    keys = [r.number_key for r in records]
    for i in range(0, len(keys), 500):
        for record in session.scalars(
            select(ApprovalRecord).where(ApprovalRecord.number_key.in_(keys[i : i + 500]))
        ):
            existing[record.number_key] = record
    now = utcnow()
    for parsed in records:
        record = existing.get(parsed.number_key)
        if record is None:
            session.add(
                ApprovalRecord(
                    number_key=parsed.number_key,
                    imported_at=now,
                    updated_at=now,
                    **{name: getattr(parsed, name) for name in _FIELDS},
                )
            )
            report.created += 1
            continue
        changed = False
        for name in _FIELDS:
            if getattr(record, name) != getattr(parsed, name):
                setattr(record, name, getattr(parsed, name))
                changed = True
        if changed:
            record.updated_at = now
            report.updated += 1
        else:
            report.unchanged += 1
    session.flush()
    report.relinked = relink_all(session)
    return report

"""The evidence bundle: one ZIP with the list, every item's files, the extraction record and manifests.

Layout (ASCII names, so every unzip tool agrees on them)::

    evidence-list.xlsx, evidence-list.csv      the list (截图文件 cites the paths below)
    extraction-record.txt                      电子数据提取笔录
    items/00001-123/screenshot.png             per item (sequence number, review item id):
    items/00001-123/page.html                  the raw body as fetched (extension from its type)
    items/00001-123/capture.warc.gz            the WARC file
    manifest.json                              every file above: path, sha256, bytes; created_at, filters, exported_by
    manifest.sha256                            sha256sum format, every file above and manifest.json

Files are streamed from the evidence store into the ZIP and hashed on the way; a stored file
whose hash no longer matches the one recorded when it was made stops the export (it must not
reach an enforcement team as evidence). Compressed formats (PNG, gzip) are stored, not deflated.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from adwatch.errors import AdWatchError
from adwatch.exports.extraction_record import ExtractionRecord
from adwatch.exports.filters import ExportFilters
from adwatch.exports.rows import COLUMNS, HEADERS, WRAPPED, EvidenceRow
from adwatch.exports.writers import CsvWriter, XlsxWriter
from adwatch.timeutil import iso, to_china
from pipelines.evidence.store import CHUNK, extension_for
from pipelines.evidence.tooling import adwatch_version

FORMAT = "adwatch-evidence-bundle/1"
LIST_XLSX = "evidence-list.xlsx"
LIST_CSV = "evidence-list.csv"
RECORD = "extraction-record.txt"
MANIFEST = "manifest.json"
MANIFEST_SHA256 = "manifest.sha256"
LIST_SHEET = "证据清单"
_STORED_SUFFIXES = (".png", ".gz", ".jpg", ".webp", ".gif", ".xlsx")


class EvidenceChanged(AdWatchError):
    """A stored evidence file differs from the hash recorded when it was made, or is gone."""


@dataclass(frozen=True)
class ManifestEntry:
    path: str
    sha256: str
    bytes: int


def item_files(row: EvidenceRow) -> dict[str, str]:
    """Artifact kind -> path inside the bundle, for the artifacts the item has."""
    folder = f"items/{row.seq:05d}-{row.item_id}"
    names = {}
    if "screenshot" in row.artifacts:
        names["screenshot"] = f"{folder}/screenshot.png"
    if "raw" in row.artifacts:
        names["raw"] = f"{folder}/page{extension_for(row.artifacts['raw'].media_type)}"
    if "warc" in row.artifacts:
        names["warc"] = f"{folder}/capture.warc.gz"
    return names


class BundleWriter:
    """Writes one bundle to ``path``; use :func:`write_bundle`."""

    def __init__(self, path: Path, created_at: dt.datetime, exported_by: str, filters: ExportFilters):
        self.created_at = created_at
        self.exported_by = exported_by
        self.filters = filters
        self.entries: list[ManifestEntry] = []
        self._stamp = to_china(created_at).timetuple()[:6]  # type: ignore[union-attr]
        self.zip = zipfile.ZipFile(
            path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6, allowZip64=True
        )

    def _info(self, name: str, size: int) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=self._stamp)  # type: ignore[arg-type]
        info.external_attr = 0o100644 << 16
        info.compress_type = zipfile.ZIP_STORED if name.endswith(_STORED_SUFFIXES) else zipfile.ZIP_DEFLATED
        info.file_size = size
        return info

    def add_file(self, source: str | Path, name: str, expected_sha256: str | None = None) -> ManifestEntry:
        """Stream ``source`` into the ZIP as ``name``, hashing it; check it against ``expected_sha256``."""
        digest = hashlib.sha256()
        try:
            size = os.stat(source).st_size
            with (
                open(source, "rb") as src,
                self.zip.open(self._info(name, size), "w", force_zip64=size > 2**31) as dst,
            ):
                written = 0
                while block := src.read(CHUNK):
                    digest.update(block)
                    dst.write(block)
                    written += len(block)
        except FileNotFoundError as exc:
            raise EvidenceChanged(
                f"evidence file {source} for {name} is missing; run `adwatch evidence verify` and"
                " `adwatch evidence capture` to re-make what can be re-made"
            ) from exc
        entry = ManifestEntry(name, digest.hexdigest(), written)
        if expected_sha256 is not None and entry.sha256 != expected_sha256:
            raise EvidenceChanged(
                f"evidence file {source} ({name}) has SHA-256 {entry.sha256}, but {expected_sha256} was"
                " recorded when it was made: it changed since; run `adwatch evidence verify` and investigate"
                " before exporting"
            )
        self.entries.append(entry)
        return entry

    def add_bytes(self, data: bytes, name: str) -> ManifestEntry:
        with self.zip.open(self._info(name, len(data)), "w") as dst:
            dst.write(data)
        return ManifestEntry(name, hashlib.sha256(data).hexdigest(), len(data))

    def manifest(self) -> dict[str, object]:
        return {
            "format": FORMAT,
            "created_at": iso(self.created_at),
            "exported_by": self.exported_by,
            "filters": self.filters.to_dict(),
            "system": f"AdWatch {adwatch_version()}",
            "files": [{"path": e.path, "sha256": e.sha256, "bytes": e.bytes} for e in self.entries],
        }

    def finish(self) -> None:
        manifest = self.add_bytes(
            json.dumps(self.manifest(), ensure_ascii=False, indent=1).encode("utf-8"), MANIFEST
        )
        lines = "".join(f"{e.sha256}  {e.path}\n" for e in [*self.entries, manifest])
        self.add_bytes(lines.encode("utf-8"), MANIFEST_SHA256)
        self.zip.close()


def write_bundle(
    rows: Iterable[EvidenceRow],
    path: Path,
    created_at: dt.datetime,
    exported_by: str,
    filters: ExportFilters,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the bundle of ``rows`` to ``path``; returns the number of items."""
    with tempfile.TemporaryDirectory(prefix="adwatch-bundle-", dir=path.parent) as tmp:
        work = Path(tmp)
        writer = BundleWriter(path, created_at, exported_by, filters)
        record = ExtractionRecord(work, created_at, exported_by, filters)
        xlsx = XlsxWriter(work / LIST_XLSX)
        xlsx.add_sheet(LIST_SHEET, COLUMNS, wrap=WRAPPED)
        try:
            with CsvWriter(work / LIST_CSV, HEADERS) as csv_out:
                for row in rows:
                    names = item_files(row)
                    for kind, name in names.items():
                        artifact = row.artifacts[kind]
                        writer.add_file(artifact.path, name, artifact.sha256)
                    cells = row.cells(names.get("screenshot", ""))
                    xlsx.append(cells)
                    csv_out.append(cells)
                    record.add(row, names)
                    if "screenshot" in row.artifacts:
                        record.note_renderer(row.artifacts["screenshot"].tool)
                    if progress is not None:
                        progress(record.items)
            xlsx.close()
            lists = {}
            for name in (LIST_XLSX, LIST_CSV):
                lists[name] = writer.add_file(work / name, name).sha256
            record.write(work / RECORD, lists)
            writer.add_file(work / RECORD, RECORD)
            writer.finish()
        except BaseException:
            xlsx.abort()
            record.discard()
            writer.zip.close()
            raise
    return record.items

"""``adwatch classify`` on JSONL streams (CONTRACT.md "classify lines").

Each input line is read as bytes with a size bound, decoded, parsed and checked on its own: a
bad line is reported on stderr with its line number and skipped, the others are classified and
written in input order. The caller turns ``failed > 0`` into a non-zero exit status.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

MAX_LINE_BYTES = 16 * 1024 * 1024


@dataclass
class StreamReport:
    lines: int = 0
    classified: int = 0
    failed: int = 0
    warnings: int = 0


class BadLine(Exception):
    """A line that cannot be classified; the message says why."""


def parse_line(raw: bytes) -> dict[str, Any]:
    """The input object of one line, or BadLine naming the problem."""
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadLine(
            f"not UTF-8 (byte 0x{raw[exc.start]:02x} at byte {exc.start}): re-encode the file as UTF-8"
        ) from None
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise BadLine(f"invalid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(obj, dict):
        raise BadLine(f"expected a JSON object, got {type(obj).__name__}")
    item_id = obj.get("id")
    if item_id is None or item_id == "" or not isinstance(item_id, str | int):
        raise BadLine('no "id" (a string or integer) in the object')
    text = obj.get("text")
    title = obj.get("title")
    if text is not None and not isinstance(text, str):
        raise BadLine(f'"text" must be a string, got {type(text).__name__}')
    if title is not None and not isinstance(title, str):
        raise BadLine(f'"title" must be a string, got {type(title).__name__}')
    if not (text or "").strip() and not (title or "").strip():
        raise BadLine('empty "text" (and no title): nothing to classify')
    return {"id": item_id, "text": text or "", "title": title}


def classify_stream(
    clf: Any,
    source: IO[bytes],
    sink: IO[bytes],
    report_error: Callable[[str], None],
    *,
    max_line_bytes: int = MAX_LINE_BYTES,
    batch: int = 256,
) -> StreamReport:
    report = StreamReport()
    pending: list[tuple[int, dict[str, Any]]] = []

    def flush() -> None:
        results = clf.classify_many((obj["text"], obj["title"]) for _n, obj in pending)
        for (n, obj), result in zip(pending, results, strict=True):
            if result.truncated:
                report.warnings += 1
                report_error(
                    f"line {n}: text of {len(obj['text'])} characters is longer than the bound of "
                    f"{clf.max_chars}: classified its first {clf.max_chars} characters only"
                )
            out = {"id": obj["id"]} | result.to_dict()
            sink.write(json.dumps(out, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n")
            report.classified += 1
        pending.clear()

    while True:
        raw = source.readline(max_line_bytes + 1)
        if not raw:
            break
        report.lines += 1
        n = report.lines
        if len(raw) > max_line_bytes and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):  # skip the rest of the oversized line
                raw = source.readline(max_line_bytes)
            report.failed += 1
            report_error(f"line {n}: longer than {max_line_bytes} bytes: skipped (split the document)")
            continue
        raw = raw.rstrip(b"\r\n")
        if not raw.strip():
            report.failed += 1
            report_error(f"line {n}: empty line: skipped")
            continue
        try:
            pending.append((n, parse_line(raw)))
        except BadLine as exc:
            report.failed += 1
            report_error(f"line {n}: {exc}: skipped")
            continue
        if len(pending) >= batch or sum(len(o["text"]) for _n, o in pending[-1:]) > 100_000:
            flush()
    if pending:
        flush()
    return report

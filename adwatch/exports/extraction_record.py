"""The extraction record (电子数据提取笔录) every bundle carries.

Courts and SAMR's electronic-evidence rules expect a record of what was extracted, from which URL,
when, by which system and version, by which method and with which hash values. The record is
plain UTF-8 text: a header (known only when the bundle is complete) and an appendix with one entry
per item, written to a temporary file as the items stream past so a large bundle never holds it in
memory. The bundle's own hash cannot be inside the bundle; it is kept in the audit log.
"""

from __future__ import annotations

import datetime as dt
import platform
import socket
from pathlib import Path
from typing import TextIO

from adwatch.exports.filters import ExportFilters
from adwatch.exports.rows import ARTIFACT_ZH, EvidenceRow
from adwatch.timeutil import fmt_china
from pipelines.evidence.tooling import adwatch_version, playwright_version, warcio_version

TITLE = "电子数据提取笔录"


class ExtractionRecord:
    """Collects the per-item appendix while a bundle is written; :meth:`write` produces the record."""

    def __init__(
        self, workdir: Path, created_at: dt.datetime, exported_by: str, filters: ExportFilters
    ) -> None:
        self.created_at = created_at
        self.exported_by = exported_by
        self.filters = filters
        self.items = 0
        self.files = 0
        self.without_screenshot = 0
        self.renderers: dict[str, None] = {}
        self._appendix_path = workdir / "extraction-appendix.txt"
        self._appendix: TextIO = open(self._appendix_path, "w", encoding="utf-8")  # noqa: SIM115 (closed in write/discard)

    def add(self, row: EvidenceRow, files: dict[str, str]) -> None:
        """One item: ``files`` maps artifact kind to its path in the bundle."""
        self.items += 1
        self.files += len(files)
        if "screenshot" not in files:
            self.without_screenshot += 1
        lines = [
            f"（{row.seq}）{row.title or '（无标题）'}",
            f"    网址：{row.url}",
            f"    网页获取时间：{fmt_china(row.fetched_at)}",
        ]
        for kind, name in files.items():
            artifact = row.artifacts[kind]
            lines.append(
                f"    {ARTIFACT_ZH[kind]}：{name}（{artifact.size} 字节，生成时间 {fmt_china(artifact.created_at)}）"
            )
            lines.append(f"        SHA-256：{artifact.sha256}")
        self._appendix.write("\n".join(lines) + "\n")

    def note_renderer(self, renderer: str | None) -> None:
        if renderer:
            self.renderers.setdefault(renderer, None)

    def write(self, path: Path, list_files: dict[str, str]) -> None:
        """The full record to ``path``: header, then the appendix. ``list_files`` maps list file to SHA-256."""
        self._appendix.close()
        renderers = "；".join(self.renderers) or "无（本次导出不含截图）"
        header = [
            TITLE,
            "",
            f"提取时间：{fmt_china(self.created_at)}（北京时间，UTC+8。本笔录及证据清单中的时间均为北京时间）",
            f"提取人：{self.exported_by}",
            f"提取系统：AdWatch {adwatch_version()}（Python {platform.python_version()}，主机 {socket.gethostname()}）",
            f"提取工具：网页采集 Scrapy / Playwright；WARC 文件 warcio {warcio_version()}；"
            f"截图 Playwright {playwright_version()}（{renderers}）",
            "提取事由：互联网医疗美容广告监测中发现涉嫌违法的线索，提取网页电子数据以固定证据。",
            f"提取范围：{self.filters.describe_zh()}；共 {self.items} 条线索，证据文件 {self.files} 个"
            + (f"，其中 {self.without_screenshot} 条暂无截图" if self.without_screenshot else "")
            + "。",
            "提取方法：",
            "  1. 网页源码：系统爬虫访问网页时保存服务器返回的原始响应字节，获取时即计算 SHA-256 哈希值并记入数据库。",
            "  2. WARC 文件：按 ISO 28500（WARC 1.1）格式记录该次访问的请求与响应，WARC-Date 为网页获取时间。",
            "  3. 网页截图：使用无头 Chromium 浏览器离线渲染已保存的网页源码生成整页 PNG 图片（不重新访问网页，"
            "禁止一切网络请求和脚本执行），或由采集时的浏览器直接截取；截图生成时计算 SHA-256 哈希值并记录。",
            "  4. 本次导出时对每个证据文件重新计算 SHA-256，与生成时记录的哈希值逐一核对一致后写入本证据包。",
            "  5. 证据包内全部文件的路径、大小和 SHA-256 列于 manifest.json 和 manifest.sha256，"
            "可在证据包解压目录中执行 `sha256sum -c manifest.sha256` 校验，或执行 `adwatch evidence verify 证据包.zip`。",
            "  6. 证据包文件本身的 SHA-256 记入系统审计日志（导出事件）。",
            "证据清单：",
        ]
        header += [f"  {name}  SHA-256：{digest}" for name, digest in list_files.items()]
        header += ["", "附表：逐条提取记录", ""]
        with open(path, "w", encoding="utf-8") as out:
            out.write("\n".join(header) + "\n")
            with open(self._appendix_path, encoding="utf-8") as appendix:
                while block := appendix.read(1 << 20):
                    out.write(block)
            out.write("\n提取人签名：__________    见证人签名：__________    日期：__________\n")

    def discard(self) -> None:
        if not self._appendix.closed:
            self._appendix.close()

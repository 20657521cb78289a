"""`adwatch documents export`: CONTRACT.md's line format, field by field."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

from adwatch.db import Database
from adwatch.models import ApprovalFinding, Classification
from pipelines.process import PagePipeline
from tests.pipelines.pages import ARTICLE, content_farm_page, fetched

FIELDS = [
    "url", "final_url", "fetched_at", "sha256", "title", "text", "published_at", "author", "contacts",
    "approval_numbers", "labels", "scores", "approval_findings", "group",
]  # fmt: skip


def run_export(db: Database, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ADWATCH_HOME": str(db.settings.home),
        "ADWATCH_DATABASE_URL": db.settings.database_url,
    }
    return subprocess.run(
        [sys.executable, "-c", "from adwatch.cli import main; main()", "documents", "export", *args],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip


def store_two_documents(db: Database) -> tuple[int, int]:
    flagged, bare = PagePipeline(db).process_many([
        fetched("http://farm.example/p/2.html", content_farm_page(), fetched_at=dt.datetime(2026, 11, 2, 1, 30, tzinfo=dt.UTC)),
        fetched("http://bare.example/", "<html><body><div>求推荐 私我</div></body></html>"),
    ])  # fmt: skip
    with db.session() as s:
        s.add(
            Classification(
                document_id=flagged.document_id,
                model_version="old",
                labels=["medical_ad"],
                scores={"medical_ad": 0.5},
            )
        )
        s.flush()
        s.add(Classification(
            document_id=flagged.document_id, model_version="2026.11.1", labels=["medical_ad", "false_promise"],
            scores={"medical_ad": 0.99, "false_promise": 0.97},
        ))  # fmt: skip
        s.add(
            ApprovalFinding(
                document_id=flagged.document_id,
                kind="approval_unknown",
                number="（京）医广【2025】第11-01-0203号",
            )
        )
    return flagged.document_id, bare.document_id


def test_export_lines_follow_the_contract(db: Database, tmp_path: Path) -> None:
    store_two_documents(db)
    out = tmp_path / "docs.jsonl"
    result = run_export(db, "--output", str(out))
    assert result.returncode == 0, result.stderr
    assert "exported 2 documents" in result.stderr
    lines = {
        json.loads(line)["url"]: json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()
    }
    first, second = lines["http://farm.example/p/2.html"], lines["http://bare.example/"]

    assert list(first) == FIELDS
    assert first["url"] == first["final_url"] == "http://farm.example/p/2.html"
    assert first["fetched_at"] == "2026-11-02T01:30:00+00:00"
    assert len(first["sha256"]) == 64
    assert first["title"] == "北京做双眼皮哪家医院好？亲身经历分享"
    assert ARTICLE[2] in first["text"]
    assert first["published_at"] == "2026-10-28T02:15:00+00:00"
    assert first["author"] == "小美"
    assert [(c["kind"], c["value"]) for c in first["contacts"]] == [
        ("wechat", "meiyan_2026"),
        ("phone", "13812345678"),
    ]
    assert first["approval_numbers"][0]["key"] == "(京)医广[2025]第11-01-0203号"
    assert first["labels"] == ["medical_ad", "false_promise"]  # the latest classification
    assert first["scores"] == {"medical_ad": 0.99, "false_promise": 0.97}
    assert first["approval_findings"] == [
        {
            "kind": "approval_unknown",
            "number": "（京）医广【2025】第11-01-0203号",
            "record_id": None,
            "detail": {},
        }
    ]
    assert isinstance(first["group"], int)

    assert list(second) == FIELDS
    assert second["published_at"] is None and second["author"] is None
    assert second["contacts"] == [] and second["approval_numbers"] == [] and second["labels"] == []
    assert second["scores"] == {} and second["approval_findings"] == [] and second["group"] is None


def test_export_to_stdout(db: Database) -> None:
    store_two_documents(db)
    result = run_export(db, "--output", "-")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert sorted(json.loads(line)["url"] for line in lines) == [
        "http://bare.example/",
        "http://farm.example/p/2.html",
    ]


def test_export_to_an_unwritable_place_fails_with_one_line(db: Database, tmp_path: Path) -> None:
    result = run_export(db, "--output", str(tmp_path / "missing-dir" / "docs.jsonl"))
    assert result.returncode == 1
    assert (
        result.stderr.strip().startswith("adwatch: error: cannot write")
        and len(result.stderr.strip().splitlines()) == 1
    )
    assert not (tmp_path / "missing-dir").exists()

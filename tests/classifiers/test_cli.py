"""`adwatch classify / train / evaluate` as CONTRACT.md describes them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from adwatch.cli import main
from adwatch.labels import LABEL_IDS

GOOD = {"id": "a1", "text": "零基础学注射，7天速成包拿证，月入3万，加微信报名", "title": "招生"}
CLEAN = {"id": 7, "text": "市场监管局提醒消费者理性对待医美广告。"}


def _env(home: Path) -> dict[str, str]:
    return {"ADWATCH_HOME": str(home), "ADWATCH_DATABASE_URL": f"sqlite:///{home / 'adwatch.db'}"}


def _run(args: list[str], home: Path, stdin: bytes = b""):
    from adwatch.settings import get_settings

    get_settings.cache_clear()
    try:
        return CliRunner().invoke(main, args, input=stdin, env=_env(home), catch_exceptions=False)
    finally:
        get_settings.cache_clear()


def test_classify_files_in_contract_format(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(
        json.dumps(GOOD, ensure_ascii=False) + "\n" + json.dumps(CLEAN, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    result = _run(["classify", "--input", str(src), "--output", str(out)], tmp_path)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line["id"] for line in lines] == ["a1", 7]
    for line in lines:
        assert list(line) == ["id", "labels", "scores", "evidence", "model"]
        assert list(line["scores"]) == list(LABEL_IDS)
    assert "training_pitch" in lines[0]["labels"]
    for span in lines[0]["evidence"]:
        source = GOOD["title"] if span["field"] == "title" else GOOD["text"]
        assert source[span["start"] : span["end"]] == span["text"]
    assert lines[1]["labels"] == []


def test_bad_lines_are_reported_and_the_rest_classified(tmp_path: Path) -> None:
    lines = [
        json.dumps(GOOD, ensure_ascii=False).encode(),  # 1 ok
        b'{"id": "e", "text": ""}',  # 2 empty text
        b"{not json",  # 3 invalid JSON
        json.dumps({"text": "没有编号"}, ensure_ascii=False).encode(),  # 4 no id
        b'{"id": "x", "text": "\xff\xfe bad bytes"}',  # 5 not UTF-8
        json.dumps(
            {"id": "big", "text": "天气晴朗，" * 210_000}, ensure_ascii=False
        ).encode(),  # 6 > 1 MB, classified
        json.dumps(CLEAN, ensure_ascii=False).encode(),  # 7 ok
        b'["a list"]',  # 8 not an object
    ]
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\n".join(lines) + b"\n")
    out = tmp_path / "out.jsonl"
    result = _run(["classify", "--input", str(src), "--output", str(out)], tmp_path)
    assert result.exit_code == 1
    err = result.stderr
    assert "line 2: empty" in err
    assert "line 3: invalid JSON" in err
    assert 'line 4: no "id"' in err
    assert "line 5: not UTF-8" in err
    assert "line 6: text of 1050000 characters" in err  # bounded, classified on its first part
    assert "line 8: expected a JSON object" in err
    assert "5 of 8 lines could not be classified" in err
    ids = [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert ids == ["a1", "big", 7]


def test_classify_stdin_to_stdout_as_a_process(tmp_path: Path) -> None:
    """`-` means stdin/stdout, exercised through a real pipe."""
    adwatch = Path(sys.executable).with_name("adwatch")
    payload = (json.dumps(GOOD, ensure_ascii=False) + "\n").encode("utf-8")
    proc = subprocess.run(
        [str(adwatch), "classify", "--input", "-", "--output", "-"],
        input=payload,
        capture_output=True,
        env=os.environ | _env(tmp_path),
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    line = json.loads(proc.stdout.decode("utf-8"))
    assert line["id"] == "a1" and "training_pitch" in line["labels"]


def test_classify_defaults_to_stdin_and_stdout(tmp_path: Path) -> None:
    result = _run(["classify"], tmp_path, stdin=(json.dumps(CLEAN, ensure_ascii=False) + "\n").encode())
    assert result.exit_code == 0
    assert json.loads(result.stdout)["id"] == 7


def test_missing_input_file_is_one_clear_line(tmp_path: Path) -> None:
    result = _run(["classify", "--input", str(tmp_path / "nope.jsonl")], tmp_path)
    assert result.exit_code == 1
    assert "cannot read --input" in result.stderr


def test_evaluate_prints_every_measure(tmp_path: Path) -> None:
    labelled = tmp_path / "labelled.jsonl"
    items = [
        {
            "id": "t1",
            "text": GOOD["text"],
            "labels": ["training_pitch"],
            "style": "social",
            "hard_negative": False,
        },
        {"id": "t2", "text": CLEAN["text"], "labels": [], "style": "news", "hard_negative": True},
        {
            "id": "t3",
            "text": "韩国原装瘦脸针代购，无中文标，一盒980元包邮，自己在家就能打",
            "labels": ["medical_ad", "unapproved_product"],
            "style": "ecommerce",
            "hard_negative": False,
        },
    ]
    labelled.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8")
    result = _run(["evaluate", "--input", str(labelled)], tmp_path)
    assert result.exit_code == 0, result.output
    out = result.stdout
    for needle in [
        "precision",
        "recall",
        "F1",
        "micro",
        "hard negatives",
        "evasion set",
        "training_pitch",
        "quality targets",
    ]:
        assert needle in out, needle
    as_json = json.loads(_run(["evaluate", "--input", str(labelled), "--json"], tmp_path).stdout)
    assert as_json["items"] == 3
    assert as_json["hard_negatives"]["items"] == 1
    assert as_json["evasion"]["items"] > 0


def test_evaluate_rejects_a_malformed_labelled_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "1", "text": "x", "labels": ["not_a_label"]}\n', encoding="utf-8")
    result = _run(["evaluate", "--input", str(bad)], tmp_path)
    assert result.exit_code == 1
    assert "unknown labels" in result.stderr

"""The ZIP bundle: round trip through unzip and coreutils, and `adwatch evidence verify` naming what changed."""

import hashlib
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from adwatch.exports.bundle import EvidenceChanged
from adwatch.exports.filters import ExportFilters
from adwatch.exports.service import Exporter, export_evidence
from adwatch.models import Artifact

SHOT_A = "items/00001-{a}/screenshot.png"


def export_zip(cli, path: Path, *options: str) -> None:
    code, stdout, stderr = cli("export", "--format", "zip", "--output", str(path), *options)
    assert code == 0, stderr


def rewrite(src: Path, dst: Path, change=None, drop=None, add=None) -> None:
    """Copy a ZIP member by member, changing one member's bytes, dropping one, or adding some."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            if info.filename == drop:
                continue
            data = zin.read(info)
            if change and info.filename == change:
                data = data[:100] + bytes([data[100] ^ 0x01]) + data[101:]
            zout.writestr(info.filename, data)
        for name, data in (add or {}).items():
            zout.writestr(name, data)


def test_bundle_round_trip_checks_with_sha256sum(db, settings, case, tmp_path, cli):
    bundle = tmp_path / "bundle.zip"
    export_zip(cli, bundle)
    out = tmp_path / "unzipped"
    with zipfile.ZipFile(bundle) as zf:
        names = sorted(zf.namelist())
        zf.extractall(out)
    a, b = f"items/00001-{case.a}", f"items/00002-{case.b}"
    assert names == sorted(
        [
            "evidence-list.xlsx",
            "evidence-list.csv",
            "extraction-record.txt",
            "manifest.json",
            "manifest.sha256",
            f"{a}/screenshot.png",
            f"{a}/page.html",
            f"{a}/capture.warc.gz",
            f"{b}/screenshot.png",
            f"{b}/page.html",
            f"{b}/capture.warc.gz",
        ]
    )

    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["exported_by"].startswith("cli:") and manifest["created_at"].endswith("+00:00")
    assert manifest["filters"]["status"] == "confirmed"
    listed = {f["path"] for f in manifest["files"]}
    assert listed == set(names) - {"manifest.json", "manifest.sha256"}
    for entry in manifest["files"]:
        data = (out / entry["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"] and len(data) == entry["bytes"]

    # the files are the stored evidence, byte for byte
    with db.session() as s:
        stored = {a.sha256 for a in s.query(Artifact).all()}
    assert {f["sha256"] for f in manifest["files"] if f["path"].startswith("items/")} <= stored

    check = subprocess.run(["sha256sum", "-c", "manifest.sha256"], cwd=out, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count(": OK") == len(names) - 1  # every file but manifest.sha256 itself

    wb = load_workbook(out / "evidence-list.xlsx")
    cited = [r[8].value for r in wb["证据清单"].iter_rows(min_row=2)]
    assert cited == [f"{a}/screenshot.png", f"{b}/screenshot.png"]

    code, stdout, _ = cli("evidence", "verify", str(bundle))
    assert code == 0 and f"OK: {len(listed)} files verified" in stdout


def test_the_extraction_record_says_what_when_how_and_with_which_hashes(db, settings, case, tmp_path):
    bundle = tmp_path / "b.zip"
    export_evidence(db, settings, "zip", bundle, ExportFilters(), Exporter("张执法"))
    with zipfile.ZipFile(bundle) as zf:
        record = zf.read("extraction-record.txt").decode("utf-8")
        manifest = json.loads(zf.read("manifest.json"))
    assert record.startswith("电子数据提取笔录")
    assert "提取人：张执法" in record and "北京时间" in record
    assert "提取系统：AdWatch 0.1.0" in record and "warcio" in record and "Playwright" in record
    assert "at fetch time" in record  # how the screenshots were made
    assert "审核状态：已确认" in record and "共 2 条线索，证据文件 6 个" in record
    assert "http://xingyue.example.cn/ad/1" in record and "网页获取时间：2026-11-20 10:30:15" in record
    assert "sha256sum -c manifest.sha256" in record
    for entry in manifest["files"]:
        if entry["path"].startswith("items/") or entry["path"].startswith("evidence-list"):
            assert entry["sha256"] in record, entry["path"]


def test_a_flipped_byte_is_named_by_verify(db, settings, case, tmp_path, cli):
    bundle, tampered = tmp_path / "b.zip", tmp_path / "tampered.zip"
    export_zip(cli, bundle)
    target = SHOT_A.format(a=case.a)
    rewrite(bundle, tampered, change=target)
    code, stdout, stderr = cli("evidence", "verify", str(tampered))
    assert code == 1
    assert f"CHANGED: {target}" in stdout
    assert stdout.count("CHANGED") == 1
    assert "1 file(s) changed, missing or unexpected" in stderr


def test_a_missing_file_is_named_by_verify(db, settings, case, tmp_path, cli):
    bundle, shorter = tmp_path / "b.zip", tmp_path / "shorter.zip"
    export_zip(cli, bundle)
    gone = f"items/00002-{case.b}/capture.warc.gz"
    rewrite(bundle, shorter, drop=gone)
    code, stdout, _ = cli("evidence", "verify", str(shorter))
    assert code == 1 and f"MISSING: {gone}" in stdout


def test_an_edited_manifest_is_caught_by_manifest_sha256(db, settings, case, tmp_path, cli):
    bundle, forged = tmp_path / "b.zip", tmp_path / "forged.zip"
    export_zip(cli, bundle)
    with zipfile.ZipFile(bundle) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    manifest["files"] = [f for f in manifest["files"] if not f["path"].endswith("page.html")]
    with zipfile.ZipFile(bundle) as zin, zipfile.ZipFile(forged, "w") as zout:
        for info in zin.infolist():
            if info.filename.endswith("page.html"):
                continue
            data = json.dumps(manifest).encode() if info.filename == "manifest.json" else zin.read(info)
            zout.writestr(info.filename, data)
    code, stdout, _ = cli("evidence", "verify", str(forged))
    assert code == 1 and "CHANGED: manifest.json" in stdout


def test_a_bundle_with_a_traversal_member_is_refused_and_nothing_is_written(
    db, settings, case, tmp_path, cli
):
    bundle, evil = tmp_path / "b.zip", tmp_path / "work" / "evil.zip"
    evil.parent.mkdir()
    export_zip(cli, bundle)
    rewrite(bundle, evil, add={"../evil.txt": b"owned"})
    dest = tmp_path / "work" / "out"
    code, _, stderr = cli("evidence", "verify", str(evil), "--extract", str(dest))
    assert code == 1 and "'../evil.txt' refused" in stderr and "Zip Slip" in stderr
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "work" / "evil.txt").exists()
    assert not dest.exists()


@pytest.mark.parametrize("name", ["/etc/evil", "a/../../evil", "a\\..\\evil", "C:/evil"])
def test_other_unsafe_names_are_refused(tmp_path, name):
    from adwatch.exports.verify import UnsafeBundle, verify_bundle

    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr(name, b"x")
    with pytest.raises(UnsafeBundle):
        verify_bundle(bad)


def test_a_verified_bundle_extracts_inside_its_directory(db, settings, case, tmp_path, cli):
    bundle = tmp_path / "b.zip"
    export_zip(cli, bundle)
    dest = tmp_path / "case-files"
    code, stdout, _ = cli("evidence", "verify", str(bundle), "--extract", str(dest))
    assert code == 0 and "extracted 11 files" in stdout
    assert (dest / "manifest.sha256").is_file()
    assert subprocess.run(["sha256sum", "--quiet", "-c", "manifest.sha256"], cwd=dest).returncode == 0


def test_export_stops_when_a_stored_file_changed_since_it_was_made(db, settings, case, tmp_path):
    with db.session() as s:
        shot = s.query(Artifact).filter_by(kind="screenshot").order_by(Artifact.id).first()
    path = settings.evidence_dir / shot.path
    path.chmod(0o644)
    path.write_bytes(path.read_bytes() + b"\x00")
    out = tmp_path / "b.zip"
    with pytest.raises(EvidenceChanged, match="changed since"):
        export_evidence(db, settings, "zip", out, ExportFilters(), Exporter("cli:test"))
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["home"]


def test_stored_artifacts_verify_and_a_changed_byte_is_named(db, settings, case, cli):
    code, stdout, _ = cli("evidence", "verify")
    assert code == 0 and "OK: 10 files verified" in stdout
    with db.session() as s:
        raw = s.query(Artifact).filter_by(kind="raw").order_by(Artifact.id).first()
        warc = s.query(Artifact).filter_by(kind="warc").order_by(Artifact.id).first()
    path = settings.evidence_dir / raw.path
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[10] ^= 0x20
    path.write_bytes(bytes(data))
    (settings.evidence_dir / warc.path).unlink()
    code, stdout, stderr = cli("evidence", "verify")
    assert code == 1
    assert f"CHANGED: {raw.path}" in stdout and f"MISSING: {warc.path}" in stdout
    assert "2 file(s) changed" in stderr
    shutil.rmtree(settings.evidence_dir)  # leave nothing read-only behind for tmp cleanup


def test_a_forged_artifact_path_is_never_followed(db, settings, case, tmp_path, cli):
    with db.session() as s:
        raw = s.query(Artifact).filter_by(kind="raw").order_by(Artifact.id).first()
        raw.path = "../../../../etc/hostname"
    with pytest.raises(Exception, match="not a path of the evidence store"):
        export_evidence(db, settings, "zip", tmp_path / "b.zip", ExportFilters(), Exporter("cli:test"))
    code, stdout, _ = cli("evidence", "verify")
    assert code == 1 and "INVALID: ../../../../etc/hostname" in stdout

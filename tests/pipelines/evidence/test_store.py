"""The evidence store: files named by their SHA-256, written once, never overwritten."""

import hashlib
import os
import stat

from sqlalchemy import func, select

from adwatch.models import Artifact
from pipelines.evidence.store import ArtifactStore, extension_for, record_artifact, sha256_file
from tests.pipelines.evidence.builders import add_capture, chinese_page


def test_a_file_is_stored_under_its_sha256_and_read_only(tmp_path):
    store = ArtifactStore(tmp_path)
    data = "医疗美容".encode()
    stored = store.put(data, ".txt")
    digest = hashlib.sha256(data).hexdigest()
    assert stored.sha256 == digest and stored.size == len(data)
    assert stored.path == f"{digest[:2]}/{digest[2:4]}/{digest}.txt"
    path = tmp_path / stored.path
    assert path.read_bytes() == data
    assert not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert sha256_file(path) == (digest, len(data))
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left behind


def test_an_existing_file_is_never_overwritten(tmp_path):
    store = ArtifactStore(tmp_path)
    stored = store.put(b"original", ".bin")
    path = tmp_path / stored.path
    os.chmod(path, 0o644)
    path.write_bytes(b"tampered")  # someone changed the stored file
    before = path.stat().st_ino
    again = store.put(b"original", ".bin")
    assert again == stored
    assert path.read_bytes() == b"tampered"  # left for `evidence verify` to find, not silently replaced
    assert path.stat().st_ino == before


def test_extensions_follow_the_media_type():
    assert extension_for("text/html; charset=gbk") == ".html"
    assert extension_for("application/json") == ".json"
    assert extension_for(None) == ".bin"
    assert extension_for("application/x-unknown") == ".bin"


def test_one_artifact_row_per_capture_and_kind(db, settings):
    store = ArtifactStore(settings.evidence_dir)
    with db.session() as s:
        capture = add_capture(s, "http://a.example/1", chinese_page())
        first = record_artifact(s, capture, "raw", store.put(b"one", ".html"), "text/html")
        second = record_artifact(s, capture, "raw", store.put(b"two", ".html"), "text/html")
        assert second.id == first.id and second.sha256 == first.sha256
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Artifact)) == 1

"""Training is deterministic, versions are kept apart, and reviewers' decisions feed training."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest

from adwatch.models import Capture, Decision, Document, ReviewItem, User
from classifiers.api import Classifier
from classifiers.corpus import by_split, load_all, split_of
from classifiers.lexicons import data_files
from classifiers.model import ARTIFACT_FILES, LEXICON_FOLDER, ModelArtifact
from classifiers.training import load_reviewed, train
from classifiers.versions import current_version, next_version, shipped_version
from lexicons import LEXICON_DIR
from tests.conftest import make_settings

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def small_corpus():
    """Every 6th corpus item: enough for every label, quick to train on."""
    items = load_all()
    return [item for k, item in enumerate(sorted(items, key=lambda i: i.id)) if k % 6 == 0]


def test_same_data_gives_identical_models(tmp_path, small_corpus) -> None:
    a = train(make_settings(tmp_path / "a"), items=small_corpus, now=NOW)
    b = train(make_settings(tmp_path / "b"), items=small_corpus, now=NOW)
    assert a.version == b.version == "2026.11.1" or a.version == b.version
    assert a.artifact.ngrams == b.artifact.ngrams
    assert np.array_equal(a.artifact.weights, b.artifact.weights)
    assert np.array_equal(a.artifact.thresholds, b.artifact.thresholds)
    texts = [(i.text, i.title) for i in small_corpus[:60]]
    ra = [r.to_dict() for r in Classifier(a.artifact).classify_many(texts)]
    rb = [r.to_dict() for r in Classifier(b.artifact).classify_many(texts)]
    assert ra == rb


def test_a_version_folder_holds_artifact_metrics_labels_and_data_hash(tmp_path, small_corpus) -> None:
    settings = make_settings(tmp_path)
    mv = train(settings, items=small_corpus, now=NOW)
    for name in ARTIFACT_FILES:
        assert (mv.folder / name).exists(), name
    assert json.loads((mv.folder / "labels.json").read_text())[0] == "medical_ad"
    data = json.loads((mv.folder / "training_data.json").read_text())
    assert len(data["sha256"]) == 64
    metrics = json.loads((mv.folder / "metrics.json").read_text())
    assert {"dev", "test"} <= set(metrics)
    assert current_version(settings) == (mv.version, mv.folder)
    assert Classifier.load(settings).version == mv.version


def test_a_version_keeps_the_lexicons_it_was_trained_with(tmp_path, small_corpus) -> None:
    """Lexicons edited in the package later (a term added, say) must not change what an old
    version does: each version classifies with its own copy, checked by digest on load."""
    mv = train(make_settings(tmp_path), items=small_corpus, now=NOW)
    saved = mv.folder / LEXICON_FOLDER
    assert {p.name for p in saved.iterdir()} == {p.name for p in data_files(LEXICON_DIR)}
    loaded = Classifier(ModelArtifact.load(mv.folder))
    assert loaded.artifact.lexicon_dir == saved and "无效退款" in loaded.matcher.terms

    with (saved / "guarantee.txt").open("a", encoding="utf-8") as fh:
        fh.write("包你回本\n")
    with pytest.raises(ValueError, match="changed after the version was saved"):
        ModelArtifact.load(mv.folder)

    meta = json.loads((mv.folder / "model.json").read_text(encoding="utf-8"))
    del meta["lexicons_sha256"]  # a version saved before versions carried their lexicons
    (mv.folder / "model.json").write_text(json.dumps(meta), encoding="utf-8")
    assert ModelArtifact.load(mv.folder).lexicon_dir is None  # the package's lexicons, as before


def test_versions_count_up_within_a_month(tmp_path, small_corpus) -> None:
    settings = make_settings(tmp_path)
    shipped = shipped_version()
    first = train(settings, items=small_corpus, now=NOW).version
    second = train(settings, items=small_corpus, now=NOW).version
    year_month = "2026.11."
    assert first.startswith(year_month) and second.startswith(year_month)
    assert int(second.rsplit(".", 1)[1]) == int(first.rsplit(".", 1)[1]) + 1
    if shipped.startswith(year_month):
        assert int(first.rsplit(".", 1)[1]) > int(shipped.rsplit(".", 1)[1])
    assert next_version(settings, dt.datetime(2027, 1, 5, tzinfo=dt.UTC)) == "2027.1.1"


def test_a_fresh_home_uses_the_shipped_model(tmp_path) -> None:
    settings = make_settings(tmp_path)
    version, folder = current_version(settings)
    assert version == shipped_version()
    assert Classifier.load(settings).version == version


def test_an_unknown_model_version_is_named_with_the_known_ones(tmp_path) -> None:
    from adwatch.errors import AdWatchError

    with pytest.raises(
        AdWatchError, match=r"no model version '2020\.1\.1'.*known versions: .*" + shipped_version()
    ):
        Classifier.load(make_settings(tmp_path), "2020.1.1")


def test_split_is_stable_and_roughly_70_15_15() -> None:
    assert split_of("pos-fp-0001") == split_of("pos-fp-0001")
    items = load_all()
    splits = by_split(items)
    share = {k: len(v) / len(items) for k, v in splits.items()}
    assert 0.64 < share["train"] < 0.76 and 0.10 < share["dev"] < 0.20 and 0.10 < share["test"] < 0.20


def _flagged_document(s, n: int, text: str) -> ReviewItem:
    capture = Capture(
        url=f"http://x.test/{n}",
        url_key=f"{n:064d}",
        final_url=f"http://x.test/{n}",
        status=200,
        body=b"",
        body_size=0,
        sha256="0" * 64,
    )
    s.add(capture)
    s.flush()
    doc = Document(
        capture_id=capture.id,
        url=capture.url,
        url_key=capture.url_key,
        final_url=capture.url,
        fetched_at=NOW,
        title=f"标题{n}",
        text=text,
    )
    s.add(doc)
    s.flush()
    item = ReviewItem(document_id=doc.id, url=doc.url, captured_at=NOW, labels=["medical_ad"])
    s.add(item)
    s.flush()
    return item


def test_reviewed_decisions_become_training_items(db) -> None:
    with db.session() as s:
        user = User(name="rev", role="reviewer", password_hash="x")
        s.add(user)
        s.flush()
        confirmed = _flagged_document(s, 1, "美容院上门打水光针")
        rejected = _flagged_document(s, 2, "医院的正常通知")
        changed = _flagged_document(s, 3, "先确认后驳回的帖子")
        escalated = _flagged_document(s, 4, "升级处理的帖子")
        s.add(
            Decision(item_id=confirmed.id, user_id=user.id, action="confirm", labels=["unlicensed_practice"])
        )
        s.add(Decision(item_id=rejected.id, user_id=user.id, action="reject", labels=[]))
        s.add(Decision(item_id=changed.id, user_id=user.id, action="confirm", labels=["false_promise"]))
        s.add(Decision(item_id=changed.id, user_id=user.id, action="reject", labels=[]))
        s.add(Decision(item_id=escalated.id, user_id=user.id, action="escalate", labels=[]))
    items = {i.text: i for i in load_reviewed(db)}
    assert set(items) == {"美容院上门打水光针", "医院的正常通知", "先确认后驳回的帖子"}
    assert items["美容院上门打水光针"].labels == ["medical_ad", "unlicensed_practice"]
    assert items["医院的正常通知"].labels == []
    assert items["先确认后驳回的帖子"].labels == []  # the newest decision counts
    assert all(i.source == "review" for i in items.values())

"""Fixtures for the classifier tests: the shipped model, loaded once."""

from __future__ import annotations

from pathlib import Path

import pytest

from classifiers.api import Classifier
from tests.conftest import make_settings


@pytest.fixture(scope="session")
def clf(tmp_path_factory: pytest.TempPathFactory) -> Classifier:
    """The model a fresh ADWATCH_HOME uses: the version shipped in the package."""
    home: Path = tmp_path_factory.mktemp("clf-home")
    return Classifier.load(make_settings(home))


def assert_spans_point_into_input(result, text: str, title: str | None = None) -> None:
    for span in result.evidence:
        source = title if span.field == "title" else text
        assert source is not None
        assert source[span.start : span.end] == span.text, span
        assert span.end > span.start

"""AdWatch's curated term lists: plain data files, each with a header saying what it holds,
where the terms come from and which label it feeds. Code lives in ``classifiers/``."""

from pathlib import Path

LEXICON_DIR: Path = Path(__file__).resolve().parent

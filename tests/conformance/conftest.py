"""Shared fixtures: where the public conformance corpus lives (``$HEADWATER_CONFORMANCE_DIR``, or
``../shared/conformance`` next to the repository, the layout FORMAT.md assumes)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CORPUS_DIR = Path(
    os.environ.get(
        "HEADWATER_CONFORMANCE_DIR", Path(__file__).resolve().parents[3] / "shared" / "conformance"
    )
)


def _corpus_part(name: str) -> Path:
    path = CORPUS_DIR / name
    if not path.is_dir():
        pytest.skip(f"the conformance corpus is not at {path}")
    return path


@pytest.fixture(scope="session")
def qtt_dir() -> Path:
    """The QTT files; the test is skipped when the corpus is not there."""
    return _corpus_part("qtt")


@pytest.fixture(scope="session")
def sql_dir() -> Path:
    """The KsqlTester scripts; the test is skipped when the corpus is not there."""
    return _corpus_part("sql")


@pytest.fixture(scope="session")
def rqtt_dir() -> Path:
    """The RQTT (REST) files; the test is skipped when the corpus is not there."""
    return _corpus_part("rqtt")

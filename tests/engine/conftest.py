"""Fixtures shared by the engine's tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from headwater.engine import Engine


@pytest.fixture
def driven_engine(tmp_path: Path) -> Iterator[Engine]:
    """An engine on the test's own data directory whose persistent queries run only when the test drives
    them (``background=False``) and read their sources from the beginning; closed after the test."""
    opened = Engine(tmp_path, config={"auto.offset.reset": "earliest"}, background=False)
    yield opened
    opened.close()

"""Shared helpers of the stateful engine's tests, offered as fixtures (tests use importlib mode, so they
cannot import each other): column references as compiled expressions, feeding batches of various sizes,
folding a changelog into the final table, and checkpointing an operator through its snapshot."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from headwater.engine.operators.base import Operator
from headwater.engine.state.changelog import TOMBSTONE_COLUMN


class Column:
    """A compiled expression that reads one column (what the planner's compiled column reference does)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def evaluate(self, batch: pa.RecordBatch) -> pa.Array:
        return batch.column(self.name)


def split(batch: pa.RecordBatch, sizes: Sequence[int] | None = None, seed: int = 0) -> list[pa.RecordBatch]:
    """``batch`` cut into consecutive pieces of the given sizes (random sizes from ``seed`` if None)."""
    if sizes is None:
        rng = np.random.default_rng(seed)
        sizes = []
        remaining = batch.num_rows
        while remaining > 0:
            size = int(rng.integers(1, max(2, batch.num_rows // 3) + 1))
            sizes.append(min(size, remaining))
            remaining -= sizes[-1]
    pieces, start = [], 0
    for size in sizes:
        if size:
            pieces.append(batch.slice(start, size))
        start += size
    return pieces


def feed(process: Callable[[pa.RecordBatch], list[pa.RecordBatch]], batches: Iterable[pa.RecordBatch]) -> list[dict[str, Any]]:
    """Every output row of ``process`` over ``batches``, in order, as dicts."""
    rows: list[dict[str, Any]] = []
    for batch in batches:
        for out in process(batch):
            rows.extend(out.to_pylist())
    return rows


def final_table(rows: Iterable[dict[str, Any]], key: Sequence[str], value: Sequence[str]) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """Fold changelog rows into the table they describe: key -> value columns (tombstones delete)."""
    table: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    for row in rows:
        k = tuple(row[c] for c in key)
        if row.get(TOMBSTONE_COLUMN):
            table.pop(k, None)
        else:
            table[k] = tuple(row[c] for c in value)
    return table


def checkpointed(make: Callable[[], Operator], batches: Sequence[pa.RecordBatch], every: int = 2) -> list[dict[str, Any]]:
    """Run ``batches`` through a fresh operator, replacing it every ``every`` batches with a new operator
    restored from the old one's snapshot: the output must equal an uninterrupted run."""
    operator = make()
    rows: list[dict[str, Any]] = []
    for position, batch in enumerate(batches):
        if position and position % every == 0:
            state = operator.snapshot()
            assert isinstance(state, bytes)
            operator = make()
            operator.restore(state)
        for out in operator.process(batch):
            rows.extend(out.to_pylist())
    return rows


@pytest.fixture
def col() -> Callable[[str], Column]:
    return Column


@pytest.fixture
def helpers() -> Any:
    class Helpers:
        pass

    namespace = Helpers()
    namespace.split = split  # type: ignore[attr-defined]
    namespace.feed = feed  # type: ignore[attr-defined]
    namespace.final_table = final_table  # type: ignore[attr-defined]
    namespace.checkpointed = checkpointed  # type: ignore[attr-defined]
    namespace.Column = Column  # type: ignore[attr-defined]
    return namespace

"""Shared fixtures for the event log tests: a fresh log directory and small batch builders."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from headwater.storage import EventLog

KEY_META = {b"headwater.key": b"true"}
ORDERS_SCHEMA = pa.schema([
    pa.field("id", pa.int64(), metadata=KEY_META),
    pa.field("price", pa.float64()),
    pa.field("symbol", pa.string()),
])


def orders_batch(start: int, count: int, timestamps: list[int] | np.ndarray | None = None) -> pa.RecordBatch:
    """``count`` orders with ids ``start..start+count-1`` (and timestamps, when given)."""
    ids = np.arange(start, start + count, dtype=np.int64)
    columns = {
        "id": pa.array(ids),
        "price": pa.array(ids * 0.5),
        "symbol": pa.array([f"S{i % 7}" for i in ids]),
    }
    if timestamps is not None:
        columns["__timestamp"] = pa.array(np.asarray(timestamps, dtype=np.int64))
    return pa.record_batch(columns)


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    return tmp_path / "log"


@pytest.fixture
def log(log_dir: Path) -> Iterator[EventLog]:
    event_log = EventLog.open(log_dir)
    yield event_log
    event_log.close()


@pytest.fixture
def orders_schema() -> pa.Schema:
    return ORDERS_SCHEMA


@pytest.fixture
def make_orders() -> Callable[..., pa.RecordBatch]:
    """The ``orders_batch`` builder (test modules cannot import conftest under importlib mode)."""
    return orders_batch


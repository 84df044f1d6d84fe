"""Fixtures for historical-query tests: a real engine on a temporary data directory, and helpers that
fill real topics (typed topics with many small segments, raw JSON topics through INSERT VALUES)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from headwater.engine import Engine
from headwater.engine.serde import SourceSerde
from headwater.engine.types import to_arrow
from headwater.storage import TopicConfig


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """An engine whose persistent queries are driven by the test (``process_available``)."""
    opened = Engine(tmp_path / "data", background=False, config={"auto.offset.reset": "earliest"})
    yield opened
    opened.close()


def _typed_events(
    engine: Engine,
    name: str = "EV",
    *,
    batches: int = 20,
    rows_per_batch: int = 100,
    partitions: int = 2,
    segment_bytes: int = 4096,
) -> pa.Table:
    """A stream over a typed topic (ID BIGINT KEY, CATEGORY INT, PRICE DOUBLE, NAME STRING), written in
    ``batches`` appends of ``rows_per_batch`` rows, each rolling a new segment (tiny segment.bytes).
    Batch ``i`` goes to partition ``i % partitions`` with timestamps ``i * 1000 + row``. Returns
    everything appended (with ``__timestamp`` and ``__partition``)."""
    schema = pa.schema(
        [
            pa.field("ID", pa.int64(), metadata={"headwater.key": "true"}),
            pa.field("CATEGORY", pa.int32()),
            pa.field("PRICE", pa.float64()),
            pa.field("NAME", pa.string()),
        ]
    )
    topic = engine.log.create_topic(
        name.lower(),
        TopicConfig(partitions=partitions, segment_bytes=segment_bytes),
        schema=schema,
        metadata={"key_format": "KAFKA", "value_format": "JSON"},
    )
    rng = np.random.default_rng(7)
    written = []
    for i in range(batches):
        ids = np.arange(i * rows_per_batch, (i + 1) * rows_per_batch, dtype=np.int64)
        batch = pa.record_batch(
            {
                "__timestamp": pa.array(i * 1000 + np.arange(rows_per_batch, dtype=np.int64)),
                "ID": pa.array(ids),
                "CATEGORY": pa.array(rng.integers(0, 5, rows_per_batch).astype(np.int32)),
                "PRICE": pa.array(np.round(rng.random(rows_per_batch) * 100, 2)),
                "NAME": pa.array([f"n{v % 7}" for v in ids]),
            }
        )
        topic.append(batch, partition=i % partitions)
        written.append(batch.append_column("__partition", pa.array([i % partitions] * rows_per_batch, pa.int32())))
    engine.execute(
        f"CREATE STREAM {name} (ID BIGINT KEY, CATEGORY INT, PRICE DOUBLE, NAME STRING) "
        f"WITH (KAFKA_TOPIC='{name.lower()}', VALUE_FORMAT='JSON');"
    )
    return pa.Table.from_batches(written)


@pytest.fixture
def typed_events(engine: Engine) -> Callable[..., pa.Table]:
    """A factory: ``typed_events(name="EV", batches=20, ...)`` creates the stream (see ``_typed_events``)."""

    def make(name: str = "EV", **options: int) -> pa.Table:
        return _typed_events(engine, name, **options)

    return make


def _append_records(
    engine: Engine,
    source_name: str,
    records: list[tuple[dict[str, Any], dict[str, Any] | None, int]],
    partition: int = 0,
) -> None:
    """Append ``(key columns, value columns or None for a tombstone, timestamp)`` records to a raw
    topic, serialised with the source's own formats (windowed keys included)."""
    source = engine.catalog.source(source_name)
    assert source is not None
    serde = SourceSerde(source)
    keys = [c for c in source.schema.key_columns]
    values = [c for c in source.schema.value_columns]
    key_arrays = [pa.array([r[0].get(c.name) for r in records], to_arrow(c.type)) for c in keys]
    if source.window is not None:
        for name in ("WINDOWSTART", "WINDOWEND"):
            key_arrays.append(pa.array([r[0][name] for r in records], pa.int64()))
    key_bytes, key_errors = serde.encode_key(key_arrays, rows=len(records))
    tombstones = np.array([r[1] is None for r in records])
    value_arrays = [pa.array([(r[1] or {}).get(c.name) for r in records], to_arrow(c.type)) for c in values]
    value_bytes, value_errors = serde.encode_value(value_arrays, rows=len(records), null_record=tombstones)
    assert not key_errors and not value_errors
    engine.log.topic(source.topic).append(
        pa.record_batch(
            {
                "__timestamp": pa.array([r[2] for r in records], pa.int64()),
                "__key": key_bytes,
                "__value": value_bytes,
            }
        ),
        partition=partition,
    )


@pytest.fixture
def append_records(engine: Engine) -> Callable[..., None]:
    """A function appending serialised records to a source's raw topic (see ``_append_records``)."""

    def append(source_name: str, records: list[tuple[dict[str, Any], dict[str, Any] | None, int]], partition: int = 0) -> None:
        _append_records(engine, source_name, records, partition)

    return append

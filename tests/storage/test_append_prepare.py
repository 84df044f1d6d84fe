"""Turning callers' batches into stored ones, checked against a plain reference, and roll sizes."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from headwater.storage import HEADERS, HEADERS_TYPE, OFFSET, TIMESTAMP, TOMBSTONE, EventLog, TopicConfig
from headwater.storage.columns import AppendPreparer, typed_stored_schema
from headwater.storage.columns import wall_clock_ms as wall_clock

KEY_META = {b"headwater.key": b"true"}
USER = pa.schema([
    pa.field("id", pa.int64(), nullable=False, metadata=KEY_META),
    pa.field("price", pa.float64()),
    pa.field("symbol", pa.string()),
])


def _reference(columns: dict[str, pa.Array], n: int) -> dict[str, list[Any]]:
    """What the stored columns after ``__offset`` must hold (None where the wall clock fills in)."""
    out: dict[str, list[Any]] = {}
    ts = columns.get(TIMESTAMP)
    out[TIMESTAMP] = [None] * n if ts is None else [None if v is None else v for v in ts.cast(pa.int64()).to_pylist()]
    headers = columns.get(HEADERS)
    out[HEADERS] = [None] * n if headers is None else headers.to_pylist()
    tombstone = columns.get(TOMBSTONE)
    out[TOMBSTONE] = [False] * n if tombstone is None else [bool(v) for v in tombstone.to_pylist()]
    for field in USER:
        out[field.name] = columns[field.name].to_pylist() if field.name in columns else [None] * n
    return out


@st.composite
def _input_batches(draw: st.DrawFn) -> tuple[pa.RecordBatch, dict[str, pa.Array]]:
    n = draw(st.integers(1, 30))
    columns: dict[str, pa.Array] = {"id": pa.array(np.arange(n, dtype=np.int64))}
    if draw(st.booleans()):
        columns["price"] = pa.array([draw(st.none() | st.floats(-5, 5)) for _ in range(n)], pa.float64())
    if draw(st.booleans()):
        columns["symbol"] = pa.array([draw(st.none() | st.text(max_size=5)) for _ in range(n)], pa.string())
    if draw(st.booleans()):
        values = [draw(st.none() | st.integers(0, 10**12)) for _ in range(n)]
        kind = draw(st.sampled_from([pa.int64(), pa.int32(), pa.timestamp("ms")]))
        if kind == pa.int32():
            values = [None if v is None else v % 2**31 for v in values]
        columns[TIMESTAMP] = pa.array(values, pa.int64()).cast(kind)
    if draw(st.booleans()):
        columns[TOMBSTONE] = pa.array([draw(st.none() | st.booleans()) for _ in range(n)], pa.bool_())
    if draw(st.booleans()):
        columns[HEADERS] = pa.array([draw(st.none() | st.just([{"key": "k", "value": b"v"}])) for _ in range(n)],
                                    HEADERS_TYPE)
    if draw(st.booleans()):
        columns[OFFSET] = pa.array(np.full(n, 99, dtype=np.int64))
    names = draw(st.permutations(sorted(columns)))
    fields = [pa.field(name, columns[name].type, nullable=draw(st.booleans()) or columns[name].null_count > 0)
              for name in names]
    batch = pa.RecordBatch.from_arrays([columns[name] for name in names], schema=pa.schema(fields))
    return batch, columns


@settings(max_examples=150, deadline=None)
@given(_input_batches())
def test_prepared_batches_match_a_plain_reference(case: tuple[pa.RecordBatch, dict[str, pa.Array]]) -> None:
    batch, columns = case
    preparer = AppendPreparer(typed_stored_schema(USER), raw=False)
    prepared, headerless, filled = preparer.prepare_stored(batch)
    expected_schema = preparer.headerless_output_schema if headerless else preparer.output_schema
    assert headerless == (HEADERS not in columns)
    if TIMESTAMP in columns:
        assert filled is None
    else:
        assert prepared.column(TIMESTAMP).to_pylist() == [filled] * batch.num_rows
    assert prepared.schema.equals(expected_schema, check_metadata=False)
    got = prepared.to_pydict()
    want = _reference(columns, batch.num_rows)
    for name, values in want.items():
        if name == TIMESTAMP:
            assert all(g is not None for g in got[name])
            assert all(w is None or g == w for g, w in zip(got[name], values, strict=True))
        else:
            assert got[name] == values, name
    again = preparer.prepare(batch)  # the cached plan gives the same batch (but for wall-clock fills)
    assert again.drop_columns([TIMESTAMP]).equals(prepared.drop_columns([TIMESTAMP]))


def test_stored_segments_keep_the_topic_schema_whatever_the_batch_metadata(log: EventLog) -> None:
    topic = log.create_topic("orders", schema=USER)
    plain = pa.record_batch({"symbol": ["a", "b"], "id": pa.array([1, 2], pa.int64()),
                             TIMESTAMP: pa.array([5, 6], pa.timestamp("ms"))})
    topic.append(plain)
    topic.append(plain.replace_schema_metadata({"other": "metadata"}))
    info = topic.segments()[0]
    on_disk = pa.ipc.open_stream(pa.py_buffer(info.path.read_bytes()[8:])).schema
    assert on_disk.field("id").metadata == KEY_META and not on_disk.field("id").nullable
    table = topic.partition(0).read(0).to_table()
    assert table.column("id").to_pylist() == [1, 2, 1, 2]
    assert table.column(TIMESTAMP).to_pylist() == [5, 6, 5, 6]
    assert table.column(OFFSET).to_pylist() == [0, 1, 2, 3]
    assert table.schema.field(HEADERS).type == HEADERS_TYPE


def test_wall_clock_timestamps_give_the_segment_bounds_without_a_pass(log: EventLog) -> None:
    topic = log.create_topic("t", schema=USER)
    before = wall_clock()
    topic.append(pa.record_batch({"id": pa.array([1, 2, 3], pa.int64())}))
    after = wall_clock()
    (info,) = topic.segments()
    assert info.min_timestamp is not None and info.min_timestamp == info.max_timestamp
    assert before <= info.min_timestamp <= after
    assert topic.partition(0).read(0).to_table().column(TIMESTAMP).to_pylist() == [info.min_timestamp] * 3


def test_segments_roll_before_segment_bytes_far_above_the_cheap_bound(log: EventLog) -> None:
    """Large segments take the cheap bound until the end is near, then the exact size."""
    limit = 3 << 20
    topic = log.create_topic("big", TopicConfig(segment_bytes=limit), schema=USER)
    for i in range(120):
        n = 500 + (i * 7919) % 3000
        ids = np.arange(i * 10_000, i * 10_000 + n, dtype=np.int64)
        batch = pa.record_batch({"id": ids, "price": ids * 0.5, "symbol": [f"s{v % 97}" for v in ids]})
        topic.append(batch)
    infos = topic.segments()
    assert len(infos) >= 3
    for info in infos[:-1]:
        reader = pa.ipc.open_file(info.path)
        data_end = int(reader.metadata[b"headwater.data_end"])
        header = 8 + reader.schema.serialize().size
        assert data_end <= limit
        assert data_end + (data_end - header) / reader.num_record_batches * 3 > limit, "rolled too early"

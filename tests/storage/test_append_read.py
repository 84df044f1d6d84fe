"""Appending and reading: system columns, typed and raw topics, partitioning, errors, zero-copy reads."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from headwater.storage import (
    HEADERS,
    HEADERS_TYPE,
    KEY,
    OFFSET,
    TIMESTAMP,
    TOMBSTONE,
    VALUE,
    AppendResult,
    EventLog,
    OffsetOutOfRangeError,
    RecordBatchError,
    TopicConfig,
    assign_partitions,
)


def test_typed_append_fills_system_columns(log: EventLog, orders_schema: pa.Schema, make_orders: Any) -> None:
    topic = log.create_topic("orders", schema=orders_schema)
    before = time.time_ns() // 1_000_000
    assert topic.append(make_orders(0, 3)) == [AppendResult(0, 0, 3)]
    after = time.time_ns() // 1_000_000
    assert topic.append(make_orders(3, 2, timestamps=[5, 6])) == [AppendResult(0, 3, 2)]
    table = topic.partition(0).read(0).to_table()
    assert table.schema.names == [OFFSET, TIMESTAMP, HEADERS, TOMBSTONE, "id", "price", "symbol"]
    assert table.schema.field(HEADERS).type == HEADERS_TYPE
    assert table.schema.field("id").metadata == {b"headwater.key": b"true"}
    assert table.column(OFFSET).to_pylist() == [0, 1, 2, 3, 4]
    stamps = table.column(TIMESTAMP).to_pylist()
    assert all(before <= t <= after for t in stamps[:3]) and stamps[3:] == [5, 6]
    assert table.column(HEADERS).null_count == 5
    assert table.column(TOMBSTONE).to_pylist() == [False] * 5
    assert table.column("id").to_pylist() == [0, 1, 2, 3, 4]


def test_caller_offsets_are_replaced_and_columns_reordered(log: EventLog, orders_schema: pa.Schema) -> None:
    topic = log.create_topic("orders", schema=orders_schema)
    batch = pa.record_batch({"symbol": ["a"], "__offset": pa.array([99], pa.int64()), "id": pa.array([1], pa.int64()),
                             "price": [1.0]})
    topic.append(batch)
    table = topic.partition(0).read(0).to_table()
    assert table.column(OFFSET).to_pylist() == [0]
    assert table.column("symbol").to_pylist() == ["a"]


def test_headers_tombstones_and_rows(log: EventLog, orders_schema: pa.Schema) -> None:
    topic = log.create_topic("orders", schema=orders_schema)
    results = topic.append_rows([
        {"id": 1, "price": 2.5, "symbol": "x", "__timestamp": 10, "__headers": {"h": b"v"}},
        {"id": 1, "__timestamp": 11, "__tombstone": True, "__headers": [("a", "b"), ("c", b"d")]},
    ])
    assert results == [AppendResult(0, 0, 2)]
    table = topic.partition(0).read(0).to_table()
    assert table.column(HEADERS).to_pylist() == [[{"key": "h", "value": b"v"}],
                                                 [{"key": "a", "value": b"b"}, {"key": "c", "value": b"d"}]]
    assert table.column(TOMBSTONE).to_pylist() == [False, True]
    assert table.column("price").to_pylist() == [2.5, None]
    assert table.column(TIMESTAMP).to_pylist() == [10, 11]


def test_raw_topic_holds_key_and_value_bytes(log: EventLog) -> None:
    topic = log.create_topic("raw", TopicConfig(partitions=1), metadata={"value.format": "JSON"})
    topic.append(pa.record_batch({KEY: pa.array(["k1", None]), VALUE: pa.array([b'{"a":1}', None])}))
    table = topic.partition(0).read(0).to_table()
    assert table.schema.names == [OFFSET, TIMESTAMP, HEADERS, KEY, VALUE]
    assert table.column(KEY).to_pylist() == [b"k1", None]
    assert table.column(VALUE).to_pylist() == [b'{"a":1}', None]
    assert topic.metadata == {"value.format": "JSON"}
    assert topic.is_raw and topic.schema is None


@pytest.mark.parametrize(
    ("batch", "message"),
    [
        (pa.record_batch({"id": pa.array([1], pa.int32()), "price": [1.0], "symbol": ["a"]}), "'id' has type int32"),
        (pa.record_batch({"id": pa.array([1], pa.int64()), "price": [1.0], "symbol": ["a"], "extra": [1]}), "extra"),
        (pa.record_batch({"id": pa.array([1], pa.int64()), "price": ["1.0"], "symbol": ["a"]}), "'price' has type string"),
        (pa.record_batch({"id": pa.array([1], pa.int64()), "__timestamp": pa.array(["x"])}), "'__timestamp' has type string"),
        (pa.record_batch({"id": pa.array([1], pa.int64()), "__headers": pa.array([1])}), "'__headers' has type int64"),
    ],
)
def test_mismatched_columns_are_named(log: EventLog, batch: pa.RecordBatch, message: str, orders_schema: pa.Schema) -> None:
    topic = log.create_topic("orders", schema=orders_schema)
    with pytest.raises(RecordBatchError, match=message):
        topic.append(batch)
    assert topic.partition(0).end_offset == 0


def test_missing_non_nullable_column_is_refused_and_nullable_is_filled(log: EventLog) -> None:
    schema = pa.schema([pa.field("id", pa.int64(), nullable=False), pa.field("note", pa.string())])
    topic = log.create_topic("t", schema=schema)
    with pytest.raises(RecordBatchError, match="lacks column 'id'"):
        topic.append(pa.record_batch({"note": ["x"]}))
    topic.append(pa.record_batch({"id": pa.array([1], pa.int64())}))
    assert topic.partition(0).read(0).to_table().column("note").to_pylist() == [None]


def test_null_timestamps_become_wall_clock(log: EventLog, orders_schema: pa.Schema, make_orders: Any) -> None:
    topic = log.create_topic("orders", schema=orders_schema)
    topic.append(make_orders(0, 2).append_column(TIMESTAMP, pa.array([None, 7], pa.int64())))
    stamps = topic.partition(0).read(0).to_table().column(TIMESTAMP).to_pylist()
    assert stamps[1] == 7 and stamps[0] > 1_600_000_000_000


def test_append_rows_errors_name_the_row_and_column(log: EventLog, orders_schema: pa.Schema) -> None:
    topic = log.create_topic("orders", schema=orders_schema)
    with pytest.raises(RecordBatchError, match="Row 1 has column 'nope'"):
        topic.append_rows([{"id": 1}, {"nope": 2}])
    with pytest.raises(RecordBatchError, match="Column 'id'"):
        topic.append_rows([{"id": "not a number"}])


def test_explicit_partition_array_splits_with_order_kept(log: EventLog, orders_schema: pa.Schema, make_orders: Any) -> None:
    topic = log.create_topic("orders", TopicConfig(partitions=3), schema=orders_schema)
    assignment = np.array([2, 0, 2, 1, 0, 2])
    results = topic.append(make_orders(0, 6), partitions=assignment)
    assert results == [AppendResult(0, 0, 2), AppendResult(1, 0, 1), AppendResult(2, 0, 3)]
    ids = {p: topic.partition(p).read(0).to_table().column("id").to_pylist() for p in range(3)}
    assert ids == {0: [1, 4], 1: [3], 2: [0, 2, 5]}
    with pytest.raises(RecordBatchError, match="Partition 3 is out of range"):
        topic.append(make_orders(0, 2), partitions=np.array([0, 3]))
    with pytest.raises(RecordBatchError, match="one entry per row"):
        topic.append(make_orders(0, 2), partitions=np.array([0]))
    with pytest.raises(RecordBatchError, match="no partition 5"):
        topic.append(make_orders(0, 2), partition=5)


def test_key_bytes_use_kafkas_partitioner(log: EventLog, orders_schema: pa.Schema, make_orders: Any) -> None:
    topic = log.create_topic("orders", TopicConfig(partitions=4), schema=orders_schema)
    keys = pa.array([f"key-{i}".encode() for i in range(40)])
    topic.append(make_orders(0, 40), key_bytes=keys)
    expected = assign_partitions(keys, 4, keyless_partition=0)
    for p in range(4):
        ids = topic.partition(p).read(0).to_table().column("id").to_pylist()
        assert ids == [i for i in range(40) if expected[i] == p]


def test_key_bytes_on_a_one_partition_topic_all_land_in_it(
    log: EventLog, orders_schema: pa.Schema, make_orders: Any
) -> None:
    """One partition: every key, null or not, goes to it (the hash is not computed), in order, and a
    key count that does not match the rows is refused as on a topic with several partitions."""
    topic = log.create_topic("orders", TopicConfig(partitions=1), schema=orders_schema)
    keys = pa.array([None if i % 3 == 0 else f"key-{i}".encode() for i in range(10)], pa.binary())
    assert topic.append(make_orders(0, 10), key_bytes=keys) == [AppendResult(0, 0, 10)]
    assert topic.partition(0).read(0).to_table().column("id").to_pylist() == list(range(10))
    with pytest.raises(RecordBatchError, match="key_bytes has 2 entries for 3 rows"):
        topic.append(make_orders(10, 3), key_bytes=keys.slice(0, 2))
    assert topic.end_offsets() == {0: 10}


def test_raw_topic_partitions_by_its_key_column(log: EventLog) -> None:
    topic = log.create_topic("raw", TopicConfig(partitions=4))
    topic.append(pa.record_batch({KEY: pa.array([b"21", b"foobar", b"abc"]), VALUE: pa.array([b"1", b"2", b"3"])}))
    placed = {p: topic.partition(p).read(0).to_table(topic.stored_schema).column(KEY).to_pylist() for p in range(4)}
    expected = assign_partitions(pa.array([b"21", b"foobar", b"abc"]), 4, keyless_partition=0).tolist()
    for key, p in zip([b"21", b"foobar", b"abc"], expected):
        assert key in placed[p]


def test_keyless_appends_are_sticky_round_robin(log: EventLog, orders_schema: pa.Schema, make_orders: Any) -> None:
    topic = log.create_topic("orders", TopicConfig(partitions=3), schema=orders_schema)
    placed = [topic.append(make_orders(i * 5, 5))[0].partition for i in range(6)]
    assert placed == [0, 1, 2, 0, 1, 2]
    assert topic.end_offsets() == {0: 10, 1: 10, 2: 10}


def test_table_append_and_empty_batch(log: EventLog, orders_schema: pa.Schema, make_orders: Any) -> None:
    topic = log.create_topic("orders", schema=orders_schema)
    table = pa.Table.from_batches([make_orders(0, 2), make_orders(2, 3)])
    assert topic.append(table) == [AppendResult(0, 0, 2), AppendResult(0, 2, 3)]
    assert topic.append(make_orders(5, 0)) == []


def test_read_bounds_and_limits(log: EventLog, orders_schema: pa.Schema, make_orders: Any) -> None:
    topic = log.create_topic("orders", schema=orders_schema)
    for i in range(5):
        topic.append(make_orders(i * 4, 4))
    p = topic.partition(0)
    assert p.start_offset == 0 and p.end_offset == 20
    result = p.read(6, 9)
    assert [b.num_rows for b in result.batches] == [2, 4, 3]
    assert result.to_table().column("id").to_pylist() == list(range(6, 15))
    assert result.next_offset == 15
    assert p.read(20).batches == () and p.read(20).next_offset == 20
    assert p.read(3, 0).next_offset == 3
    with pytest.raises(OffsetOutOfRangeError, match="past the end"):
        p.read(21)
    with pytest.raises(OffsetOutOfRangeError):
        p.read(0, -1)


def test_reads_are_zero_copy_views_of_the_segment_file(log: EventLog, orders_schema: pa.Schema, make_orders: Any) -> None:
    topic = log.create_topic("orders", schema=orders_schema)
    topic.append(make_orders(0, 50_000))
    p = topic.partition(0)
    p.read(0)
    allocated = pa.total_allocated_bytes()
    result = p.read(0)
    assert result.record_count == 50_000
    assert pa.total_allocated_bytes() - allocated < 10_000, "a read must not copy the batch buffers"


def test_reopened_log_reads_the_same_records(log_dir: Path, orders_schema: pa.Schema, make_orders: Any) -> None:
    log = EventLog.open(log_dir)
    topic = log.create_topic("orders", TopicConfig(partitions=2, segment_bytes=4096), schema=orders_schema)
    for i in range(30):
        topic.append(make_orders(i * 10, 10), partition=i % 2)
    before = {p: topic.partition(p).read(0).to_table() for p in range(2)}
    log.close()
    reopened = EventLog.open(log_dir)
    assert reopened.last_recovery.clean
    topic = reopened.topic("orders")
    for p in range(2):
        assert topic.partition(p).read(0).to_table().equals(before[p])
    assert topic.append(make_orders(300, 1), partition=0) == [AppendResult(0, 150, 1)]
    reopened.close()


def test_append_rows_takes_any_mapping_and_fills_what_a_row_leaves_out(log: EventLog, orders_schema: pa.Schema) -> None:
    from types import MappingProxyType

    topic = log.create_topic("orders", schema=orders_schema)
    topic.append_rows([
        MappingProxyType({"id": 7, "symbol": "ab", "__timestamp": 5}),
        {"price": 1.25, "__timestamp": 6, "__headers": {"h": "text"}},
    ])
    table = topic.partition(0).read(0).to_table()
    assert table.select(["id", "price", "symbol", TIMESTAMP]).to_pylist() == [
        {"id": 7, "price": None, "symbol": "ab", TIMESTAMP: 5},
        {"id": None, "price": 1.25, "symbol": None, TIMESTAMP: 6},
    ]
    assert table.column(HEADERS).to_pylist() == [None, [{"key": "h", "value": b"text"}]]
    # a bad value in one column is named even when the other columns of the rows convert
    with pytest.raises(RecordBatchError, match=r"Column 'price' \(double\)"):
        topic.append_rows([{"id": 1, "price": 2.0}, {"id": 2, "price": "cheap"}])
    with pytest.raises(RecordBatchError, match="Row 2 has column 'colour'"):
        topic.append_rows([{"id": 1}, {"id": 2}, {"id": 3, "colour": "red"}])
    assert topic.partition(0).end_offset == 2  # nothing of the refused calls was written

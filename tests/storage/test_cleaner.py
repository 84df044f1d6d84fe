"""Retention (whole expired segments) and compaction (latest record per key, tombstones after a delay)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from headwater.storage import KEY, OFFSET, TIMESTAMP, TOMBSTONE, VALUE, EventLog, TopicConfig


def _fill(topic: Any, make_orders: Any, batches: int, size: int = 10, ts_step: int = 1000) -> None:
    for i in range(batches):
        topic.append(make_orders(i * size, size, timestamps=[i * ts_step] * size))


def test_retention_ms_deletes_whole_expired_segments_never_the_active(log: EventLog, orders_schema: pa.Schema,
                                                                     make_orders: Any) -> None:
    topic = log.create_topic("orders", TopicConfig(segment_bytes=4096), schema=orders_schema)
    _fill(topic, make_orders, 20)
    topic.update_config({"retention.ms": "10000"})  # set after filling: rolls would apply it against now
    p = topic.partition(0)
    infos = p.segments()
    report = p.enforce_retention(now_ms=15_500)  # horizon 5_500: segments whose max ts < 5_500 go
    expired = [i for i in infos[:-1] if i.max_timestamp is not None and i.max_timestamp < 5_500]
    assert report.segments_deleted == len(expired) > 0
    assert report.records_deleted == sum(i.record_count for i in expired)
    assert p.start_offset == report.start_offset == infos[len(expired)].base_offset
    assert all(not i.path.exists() for i in expired)
    assert p.read(0).to_table().column(OFFSET).to_pylist()[0] == p.start_offset
    everything = p.enforce_retention(now_ms=10**12)
    remaining = p.segments()
    assert len(remaining) == 1 and remaining[0].record_count > 0, "the active segment is never deleted"
    assert everything.start_offset == remaining[0].base_offset
    assert p.end_offset == 200


def test_retention_bytes_keeps_at_least_the_limit(log: EventLog, orders_schema: pa.Schema, make_orders: Any) -> None:
    topic = log.create_topic("orders", TopicConfig(segment_bytes=4096), schema=orders_schema)
    _fill(topic, make_orders, 60)
    topic.update_config({"retention.bytes": 10_000})
    p = topic.partition(0)
    before = p.segments()
    p.enforce_retention(now_ms=0)
    after = p.segments()
    assert len(after) < len(before)
    total = sum(i.size_bytes for i in after)
    assert total >= 10_000 or len(after) == 1
    assert total - after[0].size_bytes < 10_000
    assert after[-1].base_offset == before[-1].base_offset


def test_retention_runs_at_roll_when_configured(log: EventLog, orders_schema: pa.Schema, make_orders: Any) -> None:
    topic = log.create_topic("orders", TopicConfig(segment_bytes=4096, retention_ms=0), schema=orders_schema)
    _fill(topic, make_orders, 30)
    assert len(topic.segments()) <= 2


def test_no_retention_without_limits_or_with_compact_policy(log: EventLog, orders_schema: pa.Schema,
                                                           make_orders: Any) -> None:
    topic = log.create_topic("orders", TopicConfig(segment_bytes=4096), schema=orders_schema)
    _fill(topic, make_orders, 20)
    count = len(topic.segments())
    assert topic.enforce_retention(now_ms=10**15)[0].segments_deleted == 0
    compacted = log.create_topic("c", TopicConfig(segment_bytes=4096, retention_ms=0, cleanup_policy="compact"),
                                 schema=orders_schema)
    _fill(compacted, make_orders, 20)
    assert compacted.enforce_retention(now_ms=10**15)[0].segments_deleted == 0
    assert len(topic.segments()) == count


def _raw_batch(keys: list[bytes | None], values: list[bytes | None], timestamps: list[int]) -> pa.RecordBatch:
    return pa.record_batch({KEY: pa.array(keys, pa.binary()), VALUE: pa.array(values, pa.binary()),
                            TIMESTAMP: pa.array(timestamps, pa.int64())})


def test_compaction_keeps_latest_per_key_and_offsets(log: EventLog) -> None:
    topic = log.create_topic("t", TopicConfig(segment_bytes=2048, cleanup_policy="compact",
                                               delete_retention_ms=1_000_000))
    rng = np.random.default_rng(7)
    history: list[tuple[int, bytes | None, bytes | None]] = []
    for step in range(60):
        keys: list[bytes | None] = [f"k{rng.integers(0, 12)}".encode() for _ in range(5)]
        values: list[bytes | None] = [f"v{step}-{i}".encode() if rng.random() > 0.2 else None for i in range(5)]
        if step % 17 == 0:
            keys[0] = None
        topic.append(_raw_batch(keys, values, [step] * 5), partition=0)
        first = len(history)
        history.extend((first + i, k, v) for i, (k, v) in enumerate(zip(keys, values)))
    p = topic.partition(0)
    infos = p.segments()
    active_base = infos[-1].base_offset
    report = p.compact(now_ms=100)
    assert report.segments_rewritten > 0 and report.tombstones_removed == 0
    kept = p.read(0).to_table()
    kept_offsets = kept.column(OFFSET).to_pylist()
    latest: dict[bytes, int] = {}
    for offset, key, _ in history:
        if key is not None and offset < active_base:
            latest[key] = offset
    expected = [o for o, k, _ in history if o >= active_base or k is None or latest.get(k) == o]
    assert kept_offsets == expected
    by_offset = {o: v for o, _, v in history}
    assert kept.column(VALUE).to_pylist() == [by_offset[o] for o in kept_offsets]
    assert report.records_removed == len(history) - len(expected)
    assert p.end_offset == len(history)
    # reads starting inside a gap move on to the next kept record
    gap = next(o for o in range(active_base) if o not in set(kept_offsets))
    result = p.read(gap, 1)
    assert result.to_table().column(OFFSET).to_pylist() == [min(o for o in kept_offsets if o > gap)]
    assert [i.base_offset for i in p.segments()] == [i.base_offset for i in infos]


def test_compaction_drops_tombstones_after_delete_retention(log: EventLog) -> None:
    topic = log.create_topic("t", TopicConfig(segment_bytes=1024, cleanup_policy="compact", delete_retention_ms=100))
    topic.append(_raw_batch([b"a", b"b"], [b"1", b"2"], [0, 0]))
    topic.append(_raw_batch([b"a"], [None], [10]))
    p = topic.partition(0)
    p.roll()
    topic.append(_raw_batch([b"c"], [b"3"], [20]))
    early = p.compact(now_ms=50)
    assert early.tombstones_removed == 0
    assert p.read(0).to_table().column(KEY).to_pylist() == [b"b", b"a", b"c"]
    late = p.compact(now_ms=10_000)
    assert late.tombstones_removed == 1
    assert p.read(0).to_table().column(KEY).to_pylist() == [b"b", b"c"]


def test_typed_compaction_uses_key_columns_and_tombstone_flag(log: EventLog) -> None:
    schema = pa.schema([pa.field("region", pa.string(), metadata={b"headwater.key": b"true"}),
                        pa.field("id", pa.int64(), metadata={b"headwater.key": b"true"}),
                        pa.field("total", pa.float64())])
    topic = log.create_topic("tbl", TopicConfig(cleanup_policy="compact", delete_retention_ms=0), schema=schema)
    topic.append(pa.record_batch({"region": ["eu", "eu", "us", "eu"], "id": pa.array([1, 2, 1, 1], pa.int64()),
                                  "total": [1.0, 2.0, 3.0, 4.0], TIMESTAMP: pa.array([1, 1, 1, 1], pa.int64())}))
    topic.append(pa.record_batch({"region": ["us"], "id": pa.array([1], pa.int64()), "total": pa.nulls(1, pa.float64()),
                                  TOMBSTONE: [True], TIMESTAMP: pa.array([2], pa.int64())}))
    p = topic.partition(0)
    p.roll()
    p.compact(now_ms=1_000)
    table = p.read(0).to_table()
    assert list(zip(table.column("region").to_pylist(), table.column("id").to_pylist(),
                    table.column("total").to_pylist())) == [("eu", 2, 2.0), ("eu", 1, 4.0)]
    assert table.column(OFFSET).to_pylist() == [1, 3]
    reopened = EventLog.open(log.path, recover=False)
    try:
        assert reopened.topic("tbl").partition(0).read(0).to_table().column(OFFSET).to_pylist() == [1, 3]
    finally:
        reopened.close()


def test_compaction_never_touches_the_active_segment(log: EventLog) -> None:
    topic = log.create_topic("t", TopicConfig(cleanup_policy="compact"))
    topic.append(_raw_batch([b"a", b"a", b"a"], [b"1", b"2", b"3"], [0, 0, 0]))
    report = topic.partition(0).compact(now_ms=10**12)
    assert report.records_removed == 0 and report.segments_rewritten == 0
    assert topic.partition(0).read(0).record_count == 3


@pytest.mark.parametrize("policy", ["delete", "compact", "compact,delete"])
def test_run_maintenance_follows_the_policy(log: EventLog, policy: str) -> None:
    topic = log.create_topic("t", TopicConfig(cleanup_policy=policy, retention_ms=1, segment_bytes=1024))
    for i in range(10):
        topic.append(_raw_batch([b"k"] * 3, [str(i).encode()] * 3, [i] * 3))
    retention, compaction = log.run_maintenance(now_ms=10**12)
    assert bool(retention) == ("delete" in policy)
    assert bool(compaction) == ("compact" in policy)


def test_compaction_across_a_schema_change(log: EventLog) -> None:
    key = pa.field("id", pa.int64(), metadata={b"headwater.key": b"true"})
    topic = log.create_topic("tbl", TopicConfig(cleanup_policy="compact"), schema=pa.schema([key, pa.field("v", pa.int64())]))
    topic.append(pa.record_batch({"id": pa.array([1, 2], pa.int64()), "v": pa.array([10, 20], pa.int64())}))
    wider = pa.schema([key, pa.field("v", pa.int64()), pa.field("note", pa.string())])
    topic.set_schema(wider)
    topic.append(pa.record_batch({"id": pa.array([1], pa.int64()), "v": pa.array([11], pa.int64()),
                                  "note": ["new"]}))
    p = topic.partition(0)
    p.roll()
    report = p.compact(now_ms=0)
    assert report.records_removed == 1
    batches = p.read(0).batches
    assert [(b.schema.names[-1], b.column("id").to_pylist()) for b in batches] == [("v", [2]), ("note", [1])]

"""Flush policies, and refusals that protect other writers' data."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from headwater.storage import EventLog, PartitionLockedError, TopicConfig


def _count_fsyncs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = os.fsync

    def counting(fd: int) -> None:
        calls.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", counting)
    return calls


@pytest.mark.parametrize(("policy", "expect_per_append"), [("always", True), ("os", False)])
def test_flush_policy_always_fsyncs_each_append_and_os_never(log: EventLog, orders_schema: pa.Schema,
                                                            make_orders: Any, monkeypatch: pytest.MonkeyPatch,
                                                            policy: str, expect_per_append: bool) -> None:
    topic = log.create_topic("t", TopicConfig(flush_policy=policy), schema=orders_schema)
    topic.append(make_orders(0, 1))
    calls = _count_fsyncs(monkeypatch)
    for i in range(5):
        topic.append(make_orders(i + 1, 1))
    assert (len(calls) >= 5) == expect_per_append
    if not expect_per_append:
        assert calls == []


def test_flush_policy_interval(log: EventLog, orders_schema: pa.Schema, make_orders: Any,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    topic = log.create_topic("t", TopicConfig(flush_policy="interval", flush_ms=0), schema=orders_schema)
    topic.append(make_orders(0, 1))
    calls = _count_fsyncs(monkeypatch)
    topic.append(make_orders(1, 1))
    assert calls, "flush.ms=0 fsyncs at every append"
    slow = log.create_topic("u", TopicConfig(flush_policy="interval", flush_ms=3_600_000), schema=orders_schema)
    slow.append(make_orders(0, 1))
    calls.clear()
    slow.append(make_orders(1, 1))
    assert calls == []
    slow.flush()
    assert calls, "an explicit flush always fsyncs"


def test_delete_topic_is_refused_while_another_writer_holds_it(log_dir: Path, orders_schema: pa.Schema,
                                                              make_orders: Any) -> None:
    writer = EventLog.open(log_dir)
    writer.create_topic("t", schema=orders_schema).append(make_orders(0, 2))
    other = EventLog.open(log_dir)
    with pytest.raises(PartitionLockedError):
        other.delete_topic("t")
    assert other.has_topic("t")
    writer.close()
    other.delete_topic("t")
    assert not other.has_topic("t")
    other.close()


def test_read_wait_returns_at_once_when_compaction_left_a_gap(log: EventLog) -> None:
    topic = log.create_topic("t", TopicConfig(cleanup_policy="compact", segment_bytes=1024))
    batch = pa.record_batch({"__key": pa.array([b"k", b"k", b"k"]), "__value": pa.array([b"1", b"2", b"3"])})
    topic.append(batch)
    partition = topic.partition(0)
    partition.roll()
    topic.append(batch)
    partition.compact()
    result = partition.read_wait(0, 1, timeout_s=5)
    assert result.to_table().column("__offset").to_pylist() == [2]

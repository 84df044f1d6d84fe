"""The active segment's writer: the footer at seal time without a replay, resuming, and its fallbacks."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from headwater.storage import EventLog, TopicConfig
from headwater.storage.segment import MAGIC, Segment
from headwater.storage.segment_writer import FOOTER_VALUE_WIDTH


def _no_replay(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any footer replay fail the test: sealing must take the writer's own footer."""

    def replay(self: Segment, batches: Any) -> bytes:
        raise AssertionError(f"segment {self.path.name} was replayed to seal it")

    monkeypatch.setattr(Segment, "_footer", replay)


def _assert_is_pyarrows_file(path: Path, records: int) -> pa.Table:
    """The sealed file equals pyarrow's file writer output for its batches and metadata; return its rows."""
    raw = path.read_bytes()
    reader = pa.ipc.open_file(path)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, reader.schema, metadata=reader.metadata) as writer:
        for i in range(reader.num_record_batches):
            writer.write_batch(reader.get_batch(i))
    assert sink.getvalue().to_pybytes() == raw
    metadata = reader.metadata
    assert int(metadata[b"headwater.record_count"]) == records
    assert int(metadata[b"headwater.batch_count"]) == reader.num_record_batches
    assert all(len(metadata[key]) == FOOTER_VALUE_WIDTH for key in metadata if key not in
               (b"headwater.format_version", b"headwater.base_offset"))
    return reader.read_all()


def test_sealing_takes_the_writers_footer(log: EventLog, orders_schema: pa.Schema, make_orders: Any,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    topic = log.create_topic("orders", TopicConfig(segment_bytes=1 << 20), schema=orders_schema)
    for i in range(5):
        topic.append(make_orders(i * 100, 100, timestamps=[1000 + i] * 100))
    _no_replay(monkeypatch)
    topic.partition(0).roll()
    info = topic.segments()[0]
    assert info.sealed and info.record_count == 500
    table = _assert_is_pyarrows_file(info.path, 500)
    assert table.column("id").to_pylist() == list(range(500))
    metadata = pa.ipc.open_file(info.path).metadata
    assert (int(metadata[b"headwater.min_timestamp"]), int(metadata[b"headwater.max_timestamp"])) == (1000, 1004)
    assert int(metadata[b"headwater.next_offset"]) == 500
    assert int(metadata[b"headwater.data_end"]) + 8 <= info.size_bytes


def test_a_resumed_segment_is_primed_then_sealed_without_replay(log_dir: Path, orders_schema: pa.Schema,
                                                                make_orders: Any,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    log = EventLog.open(log_dir)
    topic = log.create_topic("orders", schema=orders_schema)
    topic.append(make_orders(0, 30))
    topic.append(make_orders(30, 20))
    log.close()
    log = EventLog.open(log_dir)
    topic = log.topic("orders")
    topic.append(make_orders(50, 10))
    _no_replay(monkeypatch)
    topic.partition(0).roll()
    topic.append(make_orders(60, 5))
    infos = topic.segments()
    assert [(i.sealed, i.record_count) for i in infos] == [(True, 60), (False, 5)]
    table = _assert_is_pyarrows_file(infos[0].path, 60)
    assert table.column("__offset").to_pylist() == list(range(60))
    dataset = ds.dataset(str(infos[0].path), format="ipc", schema=topic.stored_schema)
    assert dataset.to_table().column("id").to_pylist() == list(range(60))
    log.close()
    log = EventLog.open(log_dir)
    assert log.topic("orders").partition(0).read(0).to_table().column("id").to_pylist() == list(range(65))
    log.close()


def test_a_segment_whose_bytes_pyarrow_would_write_differently_is_rewritten_before_appending(
        log_dir: Path, orders_schema: pa.Schema, make_orders: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    log = EventLog.open(log_dir)
    topic = log.create_topic("orders", schema=orders_schema)
    topic.append(make_orders(0, 4))
    path = topic.segments()[0].path
    log.close()
    stream = pa.ipc.open_stream(pa.py_buffer(path.read_bytes()[len(MAGIC):]))
    schema, stored = stream.schema, stream.read_next_batch()
    # The same records, written by a writer with other options (LZ4-compressed buffers): valid to
    # read, but not the bytes the segment's writer would produce on replay.
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, schema, options=pa.ipc.IpcWriteOptions(compression="lz4")) as writer:
        writer.write_batch(stored)
    compressed = sink.getvalue().to_pybytes()
    header = MAGIC + schema.serialize().to_pybytes()
    body = compressed[len(schema.serialize().to_pybytes()):-8]  # the batch message, without the end marker
    path.write_bytes(header + body)
    os.remove(path.with_suffix(".index"))
    rewrites: list[str] = []
    rewrite = Segment._rewrite_from_batches

    def counting_rewrite(self: Segment) -> None:
        rewrites.append(self.path.name)
        rewrite(self)

    monkeypatch.setattr(Segment, "_rewrite_from_batches", counting_rewrite)
    log = EventLog.open(log_dir)
    topic = log.topic("orders")
    assert topic.partition(0).read(0).to_table().column("id").to_pylist() == list(range(4))
    topic.append(make_orders(4, 3))
    assert rewrites == [path.name]
    topic.partition(0).roll()
    info = topic.segments()[0]
    table = _assert_is_pyarrows_file(info.path, 7)
    assert table.column("id").to_pylist() == list(range(7))
    log.close()


def test_a_failed_write_leaves_the_segment_appendable_and_sealable(log: EventLog, orders_schema: pa.Schema,
                                                                    make_orders: Any,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    topic = log.create_topic("orders", schema=orders_schema)
    topic.append(make_orders(0, 10))
    real_writev = os.writev
    calls = {"n": 0}

    def failing_writev(fd: int, pieces: Any) -> int:
        calls["n"] += 1
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "writev", failing_writev)
    with pytest.raises(OSError):
        topic.append(make_orders(10, 10))
    monkeypatch.setattr(os, "writev", real_writev)
    assert calls["n"] == 1
    assert topic.append(make_orders(10, 5))[0].base_offset == 10
    topic.partition(0).roll()
    info = topic.segments()[0]
    table = _assert_is_pyarrows_file(info.path, 15)
    assert table.column("__offset").to_pylist() == list(range(15))

"""Recovery after crashes (torn tails, unsealed segments, stale indexes, leftovers) and truncate_to."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from headwater.storage import OFFSET, EventLog, OffsetOutOfRangeError, Topic, TopicConfig


def _active_path(log: EventLog, name: str = "orders") -> Path:
    return log.topic(name).segments()[-1].path


def _orders_in_small_segments(log: EventLog, schema: pa.Schema, make_orders: Any, *, batches: int,
                              **batch_options: Any) -> Topic:
    """An ``orders`` topic with 4 KiB segments and ``batches`` batches of ten orders (ids 0, 1, ...), so
    that it spans several segments."""
    topic = log.create_topic("orders", TopicConfig(segment_bytes=4096), schema=schema)
    for i in range(batches):
        topic.append(make_orders(i * 10, 10, **batch_options))
    return topic


@pytest.mark.parametrize("cut", [1, 7, 8, 100, -1])
def test_torn_last_batch_is_dropped_and_reported(log_dir: Path, orders_schema: pa.Schema, make_orders: Any,
                                                 cut: int) -> None:
    log = EventLog.open(log_dir)
    topic = log.create_topic("orders", schema=orders_schema)
    topic.append(make_orders(0, 5))
    path = _active_path(log)
    size_before = path.stat().st_size
    log.close()
    torn = make_orders(5, 40).serialize().to_pybytes()  # a batch message without __offset is never valid
    torn = torn[:cut] if cut > 0 else torn[:-3]
    with open(path, "ab") as f:
        f.write(torn)
    reader = EventLog.open(log_dir, recover=False)
    assert reader.topic("orders").partition(0).read(0).record_count == 5, "readers skip a torn tail"
    reader.close()
    log = EventLog.open(log_dir)
    report = log.last_recovery.partitions[0]
    assert (report.bytes_dropped, report.batches_dropped) == (len(torn), 1)
    assert path.stat().st_size == size_before
    topic = log.topic("orders")
    assert topic.append(make_orders(5, 2))[0].base_offset == 5
    assert topic.partition(0).read(0).to_table().column("id").to_pylist() == list(range(7))
    log.close()


def test_garbage_and_zeros_after_the_last_batch_are_dropped(log_dir: Path, orders_schema: pa.Schema,
                                                            make_orders: Any) -> None:
    log = EventLog.open(log_dir)
    log.create_topic("orders", schema=orders_schema).append(make_orders(0, 3))
    path = _active_path(log)
    log.close()
    with open(path, "ab") as f:
        f.write(b"\x00" * 4096 + b"\xff" * 100)
    log = EventLog.open(log_dir)
    assert log.last_recovery.bytes_dropped == 4196
    assert log.topic("orders").partition(0).end_offset == 3
    log.close()


def test_a_torn_write_inside_an_append_is_invisible_then_recovered(log_dir: Path, orders_schema: pa.Schema,
                                                                   make_orders: Any) -> None:
    """A real stored batch cut in half: a reader sees only whole batches; recovery drops the half."""
    log = EventLog.open(log_dir)
    topic = log.create_topic("orders", schema=orders_schema)
    topic.append(make_orders(0, 4))
    path = _active_path(log)
    first_end = path.stat().st_size
    topic.append(make_orders(4, 4))
    second_end = path.stat().st_size
    log.close()
    half = (second_end - first_end) // 2
    with open(path, "r+b") as f:
        f.truncate(first_end + half)
    reader = EventLog.open(log_dir, recover=False)
    assert reader.topic("orders").partition(0).read(0).to_table().column("id").to_pylist() == [0, 1, 2, 3]
    reader.close()
    log = EventLog.open(log_dir)
    assert (log.last_recovery.bytes_dropped, log.last_recovery.batches_dropped) == (half, 1)
    assert log.topic("orders").append(make_orders(4, 1))[0].base_offset == 4
    log.close()


def test_unsealed_older_segment_is_sealed_and_missing_indexes_rebuilt(log_dir: Path, orders_schema: pa.Schema,
                                                                      make_orders: Any) -> None:
    log = EventLog.open(log_dir)
    topic = _orders_in_small_segments(log, orders_schema, make_orders, batches=12)
    infos = topic.segments()
    expected = topic.partition(0).read(0).to_table()
    log.close()
    first = infos[0]
    data = first.path.read_bytes()
    data_end = int(pa.ipc.open_file(first.path).metadata[b"headwater.data_end"])
    first.path.write_bytes(data[:data_end] + data[data_end:data_end + 13])  # crash while writing the footer
    for info in infos:
        info.path.with_suffix(".index").unlink()
    infos[1].path.with_suffix(".timeindex").write_bytes(b"\x01" * 17)
    (first.path.parent / "00000000000000000999.index").write_bytes(b"")
    (first.path.parent / "00000000000000000000.arrow.tmp").write_bytes(b"junk")
    log = EventLog.open(log_dir)
    report = log.last_recovery.partitions[0]
    assert report.segments_sealed == 1
    assert report.bytes_dropped == 13
    assert report.indexes_rebuilt == len(infos)
    assert report.temp_files_removed == 2
    p = log.topic("orders").partition(0)
    assert p.read(0).to_table().equals(expected)
    assert all(i.sealed for i in p.segments()[:-1])
    assert pa.ipc.open_file(first.path).num_record_batches == first.record_count // 10
    assert p.read(57, 3).to_table().column(OFFSET).to_pylist() == [57, 58, 59]
    log.close()


def test_recovery_after_crash_between_seal_and_new_segment(log_dir: Path, orders_schema: pa.Schema,
                                                           make_orders: Any) -> None:
    log = EventLog.open(log_dir)
    topic = _orders_in_small_segments(log, orders_schema, make_orders, batches=8)
    last = topic.segments()[-1]
    log.close()
    # simulate: the newest segment got sealed but the process died before creating the next one
    reopened = EventLog.open(log_dir)
    p = reopened.topic("orders").partition(0)
    p.roll()
    newest = p.segments()[-1]
    reopened.close()
    newest.path.unlink()
    log = EventLog.open(log_dir)
    p = log.topic("orders").partition(0)
    assert p.segments()[-1].sealed and p.end_offset == 80 == last.next_offset
    assert log.topic("orders").append(make_orders(80, 1))[0].base_offset == 80
    infos = p.segments()
    assert infos[-1].base_offset == 80 and not infos[-1].sealed and infos[-2].sealed
    log.close()


def test_truncate_to_inside_a_batch_and_across_segments(log_dir: Path, orders_schema: pa.Schema,
                                                        make_orders: Any) -> None:
    log = EventLog.open(log_dir)
    topic = _orders_in_small_segments(log, orders_schema, make_orders, batches=20)
    p = topic.partition(0)
    segments_before = len(p.segments())
    p.truncate_to(135)
    assert p.end_offset == 135
    assert p.read(0).to_table().column("id").to_pylist() == list(range(135))
    assert len(p.segments()) < segments_before
    assert not p.segments()[-1].sealed
    assert topic.append(make_orders(500, 3))[0].base_offset == 135
    p.truncate_to(138)
    p.truncate_to(120)
    assert p.read(110).to_table().column("id").to_pylist() == list(range(110, 120))
    log.close()
    log = EventLog.open(log_dir)
    assert log.last_recovery.clean
    p = log.topic("orders").partition(0)
    assert p.end_offset == 120
    assert p.read(0).to_table().column("id").to_pylist() == list(range(120))
    with pytest.raises(OffsetOutOfRangeError):
        p.truncate_to(121)
    p.truncate_to(p.segments()[1].base_offset)
    p.truncate_to(0)
    assert p.end_offset == 0 and p.read(0).batches == ()
    assert log.topic("orders").append(make_orders(0, 2))[0].base_offset == 0
    log.close()


def test_truncate_below_start_is_refused(log: EventLog, orders_schema: pa.Schema, make_orders: Any) -> None:
    topic = _orders_in_small_segments(log, orders_schema, make_orders, batches=20, timestamps=[0] * 10)
    topic.update_config({"retention.ms": "1"})
    p = topic.partition(0)
    p.enforce_retention(now_ms=10_000)
    assert p.start_offset > 0
    with pytest.raises(OffsetOutOfRangeError, match="already deleted"):
        p.truncate_to(p.start_offset - 1)
    p.truncate_to(p.start_offset)
    assert p.end_offset == p.start_offset and p.read(0).batches == ()


def test_truncate_keeps_readers_maps_valid(log: EventLog, orders_schema: pa.Schema, make_orders: Any) -> None:
    topic = log.create_topic("orders", schema=orders_schema)
    topic.append(make_orders(0, 1000))
    held = topic.partition(0).read(0).batches
    inode = topic.segments()[0].path.stat().st_ino
    topic.partition(0).truncate_to(10)
    assert topic.segments()[0].path.stat().st_ino != inode, "truncation writes a new file"
    assert held[0].column(1).to_pylist()[-1] >= 0 and held[0].num_rows == 1000
    assert sum(pa.compute.sum(b.column("id")).as_py() for b in held) == sum(range(1000))


def test_empty_partition_directory_gets_a_fresh_segment(log_dir: Path, orders_schema: pa.Schema) -> None:
    log = EventLog.open(log_dir)
    topic = log.create_topic("orders", schema=orders_schema)
    directory = topic.segments()[0].path.parent
    log.close()
    for name in os.listdir(directory):
        (directory / name).unlink()
    log = EventLog.open(log_dir)
    assert log.topic("orders").partition(0).end_offset == 0
    log.close()

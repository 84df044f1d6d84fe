"""Segments: rolling, sealing into real Arrow IPC files, statistics, and schema evolution."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from headwater.storage import HEADERS, HEADERS_TYPE, EventLog, RecordBatchError, RollParams, TopicConfig
from headwater.storage.columns import headerless, is_headerless
from headwater.storage.segment import EOS_MARKER, MAGIC


def test_roll_by_segment_bytes_and_stats(log: EventLog, orders_schema: pa.Schema, make_orders: Any) -> None:
    topic = log.create_topic("orders", TopicConfig(segment_bytes=8192), schema=orders_schema)
    for i in range(40):
        topic.append(make_orders(i * 10, 10, timestamps=np.arange(i * 10, i * 10 + 10) * 100))
    infos = topic.segments()
    assert len(infos) > 3
    assert all(info.sealed for info in infos[:-1]) and not infos[-1].sealed
    assert sum(info.record_count for info in infos) == 400
    for previous, info in itertools.pairwise(infos):
        assert previous.next_offset == info.base_offset
    for info in infos:
        assert info.size_bytes == info.path.stat().st_size
        if info.sealed:  # segment.bytes bounds the batches; the footer comes on top
            reader = pa.ipc.open_file(info.path)
            data_end = int(reader.metadata[b"headwater.data_end"])
            header = len(MAGIC) + reader.schema.serialize().size
            per_batch = (data_end - header) / reader.num_record_batches
            assert data_end <= 8192 < data_end + per_batch * 1.5
        assert info.min_offset == info.base_offset
        assert info.max_offset == info.next_offset - 1
        assert info.min_timestamp == info.min_offset * 100
        assert info.max_timestamp == info.max_offset * 100


def test_sealed_segment_opens_as_a_pyarrow_dataset(log: EventLog, orders_schema: pa.Schema, make_orders: Any) -> None:
    topic = log.create_topic("orders", TopicConfig(segment_bytes=4096), schema=orders_schema)
    for i in range(10):
        topic.append(make_orders(i * 10, 10))
    sealed = [info for info in topic.segments() if info.sealed]
    assert sealed
    dataset = ds.dataset([str(info.path) for info in sealed], format="ipc")
    table = dataset.to_table()
    assert table.column("id").to_pylist() == list(range(sum(info.record_count for info in sealed)))
    reader = pa.ipc.open_file(sealed[0].path)
    assert int(reader.metadata[b"headwater.record_count"]) == sealed[0].record_count
    assert len(reader.metadata[b"headwater.record_count"]) == 20, "footer values are right-aligned in 20 characters"
    assert reader.schema.equals(headerless(topic.stored_schema), check_metadata=True)
    assert sealed[0].schema.equals(reader.schema, check_metadata=True)
    typed = ds.dataset([str(info.path) for info in sealed], format="ipc", schema=topic.stored_schema).to_table()
    assert typed.schema.field(HEADERS).type == HEADERS_TYPE and typed.column(HEADERS).null_count == typed.num_rows


def test_headers_are_stored_as_null_type_until_a_record_has_some(log: EventLog, orders_schema: pa.Schema,
                                                                 make_orders: Any) -> None:
    topic = log.create_topic("orders", TopicConfig(segment_bytes=4096), schema=orders_schema)
    p = topic.partition(0)
    topic.append(make_orders(0, 3))
    assert is_headerless(p.segments()[-1].schema)
    with_h = make_orders(3, 2).append_column(HEADERS, pa.array([[{"key": "a", "value": b"1"}], None], HEADERS_TYPE))
    topic.append(with_h)
    infos = p.segments()
    assert len(infos) == 2 and is_headerless(infos[0].schema) and not is_headerless(infos[1].schema)
    topic.append(make_orders(5, 2))
    for i in range(8):
        topic.append(make_orders(7 + i * 10, 10))
    assert all(not is_headerless(info.schema) for info in p.segments()[1:]), "once headers appear, segments keep them"
    table = p.read(0).to_table()
    assert table.schema.field(HEADERS).type == HEADERS_TYPE
    assert table.column(HEADERS).to_pylist()[:6] == [None, None, None, [{"key": "a", "value": b"1"}], None, None]
    assert table.column("id").to_pylist() == list(range(87))


def test_sealed_file_is_byte_identical_to_pyarrows_file_writer(log: EventLog, orders_schema: pa.Schema,
                                                               make_orders: Any) -> None:
    topic = log.create_topic("orders", TopicConfig(segment_bytes=4096), schema=orders_schema)
    for i in range(6):
        topic.append(make_orders(i * 7, 7))
    info = topic.segments()[0]
    assert info.sealed
    raw = info.path.read_bytes()
    assert raw.startswith(MAGIC) and raw.endswith(b"ARROW1")
    reader = pa.ipc.open_file(info.path)
    sink = pa.BufferOutputStream()
    writer = pa.ipc.new_file(sink, reader.schema, metadata=reader.metadata)
    for i in range(reader.num_record_batches):
        writer.write_batch(reader.get_batch(i))
    writer.close()
    assert sink.getvalue().to_pybytes() == raw
    data_end = int(reader.metadata[b"headwater.data_end"])
    assert raw[data_end:data_end + 8] == EOS_MARKER


def test_active_segment_is_an_ipc_stream_after_the_magic(log: EventLog, orders_schema: pa.Schema,
                                                         make_orders: Any) -> None:
    topic = log.create_topic("orders", schema=orders_schema)
    topic.append(make_orders(0, 3))
    topic.append(make_orders(3, 4))
    raw = topic.segments()[0].path.read_bytes()
    assert raw[:8] == MAGIC
    table = pa.ipc.open_stream(pa.py_buffer(raw[8:])).read_all()
    assert table.column("id").to_pylist() == list(range(7))


def test_roll_by_segment_ms_uses_event_time(log: EventLog, orders_schema: pa.Schema, make_orders: Any) -> None:
    topic = log.create_topic("orders", TopicConfig(segment_ms=1000), schema=orders_schema)
    topic.append(make_orders(0, 2, timestamps=[0, 500]))
    topic.append(make_orders(2, 1, timestamps=[999]))
    assert len(topic.segments()) == 1
    topic.append(make_orders(3, 1, timestamps=[1000]))
    infos = topic.segments()
    assert [(i.base_offset, i.record_count) for i in infos] == [(0, 3), (3, 1)]


def test_roll_params_rule() -> None:
    assert not RollParams(100, 1000, 90, None, 500, 0).should_roll()
    assert RollParams(100, 1000, 90, 0, 20, 0).should_roll()
    assert not RollParams(100, 1000, 50, 0, 50, 999).should_roll()
    assert RollParams(100, 1000, 50, 0, 10, 1000).should_roll()


def test_set_schema_rolls_and_reads_keep_each_segment_schema(log: EventLog, orders_schema: pa.Schema,
                                                             make_orders: Any) -> None:
    topic = log.create_topic("orders", TopicConfig(partitions=2), schema=orders_schema)
    topic.append(make_orders(0, 3), partition=0)
    topic.append(make_orders(3, 2), partition=1)
    wider = orders_schema.append(pa.field("note", pa.string()))
    topic.set_schema(wider)
    assert topic.schema is not None and topic.schema.equals(wider)
    for p in range(2):
        infos = topic.partition(p).segments()
        assert len(infos) == 2 and infos[0].sealed and not infos[1].sealed
        assert "note" not in infos[0].schema.names and "note" in infos[1].schema.names
    with_note = make_orders(10, 2).append_column("note", pa.array(["a", None]))
    topic.append(with_note, partition=0)
    topic.append(make_orders(12, 1), partition=0)
    batches = topic.partition(0).read(0).batches
    assert [("note" in b.schema.names, b.num_rows) for b in batches] == [(False, 3), (True, 2), (True, 1)]
    assert batches[2].column("note").to_pylist() == [None]
    reopened = EventLog.open(log.path, recover=False)
    try:
        assert reopened.topic("orders").schema.equals(wider)  # type: ignore[union-attr]
    finally:
        reopened.close()


def test_set_schema_on_an_empty_partition_replaces_the_empty_segment(log: EventLog, orders_schema: pa.Schema) -> None:
    topic = log.create_topic("orders", schema=orders_schema)
    topic.set_schema(orders_schema.append(pa.field("note", pa.string())))
    infos = topic.segments()
    assert len(infos) == 1 and "note" in infos[0].schema.names


def test_schema_validation(log: EventLog) -> None:
    with pytest.raises(RecordBatchError, match="reserved"):
        log.create_topic("a", schema=pa.schema([pa.field("__offset", pa.int64())]))
    with pytest.raises(RecordBatchError, match="appears twice"):
        log.create_topic("b", schema=pa.schema([pa.field("x", pa.int64()), pa.field("x", pa.int32())]))
    with pytest.raises(RecordBatchError, match="dictionary"):
        log.create_topic("c", schema=pa.schema([pa.field("x", pa.dictionary(pa.int32(), pa.string()))]))
    raw = log.create_topic("raw")
    with pytest.raises(RecordBatchError, match="raw"):
        raw.set_schema(pa.schema([pa.field("x", pa.int64())]))
    assert log.list_topics() == ["raw"]

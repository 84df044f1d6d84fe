"""A stream record without a key, in a stream with several key columns, is written back without a key
(ksqlDB's GenericKey is null), not as a key of NULLs: the mark travels through the engine's rows
(``__absent_key``) and a typed sink's hidden column, to raw sinks and to the sink's encoder."""

from __future__ import annotations

import pyarrow as pa
import pytest

from headwater.engine import Engine
from headwater.engine.operators.sink import absent_key_field
from headwater.engine.serde import SourceSerde


@pytest.fixture
def engine(driven_engine: Engine) -> Engine:
    opened = driven_engine
    opened.execute(
        "CREATE STREAM INPUT (K INT KEY, K2 INT KEY, V INT) "
        "WITH (KAFKA_TOPIC='input', PARTITIONS=1, FORMAT='JSON');"
    )
    keys = [b'{"K":1,"K2":2}', b'{"K":null,"K2":null}', None]
    batch = pa.RecordBatch.from_arrays(
        [pa.array(keys, pa.binary()), pa.array([b'{"V":0}'] * 3, pa.binary()), pa.array([1, 2, 3], pa.int64())],
        names=["__key", "__value", "__timestamp"],
    )
    opened.log.topic("input").append(batch, partition=0)
    opened.note_external_append("input")
    return opened


def _drain(engine: Engine) -> None:
    for _ in range(3):
        for query in engine.persistent_queries():
            query.process_available()


def _stored(engine: Engine, topic: str) -> pa.Table:
    part = engine.log.topic(topic).partition(0)
    return pa.Table.from_batches(part.read(part.start_offset).batches)


def test_a_typed_sink_marks_and_encodes_records_without_a_key(engine: Engine) -> None:
    engine.execute("CREATE STREAM OUTPUT AS SELECT * FROM INPUT;")
    _drain(engine)
    stored = _stored(engine, "OUTPUT")
    marker = absent_key_field(stored.schema)
    assert marker is not None and marker not in ("K", "K2", "V")
    marks = stored.column(marker).to_pylist()
    assert [bool(m) for m in marks] == [False, False, True]
    sink = engine.catalog.source("OUTPUT")
    assert sink is not None and [c.name for c in sink.schema] == ["K", "K2", "V"]  # the mark is hidden
    keys, errors = SourceSerde(sink).encode_key(
        [stored.column("K").combine_chunks(), stored.column("K2").combine_chunks()],
        absent=pa.array(marks).fill_null(False).to_numpy(zero_copy_only=False),
    )
    assert not errors
    assert keys.to_pylist() == [b'{"K":1,"K2":2}', b'{"K":null,"K2":null}', None]


def test_the_mark_reaches_a_raw_sink_through_a_typed_one(engine: Engine) -> None:
    engine.execute(
        "CREATE STREAM OUTPUT AS SELECT * FROM INPUT;"
        "CREATE STREAM COPY (K INT KEY, K2 INT KEY, V INT) WITH (KAFKA_TOPIC='copy', PARTITIONS=1, FORMAT='JSON');"
        "INSERT INTO COPY SELECT * FROM OUTPUT;"
    )
    _drain(engine)
    assert _stored(engine, "copy").column("__key").to_pylist() == [
        b'{"K":1,"K2":2}', b'{"K":null,"K2":null}', None,
    ]


def test_a_new_key_drops_the_mark(engine: Engine) -> None:
    engine.execute("CREATE STREAM BYV AS SELECT V, K, K2 FROM INPUT PARTITION BY V;")
    _drain(engine)
    stored = _stored(engine, "BYV")
    assert absent_key_field(stored.schema) is None  # one key column: NULL is no key anyway
    assert stored.column("V").to_pylist() == [0, 0, 0]

"""PARTITION BY, null-value rows through filter / project / flat map, and the sink's raw and typed
modes, over real Arrow batches and a real event log."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.catalog import DataSource, FormatSpec, SourceType
from headwater.engine.operators.base import NULL_VALUE_COLUMN, SHADOW_PREFIX, system_column
from headwater.engine.operators.filter import FilterOperator
from headwater.engine.operators.flat_map import FlatMapOperator
from headwater.engine.operators.partition_by import PartitionByOperator
from headwater.engine.operators.project import ProjectOperator
from headwater.engine.operators.repartition import KEY_BYTES_COLUMN, RepartitionOperator
from headwater.engine.operators.sink import SinkOperator, stored_schema
from headwater.engine.schema import Column, LogicalSchema, Namespace
from headwater.engine.serde import SourceSerde
from headwater.parser import types as t
from headwater.storage import EventLog, TopicConfig


class Compute:
    def __init__(self, fn: Callable[[pa.RecordBatch], object]) -> None:
        self.fn = fn

    def evaluate(self, batch: pa.RecordBatch) -> pa.Array:
        return self.fn(batch)  # type: ignore[return-value]


def rows(null_value: list[bool], **columns: list[object]) -> pa.RecordBatch:
    batch = pa.record_batch(columns)
    n = batch.num_rows
    return (
        batch.append_column("ROWTIME", pa.array(range(100, 100 + n), pa.int64()))
        .append_column("ROWPARTITION", pa.array([0] * n, pa.int32()))
        .append_column("ROWOFFSET", pa.array(range(n), pa.int64()))
        .append_column(NULL_VALUE_COLUMN, pa.array(null_value))
    )


SINK = DataSource(
    "OUT",
    SourceType.STREAM,
    LogicalSchema((Column("K", t.STRING, Namespace.KEY), Column("V", t.BIGINT))),
    "out",
    FormatSpec("KAFKA"),
    FormatSpec("DELIMITED"),
)


def test_partition_by_keys_null_rows_only_from_key_columns() -> None:
    batch = rows([False, True], K=["a", "b"], V=[1, None])
    op = PartitionByOperator(
        [
            ("KSQL_COL_0", Compute(lambda b: pc.utf8_upper(b.column("K"))), pa.string(), True),
            ("KSQL_COL_1", Compute(lambda b: pc.is_null(b.column("V"))), pa.bool_(), False),
            ("ROWTIME", None, pa.int64(), False),
        ]
    )
    out = op.process(batch)[0]
    assert out.column("KSQL_COL_0").to_pylist() == ["A", "B"]  # reads only the key: known for b
    assert out.column("KSQL_COL_1").to_pylist() == [False, None]  # reads the value: NULL for b
    # a key named ROWTIME takes the column, the record's event time is kept aside
    assert out.column("ROWTIME").to_pylist() == [100, None]
    assert system_column(out, "ROWTIME").to_pylist() == [100, 101]
    assert out.schema.get_field_index(SHADOW_PREFIX + "ROWTIME") >= 0


def test_rows_without_a_value_through_filter_project_and_flat_map() -> None:
    batch = rows([False, True, False], K=["a", "b", "c"], V=[1, None, 3], A=[[1], [2, 3], []])
    kept = FilterOperator(Compute(lambda b: pa.scalar(True))).process(batch)[0]
    assert kept.column("K").to_pylist() == ["a", "c"]
    project = ProjectOperator(
        [
            ("K", Compute(lambda b: b.column("K")), pa.string()),
            ("W", Compute(lambda b: pc.multiply(b.column("V"), 10)), pa.int64()),
        ],
        key_columns=frozenset({"K"}),
    )
    out = project.process(batch)[0]
    assert out.column("K").to_pylist() == ["a", "b", "c"]
    assert out.column("W").to_pylist() == [10, None, 30]
    assert out.column(NULL_VALUE_COLUMN).to_pylist() == [False, True, False]

    class Explode:
        def evaluate_table(self, b: pa.RecordBatch) -> tuple[pa.Array, pa.Array]:
            return pc.list_flatten(b.column("A")), pc.list_parent_indices(b.column("A"))

    exploded = FlatMapOperator([("E", Explode(), pa.int64())]).process(batch)[0]
    assert exploded.column("E").to_pylist() == [1]


def _sink_topic(tmp_path: Path, raw: bool) -> tuple[EventLog, object]:
    log = EventLog.open(tmp_path / "log")
    schema = None if raw else stored_schema(SINK)
    return log, log.create_topic("out", TopicConfig(partitions=2), schema=schema)


def test_typed_sink_writes_null_values_as_tombstones_and_keys_by_bytes(tmp_path: Path) -> None:
    log, topic = _sink_topic(tmp_path, raw=False)
    batch = rows([False, True], K=["a", "b"], V=[1, 2])
    keyed = RepartitionOperator(["K"], SourceSerde(SINK)).process(batch)[0]
    assert keyed.column(KEY_BYTES_COLUMN).to_pylist() == [b"a", b"b"]
    SinkOperator(SINK, topic, 2).process(keyed)
    stored = [b for p in (0, 1) for b in log.topic("out").partition(p).read(0).batches]
    records = sorted(
        r for b in stored for r in zip(*(b.column(n).to_pylist() for n in ("K", "V", "__tombstone")))
    )
    assert records == [("a", 1, False), ("b", None, True)]
    log.close()


def test_raw_sink_serialises_in_the_sink_formats_and_drops_what_cannot_be(tmp_path: Path) -> None:
    log, topic = _sink_topic(tmp_path, raw=True)
    reported: list[tuple[int, str]] = []
    sink = SinkOperator(SINK, topic, 2, raw=True, report=lambda row, message: reported.append((row, message)))
    batch = rows([False, True], K=["a", "b"], V=[1, 2])
    keyed = RepartitionOperator(["K"], SourceSerde(SINK)).process(batch)[0]
    sink.process(keyed)
    stored = [b for p in (0, 1) for b in log.topic("out").partition(p).read(0).batches]
    records = sorted(
        r
        for b in stored
        for r in zip(*(b.column(n).to_pylist() for n in ("__key", "__value", "__timestamp")))
    )
    assert records == [(b"a", b"1", 100), (b"b", None, 101)]
    assert reported == []
    log.close()

"""Segments as DuckDB input: the prepared-segment cache follows the files, tables of chosen segments
carry partition numbers and schema changes, and a snapshot does not half-see later appends."""

from __future__ import annotations

import shutil
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine import Engine
from headwater.engine.historical import ScanBounds, run_select
from headwater.engine.historical.segments import (
    SealedSegmentCache,
    SegmentOpenCounter,
    TopicSnapshot,
    stored_table,
)


def test_prepared_segments_are_reused_until_the_file_changes(
    engine: Engine, typed_events: Callable[..., pa.Table]
) -> None:
    typed_events(batches=6, partitions=1)
    snapshot = TopicSnapshot.take(engine.log.topic("ev"))
    sealed = [s for s in snapshot.segments if s.sealed]
    cache = SealedSegmentCache()
    first = stored_table(snapshot, sealed, SegmentOpenCounter(), cache)
    assert len(cache) == len(sealed) == 5
    again = stored_table(snapshot, sealed, SegmentOpenCounter(), cache)
    assert again.equals(first) and len(cache) == 5
    # a file replaced under the same name (as compaction does) is a new entry
    target = sealed[0].path
    shutil.copyfile(target, str(target) + ".copy")
    (target.parent / (target.name + ".copy")).replace(target)
    stored_table(snapshot, sealed, SegmentOpenCounter(), cache)
    assert len(cache) == 6


def test_tables_carry_partitions_and_fill_columns_added_later(engine: Engine) -> None:
    from headwater.storage import TopicConfig

    schema = pa.schema([pa.field("ID", pa.int64(), metadata={"headwater.key": "true"}), pa.field("A", pa.int32())])
    topic = engine.log.create_topic("t", TopicConfig(partitions=2), schema=schema, metadata={"key_format": "KAFKA", "value_format": "JSON"})
    topic.append(pa.record_batch({"ID": pa.array([1, 2], pa.int64()), "A": pa.array([10, 20], pa.int32())}), partition=1)
    topic.set_schema(schema.append(pa.field("B", pa.string())))
    topic.append(pa.record_batch({"ID": pa.array([3], pa.int64()), "A": pa.array([30], pa.int32()), "B": ["x"]}), partition=0)
    engine.execute("CREATE STREAM T (ID BIGINT KEY, A INT, B STRING) WITH (KAFKA_TOPIC='t', VALUE_FORMAT='JSON');")
    result = run_select(engine, "SELECT ID, A, B, ROWPARTITION FROM T;")
    assert sorted(result.rows()) == [(1, 10, None, 1), (2, 20, None, 1), (3, 30, "x", 0)]
    assert not result.stats.sources[0].decoded


def test_a_snapshot_reads_each_segment_as_it_was_listed(engine: Engine, typed_events: Callable[..., pa.Table]) -> None:
    typed_events(batches=3, partitions=1, segment_bytes=1 << 20)  # one active segment
    snapshot = TopicSnapshot.take(engine.log.topic("ev"))
    (active,) = snapshot.segments
    engine.log.topic("ev").append(
        pa.record_batch({"ID": pa.array(np.arange(5, dtype=np.int64)), "CATEGORY": pa.array([1] * 5, pa.int32()),
                         "PRICE": pa.array([1.0] * 5), "NAME": pa.array(["late"] * 5)}),
        partition=0,
    )
    table = stored_table(snapshot, snapshot.select(ScanBounds()), SegmentOpenCounter())
    assert table.num_rows == active.record_count == 300
    assert pc.all(pc.not_equal(table.column("NAME"), "late")).as_py()

"""Segment pruning: a time-range query opens only the segments that hold its range.

The topics here are real typed topics whose every append rolls a segment, so each segment's footer
states a narrow ROWTIME range. Opened segments are counted by the file system the dataset reads
through, so these tests see what was actually opened, not what the planner meant to open.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from headwater.engine import Engine
from headwater.engine.historical import ScanBounds, run_select
from headwater.engine.historical.segments import SegmentOpenCounter, TopicSnapshot, stored_dataset


def _overlapping(engine: Engine, topic: str, low: int, high: int) -> set[str]:
    return {
        str(s.path)
        for s in engine.log.topic(topic).segments()
        if s.record_count and s.max_timestamp >= low and s.min_timestamp <= high
    }


def test_time_range_query_opens_only_the_segments_holding_the_range(
    engine: Engine, typed_events: Callable[..., pa.Table]
) -> None:
    written = typed_events(batches=30)
    assert len(engine.log.topic("ev").segments()) == 30
    result = run_select(engine, "SELECT ID, PRICE FROM EV WHERE ROWTIME >= 7050 AND ROWTIME < 9020;")
    (scan,) = result.stats.sources
    needed = _overlapping(engine, "ev", 7050, 9019)
    assert len(needed) == 3
    assert scan.segments_total == 30
    assert scan.segments_selected == 3
    assert scan.segments_opened == 3
    ts = written.column("__timestamp")
    mask = pc.and_(pc.greater_equal(ts, 7050), pc.less(ts, 9020))
    expected = sorted(zip(written.filter(mask).column("ID").to_pylist(), written.filter(mask).column("PRICE").to_pylist()))
    assert sorted(result.rows()) == expected


def test_offset_and_partition_conditions_prune_too(engine: Engine, typed_events: Callable[..., pa.Table]) -> None:
    typed_events(batches=10, partitions=2)
    result = run_select(engine, "SELECT COUNT(*) FROM EV WHERE ROWPARTITION = 1 AND ROWOFFSET < 100;")
    assert result.rows() == [(100,)]
    (scan,) = result.stats.sources
    assert scan.segments_opened == 1  # partition 1's first segment holds offsets 0..99


def test_or_and_not_conditions_prune(engine: Engine, typed_events: Callable[..., pa.Table]) -> None:
    typed_events(batches=10)
    either = run_select(engine, "SELECT COUNT(*) FROM EV WHERE ROWTIME < 1000 OR (ROWTIME >= 3000 AND ROWTIME < 3050);")
    assert either.rows() == [(150,)]
    assert either.stats.segments_selected == either.stats.segments_opened == 2  # batches 0 and 3 only
    negated = run_select(engine, "SELECT COUNT(*) FROM EV WHERE NOT (ROWTIME < 5000);")
    assert negated.rows() == [(500,)]
    assert negated.stats.segments_opened == 5
    mixed = run_select(engine, "SELECT COUNT(*) FROM EV WHERE NOT (ROWTIME >= 2000 AND PRICE > 0);")
    assert mixed.stats.segments_opened == 10  # NOT of a condition on PRICE bounds nothing


def test_an_empty_range_opens_nothing(engine: Engine, typed_events: Callable[..., pa.Table]) -> None:
    typed_events(batches=5)
    result = run_select(engine, "SELECT * FROM EV WHERE ROWTIME > 10 AND ROWTIME < 5;")
    assert result.rows() == []
    assert result.stats.segments_opened == 0


def test_duckdb_prunes_lazy_datasets_with_the_segment_guarantees(
    engine: Engine, typed_events: Callable[..., pa.Table]
) -> None:
    """The views of ``Client.duckdb()`` have no query to read bounds from: DuckDB's pushed-down filter
    meets each fragment's guarantee (the footer's bounds) and Arrow skips the fragments it contradicts,
    unopened."""
    typed_events(batches=12)
    snapshot = TopicSnapshot.take(engine.log.topic("ev"))
    counter = SegmentOpenCounter()
    dataset = stored_dataset(snapshot, snapshot.select(ScanBounds()), counter)
    active = {str(s.path) for s in snapshot.segments if not s.sealed}
    connection = duckdb.connect()
    connection.register("ev", dataset)
    rows = connection.sql("SELECT count(*), min(__partition), max(__partition) FROM ev WHERE __timestamp BETWEEN 4010 AND 4020").fetchall()
    assert rows == [(11, 0, 0)]
    assert counter.opened - active == _overlapping(engine, "ev", 4010, 4020) - active
    assert len(counter.opened - active) == 1


def test_every_partition_value_comes_from_the_fragment_guarantee(
    engine: Engine, typed_events: Callable[..., pa.Table]
) -> None:
    written = typed_events(batches=8, partitions=4)
    result = run_select(engine, "SELECT ROWPARTITION, COUNT(*) AS N, MIN(ROWTIME) AS FIRST FROM EV GROUP BY ROWPARTITION;")
    expected = {}
    for partition in range(4):
        part = written.filter(pc.equal(written.column("__partition"), partition))
        expected[partition] = (part.num_rows, pc.min(part.column("__timestamp")).as_py())
    assert {row[0]: (row[1], row[2]) for row in result.rows()} == expected


@pytest.mark.parametrize(
    ("where", "opened"),
    [
        ("ROWTIME BETWEEN 2000 AND 2999", 1),
        ("ROWTIME IN (0, 5000, 9050)", 3),  # each value is an alternative
        ("ROWTIME >= 9000", 1),
        ("ROWTIME = 4000 + 2", 1),  # constants are evaluated
        ("PRICE > 50", 10),  # no bounds: every segment
    ],
)
def test_conditions_and_the_segments_they_open(
    engine: Engine, typed_events: Callable[..., pa.Table], where: str, opened: int
) -> None:
    typed_events(batches=10)
    result = run_select(engine, f"SELECT COUNT(*) FROM EV WHERE {where};")
    assert result.stats.segments_opened == opened

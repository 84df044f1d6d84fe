"""A step's small stored batches reach the operators as one batch (per-batch costs paid once), with the
records, their order and their partitions unchanged; with the record cache off a stateful query still
emits every update."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from headwater.engine import Engine
from headwater.engine.runtime.persistent import coalesce_batches

CREATE = "CREATE STREAM S (K STRING KEY, V INT) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON', PARTITIONS=1);"


def _batch(start: int, rows: int, name: str = "V") -> pa.RecordBatch:
    return pa.record_batch({name: pa.array(range(start, start + rows), pa.int64())})


def test_consecutive_batches_join_up_to_the_row_bound_and_keep_their_order() -> None:
    batches = [_batch(i * 3, 3) for i in range(10)]
    joined = coalesce_batches(batches, max_rows=7, small_rows=4, min_batches=2)
    assert [b.num_rows for b in joined] == [6, 6, 6, 6, 6]
    assert pa.Table.from_batches(joined).column("V").to_pylist() == list(range(30))


def test_a_schema_change_and_a_batch_that_is_not_small_are_left_alone() -> None:
    big = _batch(100, 8)
    batches = [_batch(0, 2), _batch(2, 2), _batch(4, 2, name="W"), _batch(6, 1, name="W"), big, _batch(150, 0)]
    batches += [_batch(150, 1), _batch(151, 2)]
    joined = coalesce_batches(batches, max_rows=10, small_rows=8, min_batches=2)
    assert [(b.schema.names, b.num_rows) for b in joined] == [(["V"], 4), (["W"], 3), (["V"], 8), (["V"], 3)]
    assert joined[2] is big


def _changelog(tmp_path: Path, keys: str, properties: dict[str, str]) -> list[tuple[str, int]]:
    """The table's changelog after one step over one INSERT per key (a stored batch each)."""
    with Engine(tmp_path, background=False, config={"auto.offset.reset": "earliest"}) as engine:
        engine.execute(CREATE)
        for key in keys:
            engine.execute(f"INSERT INTO S (K, V) VALUES ('{key}', 1);")
        engine.execute("CREATE TABLE C AS SELECT K, COUNT(*) AS N FROM S GROUP BY K;", properties)
        (query,) = engine.persistent_queries()
        assert query.process_available() == len(keys)
        engine.execute("CREATE STREAM CHANGES (K STRING KEY, N BIGINT) WITH (KAFKA_TOPIC='C', VALUE_FORMAT='JSON');")
        return [tuple(r.columns) for r in engine.stream("SELECT K, N FROM CHANGES ORDER BY ROWOFFSET;")]


def test_a_backlog_of_small_batches_collapses_a_keys_updates_with_the_record_cache_on(tmp_path: Path) -> None:
    backlog = "ab" * 10  # 20 stored batches read in one step
    assert _changelog(tmp_path / "cached", backlog, {}) == [("a", 10), ("b", 10)]
    uncached = _changelog(tmp_path / "uncached", backlog, {"cache.max.bytes.buffering": "0"})
    assert uncached == [(key, n // 2 + 1) for n, key in enumerate(backlog)]


def test_a_few_appends_keep_an_update_each(tmp_path: Path) -> None:
    assert _changelog(tmp_path, "aba", {}) == [("a", 1), ("b", 1), ("a", 2)]

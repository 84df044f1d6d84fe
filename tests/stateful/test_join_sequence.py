"""A table-table join fed a whole step of both sides at once (``process_sequence``, and the runtime's
``push_in_order`` that feeds it) gives exactly the output of feeding the pieces one by one: the same
rows, values, timestamps, tombstones, and order, and the same state after. Checked on seeded random
changelogs with few keys (the sides touch each other's keys all the time, so steps are cut into many
groups), many keys (few cuts), deletes, deletes of absent keys, and NULL keys; then end to end through
SQL, the event-time driver against record-at-a-time processing in the same merged order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headwater.engine import Engine
from headwater.engine.operators.foreign_key_join import ForeignKeyJoinOperator
from headwater.engine.operators.join_output import JoinSide, JoinType
from headwater.engine.operators.join_sequence import PieceRuns
from headwater.engine.operators.join_step import SideStep, StepChanges
from headwater.engine.operators.table_table_join import TableTableJoinOperator
from headwater.engine.runtime.merge import join_shape, merge_by_time

LEFT = pa.schema([("ID", pa.int64()), ("FK", pa.int64()), ("NAME", pa.string())])
RIGHT = pa.schema([("ID", pa.int64()), ("LABEL", pa.string())])


def _changes(rng: np.random.Generator, left: bool, size: int, keys: int, first: int) -> pa.RecordBatch:
    ids = rng.integers(0, keys, size)
    deleted = rng.random(size) < 0.2
    null_key = rng.random(size) < 0.05
    columns: dict[str, pa.Array] = {"ID": pa.array(ids, pa.int64(), mask=null_key)}
    if left:
        columns["FK"] = pa.array(rng.integers(0, keys, size), pa.int64(), mask=deleted | (rng.random(size) < 0.1))
        columns["NAME"] = pa.array([f"l{first + i}" for i in range(size)], pa.string(), mask=deleted)
    else:
        columns["LABEL"] = pa.array([f"r{first + i}" for i in range(size)], pa.string(), mask=deleted)
    columns["ROWTIME"] = pa.array(first + np.arange(size) * 3 + rng.integers(0, 5, size), pa.int64())
    columns["__null_value"] = pa.array(deleted)
    return pa.record_batch(columns)


def _pieces(seed: int, count: int, keys: int) -> list[tuple[bool, pa.RecordBatch]]:
    rng = np.random.default_rng(seed)
    pieces, first = [], 0
    for _ in range(count):
        size, is_left = int(rng.integers(1, 4)), bool(rng.random() < 0.5)
        pieces.append((is_left, _changes(rng, is_left, size, keys, first)))
        first += size
    return pieces


def _primary_key_join(join_type: str) -> TableTableJoinOperator:
    left = JoinSide(("ID",), (("FK", "L_FK"), ("NAME", "NAME")), LEFT)
    right = JoinSide(("ID",), (("LABEL", "LABEL"),), RIGHT)
    return TableTableJoinOperator(left, right, ("ID",), join_type)


def _foreign_key_join(join_type: str) -> ForeignKeyJoinOperator:
    left = JoinSide(("ID",), (("FK", "FK"), ("NAME", "NAME")), LEFT)
    right = JoinSide(("ID",), (("LABEL", "LABEL"),), RIGHT)
    return ForeignKeyJoinOperator(left, right, ("FK",), ("ID",), join_type)


def _one_by_one(join: Any, pieces: list[tuple[bool, pa.RecordBatch]]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for is_left, batch in pieces:
        for out in (join.left_input if is_left else join.right_input).process(batch):
            rows.extend(out.to_pylist())
    return rows


def _sequenced(join: Any, pieces: list[tuple[bool, pa.RecordBatch]]) -> list[dict[str, Any]]:
    return [row for out in join.process_sequence(pieces) for row in out.to_pylist()]


def _tables(join: Any) -> list[list[tuple[Any, ...]]]:
    """Each materialized side as sorted (key, row) tuples: the join's state, whatever its slot numbering
    (a step at once hands out slots in another order than its pieces one by one)."""
    stores = [join.stores[True], join.stores[False]] if hasattr(join, "stores") else [join.left_rows, join.right_rows]
    tables = []
    for store in stores:
        live = store.live_slots()
        keys = store.index.keys(live)
        rows = store.rows(live).to_pylist()
        values = [{k: v for k, v in row.items() if k != "__foreign_slot"} for row in rows]
        key_rows = zip(*(k.to_pylist() for k in keys))
        tables.append(sorted((tuple(k), tuple(sorted(v.items()))) for k, v in zip(key_rows, values)))
    return tables


@pytest.mark.parametrize("kind", ["pk", "fk"])
def test_a_step_is_joined_once_per_side_not_piece_by_piece(kind: str) -> None:
    """The random steps below go through the whole-step path, not the one-piece-at-a-time fallback:
    each side's changes are resolved once per step and the per-piece entry points are never called."""
    join = _primary_key_join(JoinType.FULL) if kind == "pk" else _foreign_key_join(JoinType.LEFT)
    resolved: list[int] = []
    original = SideStep.resolve

    def counting(step: StepChanges, is_left: bool, side: JoinSide, store: Any) -> SideStep | None:
        found = original(step, is_left, side, store)
        resolved.append(0 if found is None else len(found.slots))
        return found

    def per_piece(*_: Any) -> list[pa.RecordBatch]:
        raise AssertionError("a piece was joined on its own")

    pieces = _pieces(0, 160, 200)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SideStep, "resolve", staticmethod(counting))
        for name in ("process_side", "process_left", "process_right"):
            if hasattr(join, name):
                patch.setattr(join, name, per_piece)
        assert len(_sequenced(join, pieces)) > 20
    keyed = sum(b.num_rows - b.column("ID").null_count for _, b in pieces)
    assert len(resolved) == 2 and sum(resolved) == keyed


CASES = [("pk", t) for t in JoinType.ALL] + [("fk", JoinType.INNER), ("fk", JoinType.LEFT)]


@pytest.mark.parametrize("kind, join_type", CASES)
@pytest.mark.parametrize("keys", [3, 30, 200])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_step_at_once_equals_its_pieces_one_by_one(kind: str, join_type: str, keys: int, seed: int) -> None:
    make = _primary_key_join if kind == "pk" else _foreign_key_join
    pieces = _pieces(seed, 160, keys)
    expected_join, actual_join = make(join_type), make(join_type)
    # two steps, so the second starts from state the first left behind
    expected = _one_by_one(expected_join, pieces[:70]) + _one_by_one(expected_join, pieces[70:])
    actual = _sequenced(actual_join, pieces[:70]) + _sequenced(actual_join, pieces[70:])
    assert len(expected) > 5
    assert actual == expected
    assert _tables(actual_join) == _tables(expected_join)
    more = _pieces(seed + 100, 40, keys)
    assert _sequenced(actual_join, more) == _one_by_one(expected_join, more)


def _as_runs(pieces: list[tuple[bool, pa.RecordBatch]]) -> PieceRuns:
    """The pieces as one batch per side cut by row counts, with an empty piece between some of them
    (a run whose rows a side's filter dropped)."""
    whole = {
        side: pa.Table.from_batches([b for s, b in pieces if s == side]).combine_chunks().to_batches()[0]
        for side in (True, False)
    }
    sides, rows = [], []
    for index, (side, batch) in enumerate(pieces):
        sides.append(side)
        rows.append(batch.num_rows)
        if index % 7 == 3:
            sides.append(not side)
            rows.append(0)
    return PieceRuns(whole, np.array(sides), np.array(rows))


@pytest.mark.parametrize("kind, join_type", [("pk", JoinType.FULL), ("fk", JoinType.LEFT)])
@pytest.mark.parametrize("seed", [0, 3])
def test_pieces_held_as_runs_of_one_batch_per_side_join_as_slices_do(kind: str, join_type: str, seed: int) -> None:
    make = _primary_key_join if kind == "pk" else _foreign_key_join
    pieces = _pieces(seed, 160, 30)
    runs = _as_runs(pieces)
    assert [(s, b.to_pylist()) for s, b in runs if b.num_rows] == [(s, b.to_pylist()) for s, b in pieces]
    expected_join, actual_join = make(join_type), make(join_type)
    expected = _sequenced(expected_join, pieces[:70]) + _sequenced(expected_join, pieces[70:])
    actual = [
        row
        for part in (pieces[:70], pieces[70:])
        for out in actual_join.process_sequence(_as_runs(part))
        for row in out.to_pylist()
    ]
    assert len(expected) > 5
    assert actual == expected
    assert _tables(actual_join) == _tables(expected_join)


def test_piece_runs_must_tile_each_side() -> None:
    batch = pa.record_batch({"ID": pa.array([1, 2, 3], pa.int64())})
    with pytest.raises(ValueError, match="tile"):
        PieceRuns({True: batch, False: batch.slice(0, 0)}, np.array([True, True]), np.array([1, 1]))


# --------------------------------------------------------------------------------------------------------
# end to end: the event-time driver against one record at a time in the same order

_TABLES = (
    "CREATE TABLE A (ID BIGINT PRIMARY KEY, FK BIGINT, NAME STRING) "
    "WITH (KAFKA_TOPIC='a', PARTITIONS=1, VALUE_FORMAT='JSON');",
    "CREATE TABLE B (ID BIGINT PRIMARY KEY, LABEL STRING) WITH (KAFKA_TOPIC='b', PARTITIONS=1, VALUE_FORMAT='JSON');",
)
_JOINS = {
    "pk": "CREATE TABLE J AS SELECT ROWKEY AS ID, A.NAME AS NAME, B.LABEL AS LABEL FROM A FULL OUTER JOIN B "
    "ON A.ID = B.ID;",
    "fk": "CREATE TABLE J AS SELECT A.ID AS ID, A.NAME AS NAME, B.LABEL AS LABEL FROM A LEFT JOIN B "
    "ON A.FK = B.ID WHERE B.LABEL IS NULL OR B.LABEL != 'b7';",
}


def _produce(engine: Engine, seed: int, records: int, keys: int) -> list[tuple[str, int]]:
    """Changes of A and B with distinct timestamps, interleaved at random; returns the event-time order."""
    rng = np.random.default_rng(seed)
    rows: dict[str, list[tuple[bytes, bytes | None, int]]] = {"a": [], "b": []}
    merged: list[tuple[int, str]] = []
    for i in range(records):
        topic = "a" if rng.random() < 0.5 else "b"
        key = int(rng.integers(0, keys))
        if rng.random() < 0.15:
            value = None
        elif topic == "a":
            value = orjson.dumps({"FK": int(rng.integers(0, keys)), "NAME": f"a{i}"})
        else:
            value = orjson.dumps({"LABEL": f"b{i % 9}"})
        rows[topic].append((key.to_bytes(8, "big", signed=True), value, i * 10))
        merged.append((i * 10, topic))
    for topic, records_of in rows.items():
        batch = pa.RecordBatch.from_arrays(
            [
                pa.array([k for k, _, _ in records_of], pa.binary()),
                pa.array([v for _, v, _ in records_of], pa.binary()),
                pa.array([t for _, _, t in records_of], pa.int64()),
            ],
            names=["__key", "__value", "__timestamp"],
        )
        engine.log.topic(topic).append(batch, partition=0)
    return [(topic, 0) for _, topic in sorted(merged)]


def _sink(engine: Engine) -> list[tuple[Any, ...]]:
    part = engine.log.topic("J").partition(0)
    records: list[tuple[Any, ...]] = []
    for batch in part.read(part.start_offset).batches:
        names = [n for n in batch.schema.names if n != "__offset"]
        records.extend(zip(*(batch.column(n).to_pylist() for n in names)))
    return records


@pytest.mark.parametrize("kind", ["pk", "fk"])
@pytest.mark.parametrize("keys", [4, 300])
def test_event_time_driver_equals_record_at_a_time(tmp_path: Path, kind: str, keys: int) -> None:
    results = []
    for mode in ("record", "steps"):
        engine = Engine(tmp_path / f"{kind}-{mode}", config={"auto.offset.reset": "earliest"}, background=False)
        try:
            engine.execute("\n".join(_TABLES))
            order = _produce(engine, seed=keys, records=400, keys=keys)
            engine.execute(_JOINS[kind])
            (query,) = [q for q in engine.persistent_queries() if q.sink_name == "J"]
            assert join_shape(query.graph) is not None  # the steps take the one-pass path
            if mode == "record":
                for topic, partition in order:
                    assert query.process(topic, partition, max_records=1) == 1
            else:
                for step in (7, 50, 1_000):
                    assert query.process_in_time_order(step) > 0
                while query.process_in_time_order(1_000):
                    pass
            assert sum(query.committed_offsets().values()) == len(order)
            results.append(_sink(engine))
        finally:
            engine.close()
    assert len(results[0]) > 100
    assert results[1] == results[0]


# --------------------------------------------------------------------------------------------------------
# the event-time merge: one sort equals taking the smallest head again and again


def _greedy_merge(timestamps: dict[tuple[str, int], list[int]], open_ended: set[tuple[str, int]]) -> list[tuple[Any, int, int]]:
    """Kafka Streams' rule, record by record: the partition whose head is smallest (ties: listed first)
    gives its next record; stop once an open-ended partition is used up. Consecutive records of one
    partition form a run."""
    order = list(timestamps)
    position = dict.fromkeys(order, 0)
    taken: list[tuple[str, int]] = []
    while True:
        if any(tp in open_ended and position[tp] >= len(timestamps[tp]) for tp in order):
            break
        live = [tp for tp in order if position[tp] < len(timestamps[tp])]
        if not live:
            break
        chosen = min(live, key=lambda tp: (timestamps[tp][position[tp]], order.index(tp)))
        taken.append(chosen)
        position[chosen] += 1
    runs: list[tuple[Any, int, int]] = []
    seen = dict.fromkeys(order, 0)
    for tp in taken:
        if runs and runs[-1][0] == tp:
            runs[-1] = (tp, runs[-1][1], runs[-1][2] + 1)
        else:
            runs.append((tp, seen[tp], seen[tp] + 1))
        seen[tp] += 1
    return runs


@settings(max_examples=300, deadline=None)
@given(
    chunks=st.lists(st.lists(st.integers(0, 12), max_size=12), min_size=1, max_size=4),
    open_mask=st.lists(st.booleans(), min_size=4, max_size=4),
)
def test_merge_by_time_is_the_head_by_head_merge(chunks: list[list[int]], open_mask: list[bool]) -> None:
    timestamps = {(f"t{i}", 0): values for i, values in enumerate(chunks)}
    open_ended = {tp for tp, is_open in zip(timestamps, open_mask) if is_open}
    arrays = {tp: np.asarray(values, dtype=np.int64) for tp, values in timestamps.items()}
    assert merge_by_time(arrays, open_ended) == _greedy_merge(timestamps, open_ended)

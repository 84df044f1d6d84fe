"""Joins against DuckDB where a finite input has an answer (stream-stream inner pairs, stream-table
lookups in processing order, final tables of table joins), ksqlDB's outer-join emission rules with and
without grace, batch sizes, and snapshot -> restore -> continue."""

from __future__ import annotations

from collections import Counter
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from headwater.engine.operators.foreign_key_join import ForeignKeyJoinOperator
from headwater.engine.operators.join_output import JoinSide, JoinType
from headwater.engine.operators.stream_stream_join import StreamStreamJoinOperator
from headwater.engine.operators.stream_table_join import StreamTableJoinOperator
from headwater.engine.operators.table_table_join import TableTableJoinOperator

LEFT = pa.schema([("ID", pa.int64()), ("NAME", pa.string()), ("VALUE", pa.int64())])
RIGHT = pa.schema([("ID", pa.int64()), ("F1", pa.string()), ("F2", pa.int64())])
DAY = 86_400_000


def _sides() -> tuple[JoinSide, JoinSide]:
    return JoinSide(("ID",), (("NAME", "NAME"), ("VALUE", "VALUE")), LEFT), JoinSide(("ID",), (("F1", "F1"), ("F2", "F2")), RIGHT)


def _events(rows: int, seed: int, keys: int = 6, spread: int = 50_000, deletes: float = 0.0) -> list[tuple[bool, dict[str, Any]]]:
    """Interleaved left/right records in processing order."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(rows):
        left = bool(rng.random() < 0.5)
        key = int(rng.integers(0, keys))
        ts = int(rng.integers(0, spread))
        deleted = bool(rng.random() < deletes)
        if left:
            out.append((True, {"ID": key, "NAME": None if deleted else f"l{i}", "VALUE": None if deleted else i, "ROWTIME": ts, "__null_value": deleted}))
        else:
            out.append((False, {"ID": key, "F1": None if deleted else f"r{i}", "F2": None if deleted else i, "ROWTIME": ts, "__null_value": deleted}))
    return out


def _batch(rows: list[dict[str, Any]], left: bool) -> pa.RecordBatch:
    schema = LEFT if left else RIGHT
    columns = {f.name: pa.array([r[f.name] for r in rows], f.type) for f in schema}
    columns["ROWTIME"] = pa.array([r["ROWTIME"] for r in rows], pa.int64())
    columns["__null_value"] = pa.array([r["__null_value"] for r in rows])
    return pa.record_batch(columns)


def _drive(ports: tuple[Any, Any], events: list[tuple[bool, dict[str, Any]]], max_batch: int = 1) -> list[dict[str, Any]]:
    """Feed events in order, consecutive same-side events grouped into batches of up to ``max_batch``."""
    out: list[dict[str, Any]] = []
    position = 0
    while position < len(events):
        side = events[position][0]
        run: list[dict[str, Any]] = []
        while position < len(events) and events[position][0] == side and len(run) < max_batch:
            run.append(events[position][1])
            position += 1
        for result in (ports[0] if side else ports[1]).process(_batch(run, side)):
            out.extend(result.to_pylist())
    return out


def _table(events, left: bool) -> pa.Table:
    rows = [e for side, e in events if side == left]
    return pa.Table.from_batches([_batch(rows, left)]) if rows else pa.Table.from_batches([_batch([], left)])


# --------------------------------------------------------------------------------------------------------
# stream-stream


@pytest.mark.parametrize("before, after", [(5_000, 5_000), (8_000, 1_000), (0, 3_000)])
@pytest.mark.parametrize("max_batch", [1, 7])
def test_stream_stream_inner_join_pairs_match_duckdb(before, after, max_batch):
    events = [e for e in _events(300, seed=before + after) if True]
    join = StreamStreamJoinOperator(*_sides(), ("ID",), JoinType.INNER, before_ms=before, after_ms=after, grace_ms=DAY)
    got = Counter((r["ID"], r["NAME"], r["F1"], r["ROWTIME"]) for r in _drive((join.left_input, join.right_input), events, max_batch))
    connection = duckdb.connect()
    connection.register("l", _table(events, True))
    connection.register("r", _table(events, False))
    expected = Counter(
        connection.execute(
            f"SELECT l.id, l.name, r.f1, greatest(l.rowtime, r.rowtime) FROM l JOIN r ON l.id = r.id "
            f"AND r.rowtime BETWEEN l.rowtime - {before} AND l.rowtime + {after}"
        ).fetchall()
    )
    assert got == expected


def test_stream_stream_expiry_drops_records_behind_the_retention():
    join = StreamStreamJoinOperator(*_sides(), ("ID",), JoinType.INNER, before_ms=10, after_ms=10, grace_ms=0)
    left = {"ID": 1, "NAME": "a", "VALUE": 1, "__null_value": False}
    right = {"ID": 1, "F1": "x", "F2": 1, "__null_value": False}
    # each side's store keeps what is within the retention (20) of that side's newest record
    kept = [(True, {**left, "ROWTIME": 100}), (False, {**right, "ID": 2, "ROWTIME": 200}), (False, {**right, "ROWTIME": 95})]
    assert len(_drive((join.left_input, join.right_input), kept)) == 1
    join = StreamStreamJoinOperator(*_sides(), ("ID",), JoinType.INNER, before_ms=10, after_ms=10, grace_ms=0)
    expired = [(True, {**left, "ROWTIME": 100}), (True, {**left, "ID": 2, "ROWTIME": 200}), (False, {**right, "ROWTIME": 95})]
    assert _drive((join.left_input, join.right_input), expired) == []


def test_left_join_without_grace_emits_unmatched_records_at_once():
    join = StreamStreamJoinOperator(*_sides(), ("ID",), JoinType.LEFT, before_ms=11_000, after_ms=11_000)
    events = [
        (True, {"ID": 0, "NAME": "zero", "VALUE": 0, "ROWTIME": 0, "__null_value": False}),
        (False, {"ID": 0, "F1": "blah", "F2": 50, "ROWTIME": 10_000, "__null_value": False}),
        (False, {"ID": 100, "F1": "newblah", "F2": 150, "ROWTIME": 16_000, "__null_value": False}),
        (True, {"ID": 0, "NAME": "bar", "VALUE": 99, "ROWTIME": 30_000, "__null_value": False}),
    ]
    rows = _drive((join.left_input, join.right_input), events)
    assert [(r["ID"], r["NAME"], r["F1"], r["ROWTIME"]) for r in rows] == [(0, "zero", None, 0), (0, "zero", "blah", 10_000), (0, "bar", None, 30_000)]


def test_outer_joins_with_grace_wait_for_the_window_to_close():
    join = StreamStreamJoinOperator(*_sides(), ("ID",), JoinType.FULL, before_ms=60_000, after_ms=60_000, grace_ms=60_000)
    def left(key, name, ts):
        return (True, {"ID": key, "NAME": name, "VALUE": 0, "ROWTIME": ts, "__null_value": False})

    def right(key, f1, ts):
        return (False, {"ID": key, "F1": f1, "F2": 0, "ROWTIME": ts, "__null_value": False})

    events = [left(0, "A", 0), right(0, "a", 60_000), right(1, "b", 330_000), right(2, "c", 90_000), left(2, "C", 90_000), left(5, "E", 331_000), right(9, "z", 700_000)]
    rows = _drive((join.left_input, join.right_input), events)
    assert [(r["ID"], r["NAME"], r["F1"], r["ROWTIME"]) for r in rows] == [
        (0, "A", "a", 60_000),
        (2, None, "c", 90_000),  # already past its window on arrival: emitted at once
        (2, "C", None, 90_000),
        (1, None, "b", 330_000),  # waited until stream time passed 330000 + 60000 + 60000
        (5, "E", None, 331_000),
    ]


def test_stream_stream_join_checkpoints_and_batches(helpers):
    events = _events(200, seed=3, spread=20_000)
    def make(): return StreamStreamJoinOperator(*_sides(), ("ID",), JoinType.FULL, before_ms=2_000, after_ms=1_000, grace_ms=3_000)
    straight_join = make()
    straight = _drive((straight_join.left_input, straight_join.right_input), events)
    join = make()
    restored: list[dict[str, Any]] = []
    for position, (side, event) in enumerate(events):
        if position % 17 == 16:
            state = join.snapshot()
            join = make()
            join.restore(state)
        for out in (join.left_input if side else join.right_input).process(_batch([event], side)):
            restored.extend(out.to_pylist())
    assert restored == straight


# --------------------------------------------------------------------------------------------------------
# stream-table


@pytest.mark.parametrize("join_type", [JoinType.INNER, JoinType.LEFT])
@pytest.mark.parametrize("max_batch", [1, 5])
def test_stream_table_join_looks_up_the_table_as_of_processing_order(join_type, max_batch):
    events = _events(300, seed=11, deletes=0.15)
    stream, table = _sides()
    join = StreamTableJoinOperator(stream, table, ("ID",), join_type)
    rows = _drive((join.stream_input, join.table_input), events, max_batch)
    got = [(r["ID"], r["NAME"], r["F1"], r["ROWTIME"]) for r in rows]
    sequence = [dict(e, SEQ=i, LEFT=side) for i, (side, e) in enumerate(events)]
    stream_rows = [e for e in sequence if e["LEFT"] and not e["__null_value"]]
    table_rows = [e for e in sequence if not e["LEFT"]]
    connection = duckdb.connect()
    connection.register("s", pa.Table.from_pylist([{k: e[k] for k in ("ID", "NAME", "ROWTIME", "SEQ")} for e in stream_rows]))
    connection.register("t", pa.Table.from_pylist([{k: e[k] for k in ("ID", "F1", "SEQ", "__null_value")} for e in table_rows]))
    kind = "LEFT JOIN" if join_type == JoinType.LEFT else "JOIN"
    expected = connection.execute(
        f"""WITH latest AS (
              SELECT s.seq, s.id, s.name, s.rowtime, t.f1, t.__null_value AS gone
              FROM s ASOF LEFT JOIN t ON s.id = t.id AND s.seq > t.seq)
            SELECT id, name, CASE WHEN gone THEN NULL ELSE f1 END, rowtime FROM latest
            WHERE {'true' if kind == 'LEFT JOIN' else 'f1 IS NOT NULL AND NOT gone'} ORDER BY seq"""
    ).fetchall()
    assert got == [tuple(r) for r in expected]


# --------------------------------------------------------------------------------------------------------
# table-table


def _final_source(events, left: bool) -> dict[int, tuple]:
    table: dict[int, tuple] = {}
    for side, e in events:
        if side != left:
            continue
        if e["__null_value"]:
            table.pop(e["ID"], None)
        else:
            table[e["ID"]] = (e["NAME"], e["VALUE"]) if left else (e["F1"], e["F2"])
    return table


@pytest.mark.parametrize("join_type", JoinType.ALL)
@pytest.mark.parametrize("max_batch", [1, 6])
def test_table_table_join_final_table_matches_duckdb(helpers, join_type, max_batch):
    events = _events(400, seed=21, keys=15, deletes=0.2)
    join = TableTableJoinOperator(*_sides(), ("ID",), join_type)
    rows = _drive((join.left_input, join.right_input), events, max_batch)
    got = helpers.final_table(rows, ["ID"], ["NAME", "VALUE", "F1", "F2"])
    left, right = _final_source(events, True), _final_source(events, False)
    connection = duckdb.connect()
    connection.register("l", pa.Table.from_pylist([{"ID": k, "NAME": v[0], "VALUE": v[1]} for k, v in left.items()], schema=LEFT))
    connection.register("r", pa.Table.from_pylist([{"ID": k, "F1": v[0], "F2": v[1]} for k, v in right.items()], schema=RIGHT))
    kind = {JoinType.INNER: "JOIN", JoinType.LEFT: "LEFT JOIN", JoinType.RIGHT: "RIGHT JOIN", JoinType.FULL: "FULL JOIN"}[join_type]
    expected = connection.execute(f"SELECT coalesce(l.id, r.id), l.name, l.value, r.f1, r.f2 FROM l {kind} r ON l.id = r.id").fetchall()
    assert got == {(r[0],): tuple(r[1:]) for r in expected}


def test_table_table_join_checkpoint():
    events = _events(200, seed=5, keys=8, deletes=0.2)
    def make(): return TableTableJoinOperator(*_sides(), ("ID",), JoinType.FULL)
    straight_join = make()
    straight = _drive((straight_join.left_input, straight_join.right_input), events)
    join = make()
    restored: list[dict[str, Any]] = []
    for position, (side, event) in enumerate(events):
        if position % 9 == 8:
            state = join.snapshot()
            join = make()
            join.restore(state)
        for out in (join.left_input if side else join.right_input).process(_batch([event], side)):
            restored.extend(out.to_pylist())
    assert restored == straight


# --------------------------------------------------------------------------------------------------------
# foreign key


@pytest.mark.parametrize("join_type", [JoinType.INNER, JoinType.LEFT])
def test_foreign_key_join_final_table_matches_duckdb(helpers, join_type):
    rng = np.random.default_rng(31)
    left_schema = pa.schema([("LID", pa.int64()), ("NAME", pa.string()), ("FK", pa.int64())])
    right_schema = pa.schema([("RID", pa.int64()), ("F1", pa.string())])
    events: list[tuple[bool, dict[str, Any]]] = []
    for i in range(400):
        deleted = bool(rng.random() < 0.15)
        if rng.random() < 0.6:
            fk = None if rng.random() < 0.1 else int(rng.integers(0, 6))
            events.append((True, {"LID": int(rng.integers(0, 20)), "NAME": None if deleted else f"n{i}", "FK": None if deleted else fk, "ROWTIME": i, "__null_value": deleted}))
        else:
            events.append((False, {"RID": int(rng.integers(0, 6)), "F1": None if deleted else f"f{i}", "ROWTIME": i, "__null_value": deleted}))

    def batch(rows, left):
        schema = left_schema if left else right_schema
        columns = {f.name: pa.array([r[f.name] for r in rows], f.type) for f in schema}
        columns["ROWTIME"] = pa.array([r["ROWTIME"] for r in rows], pa.int64())
        columns["__null_value"] = pa.array([r["__null_value"] for r in rows])
        return pa.record_batch(columns)

    def make():
        return ForeignKeyJoinOperator(
            JoinSide(("LID",), (("NAME", "NAME"), ("FK", "FK")), left_schema), JoinSide(("RID",), (("F1", "F1"),), right_schema),
            ("FK",), ("LID",), join_type,
        )

    join = make()
    rows: list[dict[str, Any]] = []
    restored_rows: list[dict[str, Any]] = []
    restored = make()
    for position, (side, event) in enumerate(events):
        for out in (join.left_input if side else join.right_input).process(batch([event], side)):
            rows.extend(out.to_pylist())
        if position % 13 == 12:
            state = restored.snapshot()
            restored = make()
            restored.restore(state)
        for out in (restored.left_input if side else restored.right_input).process(batch([event], side)):
            restored_rows.extend(out.to_pylist())
    assert restored_rows == rows
    got = helpers.final_table(rows, ["LID"], ["NAME", "FK", "F1"])
    left: dict[int, tuple] = {}
    right: dict[int, str] = {}
    for side, e in events:
        if side:
            if e["__null_value"]:
                left.pop(e["LID"], None)
            else:
                left[e["LID"]] = (e["NAME"], e["FK"])
        elif e["__null_value"]:
            right.pop(e["RID"], None)
        else:
            right[e["RID"]] = e["F1"]
    connection = duckdb.connect()
    connection.register("l", pa.Table.from_pylist([{"LID": k, "NAME": v[0], "FK": v[1]} for k, v in left.items()], schema=left_schema))
    connection.register("r", pa.Table.from_pylist([{"RID": k, "F1": v} for k, v in right.items()], schema=right_schema))
    kind = "LEFT JOIN" if join_type == JoinType.LEFT else "JOIN"
    expected = connection.execute(f"SELECT l.lid, l.name, l.fk, r.f1 FROM l {kind} r ON l.fk = r.rid").fetchall()
    assert got == {(r[0],): tuple(r[1:]) for r in expected}


def test_stream_table_join_checkpoint():
    events = _events(200, seed=17, deletes=0.2)
    stream, table = _sides()

    def make():
        return StreamTableJoinOperator(stream, table, ("ID",), JoinType.LEFT)

    straight_join = make()
    straight = _drive((straight_join.stream_input, straight_join.table_input), events)
    join = make()
    restored: list[dict[str, Any]] = []
    for position, (side, event) in enumerate(events):
        if position % 11 == 10:
            state = join.snapshot()
            assert state is not None
            join = make()
            join.restore(state)
        for out in (join.stream_input if side else join.table_input).process(_batch([event], side)):
            restored.extend(out.to_pylist())
    assert restored == straight


def test_table_table_join_batches_change_only_the_collapsing(helpers):
    events = _events(300, seed=8, keys=10, deletes=0.25)
    tables = []
    for max_batch in (1, 4, 50):
        join = TableTableJoinOperator(*_sides(), ("ID",), JoinType.LEFT)
        rows = _drive((join.left_input, join.right_input), events, max_batch)
        tables.append(helpers.final_table(rows, ["ID"], ["NAME", "VALUE", "F1", "F2"]))
    assert tables[0] == tables[1] == tables[2]

"""GROUP BY operators: the final table against DuckDB's GROUP BY, ksqlDB's changelog (one output per
input, undo on table input, HAVING tombstones), any batch size giving the same table, and
snapshot -> restore -> continue equal to an uninterrupted run."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from headwater.engine.aggregates import build_aggregates
from headwater.engine.operators.aggregate import AggregateCall, AggregateOperator, GroupKey
from headwater.engine.operators.table_filter import TableFilterOperator
from headwater.engine.operators.table_source import TableSourceOperator
from headwater.errors import ExecutionError
from headwater.parser import types as t

A = build_aggregates()


def _stream(rows: int = 600, seed: int = 1) -> pa.RecordBatch:
    rng = np.random.default_rng(seed)
    return pa.record_batch(
        {
            "REGION": pa.array([["east", "west", "north", None][i] for i in rng.choice(4, rows, p=[0.4, 0.3, 0.25, 0.05])]),
            "SHOP": pa.array(rng.integers(0, 4, rows), pa.int32()),
            "AMOUNT": pa.array([None if v % 11 == 0 else int(v) for v in rng.integers(0, 500, rows)], pa.int64()),
            "PRICE": pa.array(rng.normal(10, 3, rows)),
            "ROWTIME": pa.array(rng.integers(0, 10_000, rows), pa.int64()),
        }
    )


def _operator(col, having=None) -> AggregateOperator:
    return AggregateOperator(
        [GroupKey("REGION", col("REGION"), t.STRING), GroupKey("SHOP", col("SHOP"), t.INT)],
        [
            AggregateCall("N", A["COUNT"].resolve((t.BIGINT,)), (col("ROWTIME"),)),
            AggregateCall("TOTAL", A["SUM"].resolve((t.BIGINT,)), (col("AMOUNT"),)),
            AggregateCall("MEAN", A["AVG"].resolve((t.DOUBLE,)), (col("PRICE"),)),
            AggregateCall("TOP", A["MAX"].resolve((t.BIGINT,)), (col("AMOUNT"),)),
        ],
        having=having,
    )


def test_stream_group_by_matches_duckdb(col, helpers):
    batch = _stream()
    rows = helpers.feed(_operator(col).process, helpers.split(batch, seed=3))
    table = helpers.final_table(rows, ["REGION", "SHOP"], ["N", "TOTAL", "MEAN", "TOP", "ROWTIME"])
    connection = duckdb.connect()
    connection.register("s", pa.Table.from_batches([batch]))
    expected = connection.execute(
        "SELECT region, shop, count(*), coalesce(sum(amount), 0), avg(price), max(amount), max(rowtime) "
        "FROM s WHERE region IS NOT NULL GROUP BY region, shop"
    ).fetchall()
    assert set(table) == {(r[0], r[1]) for r in expected}
    for region, shop, n, total, mean, top, latest in expected:
        got = table[(region, shop)]
        assert got[0] == n and got[1] == total and got[3] == top and got[4] == latest
        assert abs(got[2] - mean) < 1e-9


def test_one_output_per_group_per_batch_in_first_appearance_order(col, helpers):
    batch = _stream(50)
    out = _operator(col).process(batch)[0]
    keys = list(zip(out.column("REGION").to_pylist(), out.column("SHOP").to_pylist()))
    valid = [(r, s) for r, s in zip(batch.column("REGION").to_pylist(), batch.column("SHOP").to_pylist()) if r is not None]
    assert keys == list(dict.fromkeys(valid))
    one_by_one = helpers.feed(_operator(col).process, helpers.split(batch, [1] * 50))
    assert len(one_by_one) == len(valid)  # ksqlDB: one output per input (caching off)


@pytest.mark.parametrize("sizes_seed", [0, 1, 2])
def test_batch_sizes_and_checkpoints_give_the_same_changelog_state(col, helpers, sizes_seed):
    batch = _stream(400, seed=9)
    reference = helpers.final_table(helpers.feed(_operator(col).process, [batch]), ["REGION", "SHOP"], ["N", "TOTAL", "MEAN", "TOP"])
    pieces = helpers.split(batch, seed=sizes_seed)
    split_run = helpers.final_table(helpers.feed(_operator(col).process, pieces), ["REGION", "SHOP"], ["N", "TOTAL", "MEAN", "TOP"])
    assert repr(sorted(split_run.items())) == repr(sorted(reference.items()))
    one = helpers.split(batch, [1] * batch.num_rows)
    straight = helpers.feed(_operator(col).process, one)
    restored = helpers.checkpointed(lambda: _operator(col), one, every=7)
    assert restored == straight


def test_having_emits_tombstones_only_for_groups_that_passed(col, helpers):
    class SumAbove:
        def evaluate(self, batch):
            return pc.greater(batch.column("S"), 10)

    op = AggregateOperator(
        [GroupKey("F2", col("F2"), t.STRING)],
        [AggregateCall("N", A["COUNT"].resolve((t.BIGINT,)), (col("ROWTIME"),)), AggregateCall("S", A["SUM"].resolve((t.INT,)), (col("F1"),))],
        having=SumAbove(),
    )
    values = [(5, "a"), (10, "b"), (6, "a"), (1, "b"), (-1, "a"), (1, "a")]
    batches = [pa.record_batch({"F1": pa.array([v], pa.int32()), "F2": [k], "ROWTIME": pa.array([i], pa.int64())}) for i, (v, k) in enumerate(values)]
    rows = helpers.feed(op.process, batches)
    assert [(r["F2"], r["N"], r["__null_value"]) for r in rows] == [("a", 2, False), ("b", 2, False), ("a", None, True), ("a", 4, False)]


def _table_changes(records):
    """(key, region or None for a delete, value, ts) -> one-row changelog batches."""
    return [
        pa.record_batch(
            {
                "ID": [key],
                "REGION": pa.array([region], pa.string()),
                "V": pa.array([value], pa.int32()),
                "ROWTIME": pa.array([ts], pa.int64()),
                "__null_value": [region is None and value is None],
            }
        )
        for key, region, value, ts in records
    ]


def test_table_aggregation_undoes_the_old_row(col, helpers):
    source = TableSourceOperator(["ID"], retractions=True)

    class CountPositive:
        def evaluate(self, batch):
            return pc.greater(batch.column("N"), 0)

    aggregate = AggregateOperator(
        [GroupKey("REGION", col("REGION"), t.STRING)],
        [AggregateCall("N", A["COUNT"].resolve((t.BIGINT,)), (col("ROWTIME"),)), AggregateCall("S", A["SUM"].resolve((t.INT,)), (col("V"),))],
        having=CountPositive(),
    )

    def pipeline(batch):
        out = []
        for changes in source.process(batch):
            out.extend(aggregate.process(changes))
        return out

    records = [("1", "r0", 1, 1), ("2", "r1", 2, 2), ("1", None, None, 3), ("3", "r0", 3, 4), ("2", "r0", 4, 5), ("9", None, None, 6)]
    rows = helpers.feed(pipeline, _table_changes(records))
    assert [(r["REGION"], r["S"], r["ROWTIME"], r["__null_value"]) for r in rows] == [
        ("r0", 1, 1, False),
        ("r1", 2, 2, False),
        ("r0", None, 3, True),  # HAVING COUNT > 0 fails: the group leaves the table
        ("r0", 3, 4, False),
        ("r1", None, 5, True),  # key 2 moved from r1 to r0: the old group first
        ("r0", 7, 5, False),
    ]


def test_same_group_update_is_one_output(col, helpers):
    source = TableSourceOperator(["ID"], retractions=True)
    aggregate = AggregateOperator(
        [GroupKey("REGION", col("REGION"), t.STRING)], [AggregateCall("AVG", A["AVG"].resolve((t.INT,)), (col("V"),))]
    )
    records = [("alice", "a", 1, 0), ("bob", "a", 2, 1), ("alice", "a", None, 2), ("alice", "a", 4, 3)]
    batches = [pa.record_batch({"ID": [k], "REGION": [r], "V": pa.array([v], pa.int32()), "ROWTIME": pa.array([ts], pa.int64())}) for k, r, v, ts in records]
    rows = helpers.feed(lambda b: [o for c in source.process(b) for o in aggregate.process(c)], batches)
    assert [r["AVG"] for r in rows] == [1.0, 1.5, 2.0, 3.0]


def test_rows_with_null_keys_or_null_values_are_skipped(col):
    op = AggregateOperator([GroupKey("K", col("K"), t.STRING)], [AggregateCall("N", A["COUNT"].resolve((t.BIGINT,)), (col("ROWTIME"),))])
    batch = pa.record_batch({"K": ["a", None, "a"], "ROWTIME": pa.array([1, 2, 3], pa.int64()), "__null_value": [False, False, True]})
    out = op.process(batch)[0]
    assert out.to_pylist()[0]["N"] == 1 and out.num_rows == 1


def test_decimal_overflow_stops_the_query(col):
    import decimal

    op = AggregateOperator([GroupKey("K", col("K"), t.BIGINT)], [AggregateCall("S", A["SUM"].resolve((t.Decimal(3, 1),)), (col("V"),))])
    def batch(v):
        return pa.record_batch({"K": pa.array([0], pa.int64()), "V": pa.array([decimal.Decimal(v)], pa.decimal128(3, 1)), "ROWTIME": pa.array([0], pa.int64())})

    op.process(batch("50.9"))
    with pytest.raises(ExecutionError, match="Numeric field overflow"):
        op.process(batch("50.8"))


def test_table_source_drops_deletes_of_absent_keys_and_null_keys(helpers):
    source = TableSourceOperator(["ID"])
    rows = helpers.feed(source.process, _table_changes([("1", None, None, 0), ("1", "r", 1, 1), (None, "r", 1, 2), ("1", None, None, 3), ("1", None, None, 4)]))
    assert [(r["ID"], r["REGION"], r["__null_value"]) for r in rows] == [("1", "r", False), ("1", None, True)]
    restored = TableSourceOperator(["ID"])
    state = source.snapshot()
    assert state is not None
    restored.restore(state)
    again = helpers.feed(restored.process, _table_changes([("1", None, None, 5), ("1", "s", 2, 6)]))
    assert [(r["REGION"], r["__null_value"]) for r in again] == [("s", False)]


def test_table_filter_turns_rows_leaving_the_filter_into_tombstones(helpers):
    class Over:
        def evaluate(self, batch):
            return pc.greater(batch.column("V"), 5)

    op = TableFilterOperator(Over(), ["ID"])
    rows = helpers.feed(op.process, _table_changes([("0", "a", 4, 0), ("0", "a", 10, 1), ("0", "a", 11, 2), ("0", "a", 1, 3), ("9", "b", 10, 4), ("9", None, None, 5), ("9", None, None, 6)]))
    assert [(r["ID"], r["V"], r["__null_value"]) for r in rows] == [("0", 10, False), ("0", 11, False), ("0", None, True), ("9", 10, False), ("9", None, True)]


def test_table_filter_checkpoint(helpers):
    class Over:
        def evaluate(self, batch):
            return pc.greater(batch.column("V"), 5)

    rng = np.random.default_rng(2)
    records = [(str(rng.integers(0, 5)), "r", int(rng.integers(0, 10)), i) for i in range(60)]
    batches = _table_changes(records)
    straight = helpers.feed(TableFilterOperator(Over(), ["ID"]).process, batches)
    assert helpers.checkpointed(lambda: TableFilterOperator(Over(), ["ID"]), batches, every=7) == straight
    whole = helpers.feed(TableFilterOperator(Over(), ["ID"]).process, [pa.concat_batches(batches)])
    assert helpers.final_table(whole, ["ID"], ["V"]) == helpers.final_table(straight, ["ID"], ["V"])

"""Filter, project, flat map and limit over real Arrow batches.

The evaluators here are plain pyarrow.compute functions standing where compiled expressions plug in;
the operators only rely on ``evaluate(batch)`` / ``evaluate_table(batch)``.
"""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from headwater.engine.operators.filter import FilterOperator
from headwater.engine.operators.flat_map import FlatMapOperator
from headwater.engine.operators.limit import LimitOperator
from headwater.engine.operators.project import ProjectOperator


class Compute:
    def __init__(self, fn: Callable[[pa.RecordBatch], object]) -> None:
        self.fn = fn

    def evaluate(self, batch: pa.RecordBatch) -> pa.Array:
        return self.fn(batch)  # type: ignore[return-value]


class Explode:
    def __init__(self, column: str) -> None:
        self.column = column

    def evaluate_table(self, batch: pa.RecordBatch) -> tuple[pa.Array, pa.Array]:
        values = batch.column(self.column)
        return pc.list_flatten(values), pc.list_parent_indices(values)


def rows(**columns: list[object]) -> pa.RecordBatch:
    batch = pa.record_batch(columns)
    n = batch.num_rows
    return (
        batch.append_column("ROWTIME", pa.array(range(100, 100 + n), pa.int64()))
        .append_column("ROWPARTITION", pa.array([0] * n, pa.int32()))
        .append_column("ROWOFFSET", pa.array(range(n), pa.int64()))
    )


def test_filter_keeps_true_rows_only() -> None:
    op = FilterOperator(Compute(lambda b: pc.greater(b.column("X"), 1)))
    out = op.process(rows(X=[1, 2, None, 3]))
    assert out[0].column("X").to_pylist() == [2, 3]
    assert out[0].column("ROWOFFSET").to_pylist() == [1, 3]
    assert op.process(rows(X=[0])) == []


def test_filter_with_a_constant_predicate() -> None:
    batch = rows(X=[1, 2])
    assert FilterOperator(Compute(lambda b: pa.scalar(True))).process(batch) == [batch]
    assert FilterOperator(Compute(lambda b: pa.scalar(None, pa.bool_()))).process(batch) == []


def test_project_computes_columns_and_carries_pseudo_columns() -> None:
    op = ProjectOperator(
        [
            ("DOUBLED", Compute(lambda b: pc.multiply(b.column("X"), 2)), pa.int64()),
            ("CONST", Compute(lambda b: pa.scalar("k")), pa.string()),
            ("NOTHING", Compute(lambda b: pa.scalar(None)), pa.float64()),
        ]
    )
    out = op.process(rows(X=[1, 2]))[0]
    assert out.schema.names == ["DOUBLED", "CONST", "NOTHING", "ROWTIME", "ROWPARTITION", "ROWOFFSET"]
    assert out.to_pydict()["DOUBLED"] == [2, 4]
    assert out.to_pydict()["CONST"] == ["k", "k"]
    assert out.column("NOTHING").type == pa.float64() and out.column("NOTHING").null_count == 2
    assert out.column("ROWTIME").to_pylist() == [100, 101]


def test_flat_map_zips_functions_and_pads_with_null() -> None:
    op = FlatMapOperator([("A1", Explode("A"), pa.int64()), ("B1", Explode("B"), pa.string())])
    batch = rows(A=[[1, 2, 3], [], None, [4]], B=[["x"], ["y", "z"], None, []])
    out = op.process(batch)[0].to_pydict()
    assert out["A1"] == [1, 2, 3, None, None, 4]
    assert out["B1"] == ["x", None, None, "y", "z", None]
    assert out["ROWOFFSET"] == [0, 0, 0, 1, 1, 3]


def test_flat_map_of_nothing_emits_nothing() -> None:
    op = FlatMapOperator([("A1", Explode("A"), pa.int64())])
    assert op.process(rows(A=[[], None])) == []
    with pytest.raises(ValueError):
        FlatMapOperator([])


def test_limit_stops_at_n_across_batches_and_restores() -> None:
    op = LimitOperator(3)
    assert [b.num_rows for b in op.process(rows(X=[1, 2]))] == [2]
    assert [b.column("X").to_pylist() for b in op.process(rows(X=[3, 4, 5]))] == [[3]]
    assert op.done and op.process(rows(X=[6])) == []
    again = LimitOperator(3)
    state = op.snapshot()
    assert state is not None
    again.restore(state)
    assert again.done

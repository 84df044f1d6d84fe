"""CASE (both forms) and the lazy evaluation of what may fail (ksqlDB evaluates row by row)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest


@pytest.fixture(scope="module")
def units() -> pa.RecordBatch:
    rng = np.random.default_rng(2)
    n = 800
    return pa.record_batch(
        {
            "U": pa.array(rng.integers(0, 60, n) / 10, mask=rng.random(n) < 0.1),
            "ID": pa.array(rng.integers(0, 10, n), pa.int64()),
        }
    )


@pytest.mark.parametrize(
    "sql",
    [
        "CASE WHEN U < 2.0 THEN 'small' WHEN U < 4.0 THEN 'medium' ELSE 'large' END",
        "CASE WHEN U < 2.0 THEN ID + 2 END",
        "CASE WHEN U < 2.0 THEN null WHEN U < 4.0 THEN 'medium' ELSE 'large' END",
        "CASE ID WHEN 1 THEN 'one' WHEN 2 THEN 'two' ELSE 'many' END",
    ],
)
def test_case_matches_duckdb(sql: str, units, evaluate, duck) -> None:
    assert evaluate(sql, units) == duck(sql, units)


def test_case_with_a_null_condition_takes_the_default(evaluate) -> None:
    # case-expression.json: searched case with null in when
    batch = pa.record_batch({"U": [None, 4.0]})
    assert evaluate("CASE WHEN U > 2.0 THEN 'foo' ELSE 'default' END", batch) == ["default", "foo"]


def test_failing_branches_are_only_evaluated_for_the_rows_that_take_them(evaluate) -> None:
    batch = pa.record_batch({"A": pa.array([10, 7, 5], pa.int32()), "B": pa.array([0, 2, 0], pa.int32())})
    errors: list = []
    assert evaluate("CASE WHEN B = 0 THEN -1 ELSE A / B END", batch, errors=errors) == [-1, 3, -1]
    assert evaluate("CASE WHEN B <> 0 THEN A / B END", batch, errors=errors) == [None, 3, None]
    assert evaluate("CASE WHEN A / B > 1 THEN 1 ELSE 0 END", batch, errors=errors) == [None, 1, None]
    assert [row for row, _ in errors] == [0, 2]


def test_and_or_evaluate_their_right_side_only_when_needed(evaluate) -> None:
    batch = pa.record_batch({"A": pa.array([10, 7, 5], pa.int32()), "B": pa.array([0, 2, 0], pa.int32())})
    errors: list = []
    assert evaluate("B <> 0 AND A / B > 1", batch, errors=errors) == [False, True, False]
    assert evaluate("B = 0 OR A / B > 5", batch, errors=errors) == [True, False, True]
    assert errors == []
    assert evaluate("A > 6 AND A / B > 1", batch, errors=errors) == [None, True, False]
    assert [row for row, _ in errors] == [0]


def test_functions_that_fail_are_isolated_row_by_row(evaluate) -> None:
    values = np.arange(1000, dtype=np.float64)
    values[[3, 500, 999]] = -1.0
    batch = pa.record_batch({"X": values})
    errors: list = []
    result = evaluate("SAFE_SQRT(X)", batch, errors=errors)
    assert [row for row, _ in errors] == [3, 500, 999]
    assert errors[0][1] == "Error computing expression: cannot take the square root of a negative number"
    assert result[4] == 2.0 and result[3] is None and result[999] is None
    assert evaluate("CASE WHEN X >= 0 THEN SAFE_SQRT(X) ELSE 0.0E0 END", batch)[3] == 0.0


def test_a_failing_expression_without_columns_fails_every_row_at_once(evaluate) -> None:
    batch = pa.record_batch({"X": np.arange(100_000, dtype=np.float64)})
    errors: list = []
    assert evaluate("SAFE_SQRT(-1.0E0)", batch, errors=errors) == [None] * 100_000
    assert len(errors) == 100_000 and errors[-1][0] == 99_999

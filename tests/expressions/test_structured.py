"""ARRAY, MAP and STRUCT: subscripts, dereference and constructors."""

from __future__ import annotations

from decimal import Decimal as D

import numpy as np
import pyarrow as pa
import pytest


@pytest.fixture(scope="module")
def lists() -> pa.RecordBatch:
    rng = np.random.default_rng(5)
    n = 500
    values = [
        None if rng.random() < 0.1 else [int(v) for v in rng.integers(0, 9, rng.integers(0, 5))]
        for _ in range(n)
    ]
    return pa.record_batch(
        {"A": pa.array(values, pa.list_(pa.int32())), "I": pa.array(rng.integers(-6, 6, n).astype(np.int32))}
    ).slice(7, 400)  # a sliced batch: offsets no longer start at 0


@pytest.mark.parametrize("sql", ["A[1]", "A[2]", "A[-1]", "A[-3]", "A[0]", "A[9]", "A[I]"])
def test_array_subscripts_are_one_based_like_duckdb(sql: str, lists, evaluate, duck) -> None:
    # DuckDB's list indexing is also 1-based, negative from the end, NULL out of range or at 0
    assert evaluate(sql, lists) == duck(sql, lists)


def test_nested_subscripts_and_null_arrays(evaluate) -> None:
    # null.json: col0[1][2] over [[0, 1], [2]], [null, [2]] and null
    batch = pa.record_batch(
        {"C": pa.array([[[0, 1], [2]], [None, [2]], None], pa.list_(pa.list_(pa.int32())))}
    )
    assert evaluate("C[1][2]", batch) == [1, None, None]
    assert evaluate("C[-1][1]", batch) == [2, 2, None]


def test_map_subscripts(evaluate) -> None:
    batch = pa.record_batch(
        {
            "M": pa.array(
                [[("expected", 10)], None, [("a", 1), ("b", 2)]], pa.map_(pa.string(), pa.int32())
            ).slice(0, 3),
            "K": ["expected", "a", "b"],
        }
    )
    assert evaluate("M['expected']", batch) == [10, None, None]
    assert evaluate("M['missing']", batch) == [None, None, None]
    assert evaluate("M[K]", batch) == [10, None, 2]
    sliced = pa.record_batch({"M": batch.column(0).slice(1, 2), "K": ["a", "b"]})
    assert evaluate("M[K]", sliced) == [None, 2]


def test_struct_dereference_and_null_structs(evaluate) -> None:
    # null.json: dereference nested structs with nulls
    person = pa.struct([("Name", pa.string())])
    batch = pa.record_batch(
        {
            "COL1": pa.array(
                [{"Person": {"Name": "George"}}, None, {"Person": None}], pa.struct([("Person", person)])
            )
        }
    )
    assert evaluate("COL1->`Person`->`Name`", batch) == ["George", None, None]


def test_generated_subscript_chain(evaluate) -> None:
    # simple-struct.json: A->B['key$Name[]']->C[1]->D
    inner = pa.struct([("D", pa.int32())])
    a_type = pa.struct([("B", pa.map_(pa.string(), pa.struct([("C", pa.list_(inner))])))])
    batch = pa.record_batch({"A": pa.array([{"B": [("key$Name[]", {"C": [{"D": 1}]})]}], a_type)})
    assert evaluate("A->B['key$Name[]']->C[1]->D", batch) == [1]


def test_constructors(evaluate) -> None:
    batch = pa.record_batch({"X": pa.array([1, None, 3], pa.int32()), "S": ["a", "b", None]})
    assert evaluate("ARRAY[X, 2, X * 2]", batch) == [[1, 2, 2], [None, 2, None], [3, 2, 6]]
    assert evaluate("ARRAY[1, 1 + 1, 3]", batch) == [[1, 2, 3]] * 3
    assert evaluate("ARRAY[X, 2.5]", batch) == [[D("1.0"), D("2.5")], [None, D("2.5")], [D("3.0"), D("2.5")]]
    assert evaluate("MAP(S := X, 'z' := 0)", batch) == [
        [("a", 1), ("z", 0)],
        [("b", None), ("z", 0)],
        [("z", 0)],
    ]
    assert evaluate("MAP('k' := 1, 'k' := 2)", batch) == [[("k", 2)]] * 3
    assert evaluate("STRUCT(A := X, `b` := S)", batch) == [
        {"A": 1, "b": "a"},
        {"A": None, "b": "b"},
        {"A": 3, "b": None},
    ]
    assert evaluate("STRUCT(A := X)->A + 1", batch) == [2, None, 4]
    assert evaluate("ARRAY[ARRAY[X], ARRAY[5]][1][1]", batch) == [1, None, 3]
    assert evaluate("ARRAY[STRUCT(N := S)][1]->N", batch) == ["a", "b", None]


def test_structured_equality(evaluate) -> None:
    batch = pa.record_batch(
        {
            "A": pa.array([[1, 2], [1, None], [], None], pa.list_(pa.int64())),
            "M": pa.array(
                [[("x", 1), ("y", 2)], [("y", 2), ("x", 1)], [], None], pa.map_(pa.string(), pa.int64())
            ),
        }
    )
    assert evaluate("A = ARRAY[1, 2]", batch) == [True, False, False, False]
    assert evaluate("A <> ARRAY[1, 2]", batch) == [False, True, True, False]
    assert evaluate("A = ARRAY[1, CAST(NULL AS BIGINT)]", batch) == [False, True, False, False]
    assert evaluate("M = MAP('y' := 2, 'x' := 1)", batch) == [
        True,
        True,
        False,
        False,
    ]  # order does not matter

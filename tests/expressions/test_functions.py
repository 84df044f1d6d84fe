"""Function calls through the registry: implicit casts, interval units, lambdas over elements with
outer columns captured, and table functions."""

from __future__ import annotations

import pyarrow as pa

from headwater.engine.expressions import BoundCall, BoundCast, bind, compile_table_function
from headwater.parser import parse_expression
from headwater.parser import types as t


def test_arguments_are_cast_to_the_parameter_types(registry, evaluate, scope_of) -> None:
    batch = pa.record_batch({"I": pa.array([1, 2, None], pa.int32())})
    bound = bind(parse_expression("TWICE(I)"), scope_of(batch), registry)
    assert isinstance(bound, BoundCall) and isinstance(bound.args[0], BoundCast) and bound.type == t.BIGINT
    assert evaluate("TWICE(I)", batch) == [2, 4, None]
    assert evaluate("TWICE(NULL)", batch) == [None, None, None]


def test_interval_units_reach_the_kernel_as_their_name(evaluate) -> None:
    batch = pa.record_batch({"N": pa.array([5, 6], pa.int32())})
    assert evaluate("UNIT_TEXT(SECONDS, N)", batch) == ["SECONDS:5", "SECONDS:6"]


def test_lambdas_see_outer_columns_per_element(evaluate) -> None:
    batch = pa.record_batch(
        {
            "ARR": pa.array([[1, 2], None, [], [3]], pa.list_(pa.int32())),
            "Y": pa.array([10, 20, 30, 40], pa.int32()),
        }
    )
    assert evaluate("TRANSFORM(ARR, x => x + Y)", batch) == [[11, 12], None, [], [43]]
    nested = pa.record_batch(
        {
            "AA": pa.array([[[1], [2, 3]], [[4]]], pa.list_(pa.list_(pa.int32()))),
            "Y": pa.array([1, 2], pa.int32()),
        }
    )
    assert evaluate("TRANSFORM(AA, a => TRANSFORM(a, b => b * 10 + Y))", nested) == [[[11], [21, 31]], [[42]]]


def test_lambda_failures_null_the_row(evaluate) -> None:
    batch = pa.record_batch({"ARR": pa.array([[1, 2], [3, 0]], pa.list_(pa.int32()))})
    errors: list = []
    assert evaluate("TRANSFORM(ARR, x => 6 / x)", batch, errors=errors) == [[6, 3], None]
    assert [row for row, _ in errors] == [1]


def test_table_functions_compile_separately(registry, scope_of) -> None:
    batch = pa.record_batch({"ARR": pa.array([[1, 2], None, [3]], pa.list_(pa.int32()))})
    bound = bind(parse_expression("EXPLODE(ARR)"), scope_of(batch), registry)
    values, parents = compile_table_function(bound).evaluate(batch)
    assert values.to_pylist() == [1, 2, 3] and parents.to_pylist() == [0, 0, 2]

"""ksqlDB's nested error handling: function calls passed to functions, CASTs, constructor items are
guarded, so a failure there makes only that value NULL; anything else fails the whole value."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from headwater.engine.expressions import bind, compile
from headwater.engine.functions.catalog import default_registry
from headwater.parser import parse_expression
from headwater.parser import types as t


def _run(sql: str, batch: pa.RecordBatch, scope_of, registry, types=None) -> tuple[list, list]:
    errors: list = []
    bound = bind(parse_expression(sql), scope_of(batch, types), registry)
    values = compile(bound).evaluate(batch, on_error=lambda row, message: errors.append((row, message)))
    return values.to_pylist(), errors


def test_a_failing_array_item_is_null_and_the_array_is_kept(evaluate) -> None:
    batch = pa.record_batch({"X": [4.0, -1.0, None]})
    errors: list = []
    assert evaluate("ARRAY[44E0, SAFE_SQRT(X)]", batch, errors=errors) == [[44.0, 2.0], [44.0, None], [44.0, None]]
    assert errors == [(1, "Error processing array item: cannot take the square root of a negative number")]


def test_map_keys_values_and_struct_fields_are_guarded(evaluate) -> None:
    batch = pa.record_batch({"X": [9.0, -4.0]})
    errors: list = []
    assert evaluate("MAP('boo' := SAFE_SQRT(X), 'shoe' := 3E0)", batch, errors=errors) == [
        [("boo", 3.0), ("shoe", 3.0)],
        [("boo", None), ("shoe", 3.0)],
    ]
    assert [(row, message.split(":")[0]) for row, message in errors] == [(1, "Error processing map value")]
    errors.clear()
    assert evaluate("STRUCT(F1 := 'moo', F2 := SAFE_SQRT(X))", batch, errors=errors) == [
        {"F1": "moo", "F2": 3.0},
        {"F1": "moo", "F2": None},
    ]
    assert [message.split(":")[0] for _, message in errors] == ["Error processing struct field"]


def test_a_function_call_argument_is_guarded(evaluate) -> None:
    batch = pa.record_batch({"X": [16.0, -1.0]})
    errors: list = []
    assert evaluate("SAFE_SQRT(SAFE_SQRT(X))", batch, errors=errors) == [2.0, None]
    assert errors == [(1, "Error processing SAFE_SQRT: cannot take the square root of a negative number")]
    errors.clear()
    # inside a CAST the failure is the CAST's, whatever the CAST is passed to
    assert evaluate("STRLEN(CAST(SAFE_SQRT(X) AS STRING))", batch, errors=errors) == [3, None]
    assert errors == [(1, "Error processing STRING: cannot take the square root of a negative number")]


def test_coalesce_falls_through_a_failing_parse(scope_of) -> None:
    registry = default_registry()
    batch = pa.record_batch({"S": ["2003-12-24", "2004", None]})
    values, errors = _run(
        "COALESCE(PARSE_DATE(S, 'yyyy-MM-dd'), PARSE_DATE(CONCAT(S, '-01-01'), 'yyyy-MM-dd'))",
        batch,
        scope_of,
        registry,
    )
    assert values == [dt.date(2003, 12, 24), dt.date(2004, 1, 1), None]
    # CONCAT skips NULLs: row 2's second argument parses '-01-01', which fails too
    assert [(row, message.split(":")[0]) for row, message in errors] == [
        (1, "Error processing PARSE_DATE"),
        (2, "Error processing PARSE_DATE"),
    ]


def test_arithmetic_is_not_guarded(evaluate) -> None:
    batch = pa.record_batch({"A": pa.array([6, 1], pa.int32()), "B": pa.array([3, 0], pa.int32())})
    errors: list = []
    assert evaluate("STRLEN(CAST(A / B AS STRING))", batch, errors=errors) == [1, None]
    assert errors == [(1, "Error processing STRING: / by zero")]
    errors.clear()
    # the failing division sits under a CASE branch, not under a guard: the whole value is NULL
    assert evaluate("CASE WHEN A / B > 1 THEN 'big' ELSE 'small' END", batch, errors=errors) == ["big", None]
    assert errors == [(1, "Error computing expression: / by zero")]


def test_a_row_reports_its_guarded_failures_before_its_own(evaluate) -> None:
    batch = pa.record_batch({"X": [-1.0, 4.0, -9.0], "B": pa.array([0, 0, 1], pa.int32())})
    errors: list = []
    # CAST(ARRAY[NULL] AS STRING) is '[null]': the division by zero still fails the row afterwards
    assert evaluate("STRLEN(CAST(ARRAY[SAFE_SQRT(X)] AS STRING)) / B", batch, errors=errors) == [None, None, 6]
    assert [(row, message.split(":")[0]) for row, message in errors] == [
        (0, "Error processing array item"),
        (0, "Error computing expression"),
        (1, "Error computing expression"),
        (2, "Error processing array item"),
    ]


def test_guards_isolate_a_few_bad_rows_of_a_large_batch(evaluate) -> None:
    values = [float(i) for i in range(10_000)]
    for bad in (17, 4_444, 9_999):
        values[bad] = -1.0
    batch = pa.record_batch({"X": values})
    errors: list = []
    result = evaluate("ARRAY[SAFE_SQRT(X)]", batch, errors=errors)
    assert [row for row, _ in errors] == [17, 4_444, 9_999]
    assert result[17] == [None] and result[16] == [4.0] and result[10_000 - 2] == [9_998.0**0.5]


def test_a_guard_inside_a_lambda_reports_the_outer_row(evaluate) -> None:
    batch = pa.record_batch({"AA": pa.array([[1.0, 4.0], [-1.0, 9.0, -4.0]], pa.list_(pa.float64()))})
    errors: list = []
    assert evaluate("TRANSFORM(AA, a => ARRAY[SAFE_SQRT(a)])", batch, errors=errors) == [
        [[1.0], [2.0]],
        [[None], [3.0], [None]],
    ]
    assert [row for row, _ in errors] == [1, 1]


def test_case_branches_that_are_not_taken_report_nothing(evaluate) -> None:
    batch = pa.record_batch({"X": [-1.0, 4.0]})
    errors: list = []
    assert evaluate("CASE WHEN X > 0 THEN ARRAY[SAFE_SQRT(X)] END", batch, errors=errors) == [None, [2.0]]
    assert errors == []


@pytest.mark.parametrize("sql", ["CAST('x' AS INT)", "ARRAY[CAST('x' AS INT)]"])
def test_a_constant_that_fails_is_reported_for_every_row(evaluate, sql: str) -> None:
    batch = pa.record_batch({"X": [1, 2]})
    errors: list = []
    evaluate(sql, batch, errors=errors)
    assert [row for row, _ in errors] == [0, 1] or [row for row, _ in errors] == [0, 0, 1, 1]


def test_implicit_conversions_of_function_arguments_are_guarded(scope_of) -> None:
    registry = default_registry()
    batch = pa.record_batch({"S": ["2020-01-02", "garbage"]})
    values, errors = _run("DATEADD(DAYS, 1, S)", batch, scope_of, registry, types={"S": t.STRING})
    assert values == [dt.date(2020, 1, 3), None]
    assert [(row, message.split(":")[0]) for row, message in errors] == [(1, "Error processing DATE")]


def test_nested_error_handling_can_be_switched_off(scope_of, registry) -> None:
    batch = pa.record_batch({"X": [4.0, -1.0]})
    bound = bind(parse_expression("ARRAY[44E0, SAFE_SQRT(X)]"), scope_of(batch), registry)
    errors: list = []
    compiled = compile(bound, config={"ksql.nested.error.handling": "false"})
    values = compiled.evaluate(batch, on_error=lambda row, message: errors.append((row, message)))
    assert values.to_pylist() == [[44.0, 2.0], None]
    assert [message.split(":")[0] for _, message in errors] == ["Error computing expression"]
    assert compile(bound, config={"ksql.nested.error.handling": "true"}).evaluate(batch).to_pylist() == [
        [44.0, 2.0],
        [44.0, None],
    ]

"""INSERT VALUES literals, and the planner's questions about expressions."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from headwater.engine.expressions import (
    LiteralCoercionError,
    aggregate_calls,
    bind,
    bound_fields,
    contains_aggregate,
    evaluate_literal,
    referenced_columns,
)
from headwater.errors import PlanError
from headwater.parser import parse_expression
from headwater.parser import types as t
from headwater.parser.expressions import ColumnRef


def value(sql: str, target: t.SqlType, registry) -> object:
    return evaluate_literal(parse_expression(sql), target, registry).as_py()


def test_values_are_coerced_to_the_column_type(registry) -> None:
    # insert-values.json
    assert value("1", t.INT, registry) == 1
    assert value("2", t.BIGINT, registry) == 2
    assert value("3", t.DOUBLE, registry) == 3.0
    assert value("0.05", t.Decimal(12, 2), registry) == D("0.05")
    assert value("0.00", t.Decimal(12, 2), registry) == D("0.00")
    assert value("-1", t.INT, registry) == -1
    assert value("ARRAY[1, 1 + 1, 3]", t.Array(t.INT), registry) == [1, 2, 3]
    assert value("ARRAY[ARRAY[1]]", t.Array(t.Array(t.BIGINT)), registry) == [[1]]
    assert value("MAP('a':=0, 'b':=1)", t.Map(t.STRING, t.BIGINT), registry) == [("a", 0), ("b", 1)]
    assert value("NULL", t.INT, registry) is None
    assert value("ARRAY[CAST(null AS INT)]", t.Array(t.INT), registry) == [None]


def test_struct_values_take_the_column_struct(registry) -> None:
    target = t.Struct((("FOO", t.BIGINT), ("BAR", t.Array(t.BIGINT)), ("BAZ", t.DOUBLE)))
    assert value("STRUCT(FOO := 2, BAR := ARRAY[2], BAZ := 2)", target, registry) == {
        "FOO": 2,
        "BAR": [2],
        "BAZ": 2.0,
    }
    partial = t.Struct((("FOO", t.Decimal(2, 1)), ("bar", t.Array(t.STRING))))
    assert value("STRUCT()", partial, registry) == {"FOO": None, "bar": None}
    assert value("STRUCT(FOO := 2.1, `bar` := ARRAY['bar'])", partial, registry) == {
        "FOO": D("2.1"),
        "bar": ["bar"],
    }


def test_integers_take_a_decimal_columns_scale_when_they_fit(registry) -> None:
    # ksqlDB's value coercer (DefaultSqlValueCoercer): 101 -> DECIMAL(3, 0), -99 -> DECIMAL(4, 1) as -99.0
    assert value("1", t.Decimal(4, 2), registry) == D("1.00")
    assert value("-99", t.Decimal(4, 1), registry) == D("-99.0")
    assert value("3000000000", t.Decimal(12, 2), registry) == D("3000000000.00")
    assert value("ARRAY[10, -99]", t.Array(t.Decimal(4, 2)), registry) == [D("10.00"), D("-99.00")]
    with pytest.raises(LiteralCoercionError, match=r"Expected type DECIMAL\(3, 2\) but got 10 \(INTEGER\)"):
        value("10", t.Decimal(3, 2), registry)
    with pytest.raises(LiteralCoercionError, match=r"Expected type ARRAY<DECIMAL\(3, 2\)>"):
        value("ARRAY[10, -99]", t.Array(t.Decimal(3, 2)), registry)


def test_values_that_do_not_convert(registry) -> None:
    with pytest.raises(LiteralCoercionError, match=r"Expected type INTEGER but got 'x' \(STRING\)"):
        value("'x'", t.INT, registry)
    with pytest.raises(LiteralCoercionError, match=r"Expected type INTEGER but got 1\.5E0 \(DOUBLE\)"):
        value("1.5E0", t.INT, registry)
    with pytest.raises(PlanError, match=r"'FOO' is not a valid stream/table name or alias\."):
        value("FOO.bar", t.INT, registry)
    with pytest.raises(PlanError, match="/ by zero"):
        value("1 / 0", t.INT, registry)


def test_referenced_columns_and_aggregates(registry) -> None:
    expr = parse_expression("SUM(a) + b * COUNT(*) + TRANSFORM(arr, x => x + s.b)[1] + a")
    assert referenced_columns(expr) == (ColumnRef("A"), ColumnRef("B"), ColumnRef("ARR"), ColumnRef("B", "S"))
    assert contains_aggregate(expr, registry)
    assert not contains_aggregate(parse_expression("TWICE(a)"), registry)
    assert [c.name for c in aggregate_calls(parse_expression("SUM(COUNT(x)) + COUNT(*)"), registry)] == [
        "SUM",
        "COUNT",
    ]


def test_bound_fields(registry, scope_of) -> None:
    import pyarrow as pa

    batch = pa.record_batch({"A": pa.array([1], pa.int32()), "B": pa.array([1], pa.int32())})
    assert bound_fields(bind(parse_expression("b + a * b"), scope_of(batch), registry)) == ("B", "A")

"""Typing rules of expressions (headwater.engine.types): literals, arithmetic, comparability."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from headwater.engine.types import (
    arithmetic_result_type,
    common_numeric_type,
    comparison_allowed,
    decimal_literal_type,
    decimal_result_type,
    integer_literal_type,
    widen_decimals,
)
from headwater.parser import types as t
from headwater.parser.expressions import ArithmeticOp as Op
from headwater.parser.expressions import ComparisonOp as Cmp


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, t.INT), (2**31 - 1, t.INT), (-(2**31), t.INT), (2**31, t.BIGINT), (-(2**31) - 1, t.BIGINT)],
)
def test_integer_literals_are_int_when_they_fit_in_32_bits(value: int, expected: t.SqlType) -> None:
    assert integer_literal_type(value) == expected


@pytest.mark.parametrize(
    ("text", "precision", "scale"),
    [
        ("1.50", 3, 2),  # keeps its scale
        ("2.345", 4, 3),  # literals.json: KSQL_COL_0 DECIMAL(4,3)
        ("0.08", 3, 2),  # between -1 and 1: precision is scale + 1
        ("0.00", 3, 2),
        ("-0.5", 2, 1),
        ("5.0", 2, 1),  # push-queries.json: (5.0 / null) ... DECIMAL(2, 1)
        ("12345678987654321.2345678987654321", 33, 16),
    ],
)
def test_decimal_literal_types_follow_ksqldb(text: str, precision: int, scale: int) -> None:
    assert decimal_literal_type(D(text)) == t.Decimal(precision, scale)


@pytest.mark.parametrize(
    ("op", "left", "right", "expected"),
    [
        (Op.ADD, (4, 2), (4, 2), (5, 2)),
        (Op.SUBTRACT, (4, 2), (5, 3), (6, 3)),
        (Op.MULTIPLY, (4, 2), (4, 2), (9, 4)),  # decimal.json: 10.10 * 2.00 = 20.2000
        (Op.DIVIDE, (4, 2), (4, 2), (11, 7)),  # decimal.json: 10.10 / 2.00 = 5.0500000
        (Op.DIVIDE, (2, 1), (10, 0), (13, 12)),
        (Op.MODULUS, (4, 2), (4, 2), (4, 2)),  # decimal.json: 10.10 % 2.00 = 0.10
        (Op.MODULUS, (10, 0), (4, 2), (4, 2)),
    ],
)
def test_decimal_result_types(
    op: Op, left: tuple[int, int], right: tuple[int, int], expected: tuple[int, int]
) -> None:
    assert decimal_result_type(op, t.Decimal(*left), t.Decimal(*right)) == t.Decimal(*expected)


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        (t.INT, t.INT, t.INT),
        (t.INT, t.BIGINT, t.BIGINT),
        (t.BIGINT, t.INT, t.BIGINT),
        (t.INT, t.DOUBLE, t.DOUBLE),
        (t.Decimal(4, 2), t.DOUBLE, t.DOUBLE),
        (t.Decimal(4, 2), t.INT, t.Decimal(13, 2)),  # INT counts as DECIMAL(10, 0)
        (t.BIGINT, t.Decimal(4, 2), t.Decimal(22, 2)),  # BIGINT counts as DECIMAL(19, 0)
        (t.STRING, t.STRING, t.STRING),
    ],
)
def test_addition_result_types(left: t.SqlType, right: t.SqlType, expected: t.SqlType) -> None:
    assert arithmetic_result_type(Op.ADD, left, right) == expected


@pytest.mark.parametrize(
    ("op", "left", "right"),
    [
        (Op.ADD, t.BOOLEAN, t.Decimal(2, 1)),
        (Op.SUBTRACT, t.STRING, t.STRING),
        (Op.ADD, t.STRING, t.INT),
        (Op.ADD, t.Array(t.INT), t.INT),
        (Op.ADD, t.TIMESTAMP, t.BIGINT),
    ],
)
def test_unsupported_arithmetic(op: Op, left: t.SqlType, right: t.SqlType) -> None:
    assert arithmetic_result_type(op, left, right) is None


def test_widening_and_common_numeric_types() -> None:
    assert widen_decimals(t.Decimal(4, 2), t.INT) == t.Decimal(12, 2)  # in.json: DECIMAL(12, 2)
    assert widen_decimals(t.Decimal(4, 2), t.Decimal(5, 3)) == t.Decimal(5, 3)
    assert common_numeric_type(t.Decimal(4, 2), t.DOUBLE) == t.DOUBLE
    assert common_numeric_type(t.BIGINT, t.INT) == t.BIGINT


@pytest.mark.parametrize(
    ("left", "op", "right", "allowed"),
    [
        (t.INT, Cmp.LESS_THAN, t.Decimal(4, 2), True),
        (t.INT, Cmp.GREATER_THAN_OR_EQUAL, t.STRING, False),
        (t.STRING, Cmp.LESS_THAN, t.TIMESTAMP, True),
        (t.TIMESTAMP, Cmp.EQUAL, t.DATE, True),
        (t.TIME, Cmp.EQUAL, t.DATE, False),
        (t.BOOLEAN, Cmp.EQUAL, t.BOOLEAN, True),
        (t.BOOLEAN, Cmp.LESS_THAN, t.BOOLEAN, False),
        (t.Array(t.INT), Cmp.NOT_EQUAL, t.Array(t.INT), True),
        (t.Array(t.INT), Cmp.LESS_THAN, t.Array(t.INT), False),
        (t.Map(t.STRING, t.INT), Cmp.IS_DISTINCT_FROM, t.Map(t.STRING, t.INT), True),
        (t.Struct((("A", t.INT),)), Cmp.EQUAL, t.INT, False),
        (t.BYTES, Cmp.LESS_THAN, t.BYTES, True),
        (t.BYTES, Cmp.EQUAL, t.STRING, False),
    ],
)
def test_comparability(left: t.SqlType, op: Cmp, right: t.SqlType, allowed: bool) -> None:
    assert comparison_allowed(left, op, right) is allowed

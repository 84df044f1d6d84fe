"""Property tests: integer arithmetic is Java's int/long arithmetic and DECIMAL division is BigDecimal's
exact division, checked against references written with Python's unbounded integers and decimals."""

from __future__ import annotations

from decimal import Decimal, localcontext

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headwater.engine.expressions.arithmetic import arithmetic
from headwater.engine.expressions.frame import RootFrame
from headwater.engine.types import to_arrow
from headwater.parser import types as t
from headwater.parser.expressions import ArithmeticOp

INT32 = st.integers(-(2**31), 2**31 - 1)
INT64 = st.integers(-(2**63), 2**63 - 1)


def wrap(value: int, bits: int) -> int:
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >= 1 << (bits - 1) else value


def java_div(a: int, b: int, bits: int) -> int:
    quotient = abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)
    return wrap(quotient, bits)


def java_rem(a: int, b: int) -> int:
    truncated = abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)
    return a - b * truncated


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pairs=st.lists(st.tuples(INT32, INT32), min_size=1, max_size=50))
def test_int_arithmetic_is_javas(pairs: list[tuple[int, int]], evaluate) -> None:
    batch = pa.record_batch(
        {"A": pa.array([a for a, _ in pairs], pa.int32()), "B": pa.array([b for _, b in pairs], pa.int32())}
    )
    assert evaluate("A + B", batch) == [wrap(a + b, 32) for a, b in pairs]
    assert evaluate("A - B", batch) == [wrap(a - b, 32) for a, b in pairs]
    assert evaluate("A * B", batch) == [wrap(a * b, 32) for a, b in pairs]
    assert evaluate("A / B", batch) == [None if b == 0 else java_div(a, b, 32) for a, b in pairs]
    assert evaluate("A % B", batch) == [None if b == 0 else java_rem(a, b) for a, b in pairs]
    assert evaluate("-A", batch) == [wrap(-a, 32) for a, _ in pairs]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pairs=st.lists(st.tuples(INT64, INT64), min_size=1, max_size=50))
def test_bigint_arithmetic_is_javas(pairs: list[tuple[int, int]], evaluate) -> None:
    batch = pa.record_batch(
        {"A": pa.array([a for a, _ in pairs], pa.int64()), "B": pa.array([b for _, b in pairs], pa.int64())}
    )
    assert evaluate("A + B", batch) == [wrap(a + b, 64) for a, b in pairs]
    assert evaluate("A * B", batch) == [wrap(a * b, 64) for a, b in pairs]
    assert evaluate("A / B", batch) == [None if b == 0 else java_div(a, b, 64) for a, b in pairs]
    assert evaluate("A % B", batch) == [None if b == 0 else java_rem(a, b) for a, b in pairs]


DECIMAL_4_2 = st.integers(-9999, 9999).map(lambda v: Decimal(v).scaleb(-2))


def big_decimal_divide(a: Decimal, b: Decimal, scale: int) -> Decimal | None:
    """BigDecimal.divide(b, MathContext(p, UNNECESSARY)).setScale(scale): the exact quotient, or
    nothing when it has more digits than the scale."""
    if b == 0:
        return None
    with localcontext() as context:
        context.prec = 60
        quotient = a / b
        exact = quotient.quantize(Decimal(1).scaleb(-scale))
        return exact if exact == quotient else None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pairs=st.lists(st.tuples(DECIMAL_4_2, DECIMAL_4_2), min_size=1, max_size=50))
def test_decimal_division_is_exact_or_fails(pairs: list[tuple[Decimal, Decimal]], evaluate) -> None:
    batch = pa.record_batch(
        {
            "A": pa.array([a for a, _ in pairs], pa.decimal128(4, 2)),
            "B": pa.array([b for _, b in pairs], pa.decimal128(4, 2)),
        }
    )
    assert evaluate("A / B", batch) == [big_decimal_divide(a, b, 7) for a, b in pairs]
    assert evaluate("A % B", batch) == [None if b == 0 else a - b * int(a / b) for a, b in pairs]


def _remainders(values: list[int | None], divisor: int, sql_type: t.SqlType, start: int) -> tuple[list, list]:
    """``values[start:] % divisor`` through the constant-divisor path and through the general path
    (the divisor as a column), over a sliced array so offsets and validity bitmaps are exercised."""
    arrow_type = to_arrow(sql_type)
    dividend = pa.array(values, arrow_type).slice(start)
    frame = RootFrame(pa.record_batch({"X": dividend}))
    constant = arithmetic(ArithmeticOp.MODULUS, dividend, pa.scalar(divisor, arrow_type), sql_type, frame)
    column = pa.array([divisor] * len(dividend), arrow_type)
    general = arithmetic(ArithmeticOp.MODULUS, dividend, column, sql_type, frame)
    assert not frame.failures
    return constant.to_pylist(), general.to_pylist()


@pytest.mark.parametrize(
    ("sql_type", "integers"), [pytest.param(t.BIGINT, INT64, id="BIGINT"), pytest.param(t.INT, INT32, id="INT")]
)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_remainder_by_a_constant_matches_the_general_path(
    sql_type: t.SqlType, integers: st.SearchStrategy[int], data: st.DataObject
) -> None:
    values = data.draw(st.lists(st.one_of(st.none(), integers), min_size=1, max_size=80), label="values")
    divisor = data.draw(integers.filter(lambda d: d not in (0, -1)), label="divisor")
    start = data.draw(st.integers(0, 5), label="start")
    constant, general = _remainders(values, divisor, sql_type, start)
    assert constant == general
    assert constant == [None if a is None else java_rem(a, divisor) for a in values[start:]]


def test_remainder_by_a_literal_in_sql(evaluate) -> None:
    batch = pa.record_batch({"A": pa.array([-(2**63), -7, None, 7, 2**63 - 1, 246], pa.int64())})
    assert evaluate("A % 123", batch) == [java_rem(-(2**63), 123), -7, None, 7, java_rem(2**63 - 1, 123), 0]
    assert evaluate("A % -2", batch) == [0, -1, None, 1, 1, 0]
    assert evaluate("A % 1", batch) == [0, 0, None, 0, 0, 0]
    assert evaluate("A % -1", batch) == [0, 0, None, 0, 0, 0]
    assert evaluate("A % 0", batch) == [None] * 6

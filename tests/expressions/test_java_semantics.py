"""Property tests: integer arithmetic is Java's int/long arithmetic and DECIMAL division is BigDecimal's
exact division, checked against references written with Python's unbounded integers and decimals."""

from __future__ import annotations

from decimal import Decimal, localcontext

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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

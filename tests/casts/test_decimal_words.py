"""DECIMAL arithmetic on 64-bit words (casts.decimal_words) against Arrow's 128-bit kernels, and the
places that use it: integer to DECIMAL (CAST and the implicit widening) and DECIMAL multiplication."""

from __future__ import annotations

import decimal

import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from headwater.engine.casts import try_cast
from headwater.engine.casts.decimal_words import integers_as_decimal, small_unscaled
from headwater.engine.expressions.arithmetic import arithmetic
from headwater.engine.expressions.casting import try_cast_datum
from headwater.engine.expressions.frame import RootFrame
from headwater.engine.types import to_arrow
from headwater.parser import types as t
from headwater.parser.expressions import ArithmeticOp

D = decimal.Decimal
EXACT = decimal.Context(prec=100)
INT32 = st.integers(-(2**31), 2**31 - 1)
INT64 = st.integers(-(2**63), 2**63 - 1)


@settings(max_examples=200, deadline=None)
@given(
    data=st.data(),
    bigint=st.booleans(),
    scale=st.integers(0, 19),
    start=st.integers(0, 3),
)
def test_integers_as_decimal_equals_arrows_cast(data: st.DataObject, bigint: bool, scale: int, start: int) -> None:
    values = data.draw(st.lists(st.none() | (INT64 if bigint else INT32), min_size=start, max_size=start + 30))
    column = pa.array(values, pa.int64() if bigint else pa.int32()).slice(start)
    arrow_type = pa.decimal128(38, scale) if 19 + scale <= 38 else pa.decimal128(38, 19)
    words = integers_as_decimal(column, arrow_type)
    expected = pc.cast(pc.cast(column, pa.int64()), arrow_type)
    if words is None:  # 10^scale, or a value times 10^scale, needs more than 64 bits
        factor = 10**arrow_type.scale
        assert factor >= 2**63 or any(v is not None and abs(v) * factor >= 2**63 for v in values[start:])
    else:
        assert words.equals(expected)
        words.validate(full=True)


@settings(max_examples=200, deadline=None)
@given(
    data=st.data(),
    precision=st.integers(1, 38),
    start=st.integers(0, 3),
)
def test_small_unscaled_reads_values_that_fit_64_bits(data: st.DataObject, precision: int, start: int) -> None:
    scale = data.draw(st.integers(0, precision))
    digits = st.integers(-(10**precision) + 1, 10**precision - 1)
    unscaled = data.draw(st.lists(st.none() | digits, min_size=start, max_size=start + 30))
    column = pa.array(
        [None if u is None else D(u).scaleb(-scale, EXACT) for u in unscaled], pa.decimal128(precision, scale)
    ).slice(start)
    words = small_unscaled(column)
    kept = unscaled[start:]
    if any(u is not None and not -(2**63) <= u < 2**63 for u in kept):
        assert words is None
    else:
        assert words is not None
        assert words.tolist() == [0 if u is None else u for u in kept]


def _decimal_side(data: st.DataObject, precision: int, scale: int, length: int, start: int) -> pa.Array | pa.Scalar:
    digits = st.integers(-(10**precision) + 1, 10**precision - 1)
    arrow_type = pa.decimal128(precision, scale)
    if data.draw(st.booleans()):  # a literal
        return pa.scalar(D(data.draw(digits)).scaleb(-scale, EXACT), arrow_type)
    unscaled = data.draw(st.lists(st.none() | digits, min_size=start + length, max_size=start + length))
    return pa.array([None if u is None else D(u).scaleb(-scale, EXACT) for u in unscaled], arrow_type).slice(start)


@settings(max_examples=300, deadline=None)
@given(
    data=st.data(),
    precisions=st.tuples(st.integers(1, 18), st.integers(1, 18)),
    length=st.integers(1, 20),
    start=st.integers(0, 3),
)
def test_decimal_multiplication_equals_arrows_kernel(
    data: st.DataObject, precisions: tuple[int, int], length: int, start: int
) -> None:
    p1, p2 = precisions
    s1, s2 = data.draw(st.integers(0, p1)), data.draw(st.integers(0, p2))
    left = _decimal_side(data, p1, s1, length, start)
    right = _decimal_side(data, p2, s2, length, start)
    if isinstance(left, pa.Scalar) and isinstance(right, pa.Scalar):
        right = pa.array([right.as_py()] * length, right.type)
    result = t.Decimal(p1 + p2 + 1, s1 + s2)
    frame = RootFrame(pa.record_batch({"X": pa.nulls(length, pa.int32())}))
    ours = arithmetic(ArithmeticOp.MULTIPLY, left, right, result, frame)
    expected = pc.cast(pc.multiply(left, right), to_arrow(result))
    assert ours.equals(expected)
    ours.validate(full=True)


def test_products_that_would_pass_64_bits_take_arrows_kernel() -> None:
    big = pa.array([D(2**62), D(3)], pa.decimal128(19, 0))
    frame = RootFrame(pa.record_batch({"X": [1, 2]}))
    product = arithmetic(ArithmeticOp.MULTIPLY, big, pa.scalar(D(4), pa.decimal128(1, 0)), t.Decimal(21, 0), frame)
    assert product.to_pylist() == [D(2**64), D(12)]
    huge = pa.array([D(10) ** 30, None], pa.decimal128(31, 0))
    assert arithmetic(ArithmeticOp.MULTIPLY, huge, huge, t.Decimal(63, 0), frame).to_pylist() == [D(10) ** 60, None]


def test_integer_widening_and_cast_to_decimal() -> None:
    values = pa.array([2**63 - 1, None, -(2**63), 0])
    assert try_cast_datum(values, t.BIGINT, t.Decimal(19, 0))[0].to_pylist() == [
        D(2**63 - 1),
        None,
        D(-(2**63)),
        D(0),
    ]
    assert try_cast(values, t.BIGINT, t.Decimal(21, 2)).values.to_pylist() == [
        D(2**63 - 1).quantize(D("0.01")),
        None,
        D(-(2**63)).quantize(D("0.01")),
        D("0.00"),
    ]
    narrow = try_cast(pa.array([5, 123456, None], pa.int32()), t.INT, t.Decimal(4, 2))
    assert narrow.values.to_pylist() == [D("5.00"), None, None] and list(narrow.failures) == [1]

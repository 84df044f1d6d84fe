"""Arithmetic over whole columns with ksqlDB's (that is, Java's) semantics.

================  ===========================================================================
operands          behaviour
================  ===========================================================================
INTEGER, BIGINT   ``+ - *`` wrap around on overflow (Java ``int``/``long``); ``/`` truncates toward
                  zero and ``MIN / -1`` wraps to MIN; ``%`` takes the dividend's sign; ``/`` or
                  ``%`` by zero fails the row ("/ by zero": NULL and a processing-log entry)
DOUBLE            IEEE 754: ``x / 0`` is +-Infinity or NaN, ``x % 0`` is NaN; ``%`` is C's fmod
DECIMAL           exact, in the result type of :func:`~headwater.engine.types.decimal_result_type`;
                  a quotient that needs more digits than its scale allows fails the row
                  ("Rounding necessary", as BigDecimal with RoundingMode.UNNECESSARY does), as does
                  division or remainder by zero ("Division by zero"; 0 / 0 is "Division undefined")
STRING            ``+`` concatenates
================  ===========================================================================

NULL operands give NULL. Everything runs on Arrow compute or numpy over the whole column; DECIMAL
division and remainder go through decimal256 so that intermediate values never overflow.

Example:
    >>> import pyarrow as pa
    >>> from headwater.engine.expressions.frame import RootFrame
    >>> frame = RootFrame(pa.record_batch({"X": [1]}))
    >>> left, right = pa.array([2**31 - 1, 7, -7], pa.int32()), pa.array([1, 0, 2], pa.int32())
    >>> add = arithmetic(ArithmeticOp.ADD, left, right, t.INT, frame)
    >>> add.to_pylist()
    [-2147483648, 7, -5]
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.casts.decimal_words import (
    WORD_LIMIT,
    decimal_product,
    largest_magnitude,
    pooled,
    small_unscaled,
    valid_rows,
)
from headwater.engine.expressions.arrays import Datum, broadcast, is_scalar, valid_mask
from headwater.engine.expressions.frame import Frame
from headwater.engine.types import to_arrow
from headwater.parser import types as t
from headwater.parser.expressions import ArithmeticOp

__all__ = ["arithmetic", "negate"]

_INTEGER_OPS = {
    ArithmeticOp.ADD: pc.add,
    ArithmeticOp.SUBTRACT: pc.subtract,
    ArithmeticOp.MULTIPLY: pc.multiply,
}
_MAX_DECIMAL_PRECISION = 76


def negate(value: Datum, sql_type: t.SqlType) -> Datum:
    """Unary minus (wraps for integers: ``-MIN`` is MIN, as in Java)."""
    return pc.negate(value)


def arithmetic(op: ArithmeticOp, left: Datum, right: Datum, result_type: t.SqlType, frame: Frame) -> Datum:
    """``left op right`` for operands already in the operation's types (see the module docstring);
    failing rows are recorded in ``frame``."""
    if result_type == t.STRING:
        return pc.binary_join_element_wise(left, right, "")
    if result_type == t.DOUBLE:
        if op is ArithmeticOp.MODULUS:
            return _float_modulus(left, right, frame.length)
        if op is ArithmeticOp.DIVIDE:
            return pc.divide(left, right)
        return _INTEGER_OPS[op](left, right)
    if isinstance(result_type, t.Decimal):
        return _decimal(op, left, right, result_type, frame)
    if op in _INTEGER_OPS:
        return _INTEGER_OPS[op](left, right)
    return _integer_division(op, left, right, result_type, frame)


# ------------------------------------------------------------------------------------------------------
# Integers


def _plain_divisors(divisor: Datum) -> bool:
    """No divisor is 0 or -1 (where Arrow's division errors, or answers 0 for MIN / -1)."""
    if is_scalar(divisor):
        return bool(divisor.is_valid and divisor.as_py() not in (0, -1))
    special = pc.or_(pc.equal(divisor, 0), pc.equal(divisor, -1))
    return not pc.any(special).as_py()


def _integer_division(
    op: ArithmeticOp, left: Datum, right: Datum, result_type: t.SqlType, frame: Frame
) -> Datum:
    if op is ArithmeticOp.DIVIDE and _plain_divisors(right):
        return pc.divide(left, right)  # Arrow truncates toward zero as Java does
    if op is ArithmeticOp.MODULUS and not is_scalar(left) and is_scalar(right) and _plain_divisors(right):
        return _remainder_by_constant(left, right.as_py(), result_type)
    scalar = is_scalar(left) and is_scalar(right)
    length = 1 if scalar else frame.length
    dtype = np.int64 if result_type == t.BIGINT else np.int32
    dividend, divisor = broadcast(left, length), broadcast(right, length)
    valid = valid_mask(dividend, length) & valid_mask(divisor, length)
    a = np.asarray(pc.fill_null(dividend, 0).to_numpy(zero_copy_only=False), dtype=dtype)
    b = np.asarray(pc.fill_null(divisor, 1).to_numpy(zero_copy_only=False), dtype=dtype)
    zero = valid & (b == 0)
    # Java never traps on x / -1 or x % -1 (MIN / -1 wraps to MIN); numpy would, as on 0.
    minus_one = b == -1
    safe = np.where((b == 0) | minus_one, 1, b)
    remainder = np.fmod(a, safe)
    if op is ArithmeticOp.DIVIDE:
        values = (a - remainder) // safe  # a - remainder divides exactly, so floor division truncates
        if minus_one.any():
            values = np.where(minus_one, np.negative(a.astype(np.int64)).astype(dtype), values)
    else:
        values = np.where(minus_one, 0, remainder) if minus_one.any() else remainder
    result = pa.array(values.astype(dtype, copy=False), type=to_arrow(result_type), mask=~valid | zero)
    if zero.any():
        frame.fail(np.arange(frame.length) if scalar else np.flatnonzero(zero), "/ by zero")
    return result[0] if scalar else result


def _remainder_by_constant(dividend: pa.Array, divisor: int, result_type: t.SqlType) -> pa.Array:
    """``dividend % divisor`` for a constant divisor other than 0 and -1 (``x % 123``, a common filter).

    Nothing can fail or wrap then, so this is one ``np.fmod`` (C's ``%``: the sign of the dividend, as
    Java's) over the dividend's value buffer as it lies in memory, NULL slots included (whatever they
    hold, fmod by such a divisor is harmless), and the result shares the dividend's validity bitmap:
    no broadcast divisor, no masks, no null filling. A sliced dividend's result is laid out at the
    same offset so that the bitmap lines up, in a buffer of Arrow's pool (casts.decimal_words.pooled).
    """
    arrow_type = to_arrow(result_type)
    dtype = np.int64 if result_type == t.BIGINT else np.int32
    if dividend.type != arrow_type:
        dividend = dividend.cast(arrow_type)
    length, offset = len(dividend), dividend.offset
    validity, data = dividend.buffers()[0], dividend.buffers()[1]
    if validity is None or dividend.null_count == 0:
        validity, offset = None, 0
    source = np.frombuffer(data, dtype=dtype, count=length, offset=dividend.offset * dtype().itemsize)
    buffer, values = pooled(offset + length, dtype)
    np.fmod(source, dtype(divisor), out=values[offset:])
    return pa.Array.from_buffers(
        arrow_type, length, [validity, buffer], null_count=dividend.null_count, offset=offset
    )


# ------------------------------------------------------------------------------------------------------
# Doubles


def _float_modulus(left: Datum, right: Datum, length: int) -> Datum:
    if is_scalar(left) and is_scalar(right):
        a, b = left.as_py(), right.as_py()
        return pa.scalar(None if a is None or b is None else float(np.fmod(a, b)), pa.float64())
    dividend, divisor = broadcast(left, length), broadcast(right, length)
    valid = valid_mask(dividend, length) & valid_mask(divisor, length)
    a = np.asarray(pc.fill_null(dividend, 0.0).to_numpy(zero_copy_only=False), dtype=np.float64)
    b = np.asarray(pc.fill_null(divisor, 1.0).to_numpy(zero_copy_only=False), dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        values = np.fmod(a, b)
    return pa.array(values, type=pa.float64(), mask=~valid)


# ------------------------------------------------------------------------------------------------------
# Decimals


def _arrow_decimal(precision: int, scale: int, wide: bool) -> pa.DataType:
    if precision > _MAX_DECIMAL_PRECISION:
        raise ValueError(f"DECIMAL precision {precision} exceeds the maximum of {_MAX_DECIMAL_PRECISION}")
    return pa.decimal256(precision, scale) if wide or precision > 38 else pa.decimal128(precision, scale)


def _decimal_type_of(value: Datum) -> tuple[int, int]:
    arrow_type = value.type
    return arrow_type.precision, arrow_type.scale


def _decimal(op: ArithmeticOp, left: Datum, right: Datum, result: t.Decimal, frame: Frame) -> Datum:
    (p1, s1), (p2, s2) = _decimal_type_of(left), _decimal_type_of(right)
    target = to_arrow(result)
    if op is ArithmeticOp.MULTIPLY and not (is_scalar(left) and is_scalar(right)):
        product = _small_decimal_product(left, right, result, frame.length)
        if product is not None:
            return product
    if op in _INTEGER_OPS:
        wide = result.precision > 38
        if wide:
            left = pc.cast(left, _arrow_decimal(p1, s1, True))
            right = pc.cast(right, _arrow_decimal(p2, s2, True))
        return pc.cast(_INTEGER_OPS[op](left, right), target)
    length = 1 if is_scalar(left) and is_scalar(right) else frame.length
    dividend, divisor = broadcast(left, length), broadcast(right, length)
    valid = valid_mask(dividend, length) & valid_mask(divisor, length)
    zero_divisor = valid & np.asarray(
        pc.fill_null(pc.equal(divisor, pa.scalar(Decimal(0), divisor.type)), False), dtype=bool
    )
    if zero_divisor.any():
        zero_dividend = zero_divisor & np.asarray(
            pc.fill_null(pc.equal(dividend, pa.scalar(Decimal(0), dividend.type)), False), dtype=bool
        )
        _fail(frame, length, zero_dividend, "Division undefined")
        _fail(frame, length, zero_divisor & ~zero_dividend, "Division by zero")
        divisor = pc.if_else(pa.array(zero_divisor), pa.scalar(Decimal(1), divisor.type), divisor)
    if op is ArithmeticOp.DIVIDE:
        values, inexact = _decimal_divide(dividend, divisor, (p1, s1), (p2, s2), result)
        inexact &= valid & ~zero_divisor
        _fail(frame, length, inexact, "Rounding necessary")
        nulls = ~valid | zero_divisor | inexact
    else:
        values = _decimal_remainder(dividend, divisor, (p1, s1), (p2, s2), result)
        nulls = ~valid | zero_divisor
    out = values if not nulls.any() else pc.if_else(pa.array(nulls), pa.nulls(length, target), values)
    return out[0] if is_scalar(left) and is_scalar(right) else out


def _small_decimal_product(left: Datum, right: Datum, result: t.Decimal, length: int) -> pa.Array | None:
    """``left * right`` on 64-bit words (casts.decimal_words), when both sides' unscaled values fit
    64 bits and no product can reach 2^63 (checked on the largest magnitudes): exact, the scales
    adding up as the result type's does. None when the values do not allow it (Arrow's kernel then)."""
    (_, s1), (_, s2) = _decimal_type_of(left), _decimal_type_of(right)
    if result.precision > 38 or result.scale != s1 + s2:
        return None
    sides: list[np.ndarray | int] = []
    valid: np.ndarray | None = None
    for side in (left, right):
        if is_scalar(side):
            if not side.is_valid:
                return None
            unscaled = int(side.as_py().scaleb(side.type.scale))
            if abs(unscaled) >= WORD_LIMIT:
                return None
            sides.append(unscaled)
            continue
        words = small_unscaled(side)
        if words is None:
            return None
        sides.append(words)
        rows = valid_rows(side)
        if rows is not None:
            valid = rows if valid is None else valid & rows
    if largest_magnitude(sides[0]) * largest_magnitude(sides[1]) >= WORD_LIMIT:
        return None
    return decimal_product(sides[0], sides[1], to_arrow(result), valid=valid)


def _fail(frame: Frame, length: int, rows: np.ndarray, message: str) -> None:
    if not rows.any():
        return
    if length == 1 and frame.length != 1:
        frame.fail(np.arange(frame.length), message)
    else:
        frame.fail(np.flatnonzero(rows), message)


def _decimal_divide(
    dividend: pa.Array, divisor: pa.Array, left: tuple[int, int], right: tuple[int, int], result: t.Decimal
) -> tuple[pa.Array, np.ndarray]:
    """Exact quotient at the result's scale, and the rows where it is not exact. Arrow's decimal
    division truncates at scale max(4, s1 + p2 - s2 + 1); scaling the dividend up by ``extra`` digits
    makes that scale exactly the result's."""
    (p1, s1), (p2, s2) = left, right
    extra = result.scale - (s1 + p2 - s2 + 1)
    a = pc.cast(dividend, _arrow_decimal(p1 + extra, s1 + extra, True))
    b = pc.cast(divisor, _arrow_decimal(p2, s2, True))
    quotient = pc.divide(a, b)
    back = pc.multiply(quotient, b)  # scale: result.scale + s2
    expected = pc.cast(dividend, _arrow_decimal(p1 - s1 + back.type.scale, back.type.scale, True))
    inexact = ~np.asarray(pc.fill_null(pc.equal(back, expected), True), dtype=bool)
    return pc.cast(quotient, to_arrow(result)), inexact


def _decimal_remainder(
    dividend: pa.Array, divisor: pa.Array, left: tuple[int, int], right: tuple[int, int], result: t.Decimal
) -> pa.Array:
    """``a - trunc(a / b) * b`` (BigDecimal.remainder: the sign of the dividend), exactly."""
    (p1, s1), (p2, s2) = left, right
    scale = max(s1, s2)
    a = pc.cast(dividend, _arrow_decimal(p1 - s1 + scale, scale, True))
    b = pc.cast(divisor, _arrow_decimal(p2 - s2 + scale, scale, True))
    whole = pc.trunc(pc.divide(a, b))
    remainder = pc.subtract(a, pc.multiply(whole, b))
    return pc.cast(remainder, to_arrow(result))

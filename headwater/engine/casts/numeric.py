"""Casts among INTEGER, BIGINT, DECIMAL and DOUBLE, with Java's arithmetic.

============================  ==================================================================
cast                          ksqlDB (Java) behaviour
============================  ==================================================================
INTEGER -> BIGINT, DOUBLE     exact (BIGINT -> DOUBLE rounds to nearest above 2^53)
BIGINT -> INTEGER             ``(int) long``: keeps the low 32 bits (wraps, no error)
DOUBLE -> INTEGER / BIGINT    ``(int) d``: truncates toward zero, NaN -> 0, saturates at the bounds
DECIMAL -> INTEGER / BIGINT   ``BigDecimal.intValue()``: truncates, then keeps the low bits
DECIMAL -> DOUBLE             ``BigDecimal.doubleValue()``: correctly rounded
integer -> DECIMAL(p, s)      exact; ``Numeric field overflow`` if ``|v| >= 10^(p-s)``
DECIMAL -> DECIMAL(p, s)      overflow checked first, then rounded HALF_UP to scale ``s``
DOUBLE -> DECIMAL(p, s)       the double's exact binary value rounded to ``p`` digits, checked,
                              then rounded HALF_UP to ``s`` (``new BigDecimal(d, MathContext(p))``)
============================  ==================================================================

DOUBLE -> DECIMAL goes through Python's ``decimal`` one value at a time: Arrow has no conversion from
a double's exact binary expansion, and ksqlDB's two-step rounding depends on it. It is rare (a cast
written by hand) and costs about 2 µs per value.
"""

from __future__ import annotations

import decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.casts.decimal_words import (
    WORD_LIMIT,
    decimal_product,
    integers_as_decimal,
    largest_magnitude,
    small_unscaled,
    valid_rows,
)
from headwater.engine.casts.outcome import CastResult, true_rows, with_nulls
from headwater.engine.types import to_arrow
from headwater.parser import types as t

__all__ = [
    "decimal_to_decimal",
    "decimal_to_double",
    "decimal_to_integral",
    "double_to_decimal",
    "double_to_integral",
    "integral_to_decimal",
    "integral_to_integral",
    "number_to_double",
    "overflow_message",
]

_BOUNDS = {32: (-(2**31), 2**31 - 1), 64: (-(2**63), 2**63 - 1)}
_MAX_PRECISION = 76
"""The widest Arrow decimal (decimal256)."""


def overflow_message(precision: int, scale: int, got: decimal.Decimal) -> str:
    """ksqlDB's ``DecimalUtil.ensureMax`` message."""
    return (
        f"Numeric field overflow: A field with precision {precision} and scale {scale} must round to an "
        f"absolute value less than 10^{precision - scale}. Got {_plain(got)}"
    )


def _plain(value: decimal.Decimal) -> str:
    """``BigDecimal.toPlainString``."""
    return f"{value:f}"


def _bits(sql_type: t.SqlType) -> int:
    return 32 if sql_type == t.INT else 64


def integral_to_integral(values: pa.Array, from_type: t.SqlType, to_type: t.SqlType) -> CastResult:
    """INTEGER <-> BIGINT; narrowing wraps like Java's ``(int)``."""
    return CastResult(pc.cast(values, to_arrow(to_type), safe=False))


def number_to_double(values: pa.Array, from_type: t.SqlType, to_type: t.SqlType) -> CastResult:
    """INTEGER / BIGINT -> DOUBLE (nearest double)."""
    return CastResult(pc.cast(values, pa.float64(), safe=False))


def double_to_integral(values: pa.Array, from_type: t.SqlType, to_type: t.SqlType) -> CastResult:
    """Java's narrowing of a double: truncation toward zero, NaN to 0, saturation at the bounds."""
    low, high = _BOUNDS[_bits(to_type)]
    data = values.to_numpy(zero_copy_only=False).astype(np.float64, copy=True)
    valid = np.asarray(values.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    data[~valid] = 0.0
    data[np.isnan(data)] = 0.0
    truncated = np.trunc(data)
    out = np.empty(len(data), dtype=np.int64)
    too_high = truncated >= float(high)
    too_low = truncated <= float(low)
    middle = ~(too_high | too_low)
    out[middle] = truncated[middle].astype(np.int64)
    out[too_high] = high
    out[too_low] = low
    target = to_arrow(to_type)
    return CastResult(pa.array(out, pa.int64(), mask=~valid).cast(target))


def decimal_to_integral(values: pa.Array, from_type: t.SqlType, to_type: t.SqlType) -> CastResult:
    """``BigDecimal.intValue()`` / ``longValue()``: truncate toward zero, keep the low bits."""
    bits = _bits(to_type)
    whole_type = pa.decimal128(38, 0) if pa.types.is_decimal128(values.type) else pa.decimal256(76, 0)
    whole = pc.cast(values, whole_type, safe=False)  # truncates toward zero
    limit = pa.scalar(decimal.Decimal(2**63), whole_type)
    fits_long = pc.fill_null(pc.less(pc.abs(whole), limit), True)
    if pc.all(fits_long).as_py():
        as_long = pc.cast(whole, pa.int64())
        return CastResult(pc.cast(as_long, to_arrow(to_type), safe=False))
    python = whole.to_pylist()
    mask = (1 << bits) - 1
    wrapped: list[int | None] = []
    for value in python:
        if value is None:
            wrapped.append(None)
            continue
        low = int(value) & mask
        wrapped.append(low - (1 << bits) if low >> (bits - 1) else low)
    return CastResult(pa.array(wrapped, to_arrow(to_type)))


def decimal_to_double(values: pa.Array, from_type: t.SqlType, to_type: t.SqlType) -> CastResult:
    """``BigDecimal.doubleValue()``, correctly rounded: through the exact decimal text, which Arrow's
    float parser rounds correctly (its direct decimal to double conversion may be off by an ulp)."""
    return CastResult(pc.cast(pc.cast(values, pa.string()), pa.float64()))


def integral_to_decimal(values: pa.Array, from_type: t.SqlType, to_type: t.SqlType) -> CastResult:
    """An integer to DECIMAL(p, s): exact, or ``Numeric field overflow``. The values that fit are
    converted on their 64-bit words (casts.decimal_words) when ``value * 10^s`` allows it."""
    assert isinstance(to_type, t.Decimal)
    precision, scale = to_type.precision, to_type.scale
    digits = precision - scale
    target = to_arrow(to_type)
    # Arrow sizes an integer cast for the widest value (19 digits) plus the scale; go through a type
    # that large, then narrow once the overflowing rows are gone.
    wide = pa.decimal128(19 + scale, scale) if 19 + scale <= 38 else pa.decimal256(19 + scale, scale)
    if digits >= 19:
        words = integers_as_decimal(values, target)
        if words is not None:
            return CastResult(words)
        return CastResult(pc.cast(pc.cast(pc.cast(values, pa.int64()), wide), target))
    limit = 10**digits
    too_big = pc.or_(pc.greater_equal(values, limit), pc.less_equal(values, -limit))
    bad = true_rows(too_big)
    failures: dict[int, str] = {}
    if len(bad):
        context = decimal.Context(prec=precision, rounding=decimal.ROUND_HALF_UP)
        for row in bad:
            got = context.plus(decimal.Decimal(values[int(row)].as_py()))
            failures[int(row)] = overflow_message(precision, scale, got)
        values = with_nulls(values, bad)
    words = integers_as_decimal(values, target)
    if words is not None:
        return CastResult(words, failures)
    return CastResult(pc.cast(pc.cast(pc.cast(values, pa.int64()), wide), target), failures)


def decimal_to_decimal(values: pa.Array, from_type: t.SqlType, to_type: t.SqlType) -> CastResult:
    """DECIMAL(p1, s1) -> DECIMAL(p, s): overflow checked on the unrounded value, then HALF_UP.

    A value that passes the check but carries into an extra digit when rounded (9.999 to
    DECIMAL(3, 2)) is reported as an overflow too: ksqlDB would emit a value its own type cannot hold.

    Rows overflow rarely (a CAST is usually written to a type that holds the values), so the check is
    one safe Arrow cast of the rounded values: Arrow refuses a value whose digits exceed ``p``, which
    for a value already at scale ``s`` is exactly ``|v| >= 10^(p-s)``; and since rounding is monotone
    and the bound lies on the rounding grid, an unrounded value at or over the bound rounds to one at
    or over it (when the cast cannot wrap: :func:`_rescale_cannot_wrap`). Only when that cast refuses
    are the failing rows found and their messages written. Before that, a cast that keeps or raises
    the scale of values fitting 64 bits is done on their words (:func:`_rescaled_words`).
    """
    assert isinstance(to_type, t.Decimal)
    precision, scale = to_type.precision, to_type.scale
    target = to_arrow(to_type)
    words = _rescaled_words(values, precision, scale, target)
    if words is not None:
        return CastResult(words)
    rounded = _rounded(values, scale)
    if _rescale_cannot_wrap(values.type, target):
        try:
            return CastResult(pc.cast(rounded, target))
        except pa.ArrowInvalid:
            pass
    too_big = _at_least(values, precision - scale)
    carried = _at_least(rounded, precision - scale)
    failures = {
        int(row): overflow_message(precision, scale, values[int(row)].as_py()) for row in true_rows(too_big)
    }
    for row in true_rows(pc.and_(carried, pc.invert(too_big))):
        failures[int(row)] = overflow_message(precision, scale, rounded[int(row)].as_py())
    bad = true_rows(pc.or_(too_big, carried))
    return CastResult(pc.cast(with_nulls(rounded, bad), target), failures)


def _rescale_cannot_wrap(source: pa.DataType, target: pa.DataType) -> bool:
    """Whether Arrow's safe cast can be trusted to refuse every overflowing value: it scales the
    unscaled integer up by ``10^(s - s1)`` in 128 (or 256) bits and checks the digits afterwards, so a
    product past 2^127 wraps unnoticed (35 as DECIMAL(2, 0) to DECIMAL(37, 37) comes out as
    0.97176...). Below ``10^38`` (``10^76``) nothing can wrap."""
    digits = source.precision + max(0, target.scale - source.scale)
    both_wide = pa.types.is_decimal256(source) and pa.types.is_decimal256(target)
    return digits <= (76 if both_wide else 38)


def _rescaled_words(values: pa.Array, precision: int, scale: int, target: pa.DataType) -> pa.Array | None:
    """DECIMAL(p1, s1) -> DECIMAL(p, s) with ``s >= s1`` on 64-bit words (casts.decimal_words), when
    every value fits 64 bits, scaled up still does, and fits ``p`` digits (so no row fails): the same
    scale reuses the value buffer as it is (q1's DECIMAL(24, 3) -> DECIMAL(23, 3)), a larger one
    multiplies by ``10^(s - s1)``. None otherwise (the general path decides)."""
    if scale < values.type.scale or not pa.types.is_decimal128(target):
        return None
    unscaled = small_unscaled(values)
    if unscaled is None:
        return None
    factor = 10 ** (scale - values.type.scale)
    if factor >= WORD_LIMIT or largest_magnitude(unscaled) * factor >= min(10**precision, WORD_LIMIT):
        return None
    if factor == 1:
        return pa.Array.from_buffers(
            target, len(values), values.buffers()[:2], null_count=values.null_count, offset=values.offset
        )
    return decimal_product(unscaled, factor, target, valid=valid_rows(values))


def _rounded(values: pa.Array, scale: int) -> pa.Array:
    """``values`` rounded HALF_UP to ``scale`` digits, in a type one digit wider than theirs (when
    there is one), so that a value carrying into a new digit (99.99 to 100.0) is not refused by Arrow
    but reported by the caller as ksqlDB reports it."""
    source_type = values.type
    if source_type.scale <= scale:
        return values
    wider = source_type.precision + 1
    if wider <= _MAX_PRECISION:
        arrow_type = pa.decimal128 if wider <= 38 and pa.types.is_decimal128(source_type) else pa.decimal256
        values = pc.cast(values, arrow_type(wider, source_type.scale))
    return pc.round(values, ndigits=scale, round_mode="half_towards_infinity")


def _at_least(values: pa.Array, whole_digits: int) -> pa.Array:
    """Rows whose magnitude is ``10^whole_digits`` or more (NULL rows are not)."""
    comparable = _comparable(values.type, whole_digits)
    limit = pa.scalar(decimal.Decimal(10) ** whole_digits, comparable)
    return pc.fill_null(pc.greater_equal(pc.cast(pc.abs(values), comparable), limit), False)


def _comparable(source: pa.DataType, whole_digits: int) -> pa.DataType:
    """A decimal type that can hold both the source values and the overflow bound."""
    precision = max(source.precision - source.scale, whole_digits + 1) + source.scale
    if precision <= 38:
        return pa.decimal128(precision, source.scale)
    return pa.decimal256(min(precision, 76), source.scale)


def double_to_decimal(values: pa.Array, from_type: t.SqlType, to_type: t.SqlType) -> CastResult:
    """``DecimalUtil.cast(double, p, s)``, one value at a time (see the module docstring)."""
    assert isinstance(to_type, t.Decimal)
    precision, scale = to_type.precision, to_type.scale
    context = decimal.Context(prec=precision, rounding=decimal.ROUND_HALF_UP)
    bound = decimal.Decimal(10) ** (precision - scale)
    quantum = decimal.Decimal(1).scaleb(-scale)
    out: list[decimal.Decimal | None] = []
    failures: dict[int, str] = {}
    for row, value in enumerate(values.to_pylist()):
        if value is None:
            out.append(None)
            continue
        if value != value or value in (float("inf"), float("-inf")):
            failures[row] = "Infinite or NaN"
            out.append(None)
            continue
        approximate = context.plus(decimal.Decimal(value))
        if approximate.copy_abs() >= bound:
            failures[row] = overflow_message(precision, scale, approximate)
            out.append(None)
            continue
        with decimal.localcontext() as local:
            local.prec = precision + scale + 2
            fitted = approximate.quantize(quantum, rounding=decimal.ROUND_HALF_UP)
        if fitted.copy_abs() >= bound:
            failures[row] = overflow_message(precision, scale, approximate)
            out.append(None)
            continue
        out.append(fitted)
    return CastResult(pa.array(out, to_arrow(to_type)), failures)

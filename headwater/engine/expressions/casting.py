"""Conversions at run time: the exact widenings the language inserts itself, and CAST.

Implicit conversions that only widen (INTEGER to BIGINT, an integer or DECIMAL to a DECIMAL that holds
it, any number to DOUBLE, DATE to TIMESTAMP, and ARRAY / MAP / STRUCT of those element by element) are
exact Arrow casts done here. Everything else, explicit CAST in particular, has ksqlDB's CAST semantics
and is the business of :mod:`headwater.engine.casts` (``try_cast``, ``cast``, ``check_cast``), which
this module calls. :func:`try_cast_datum` returns the rows a CAST could not convert (``'abc'`` to
INTEGER) so the compiler fails exactly those rows, in one vectorized pass.

Example:
    >>> from headwater.parser import types as t
    >>> is_widening(t.INT, t.Decimal(12, 2)), is_widening(t.DOUBLE, t.INT)
    (True, False)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeAlias

import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.expressions.errors import ExpressionTypeError
from headwater.engine.types import numeric_rank, to_arrow, to_decimal_type
from headwater.errors import PlanError
from headwater.parser import types as t

__all__ = ["cast_datum", "check_cast", "is_widening", "try_cast_datum"]

Datum: TypeAlias = pa.Array | pa.Scalar


def is_widening(source: t.SqlType, target: t.SqlType) -> bool:
    """Whether every ``source`` value converts exactly to ``target`` by an Arrow cast."""
    if source == target:
        return True
    src_rank, dst_rank = numeric_rank(source), numeric_rank(target)
    if src_rank is not None and dst_rank is not None:
        if src_rank > dst_rank:
            return False
        if isinstance(target, t.Decimal):
            src = to_decimal_type(source)
            assert src is not None
            return src.scale <= target.scale and src.precision - src.scale <= target.precision - target.scale
        return True
    if source == t.DATE and target == t.TIMESTAMP:
        return True
    if isinstance(source, t.Array) and isinstance(target, t.Array):
        return is_widening(source.element, target.element)
    if isinstance(source, t.Map) and isinstance(target, t.Map):
        return is_widening(source.key, target.key) and is_widening(source.value, target.value)
    if isinstance(source, t.Struct) and isinstance(target, t.Struct):
        for name, field_type in source.fields:
            other = target.field(name)
            if other is None or not is_widening(field_type, other):
                return False
        return True
    return False


def _widen(value: Datum, source: t.SqlType, target: t.SqlType) -> Datum:
    """An exact widening: an integer column to DECIMAL through its 64-bit words (the implicit
    conversion of ``BIGINT * DECIMAL``'s integer side; see casts.decimal_words), anything else by
    Arrow's cast."""
    arrow_type = to_arrow(target)
    if isinstance(target, t.Decimal) and source in (t.INT, t.BIGINT) and isinstance(value, pa.Array):
        from headwater.engine.casts.decimal_words import integers_as_decimal

        words = integers_as_decimal(value, arrow_type)
        if words is not None:
            return words
    return pc.cast(value, arrow_type)


def _casts() -> Any:
    try:
        from headwater.engine import casts
    except ImportError as error:  # the CAST module is a separate component of the engine
        raise PlanError(f"CAST is unavailable: {error}") from None
    return casts


def check_cast(source: t.SqlType, target: t.SqlType) -> None:
    """Refuse a CAST ksqlDB refuses ("Cast of X to Y is not supported").

    Raises:
        ExpressionTypeError: the CAST is not supported.
    """
    if is_widening(source, target):
        return
    try:
        _casts().check_cast(source, target)
    except PlanError as error:
        raise ExpressionTypeError(error.message) from None


def cast_datum(value: Datum, source: t.SqlType, target: t.SqlType) -> Datum:
    """``value`` (of ``source``) as ``target``: an Arrow cast for widenings, ksqlDB's CAST otherwise.
    Scalars stay scalars."""
    if source == target:
        return value
    if is_widening(source, target):
        return _widen(value, source, target)
    scalar = isinstance(value, pa.Scalar)
    array = pa.repeat(value, 1) if scalar else value
    result = _casts().cast(array, source, target)
    if isinstance(result, pa.ChunkedArray):
        result = result.combine_chunks()
    return result[0] if scalar else result


def try_cast_datum(value: Datum, source: t.SqlType, target: t.SqlType) -> tuple[Datum, Mapping[int, str]]:
    """Like :func:`cast_datum`, but returns the failures (row -> ksqlDB's message) instead of raising:
    for a scalar, a failure is reported at row 0 and stands for every row."""
    if source == target:
        return value, {}
    if is_widening(source, target):
        return _widen(value, source, target), {}
    scalar = isinstance(value, pa.Scalar)
    outcome = _casts().try_cast(pa.repeat(value, 1) if scalar else value, source, target)
    values = outcome.values
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return (values[0] if scalar else values), outcome.failures

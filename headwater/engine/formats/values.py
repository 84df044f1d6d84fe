"""Between Python values and Arrow columns of a SQL type, in the shape ksqlDB's tests write values.

The conformance files, INSERT VALUES and the REST API speak of values as JSON-like Python objects:
numbers (DECIMAL as :class:`decimal.Decimal`, keeping its scale), strings, booleans, lists, dicts for
structs and maps, TIMESTAMP as epoch milliseconds, DATE as epoch days, TIME as milliseconds of the day,
BYTES as bytes. :func:`from_python` builds a column from such values (struct members match field names
exactly, then case-insensitively, as ksqlDB's JSON reading does); :func:`to_python` gives them back.

Example:
    >>> from decimal import Decimal
    >>> from headwater.parser import types as t
    >>> s = t.Struct((("A", t.INT), ("D", t.Decimal(4, 2))))
    >>> column = from_python([{"a": 1, "D": Decimal("1.5")}, None], s)
    >>> to_python(column, s)
    [{'A': 1, 'D': Decimal('1.50')}, None]
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from headwater.engine.casts.rules import type_text
from headwater.engine.types import to_arrow
from headwater.errors import PlanError
from headwater.parser import types as t

__all__ = ["from_python", "to_python"]

_EPOCH = dt.datetime(1970, 1, 1)
_EPOCH_DATE = dt.date(1970, 1, 1)


def _fail(value: Any, sql_type: t.SqlType, why: str = "") -> PlanError:
    detail = f": {why}" if why else ""
    return PlanError(f"Cannot convert {value!r} to {type_text(sql_type)}{detail}")


def _normalise(value: Any, sql_type: t.SqlType) -> Any:
    """A Python value Arrow can take for ``to_arrow(sql_type)``."""
    if value is None:
        return None
    if sql_type == t.BOOLEAN:
        if isinstance(value, bool):
            return value
        raise _fail(value, sql_type)
    if sql_type in (t.INT, t.BIGINT):
        if isinstance(value, bool) or not isinstance(value, (int, decimal.Decimal)) or value != int(value):
            raise _fail(value, sql_type)
        bits = 32 if sql_type == t.INT else 64
        if not -(2 ** (bits - 1)) <= int(value) < 2 ** (bits - 1):
            raise _fail(value, sql_type, "out of range")
        return int(value)
    if sql_type == t.DOUBLE:
        if isinstance(value, bool) or not isinstance(value, (int, float, decimal.Decimal)):
            raise _fail(value, sql_type)
        return float(value)
    if isinstance(sql_type, t.Decimal):
        if isinstance(value, bool) or not isinstance(value, (int, float, decimal.Decimal, str)):
            raise _fail(value, sql_type)
        try:
            exact = decimal.Decimal(repr(value) if isinstance(value, float) else value)
        except decimal.InvalidOperation:
            raise _fail(value, sql_type) from None
        if not exact.is_finite() or exact.copy_abs() >= decimal.Decimal(10) ** (
            sql_type.precision - sql_type.scale
        ):
            raise _fail(value, sql_type, "does not fit")
        fitted = exact.quantize(decimal.Decimal(1).scaleb(-sql_type.scale), rounding=decimal.ROUND_HALF_UP)
        if fitted != exact:
            raise _fail(value, sql_type, "would need rounding")
        return fitted
    if sql_type == t.STRING:
        if isinstance(value, str):
            return value
        raise _fail(value, sql_type)
    if sql_type == t.BYTES:
        if isinstance(value, (bytes, bytearray, memoryview)):
            return bytes(value)
        if isinstance(value, str):
            try:
                return base64.b64decode(value, validate=True)
            except ValueError:
                raise _fail(value, sql_type, "not Base64") from None
        raise _fail(value, sql_type)
    if sql_type == t.TIMESTAMP:
        if isinstance(value, dt.datetime):
            moment = value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value
            delta = moment - _EPOCH
            return (delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000
        return _integral(value, sql_type)
    if sql_type == t.DATE:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return (value - _EPOCH_DATE).days
        return _integral(value, sql_type)
    if sql_type == t.TIME:
        if isinstance(value, dt.time):
            return ((value.hour * 60 + value.minute) * 60 + value.second) * 1000 + value.microsecond // 1000
        millis = _integral(value, sql_type)
        if not 0 <= millis < 86_400_000:
            raise _fail(value, sql_type, "not a time of day")
        return millis
    if isinstance(sql_type, t.Array):
        if not isinstance(value, (list, tuple)):
            raise _fail(value, sql_type)
        return [_normalise(item, sql_type.element) for item in value]
    if isinstance(sql_type, t.Map):
        entries = value.items() if isinstance(value, dict) else value
        try:
            return [(_normalise(k, sql_type.key), _normalise(v, sql_type.value)) for k, v in entries]
        except (TypeError, ValueError) as error:
            if isinstance(error, PlanError):
                raise
            raise _fail(value, sql_type) from None
    if isinstance(sql_type, t.Struct):
        if not isinstance(value, dict):
            raise _fail(value, sql_type)
        upper = {str(key).upper(): key for key in value}
        out = {}
        for name, field_type in sql_type.fields:
            key = name if name in value else upper.get(name)
            out[name] = _normalise(value[key], field_type) if key is not None else None
        return out
    raise TypeError(f"type {sql_type} must be resolved before conversion")


def _integral(value: Any, sql_type: t.SqlType) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, decimal.Decimal)) or value != int(value):
        raise _fail(value, sql_type)
    return int(value)


def from_python(values: Sequence[Any], sql_type: t.SqlType) -> pa.Array:
    """A column of ``to_arrow(sql_type)`` from Python values (see the module docstring).

    Raises:
        PlanError: a value that does not fit the type, naming the value and the type.
    """
    normalised = [_normalise(value, sql_type) for value in values]
    arrow_type = to_arrow(sql_type)
    if sql_type == t.TIMESTAMP:
        return pa.array(normalised, pa.int64()).cast(arrow_type)
    if sql_type in (t.DATE, t.TIME):
        return pa.array(normalised, pa.int32()).cast(arrow_type)
    return pa.array(normalised, type=arrow_type)


def _plain(value: Any, sql_type: t.SqlType) -> Any:
    if value is None:
        return None
    if sql_type == t.TIMESTAMP:
        delta = value - _EPOCH
        return (delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000
    if sql_type == t.DATE:
        return (value - _EPOCH_DATE).days
    if sql_type == t.TIME:
        return ((value.hour * 60 + value.minute) * 60 + value.second) * 1000 + value.microsecond // 1000
    if isinstance(sql_type, t.Array):
        return [_plain(item, sql_type.element) for item in value]
    if isinstance(sql_type, t.Map):
        return {_plain(k, sql_type.key): _plain(v, sql_type.value) for k, v in value}
    if isinstance(sql_type, t.Struct):
        return {name: _plain(value.get(name), field_type) for name, field_type in sql_type.fields}
    return value


def to_python(values: pa.Array | pa.ChunkedArray, sql_type: t.SqlType) -> list[Any]:
    """The values of a column as Python values in the shape of :func:`from_python`'s input."""
    if sql_type == t.TIMESTAMP:
        return values.cast(pa.int64()).to_pylist()
    if sql_type in (t.DATE, t.TIME):
        return values.cast(pa.int32()).to_pylist()
    return [_plain(value, sql_type) for value in values.to_pylist()]

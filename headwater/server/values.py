"""Query result values on the wire: the engine's Python values <-> ksqlDB's JSON, by SQL type.

The engine's query rows hold what Arrow gives back (``Decimal``, ``datetime``, ``date``, ``time``,
``bytes``, maps as lists of key/value pairs). ksqlDB's REST API writes them as JSON this way:

==============  ==============================  =====================================
SQL type        engine value                    JSON
==============  ==============================  =====================================
DECIMAL(p, s)   ``Decimal('1.50')``             the number with its scale: ``1.50``
TIMESTAMP       ``datetime(2020, 1, 1)``        ``"2020-01-01T00:00:00.000"`` (UTC)
DATE            ``date(2020, 1, 2)``            ``"2020-01-02"``
TIME            ``time(1, 2, 3)``               ``"01:02:03"``
BYTES           ``b'\\x00\\x01'``                 base64 text: ``"AAE="``
MAP<K, V>       ``[('a', 1)]``                  an object: ``{"a": 1}``
STRUCT<...>     ``{'X': 3}``                    an object: ``{"X": 3}``
others          as they are                     as they are
==============  ==============================  =====================================

An encoder and a decoder are compiled once per column type (closures, identity for the types JSON
carries as they are), so a row costs one call per column that needs converting. Rows reach the server
one Python tuple at a time from the engine's query stream, so this is a per-row loop by nature; it is
the REST API's serialisation, not a compute path.

Exact decimals cannot pass through ``float``, so the encoder hands orjson a ``Fragment`` with the
number's text, and the decoder reads JSON numbers as ``Decimal`` first (``loads_exact``).

Example:
    >>> import decimal
    >>> from headwater.parser import parse_type
    >>> encode = row_encoder([parse_type("DECIMAL(4, 2)"), parse_type("MAP<STRING, INT>")])
    >>> dumps(encode((decimal.Decimal("1.50"), [("a", 1)])))
    b'[1.50,{"a":1}]'
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from headwater.parser import parse_type
from headwater.parser import types as t

__all__ = [
    "decoder",
    "dumps",
    "encoder",
    "loads_exact",
    "parse_column_types",
    "row_decoder",
    "row_encoder",
]

Convert = Callable[[Any], Any]


def _identity(value: Any) -> Any:
    return value


def dumps(document: Any) -> bytes:
    """JSON bytes of a document built from encoded values (decimals stay exact)."""
    return orjson.dumps(document, default=_fallback)


def _fallback(value: Any) -> Any:
    """orjson's hook for values the encoders did not see (entity fields, nested odd values)."""
    if isinstance(value, decimal.Decimal):
        return orjson.Fragment(_decimal_text(value))
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def loads_exact(data: bytes | str) -> Any:
    """Parse JSON keeping every non-integer number as an exact ``Decimal``."""
    return json.loads(data, parse_float=decimal.Decimal)


def parse_column_types(type_texts: Sequence[str]) -> list[t.SqlType]:
    """The SQL types of a query header's column type texts (``"DECIMAL(4, 2)"``, ``"ARRAY<INTEGER>"``);
    a text that does not parse reads as STRING, so an odd type never stops a result from being sent."""
    types: list[t.SqlType] = []
    for text in type_texts:
        try:
            types.append(parse_type(text))
        except Exception:  # degrade to text, never fail the response
            types.append(t.STRING)
    return types


# -- engine value -> JSON -------------------------------------------------------------------------------
def _decimal_text(value: decimal.Decimal) -> str:
    text = str(value)
    return text if value.is_finite() else "null"


def _encode_decimal(value: Any) -> Any:
    if value is None:
        return None
    return orjson.Fragment(_decimal_text(decimal.Decimal(value)))


def _encode_timestamp(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        value = dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=value)
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.isoformat(timespec="milliseconds")


def _encode_isoformat(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    return value.isoformat()


def _encode_bytes(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    return base64.b64encode(bytes(value)).decode("ascii")


def encoder(sql_type: t.SqlType) -> Convert:
    """The function turning one engine value of ``sql_type`` into its JSON-ready form."""
    if isinstance(sql_type, t.Decimal):
        return _encode_decimal
    if isinstance(sql_type, t.Primitive):
        kind = sql_type.kind
        if kind is t.PrimitiveKind.TIMESTAMP:
            return _encode_timestamp
        if kind in (t.PrimitiveKind.DATE, t.PrimitiveKind.TIME):
            return _encode_isoformat
        if kind is t.PrimitiveKind.BYTES:
            return _encode_bytes
        return _identity
    if isinstance(sql_type, t.Array):
        element = encoder(sql_type.element)
        if element is _identity:
            return _identity
        return lambda value: None if value is None else [element(v) for v in value]
    if isinstance(sql_type, t.Map):
        member = encoder(sql_type.value)

        def encode_map(value: Any) -> Any:
            if value is None:
                return None
            pairs = value.items() if isinstance(value, dict) else value
            return {str(k): member(v) for k, v in pairs}

        return encode_map
    if isinstance(sql_type, t.Struct):
        fields = [(name, encoder(field_type)) for name, field_type in sql_type.fields]

        def encode_struct(value: Any) -> Any:
            if value is None:
                return None
            return {name: convert(value.get(name)) for name, convert in fields}

        return encode_struct
    return _identity


def row_encoder(types: Sequence[t.SqlType]) -> Callable[[Sequence[Any]], list[Any]]:
    """One row's values -> JSON-ready list, converting only the columns that need it."""
    converters = [(i, encoder(sql_type)) for i, sql_type in enumerate(types)]
    needed = [(i, convert) for i, convert in converters if convert is not _identity]

    def encode_row(values: Sequence[Any]) -> list[Any]:
        out = list(values)
        for i, convert in needed:
            if i < len(out):
                out[i] = convert(out[i])
        return out

    return encode_row


# -- JSON -> engine value ------------------------------------------------------------------------------
def _decode_int(value: Any) -> Any:
    return None if value is None else int(value)


def _decode_double(value: Any) -> Any:
    return None if value is None else float(value)


def _decode_decimal(value: Any) -> Any:
    return (
        None
        if value is None
        else decimal.Decimal(str(value))
        if isinstance(value, float)
        else decimal.Decimal(value)
    )


def _decode_with(parse: Callable[[str], Any]) -> Convert:
    return lambda value: None if value is None or not isinstance(value, str) else parse(value)


def decoder(sql_type: t.SqlType) -> Convert:
    """The function turning one JSON value (numbers read by :func:`loads_exact`) back into the value
    the embedded engine gives for ``sql_type``."""
    if isinstance(sql_type, t.Decimal):
        return _decode_decimal
    if isinstance(sql_type, t.Primitive):
        kind = sql_type.kind
        if kind in (t.PrimitiveKind.INTEGER, t.PrimitiveKind.BIGINT):
            return _decode_int
        if kind is t.PrimitiveKind.DOUBLE:
            return _decode_double
        if kind is t.PrimitiveKind.TIMESTAMP:
            return _decode_with(dt.datetime.fromisoformat)
        if kind is t.PrimitiveKind.DATE:
            return _decode_with(dt.date.fromisoformat)
        if kind is t.PrimitiveKind.TIME:
            return _decode_with(dt.time.fromisoformat)
        if kind is t.PrimitiveKind.BYTES:
            return _decode_with(base64.b64decode)
        return _identity
    if isinstance(sql_type, t.Array):
        element = decoder(sql_type.element)
        return lambda value: None if value is None else [element(v) for v in value]
    if isinstance(sql_type, t.Map):
        member = decoder(sql_type.value)
        return lambda value: None if value is None else [(k, member(v)) for k, v in value.items()]
    if isinstance(sql_type, t.Struct):
        fields = [(name, decoder(field_type)) for name, field_type in sql_type.fields]
        return lambda value: (
            None if value is None else {name: convert(value.get(name)) for name, convert in fields}
        )
    return _identity


def row_decoder(types: Sequence[t.SqlType]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """One JSON row -> the tuple of values the embedded engine's ``QueryRow`` holds."""
    converters = [decoder(sql_type) for sql_type in types]

    def decode_row(values: Sequence[Any]) -> tuple[Any, ...]:
        if len(values) != len(converters):
            return tuple(values)
        return tuple(convert(v) for convert, v in zip(converters, values))

    return decode_row

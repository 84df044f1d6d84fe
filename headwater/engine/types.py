"""ksqlDB's SQL types on Arrow: the one mapping every part of the engine uses.

=================  ============================  ==================================================
SQL type           Arrow type                    why
=================  ============================  ==================================================
BOOLEAN            bool
INTEGER            int32
BIGINT             int64
DOUBLE             float64
DECIMAL(p, s)      decimal128(p, s)              decimal256 above precision 38
STRING             string                        32-bit offsets: batches stay far below 2 GiB
BYTES              binary
DATE               date32                        days since the epoch, as ksqlDB stores DATE
TIME               time32[ms]                    ksqlDB's TIME has millisecond precision
TIMESTAMP          timestamp[ms]                 UTC milliseconds, no zone attached, as in ksqlDB
ARRAY<T>           list<T>
MAP<K, V>          map<K, V>
STRUCT<...>        struct<...>                   field names kept exactly
=================  ============================  ==================================================

Example:
    >>> from headwater.parser import types as t
    >>> to_arrow(t.Array(t.Decimal(4, 2)))
    ListType(list<item: decimal128(4, 2)>)
    >>> from_arrow(to_arrow(t.Map(t.STRING, t.BIGINT))) == t.Map(t.STRING, t.BIGINT)
    True
"""

from __future__ import annotations

import pyarrow as pa

from headwater.parser import types as t

__all__ = ["from_arrow", "to_arrow"]

_PRIMITIVE_TO_ARROW: dict[t.PrimitiveKind, pa.DataType] = {
    t.PrimitiveKind.BOOLEAN: pa.bool_(),
    t.PrimitiveKind.INTEGER: pa.int32(),
    t.PrimitiveKind.BIGINT: pa.int64(),
    t.PrimitiveKind.DOUBLE: pa.float64(),
    t.PrimitiveKind.STRING: pa.string(),
    t.PrimitiveKind.BYTES: pa.binary(),
    t.PrimitiveKind.DATE: pa.date32(),
    t.PrimitiveKind.TIME: pa.time32("ms"),
    t.PrimitiveKind.TIMESTAMP: pa.timestamp("ms"),
}
_ARROW_TO_PRIMITIVE = {v: t.Primitive(k) for k, v in _PRIMITIVE_TO_ARROW.items()}
_ARROW_TO_PRIMITIVE.update(
    {pa.large_string(): t.STRING, pa.large_binary(): t.BYTES, pa.string_view(): t.STRING}
)


def to_arrow(sql_type: t.SqlType) -> pa.DataType:
    """The Arrow type that holds values of ``sql_type``.

    Raises:
        TypeError: for a :class:`~headwater.parser.types.UserType`, which the catalog must resolve first.
    """
    if isinstance(sql_type, t.Primitive):
        return _PRIMITIVE_TO_ARROW[sql_type.kind]
    if isinstance(sql_type, t.Decimal):
        if sql_type.precision <= 38:
            return pa.decimal128(sql_type.precision, sql_type.scale)
        return pa.decimal256(sql_type.precision, sql_type.scale)
    if isinstance(sql_type, t.Array):
        return pa.list_(to_arrow(sql_type.element))
    if isinstance(sql_type, t.Map):
        return pa.map_(to_arrow(sql_type.key), to_arrow(sql_type.value))
    if isinstance(sql_type, t.Struct):
        return pa.struct([pa.field(name, to_arrow(ft)) for name, ft in sql_type.fields])
    raise TypeError(f"type {sql_type} must be resolved before it can be mapped to Arrow")


def from_arrow(arrow_type: pa.DataType) -> t.SqlType:
    """The SQL type of an Arrow column (the inverse of :func:`to_arrow`; wider Arrow types map to the
    nearest SQL type: int8/int16 to INTEGER, float32 to DOUBLE, large strings to STRING).

    Raises:
        TypeError: for an Arrow type with no SQL counterpart (e.g. a union).
    """
    found = _ARROW_TO_PRIMITIVE.get(arrow_type)
    if found is not None:
        return found
    if pa.types.is_int8(arrow_type) or pa.types.is_int16(arrow_type) or pa.types.is_uint8(arrow_type):
        return t.INT
    if pa.types.is_uint16(arrow_type) or pa.types.is_uint32(arrow_type):
        return t.BIGINT
    if pa.types.is_float32(arrow_type) or pa.types.is_float16(arrow_type):
        return t.DOUBLE
    if pa.types.is_timestamp(arrow_type):
        return t.TIMESTAMP
    if pa.types.is_time(arrow_type):
        return t.TIME
    if pa.types.is_date(arrow_type):
        return t.DATE
    if pa.types.is_decimal(arrow_type):
        return t.Decimal(arrow_type.precision, arrow_type.scale)
    if pa.types.is_map(arrow_type):
        return t.Map(from_arrow(arrow_type.key_type), from_arrow(arrow_type.item_type))
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return t.Array(from_arrow(arrow_type.value_type))
    if pa.types.is_struct(arrow_type):
        return t.Struct(tuple((f.name, from_arrow(f.type)) for f in arrow_type))
    if pa.types.is_null(arrow_type):
        return t.STRING
    raise TypeError(f"Arrow type {arrow_type} has no SQL counterpart")

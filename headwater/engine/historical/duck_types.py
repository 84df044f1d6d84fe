"""ksqlDB's SQL types in DuckDB: the type names DuckDB is told, and the Arrow shapes it exchanges.

Every Headwater SQL type has one DuckDB type whose Arrow form is exactly Headwater's own Arrow type
(:func:`headwater.engine.types.to_arrow`), except TIME: ksqlDB's TIME has millisecond precision
(``time32[ms]``) while DuckDB's TIME exchanges ``time64[us]``. :func:`to_duckdb_arrow` and
:func:`from_duckdb_arrow` convert at that boundary (arguments entering a Headwater kernel, results
leaving it), casting nested values too.

==============  ==============================  ================================================
SQL type        DuckDB type                     note
==============  ==============================  ================================================
BOOLEAN         BOOLEAN
INTEGER         INTEGER
BIGINT          BIGINT
DOUBLE          DOUBLE
DECIMAL(p, s)   DECIMAL(p, s)                   DuckDB stops at precision 38, as ksqlDB nearly does
STRING          VARCHAR
BYTES           BLOB
DATE            DATE
TIME            TIME                            microseconds in DuckDB, milliseconds in ksqlDB
TIMESTAMP       TIMESTAMP_MS                    ksqlDB's millisecond UTC timestamps, unconverted
ARRAY<T>        T[]
MAP<K, V>       MAP(K, V)
STRUCT<...>     STRUCT("name" T, ...)           field names kept exactly
==============  ==============================  ================================================

Example:
    >>> from headwater.parser import types as t
    >>> duckdb_type(t.Struct((("a", t.INT), ("B", t.Array(t.STRING)))))
    'STRUCT("a" INTEGER, "B" VARCHAR[])'
    >>> sql_type_of_arrow(pa.time64("us"))
    Primitive(kind=<PrimitiveKind.TIME: 'TIME'>)
"""

from __future__ import annotations

import pyarrow as pa

from headwater.engine.types import from_arrow, to_arrow
from headwater.errors import PlanError
from headwater.parser import types as t

__all__ = [
    "duckdb_arrow_type",
    "duckdb_type",
    "from_duckdb_arrow",
    "quote_identifier",
    "sql_type_of_arrow",
    "to_duckdb_arrow",
]

_PRIMITIVES: dict[t.PrimitiveKind, str] = {
    t.PrimitiveKind.BOOLEAN: "BOOLEAN",
    t.PrimitiveKind.INTEGER: "INTEGER",
    t.PrimitiveKind.BIGINT: "BIGINT",
    t.PrimitiveKind.DOUBLE: "DOUBLE",
    t.PrimitiveKind.STRING: "VARCHAR",
    t.PrimitiveKind.BYTES: "BLOB",
    t.PrimitiveKind.DATE: "DATE",
    t.PrimitiveKind.TIME: "TIME",
    t.PrimitiveKind.TIMESTAMP: "TIMESTAMP_MS",
}


def quote_identifier(name: str) -> str:
    """``name`` as a DuckDB identifier in double quotes (a quote inside is doubled)."""
    return '"' + name.replace('"', '""') + '"'


def duckdb_type(sql_type: t.SqlType) -> str:
    """The DuckDB type text for ``sql_type``.

    Raises:
        PlanError: a DECIMAL wider than DuckDB's 38 digits.
    """
    if isinstance(sql_type, t.Primitive):
        return _PRIMITIVES[sql_type.kind]
    if isinstance(sql_type, t.Decimal):
        if sql_type.precision > 38:
            raise PlanError(f"Historical queries support DECIMAL up to precision 38, not {sql_type.sql()}")
        return f"DECIMAL({sql_type.precision}, {sql_type.scale})"
    if isinstance(sql_type, t.Array):
        return duckdb_type(sql_type.element) + "[]"
    if isinstance(sql_type, t.Map):
        return f"MAP({duckdb_type(sql_type.key)}, {duckdb_type(sql_type.value)})"
    if isinstance(sql_type, t.Struct):
        fields = ", ".join(f"{quote_identifier(name)} {duckdb_type(ft)}" for name, ft in sql_type.fields)
        return f"STRUCT({fields})"
    raise PlanError(f"Type {sql_type.sql()} has no DuckDB counterpart")


def duckdb_arrow_type(sql_type: t.SqlType) -> pa.DataType:
    """The Arrow type DuckDB uses for values of ``sql_type`` (Headwater's, with TIME in microseconds)."""
    if sql_type == t.TIME:
        return pa.time64("us")
    if isinstance(sql_type, t.Array):
        return pa.list_(duckdb_arrow_type(sql_type.element))
    if isinstance(sql_type, t.Map):
        return pa.map_(duckdb_arrow_type(sql_type.key), duckdb_arrow_type(sql_type.value))
    if isinstance(sql_type, t.Struct):
        return pa.struct([pa.field(name, duckdb_arrow_type(ft)) for name, ft in sql_type.fields])
    return to_arrow(sql_type)


def _has_time(sql_type: t.SqlType) -> bool:
    if sql_type == t.TIME:
        return True
    if isinstance(sql_type, t.Array):
        return _has_time(sql_type.element)
    if isinstance(sql_type, t.Map):
        return _has_time(sql_type.key) or _has_time(sql_type.value)
    if isinstance(sql_type, t.Struct):
        return any(_has_time(ft) for _, ft in sql_type.fields)
    return False


def _combined(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    return values


def to_duckdb_arrow(values: pa.Array | pa.ChunkedArray, sql_type: t.SqlType) -> pa.Array:
    """``values`` (Headwater's Arrow form of ``sql_type``) as DuckDB expects them back from a function.

    Only TIME values change representation; list element names and the like are aligned by the cast.
    """
    values = _combined(values)
    wanted = duckdb_arrow_type(sql_type)
    return values if values.type == wanted else values.cast(wanted)


def from_duckdb_arrow(values: pa.Array | pa.ChunkedArray, sql_type: t.SqlType) -> pa.Array:
    """Values DuckDB passed to a function, in Headwater's Arrow form of ``sql_type``.

    TIME values with sub-millisecond digits are truncated to milliseconds, ksqlDB's precision.
    """
    values = _combined(values)
    wanted = to_arrow(sql_type)
    if values.type == wanted:
        return values
    return values.cast(wanted, safe=not _has_time(sql_type))


def sql_type_of_arrow(arrow_type: pa.DataType) -> t.SqlType:
    """The Headwater SQL type of a column DuckDB produced (for typing the arguments of a call).

    DuckDB's wider or narrower kinds map to the nearest ksqlDB type: TINYINT and SMALLINT to INTEGER,
    FLOAT to DOUBLE, HUGEINT and unsigned 64-bit to DECIMAL(38, 0), any timestamp to TIMESTAMP, UUID and
    other text to STRING.

    Raises:
        PlanError: a type with no ksqlDB counterpart (an INTERVAL, a UNION...).
    """
    if pa.types.is_uint64(arrow_type):
        return t.Decimal(38, 0)
    if pa.types.is_decimal(arrow_type) and arrow_type.precision > 38:
        return t.Decimal(38, min(arrow_type.scale, 38))
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type) or pa.types.is_fixed_size_list(arrow_type):
        return t.Array(sql_type_of_arrow(arrow_type.value_type))
    if pa.types.is_map(arrow_type):
        return t.Map(sql_type_of_arrow(arrow_type.key_type), sql_type_of_arrow(arrow_type.item_type))
    if pa.types.is_struct(arrow_type):
        return t.Struct(tuple((f.name, sql_type_of_arrow(f.type)) for f in arrow_type))
    if pa.types.is_fixed_size_binary(arrow_type) or pa.types.is_binary_view(arrow_type):
        return t.BYTES
    if pa.types.is_uint32(arrow_type):
        return t.BIGINT
    if pa.types.is_dictionary(arrow_type):
        return sql_type_of_arrow(arrow_type.value_type)
    try:
        return from_arrow(arrow_type)
    except TypeError:
        raise PlanError(f"DuckDB type {arrow_type} has no ksqlDB counterpart; CAST it first") from None

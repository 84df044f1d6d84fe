"""``POST /inserts-stream``: rows as JSON objects, one per line, each inserted and acknowledged in order.

The body is a JSON object naming the target (``{"target": "S"}``, case-insensitive), a newline, then
one JSON object per row. Each row becomes an ``INSERT INTO ... VALUES`` for the engine, so a row is
checked and coerced exactly as that statement is (same columns, same types, same messages). The values
are rendered as SQL literals guided by the target's column types: exact decimals keep their digits,
DOUBLE values get an exponent so they read as DOUBLE, JSON objects become ``MAP(...)`` or
``STRUCT(...)`` as the column says, arrays ``ARRAY[...]``.

After each row is appended the response gets ``{"status":"ok","seq":N}`` (one per line, or one JSON
array with ``Accept: application/json``). The first row that fails gets ksqlDB's error ack
(``"status":"error"`` with ``seq``, ``error_code`` and ``message``) and ends the response: rows before
it were appended and acknowledged, rows after it were not read, so a client always knows which rows
landed.
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping
from typing import Any

from headwater.engine import Engine
from headwater.engine.catalog import DataSource
from headwater.engine.schema import quote
from headwater.parser import types as t
from headwater.server.errors import BAD_REQUEST, ApiError
from headwater.server.values import dumps

__all__ = ["AckWriter", "insert_statement", "resolve_target"]


def resolve_target(engine: Engine, name: Any) -> DataSource:
    """The stream or table called ``name`` (case-insensitive, as ksqlDB's inserts stream takes it).

    Raises:
        ApiError: 400 for a missing or unknown target.
    """
    if not isinstance(name, str) or not name:
        raise ApiError.bad_request("No target in arguments")
    catalog = engine.catalog
    source = catalog.source(name) or catalog.source(name.upper()) or catalog.find_case_insensitive(name)
    if source is None:
        raise ApiError.bad_request(f"Cannot insert values into an unknown stream/table: {quote(name)}")
    return source


def insert_statement(target: DataSource, row: Mapping[str, Any]) -> str:
    """The ``INSERT INTO ... VALUES`` statement for one row of the inserts stream.

    Raises:
        ApiError: a value whose JSON shape cannot be a value of its column's type.
    """
    columns = {c.name: c for c in target.schema}
    by_upper = {name.upper(): name for name in columns}
    names: list[str] = []
    literals: list[str] = []
    for key, value in row.items():
        name = key if key in columns else by_upper.get(key.upper(), key)
        column = columns.get(name)
        sql_type = column.type if column is not None else None
        names.append(quote(name))
        literals.append(sql_literal(value, sql_type, name))
    if not names:
        raise ApiError.bad_request("No columns supplied.")
    return f"INSERT INTO {quote(target.name)} ({', '.join(names)}) VALUES ({', '.join(literals)})"


def _string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def sql_literal(value: Any, sql_type: t.SqlType | None, column: str) -> str:
    """``value`` (JSON, numbers as exact decimals) as a SQL literal for a column of ``sql_type``
    (None: a pseudo column or an unknown name, which the engine then judges)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, int | decimal.Decimal | float):
        return _number(value, sql_type, column)
    if isinstance(value, list):
        element = sql_type.element if isinstance(sql_type, t.Array) else None
        if sql_type is not None and not isinstance(sql_type, t.Array):
            raise _mismatch(column, sql_type, "an array")
        return "ARRAY[" + ", ".join(sql_literal(v, element, column) for v in value) + "]"
    if isinstance(value, dict):
        if isinstance(sql_type, t.Struct):
            fields = {name.upper(): (name, field_type) for name, field_type in sql_type.fields}
            parts = []
            for key, item in value.items():
                name, field_type = fields.get(str(key).upper(), (str(key), None))
                parts.append(f"{quote(name)} := {sql_literal(item, field_type, column)}")
            return "STRUCT(" + ", ".join(parts) + ")"
        if isinstance(sql_type, t.Map):
            member = sql_type.value
            return (
                "MAP("
                + ", ".join(
                    f"{_string(str(k))} := {sql_literal(v, member, column)}" for k, v in value.items()
                )
                + ")"
            )
        raise _mismatch(column, sql_type, "an object")
    raise _mismatch(column, sql_type, type(value).__name__)


def _number(value: int | decimal.Decimal | float, sql_type: t.SqlType | None, column: str) -> str:
    number = decimal.Decimal(str(value)) if isinstance(value, float) else decimal.Decimal(value)
    if not number.is_finite():
        raise ApiError.bad_request(
            f"Invalid value for column {quote(column)}: {value} is not a finite number"
        )
    if isinstance(sql_type, t.Primitive) and sql_type.kind is t.PrimitiveKind.DOUBLE:
        return _double(float(number))
    if isinstance(value, int):
        return str(value)
    if (
        number == number.to_integral_value()
        and isinstance(sql_type, t.Primitive)
        and sql_type.kind
        in (
            t.PrimitiveKind.INTEGER,
            t.PrimitiveKind.BIGINT,
        )
    ):
        return str(int(number))
    return format(number, "f")


def _double(number: float) -> str:
    """A DOUBLE literal (it has an exponent, so it does not read as a DECIMAL).

    Example:
        >>> _double(1.5), _double(1e-07), _double(2e20)
        ('1.5E0', '1E-7', '2E20')
    """
    text = repr(number)
    if "e" in text:
        mantissa, exponent = text.split("e")
        return f"{mantissa}E{int(exponent)}"
    return text + "E0"


def _mismatch(column: str, sql_type: t.SqlType | None, got: str) -> ApiError:
    from headwater.engine.schema import format_type

    expected = format_type(sql_type) if sql_type is not None else "a scalar"
    return ApiError.bad_request(f"Cannot insert {got} into column {quote(column)} of type {expected}")


class AckWriter:
    """The acknowledgements of an inserts stream, delimited (default) or as one JSON array."""

    def __init__(self, json_array: bool) -> None:
        self.json_array = json_array
        self.content_type = "application/json" if json_array else "application/vnd.ksqlapi.delimited.v1"
        self._written = 0

    def _item(self, document: dict[str, Any]) -> bytes:
        data = dumps(document)
        if self.json_array:
            data = (b"[" if self._written == 0 else b",") + data
        else:
            data += b"\n"
        self._written += 1
        return data

    def ok(self, seq: int) -> bytes:
        return self._item({"status": "ok", "seq": seq})

    def error(self, seq: int, error: ApiError) -> bytes:
        code = error.error_code if error.error_code else BAD_REQUEST
        return self._item(
            {
                "@type": "generic_error",
                "status": "error",
                "seq": seq,
                "error_code": code,
                "message": error.message,
            }
        )

    def end(self) -> bytes:
        if not self.json_array:
            return b""
        return b"[]" if self._written == 0 else b"]"

"""Encoding JSON keys and values byte-for-byte as ksqlDB writes them, with string kernels.

ksqlDB serialises through Kafka Connect's ``JsonConverter`` (schemas off, decimals as numbers) and
Jackson, which gives compact JSON with:

* object members in column (or struct field) order, under their declared names; null members kept;
* DOUBLE as ``Double.toString`` (``1.0``, ``1.0E10``), NaN and infinities as the strings ``"NaN"``,
  ``"Infinity"``, ``"-Infinity"``;
* DECIMAL as ``BigDecimal.toString`` (its scale kept: ``1.50``; tiny values in ``1E-7`` form);
* BYTES as Base64 strings; TIMESTAMP as epoch milliseconds, DATE as epoch days, TIME as milliseconds;
* strings with ``"`` and ``\\`` escaped, control characters as ``\\n``-style or ``\\u00XX`` escapes,
  everything else (non-ASCII included) as UTF-8.

A record is a JSON text built column by column: each column becomes the JSON text of its values, and
the texts are joined with the member names by Arrow's element-wise join. Nested values recurse on the
flattened children (a list's values, a struct's fields, a map's keys and items). A null record is null
bytes; so is an unwrapped single value that is null (``JsonConverter`` writes nothing for null).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.casts.java_text import java_decimal_text, java_double_text
from headwater.engine.formats.base import Columns
from headwater.engine.formats.encoding import ColumnEncoder
from headwater.engine.formats.json_decode import binary_offsets
from headwater.engine.formats.json_rows import json_string_literal
from headwater.parser import types as t

__all__ = ["JsonEncoder", "json_text"]

_NULL = "null"  # made an Arrow scalar by the kernels on use (no pyarrow conversion at import)


def _offsets(values: pa.Array) -> np.ndarray:
    return np.asarray(values.offsets.to_numpy(zero_copy_only=False), dtype=np.int64)


def _string_literals(values: pa.Array) -> pa.Array:
    """JSON string literals of a string column (null stays null)."""
    buffer = values.buffers()[2]
    if buffer is None or len(values) == 0:
        body = values
    else:
        offsets = binary_offsets(values)
        raw = np.frombuffer(buffer, dtype=np.uint8)[int(offsets[0]) : int(offsets[-1])]
        body = values
        if (raw == 0x5C).any():
            body = pc.replace_substring(body, "\\", "\\\\")
        if (raw == 0x22).any():
            body = pc.replace_substring(body, '"', '\\"')
        if (raw < 0x20).any():
            control = pc.fill_null(pc.match_substring_regex(values, "[\\x00-\\x1f]"), False)
            rows = np.flatnonzero(np.asarray(control.to_numpy(zero_copy_only=False), dtype=bool))
            python = body.to_pylist()
            originals = values.to_pylist()
            for row in rows:
                python[row] = json_string_literal(originals[row])[1:-1]
            body = pa.array(python, pa.string())
    return pc.binary_join_element_wise('"', body, '"', "")


def _join_runs(offsets: np.ndarray, texts: pa.Array, parents: pa.Array, separator: str) -> pa.Array:
    relative = pa.array(offsets - offsets[0], pa.int32() if offsets[-1] - offsets[0] < 2**31 else pa.int64())
    return pc.binary_join(pa.ListArray.from_arrays(relative, texts, mask=parents.is_null()), separator)


def json_text(values: pa.Array, sql_type: t.SqlType) -> pa.Array:
    """The JSON text of every value of a column as ksqlDB writes it (null stays null)."""
    if sql_type == t.BOOLEAN:
        return pc.if_else(values, pa.scalar("true"), pa.scalar("false"))
    if sql_type in (t.INT, t.BIGINT):
        return pc.cast(values, pa.string())
    if sql_type == t.DOUBLE:
        text = java_double_text(values)
        special = pc.fill_null(pc.invert(pc.is_finite(values)), False)
        if pc.any(special).as_py():
            text = pc.if_else(special, pc.binary_join_element_wise('"', text, '"', ""), text)
        return text
    if isinstance(sql_type, t.Decimal):
        return java_decimal_text(values)
    if sql_type == t.STRING:
        return _string_literals(values)
    if sql_type == t.BYTES:
        encoded = [None if v is None else base64.b64encode(v).decode("ascii") for v in values.to_pylist()]
        return pc.binary_join_element_wise('"', pa.array(encoded, pa.string()), '"', "")
    if sql_type == t.TIMESTAMP:
        return pc.cast(values.cast(pa.int64()), pa.string())
    if sql_type in (t.DATE, t.TIME):
        return pc.cast(values.cast(pa.int32()), pa.string())
    if isinstance(sql_type, t.Array):
        offsets = _offsets(values)
        start, stop = int(offsets[0]), int(offsets[-1])
        children = pc.fill_null(json_text(values.values.slice(start, stop - start), sql_type.element), _NULL)
        return pc.binary_join_element_wise("[", _join_runs(offsets, children, values, ","), "]", "")
    if isinstance(sql_type, t.Map):
        offsets = _offsets(values)
        start, stop = int(offsets[0]), int(offsets[-1])
        keys = values.keys.slice(start, stop - start)
        key_text = _string_literals(keys if pa.types.is_string(keys.type) else pc.cast(keys, pa.string()))
        item_text = pc.fill_null(json_text(values.items.slice(start, stop - start), sql_type.value), _NULL)
        entries = pc.binary_join_element_wise(key_text, item_text, ":")
        return pc.binary_join_element_wise("{", _join_runs(offsets, entries, values, ","), "}", "")
    if isinstance(sql_type, t.Struct):
        body = object_text(
            [values.field(i) for i in range(len(sql_type.fields))], sql_type.fields, len(values)
        )
        return pc.if_else(values.is_valid(), body, pa.scalar(None, pa.string()))
    raise TypeError(f"type {sql_type} must be resolved before encoding")


def object_text(arrays: Sequence[pa.Array], fields: Sequence[tuple[str, t.SqlType]], length: int) -> pa.Array:
    """``{"A":..,"B":..}`` for each row, members in order, nulls written as ``null``."""
    if not fields:
        return pa.array(["{}"] * length, pa.string())
    parts = []
    for index, (array, (name, sql_type)) in enumerate(zip(arrays, fields)):
        prefix = ("{" if index == 0 else "") + json_string_literal(name) + ":"
        parts.append(pc.binary_join_element_wise(prefix, pc.fill_null(json_text(array, sql_type), _NULL), ""))
    body = pc.binary_join_element_wise(*parts, ",") if len(parts) > 1 else parts[0]
    return pc.binary_join_element_wise(body, "}", "")


class JsonEncoder(ColumnEncoder):
    """Encodes columns as ksqlDB's JSON serializer writes them (see the module docstring)."""

    def __init__(self, columns: Columns, *, unwrapped: bool) -> None:
        super().__init__(columns)
        self._unwrapped = unwrapped

    def _encode_rows(self, arrays: list[pa.Array], n: int) -> tuple[pa.Array, np.ndarray | None]:
        if self._unwrapped:
            return json_text(arrays[0], self._columns[0][1]), None
        return object_text(arrays, self._columns, n), None

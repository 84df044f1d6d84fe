"""Casts to and from STRING, with Java's text for every type.

To STRING, ksqlDB uses ``String.valueOf``: BOOLEAN gives ``true``/``false``, DOUBLE ``Double.toString``
(``1.0E10``), DECIMAL ``toPlainString``, the time types their ISO text (see :mod:`.temporal`), and
ARRAY, MAP and STRUCT the ``toString`` of the Java objects that hold them: ``[1, 2]``, ``{a=1, b=2}``,
``Struct{A=1,B=x}`` (null struct fields are left out), where nested values print as Java prints them
(a DECIMAL with ``BigDecimal.toString``, a TIMESTAMP as ``java.sql.Timestamp`` does, in UTC, a BYTES
value as the ``ByteBuffer`` it is).

From STRING, ksqlDB trims the text (Java's ``trim``: every char up to the space) and then parses:
``Integer.parseInt``, ``Long.parseLong``, ``Double.parseDouble``, ``new BigDecimal`` (rounded HALF_UP
to the scale), its own boolean rule (``t``, ``tr``, ``tru``, ``true``, ``y``, ``ye``, ``yes`` in any
case are true, anything else false, never an error) and Base64 for BYTES. Unparseable text is a row
error carrying Java's message (``For input string: "abc"``).

Base64 decoding runs per value (a C call each, about 0.3 µs); everything else is vectorized.
"""

from __future__ import annotations

import binascii
import decimal
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.casts.java_text import (
    java_decimal_text,
    java_double_text,
    java_trim,
    parse_java_bigdecimal,
    parse_java_double,
    parse_java_int,
)
from headwater.engine.casts.numeric import overflow_message
from headwater.engine.casts.outcome import CastResult
from headwater.engine.casts.temporal import date_to_string, time_to_string, timestamp_to_string
from headwater.engine.types import to_arrow
from headwater.parser import types as t

__all__ = [
    "bigdecimal_error",
    "decode_java_base64",
    "decode_java_base64_array",
    "java_object_text",
    "string_to_boolean",
    "string_to_bytes",
    "string_to_decimal",
    "string_to_double",
    "string_to_integral",
    "to_string",
]

_TRUE_PREFIXES = ("t", "tr", "tru", "true", "y", "ye", "yes")
"""Built into an Arrow array on use: converting Python values with pyarrow imports pandas when it is
installed, which an import of this module must not pay for."""
_BASE64_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


@lru_cache(maxsize=1)
def _true_prefixes() -> pa.Array:
    return pa.array(_TRUE_PREFIXES, pa.string())


# --------------------------------------------------------------------------------------------------
# to STRING


def to_string(values: pa.Array, from_type: t.SqlType, to_type: t.SqlType) -> CastResult:
    """``CAST(x AS STRING)`` for any source type; null stays null."""
    if from_type == t.BOOLEAN:
        return CastResult(_boolean_text(values))
    if from_type in (t.INT, t.BIGINT):
        return CastResult(pc.cast(values, pa.string()))
    if from_type == t.DOUBLE:
        return CastResult(java_double_text(values))
    if isinstance(from_type, t.Decimal):
        return CastResult(java_decimal_text(values, plain=True))
    if from_type == t.TIMESTAMP:
        return timestamp_to_string(values, from_type, to_type)
    if from_type == t.TIME:
        return time_to_string(values, from_type, to_type)
    if from_type == t.DATE:
        return date_to_string(values, from_type, to_type)
    if isinstance(from_type, (t.Array, t.Map, t.Struct)):
        return CastResult(java_object_text(values, from_type))
    raise TypeError(f"no STRING cast from {from_type}")


def _boolean_text(values: pa.Array) -> pa.Array:
    return pc.if_else(values, pa.scalar("true"), pa.scalar("false"))


def java_object_text(values: pa.Array, sql_type: t.SqlType) -> pa.Array:
    """The ``toString()`` of the Java object ksqlDB holds for each value (null stays null)."""
    if sql_type == t.BOOLEAN:
        return _boolean_text(values)
    if sql_type in (t.INT, t.BIGINT):
        return pc.cast(values, pa.string())
    if sql_type == t.DOUBLE:
        return java_double_text(values)
    if isinstance(sql_type, t.Decimal):
        return java_decimal_text(values)
    if sql_type == t.STRING:
        return values
    if sql_type == t.BYTES:
        size = pc.cast(pc.binary_length(values), pa.string())
        return pc.binary_join_element_wise("java.nio.HeapByteBuffer[pos=0 lim=", size, " cap=", size, "]", "")
    if sql_type == t.TIMESTAMP:
        return _sql_timestamp_text(values)
    if sql_type == t.DATE:
        return pc.strftime(values.cast(pa.date32()), format="%Y-%m-%d")
    if sql_type == t.TIME:
        return _sql_time_text(values)
    if isinstance(sql_type, t.Array):
        offsets, element_text = _children_text(values, sql_type.element)
        joined = _join_lists(offsets, element_text, values, ", ")
        return pc.binary_join_element_wise("[", joined, "]", "")
    if isinstance(sql_type, t.Map):
        offsets = _offsets(values)
        start, stop = int(offsets[0]), int(offsets[-1])
        keys = java_object_text(values.keys.slice(start, stop - start), sql_type.key)
        items = java_object_text(values.items.slice(start, stop - start), sql_type.value)
        entries = pc.binary_join_element_wise(pc.fill_null(keys, "null"), pc.fill_null(items, "null"), "=")
        joined = _join_lists(offsets, entries, values, ", ")
        return pc.binary_join_element_wise("{", joined, "}", "")
    if isinstance(sql_type, t.Struct):
        parts = []
        for index, (name, field_type) in enumerate(sql_type.fields):
            child = values.field(index)
            text = java_object_text(child, field_type)
            parts.append(pc.binary_join_element_wise(name + "=", text, ""))
        body = (
            pc.binary_join_element_wise(*parts, ",", null_handling="skip")
            if parts
            else pa.array([""] * len(values), pa.string())
        )
        text = pc.binary_join_element_wise("Struct{", body, "}", "")
        return pc.if_else(values.is_valid(), text, pa.scalar(None, pa.string()))
    raise TypeError(f"cannot render {sql_type}")


def _sql_timestamp_text(values: pa.Array) -> pa.Array:
    """``java.sql.Timestamp.toString()`` (in UTC): ``1970-01-01 00:00:00.01``, at least one fraction
    digit, trailing zeros dropped."""
    valid = values.is_valid()
    millis = pc.fill_null(values.cast(pa.timestamp("ms")).cast(pa.int64()), 0).to_numpy(zero_copy_only=False)
    seconds = np.floor_divide(millis, 1000)
    whole = pc.strftime(pa.array(seconds, pa.int64()).cast(pa.timestamp("s")), format="%Y-%m-%d %H:%M:%S")
    fraction = pc.utf8_lpad(pc.cast(pa.array(millis - seconds * 1000), pa.string()), width=3, padding="0")
    fraction = pc.utf8_rtrim(fraction, characters="0")
    fraction = pc.if_else(pc.equal(fraction, ""), pa.scalar("0"), fraction)
    text = pc.binary_join_element_wise(whole, ".", fraction, "")
    return pc.if_else(valid, text, pa.scalar(None, pa.string()))


def _sql_time_text(values: pa.Array) -> pa.Array:
    """``java.sql.Time.toString()`` (in UTC): ``hh:mm:ss``."""
    valid = values.is_valid()
    millis = pc.fill_null(values.cast(pa.int32()), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    seconds = pa.array(np.floor_divide(millis, 1000), pa.int64()).cast(pa.timestamp("s"))  # 1970-01-01
    return pc.if_else(valid, pc.strftime(seconds, format="%H:%M:%S"), pa.scalar(None, pa.string()))


def _offsets(values: pa.Array) -> np.ndarray:
    return np.asarray(values.offsets.to_numpy(zero_copy_only=False), dtype=np.int64)


def _children_text(values: pa.Array, element_type: t.SqlType) -> tuple[np.ndarray, pa.Array]:
    offsets = _offsets(values)
    start, stop = int(offsets[0]), int(offsets[-1])
    children = values.values.slice(start, stop - start)
    return offsets, pc.fill_null(java_object_text(children, element_type), "null")


def _join_lists(offsets: np.ndarray, element_text: pa.Array, parents: pa.Array, separator: str) -> pa.Array:
    """Join each parent's run of element texts with ``separator`` (null parents stay null)."""
    relative = pa.array(offsets - offsets[0], pa.int32() if offsets[-1] - offsets[0] < 2**31 else pa.int64())
    lists = pa.ListArray.from_arrays(relative, element_text, mask=parents.is_null())
    return pc.binary_join(lists, separator)


# --------------------------------------------------------------------------------------------------
# from STRING


def string_to_boolean(values: pa.Array, from_type: t.SqlType, to_type: t.SqlType) -> CastResult:
    lowered = pc.utf8_lower(java_trim(values))
    return CastResult(
        pc.if_else(
            values.is_valid(), pc.is_in(lowered, value_set=_true_prefixes()), pa.scalar(None, pa.bool_())
        )
    )


def string_to_integral(values: pa.Array, from_type: t.SqlType, to_type: t.SqlType) -> CastResult:
    trimmed = java_trim(values)
    parsed = parse_java_int(trimmed, bits=32 if to_type == t.INT else 64)
    bad = parsed.invalid_rows()
    failures = {int(row): f'For input string: "{trimmed[int(row)].as_py()}"' for row in bad}
    return CastResult(parsed.values, failures)


def string_to_double(values: pa.Array, from_type: t.SqlType, to_type: t.SqlType) -> CastResult:
    trimmed = java_trim(values)
    parsed = parse_java_double(trimmed)
    failures = {}
    for row in parsed.invalid_rows():
        text = trimmed[int(row)].as_py()
        failures[int(row)] = "empty String" if text == "" else f'For input string: "{text}"'
    return CastResult(parsed.values, failures)


def bigdecimal_error(text: str) -> str:
    """The message of Java's ``NumberFormatException`` for ``new BigDecimal(text)``."""
    if text == "":
        return "Index 0 out of bounds for length 0"
    for char in text:
        if not (char.isdigit() or char in "+-.eE"):
            return f'Character {char} is neither a decimal digit number, decimal point, nor "e" notation exponential mark.'
    return (
        "Character array is missing \"exponent\" mark 'e' or 'E'."
        if text.count(".") > 1
        else f"No digits found: {text}"
    )


def string_to_decimal(values: pa.Array, from_type: t.SqlType, to_type: t.SqlType) -> CastResult:
    assert isinstance(to_type, t.Decimal)
    trimmed = java_trim(values)
    parsed, overflowed = parse_java_bigdecimal(trimmed, to_arrow(to_type), exact=False)
    failures = {}
    for row in parsed.invalid_rows():
        text = trimmed[int(row)].as_py()
        if overflowed[row]:
            failures[int(row)] = overflow_message(to_type.precision, to_type.scale, decimal.Decimal(text))
        else:
            failures[int(row)] = bigdecimal_error(text)
    return CastResult(parsed.values, failures)


def decode_java_base64(text: str) -> bytes:
    """``Base64.getDecoder().decode(text)``: the basic alphabet, padding optional.

    Raises:
        ValueError: with Java's message.
    """
    for char in text:
        if char not in _BASE64_ALPHABET and char != "=":
            raise ValueError(f"Illegal base64 character {ord(char):x}")
    body = text.rstrip("=")
    padding = len(text) - len(body)
    if "=" in body:
        raise ValueError(f"Input byte array has incorrect ending byte at {body.index('=')}")
    if len(body) % 4 == 1:
        raise ValueError("Last unit does not have enough valid bits")
    if padding and (padding > 2 or len(text) % 4 != 0):
        raise ValueError("Input byte array has wrong 4-byte ending unit")
    return binascii.a2b_base64(body + "=" * (-len(body) % 4))


def decode_java_base64_array(texts: pa.Array) -> tuple[pa.Array, dict[int, str]]:
    """:func:`decode_java_base64` of every text (null stays null): the bytes, and Java's message for each
    row that is not base64 (null there). A loop over rows: Arrow has no base64 kernel."""
    out: list[bytes | None] = []
    failures: dict[int, str] = {}
    for row, text in enumerate(texts.to_pylist()):
        if text is None:
            out.append(None)
            continue
        try:
            out.append(decode_java_base64(text))
        except ValueError as error:
            failures[row] = str(error)
            out.append(None)
    return pa.array(out, pa.binary()), failures


def string_to_bytes(values: pa.Array, from_type: t.SqlType, to_type: t.SqlType) -> CastResult:
    return CastResult(*decode_java_base64_array(java_trim(values)))

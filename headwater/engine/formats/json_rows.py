"""ksqlDB's JSON deserializer, one record at a time: the reference the fast path must agree with.

ksqlDB parses a record with Jackson (floats as exact decimals) and coerces the tree to the declared
types with ``KsqlJsonDeserializer``. This module reproduces both, and is used for the records the
vectorized reader (:mod:`.json_decode`) cannot take, and to produce ksqlDB's error messages.

Parsing, as Jackson's ``ObjectMapper.readTree``:

* the first JSON value is read and anything after it is ignored (``{"a":1} xyz`` is fine), except
  that a number at the root must be followed by whitespace;
* ``NaN``, ``Infinity``, comments, single quotes, leading zeros are errors;
* empty input is a ``MissingNode``, which no type accepts; ``null`` is a null record.

Coercion (``KsqlJsonDeserializer.enforceFieldType``), per declared type:

===========  =========================================================================================
BOOLEAN      JSON true/false only (the string ``"true"`` is an error)
INTEGER      a number (truncated, and wrapped to 32 bits like Java's ``intValue``) or a string that
             ``Integer.parseInt`` reads
BIGINT       the same with 64 bits / ``Long.parseLong``
DOUBLE       a number, or a string ``Double.parseDouble`` reads (``"NaN"``, ``" 1.5 "``...)
DECIMAL      a number or a numeric string that fits the precision without rounding
STRING       a string as is; other scalars as their JSON text (``1.50``, ``true``); an object as its
             compact JSON; an array as ``[e1, e2]`` of its elements as strings
BYTES        a Base64 string
TIMESTAMP    a number or numeric string: epoch milliseconds
DATE         a number or numeric string: days since the epoch
TIME         a number or numeric string: milliseconds of the day, 0 to 86400000
ARRAY        an array, element-wise
MAP          an object, values coerced (keys are strings)
STRUCT       an object; each field is the member with exactly its name, else the (last) member whose
             upper-cased name equals it; absent members are null
===========  =========================================================================================

A failure reads like ksqlDB's: ``Failed to deserialize value from topic: t. Can't convert type.
sourceType: TextNode, requiredType: BOOLEAN, path: $.ENABLED``.
"""

from __future__ import annotations

import decimal
import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from headwater.engine.casts.java_text import fit_decimal, parse_java_double_str, parse_java_int_str
from headwater.engine.casts.text import bigdecimal_error
from headwater.parser import types as t

__all__ = [
    "JSON_ESCAPE_PATTERN",
    "MISSING",
    "CoercionFailure",
    "JsonParseFailure",
    "RowCoercer",
    "coerce_document",
    "connect_type_text",
    "jackson_json_text",
    "json_string_literal",
    "node_name",
    "parse_document",
]


class _Missing:
    """Jackson's ``MissingNode``: what an empty document parses to."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()

_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)
_JACKSON_WHITESPACE = " \t\r\n"


class JsonParseFailure(ValueError):
    """Text Jackson would not parse; the message imitates Jackson's."""


class _NeedExactNumbers(Exception):
    """A float reached a type whose value depends on its exact decimal text; parse again exactly."""


@dataclass(frozen=True, slots=True)
class CoercionFailure(Exception):
    """A value that does not fit its declared type, with ksqlDB's message and JSON path."""

    message: str
    path: str

    def __str__(self) -> str:
        return f"{self.message}, path: {self.path}"


def _reject_constant(name: str) -> Any:
    raise JsonParseFailure(
        f"Non-standard token '{name}': enable `JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS` to allow"
    )


_EXACT = json.JSONDecoder(parse_float=decimal.Decimal, parse_constant=_reject_constant)


def _jackson_message(error: json.JSONDecodeError, text: str) -> str:
    if error.pos >= len(text):
        return "Unexpected end-of-input"
    char = text[error.pos]
    return (
        f"Unexpected character ('{char}' (code {ord(char)})): expected a valid value (JSON String, Number, "
        "Array, Object or token 'null', 'true' or 'false')"
    )


def parse_document(raw: bytes, *, exact: bool = False) -> Any:
    """Parse one record as Jackson's ``readTree`` would (see the module docstring).

    With ``exact``, non-integral numbers are :class:`decimal.Decimal` (Jackson's BigDecimal);
    otherwise they may be floats (orjson's fast parse), good for DOUBLE only.

    Raises:
        JsonParseFailure: the text is not JSON Jackson accepts.
    """
    if not exact:
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise JsonParseFailure(f"Invalid UTF-8 start byte 0x{raw[error.start]:02x}") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    stripped = text.lstrip(_JACKSON_WHITESPACE)
    if not stripped:
        return MISSING
    try:
        value, end = _EXACT.raw_decode(stripped)
    except json.JSONDecodeError as error:
        raise JsonParseFailure(_jackson_message(error, stripped)) from None
    if (
        isinstance(value, (int, decimal.Decimal))
        and not isinstance(value, bool)
        and end < len(stripped)
        and stripped[end] not in _JACKSON_WHITESPACE
    ):
        char = stripped[end]
        raise JsonParseFailure(
            f"Unexpected character ('{char}' (code {ord(char)})): Expected space separating root-level values"
        )
    return value


def node_name(value: Any) -> str:
    """The Jackson node class a parsed value would be (for ``sourceType`` in messages)."""
    if value is None:
        return "NullNode"
    if value is MISSING:
        return "MissingNode"
    if isinstance(value, bool):
        return "BooleanNode"
    if isinstance(value, int):
        if _INT32[0] <= value <= _INT32[1]:
            return "IntNode"
        if _INT64[0] <= value <= _INT64[1]:
            return "LongNode"
        return "BigIntegerNode"
    if isinstance(value, (float, decimal.Decimal)):
        return "DecimalNode"
    if isinstance(value, str):
        return "TextNode"
    if isinstance(value, list):
        return "ArrayNode"
    if isinstance(value, dict):
        return "ObjectNode"
    return type(value).__name__


def connect_type_text(sql_type: t.SqlType) -> str:
    """A type as ksqlDB's ``SqlSchemaFormatter`` prints the Connect schema in coercion messages."""
    if isinstance(sql_type, t.Primitive):
        return {
            "INTEGER": "INT",
            "STRING": "VARCHAR",
        }.get(sql_type.kind.value, sql_type.kind.value)
    if isinstance(sql_type, t.Decimal):
        return f"DECIMAL({sql_type.precision}, {sql_type.scale})"
    if isinstance(sql_type, t.Array):
        return f"ARRAY<{connect_type_text(sql_type.element)}>"
    if isinstance(sql_type, t.Map):
        return f"MAP<{connect_type_text(sql_type.key)}, {connect_type_text(sql_type.value)}>"
    if isinstance(sql_type, t.Struct):
        return "STRUCT<" + ", ".join(f"{n} {connect_type_text(ft)}" for n, ft in sql_type.fields) + ">"
    return str(sql_type)


def _invalid(value: Any, required: str) -> CoercionFailure:
    return CoercionFailure(
        f"Can't convert type. sourceType: {node_name(value)}, requiredType: {required}", ""
    )


def _string_failure(base: str) -> CoercionFailure:
    return CoercionFailure(f"Can't coerce string to type. targetType: {base}", "")


def _wrap(value: int, bits: int) -> int:
    half = 1 << (bits - 1)
    if -half <= value < half:
        return value
    low = value & ((1 << bits) - 1)
    return low - (1 << bits) if low >> (bits - 1) else low


def _truncated(value: Any) -> int:
    """``NumericNode.longValue()`` before wrapping: the integer part of an exact number."""
    if isinstance(value, float):
        raise _NeedExactNumbers
    return int(value)


def _clean(text: str) -> str:
    """Strings must be valid UTF-8 for Arrow; a lone surrogate (legal in a Java string) becomes U+FFFD."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


def jackson_json_text(value: Any) -> str:
    """Compact JSON as Jackson writes a tree: BigDecimals in ``toString`` form, non-ASCII unescaped,
    control characters as ``\\n`` or ``\\u00XX``."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, float):
        raise _NeedExactNumbers
    if isinstance(value, str):
        return json_string_literal(value)
    if isinstance(value, list):
        return "[" + ",".join(jackson_json_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{"
            + ",".join(json_string_literal(k) + ":" + jackson_json_text(v) for k, v in value.items())
            + "}"
        )
    raise TypeError(f"not a JSON value: {value!r}")


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
JSON_ESCAPE_PATTERN = r'["\\\x00-\x1f]'
"""The characters a JSON string literal escapes, as a regex class both ``re`` and Arrow's kernels read."""
_NEEDS_ESCAPE = re.compile(JSON_ESCAPE_PATTERN)


def json_string_literal(text: str) -> str:
    """A JSON string literal as Jackson writes it: quotes, backslashes and the short escapes escaped,
    other control characters as ``\\u00XX``, everything else (non-ASCII too) as it is."""
    return '"' + _NEEDS_ESCAPE.sub(lambda m: _ESCAPES.get(m.group(), f"\\u{ord(m.group()):04X}"), text) + '"'


Coerce = Callable[[Any], Any]
"""A compiled ``enforceFieldType`` for one declared type: a non-null parsed value in, the Python value
for Arrow out (raises CoercionFailure, its path relative to the value)."""


def _compile(sql_type: t.SqlType, spellings: SpellingLog | None, where: tuple[str, ...]) -> Coerce:
    """The coercion of ``sql_type``, decided once so that each record only runs the checks it needs."""
    if isinstance(sql_type, t.Primitive):
        return _PRIMITIVE[sql_type.kind]
    if isinstance(sql_type, t.Decimal):
        decimal_type = sql_type
        return lambda value: _to_decimal(value, decimal_type)
    if isinstance(sql_type, t.Array):
        return _array_coercer(sql_type, _compile(sql_type.element, spellings, where))
    if isinstance(sql_type, t.Map):
        return _map_coercer(sql_type, _compile(sql_type.value, spellings, where))
    if isinstance(sql_type, t.Struct):
        fields = [(name, _compile(ft, spellings, (*where, name))) for name, ft in sql_type.fields]
        return _struct_coercer(sql_type, fields, spellings, where)
    raise TypeError(f"type {sql_type} must be resolved before decoding")


def _array_coercer(sql_type: t.Array, element: Coerce) -> Coerce:
    def coerce(value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise _invalid(value, connect_type_text(sql_type))
        out = []
        for index, item in enumerate(value):
            try:
                out.append(None if item is None else element(item))
            except CoercionFailure as failure:
                raise CoercionFailure(failure.message, f"[{index}]{failure.path}") from None
        return out

    return coerce


def _map_coercer(sql_type: t.Map, item_coerce: Coerce) -> Coerce:
    def coerce(value: Any) -> list[tuple[str, Any]]:
        if not isinstance(value, dict):
            raise _invalid(value, connect_type_text(sql_type))
        entries = []
        for key, item in value.items():
            try:
                entries.append((_clean(key), None if item is None else item_coerce(item)))
            except CoercionFailure as failure:
                raise CoercionFailure(failure.message, f".{key}.value{failure.path}") from None
        return entries

    return coerce


def _struct_coercer(
    sql_type: t.Struct,
    fields: list[tuple[str, Coerce]],
    spellings: SpellingLog | None,
    where: tuple[str, ...],
) -> Coerce:
    def coerce(value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise _invalid(value, connect_type_text(sql_type))
        upper: dict[str, str] | None = None
        result: dict[str, Any] = {}
        for name, field_coerce in fields:
            if name in value:
                item = value[name]
            else:
                if upper is None:
                    upper = {key.upper(): key for key in value}  # the last of equal names wins
                key = upper.get(name)
                if key is None:
                    result[name] = None
                    continue
                if spellings is not None:
                    spellings.record(where, name, key)
                item = value[key]
            try:
                result[name] = None if item is None else field_coerce(item)
            except CoercionFailure as failure:
                raise CoercionFailure(failure.message, f".{name}{failure.path}") from None
        return result

    return coerce


def _to_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise _invalid(value, "BOOLEAN")


def _integral(value: Any, bits: int, base: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float, decimal.Decimal, str)):
        raise _invalid(value, base)
    if isinstance(value, str):
        try:
            return parse_java_int_str(value, bits)
        except ValueError:
            raise _string_failure(base) from None
    return _wrap(_truncated(value), bits)


def _to_int(value: Any) -> int:
    return _integral(value, 32, "INTEGER")


def _to_bigint(value: Any) -> int:
    return _integral(value, 64, "BIGINT")


def _to_double(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, decimal.Decimal, str)):
        raise _invalid(value, "DOUBLE")
    if isinstance(value, str):
        try:
            return parse_java_double_str(value)
        except ValueError:
            raise _string_failure("DOUBLE") from None
    return float(value)


def _to_string(value: Any) -> str:
    if isinstance(value, str):
        return _clean(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        raise _NeedExactNumbers
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dict):
        return _clean(jackson_json_text(value))
    if isinstance(value, list):
        parts = []
        for index, item in enumerate(value):
            try:
                parts.append("null" if item is None else _to_string(item))
            except CoercionFailure as failure:
                raise CoercionFailure(failure.message, f"[{index}]{failure.path}") from None
        return "[" + ", ".join(parts) + "]"
    raise _invalid(value, "STRING")


def _to_bytes(value: Any) -> bytes:
    if not isinstance(value, str):
        raise _invalid(value, "BYTES")
    import binascii

    compact = "".join(value.split())
    try:
        if len(compact) % 4:
            raise binascii.Error("padding")
        return binascii.a2b_base64(compact, strict_mode=True)
    except binascii.Error:
        raise CoercionFailure(f"Value is not a valid Base64 encoded string: {value}", "") from None


def _epoch_number(value: Any, required: str) -> int:
    """The integer a TIMESTAMP, DATE or TIME is read from: a JSON number (its integer part, wrapped to
    64 bits) or a string holding a Java long, as ksqlDB's JSON deserializer reads them."""
    if isinstance(value, bool) or not isinstance(value, (int, float, decimal.Decimal, str)):
        raise _invalid(value, required)
    if isinstance(value, str):
        try:
            return parse_java_int_str(value, 64)
        except ValueError:
            raise _string_failure(required) from None
    return _wrap(_truncated(value), 64)


def _to_timestamp(value: Any) -> int:
    return _epoch_number(value, "TIMESTAMP")


def _to_date(value: Any) -> int:
    days = _epoch_number(value, "DATE")
    if not _INT32[0] <= days <= _INT32[1]:
        raise CoercionFailure(f"Date out of range: {days} days", "")
    return days


def _to_time(value: Any) -> int:
    millis = _epoch_number(value, "TIME")
    if not 0 <= millis <= 86_400_000:
        raise CoercionFailure(
            "Time values must use number of milliseconds greater than 0 and less than 86400000.", ""
        )
    return millis


def _to_decimal(value: Any, sql_type: t.Decimal) -> decimal.Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, decimal.Decimal, str)):
        raise _invalid(value, connect_type_text(sql_type))
    if isinstance(value, float):
        raise _NeedExactNumbers
    if isinstance(value, str):
        try:
            exact = decimal.Decimal(value)
            if not exact.is_finite() or value.strip() != value or "_" in value:
                raise decimal.InvalidOperation
        except decimal.InvalidOperation:
            raise CoercionFailure(bigdecimal_error(value), "") from None
    else:
        exact = decimal.Decimal(value)
    return ensure_fit(exact, sql_type)


def ensure_fit(value: decimal.Decimal, sql_type: t.Decimal) -> decimal.Decimal:
    """``DecimalUtil.ensureFit``: overflow, or rounding needed, is an error."""
    precision, scale = sql_type.precision, sql_type.scale
    if value.copy_abs() >= decimal.Decimal(10) ** (precision - scale):  # exact; abs() rounds to 28 digits
        raise CoercionFailure(
            f"Numeric field overflow: A field with precision {precision} and scale {scale} must round to an "
            f"absolute value less than 10^{precision - scale}. Got {value:f}",
            "",
        )
    fitted = fit_decimal(value, precision, scale, exact=True)
    if fitted is None:
        digits = value.as_tuple()
        java_precision = max(len(digits.digits), 1)
        java_scale = -int(digits.exponent)
        raise CoercionFailure(
            f"Cannot fit decimal '{value:f}' into DECIMAL({precision}, {scale}) without rounding. "
            f"(Requires {java_precision},{java_scale})",
            "",
        )
    return fitted


_PRIMITIVE: dict[t.PrimitiveKind, Callable[[Any], Any]] = {
    t.PrimitiveKind.BOOLEAN: _to_boolean,
    t.PrimitiveKind.INTEGER: _to_int,
    t.PrimitiveKind.BIGINT: _to_bigint,
    t.PrimitiveKind.DOUBLE: _to_double,
    t.PrimitiveKind.STRING: _to_string,
    t.PrimitiveKind.BYTES: _to_bytes,
    t.PrimitiveKind.TIMESTAMP: _to_timestamp,
    t.PrimitiveKind.DATE: _to_date,
    t.PrimitiveKind.TIME: _to_time,
}


@dataclass
class SpellingLog:
    """Member names that matched a struct field only by upper-casing, per struct path, so the fast
    reader can learn to ask for them by name."""

    seen: dict[tuple[str, ...], dict[str, set[str]]] = field(default_factory=dict)
    _known: set[tuple[tuple[str, ...], str, str]] = field(default_factory=set)

    def record(self, where: tuple[str, ...], field_name: str, spelling: str) -> None:
        entry = (where, field_name, spelling)
        if entry not in self._known:
            self._known.add(entry)
            self.seen.setdefault(where, {}).setdefault(field_name, set()).add(spelling)

    def clear(self) -> None:
        self.seen.clear()
        self._known.clear()

    def items(self) -> Iterator[tuple[tuple[str, ...], str, str]]:
        for where, fields in self.seen.items():
            for name, spellings in fields.items():
                for spelling in spellings:
                    yield where, name, spelling


def coerce_document(value: Any, sql_type: t.SqlType, spellings: SpellingLog | None = None) -> Any:
    """Coerce a parsed document to ``sql_type`` (path ``$``).

    Raises:
        CoercionFailure: with ksqlDB's message and the JSON path of the offending value.
    """
    return _run(_compile(sql_type, spellings, ()), value)


def _run(coerce: Coerce, value: Any) -> Any:
    if value is None:
        return None
    try:
        return coerce(value)
    except CoercionFailure as failure:
        raise CoercionFailure(failure.message, "$" + failure.path) from None


@dataclass
class RowCoercer:
    """Parses and coerces records one at a time for a decoder, learning struct-field spellings.

    Attributes:
        root: the type of a whole record (a STRUCT of the columns, or the single column's type when
            the value is unwrapped).
        target: ``"key"`` or ``"value"``, for messages.
        spellings: member names matched by upper-casing, for the fast reader to learn.
    """

    root: t.SqlType
    target: str
    spellings: SpellingLog = field(default_factory=SpellingLog)
    _coerce: Coerce | None = field(default=None, repr=False)

    def coerce(self, raw: bytes, topic: str) -> tuple[Any, str | None, tuple[str, ...]]:
        """One record: (value, None, ()) or (None, message, causes)."""
        if self._coerce is None:
            self._coerce = _compile(self.root, self.spellings, ())
        for exact in (False, True):
            try:
                document = parse_document(raw, exact=exact)
                return _run(self._coerce, document), None, ()
            except _NeedExactNumbers:
                continue
            except JsonParseFailure as error:
                return None, self._message(topic, str(error)), (str(error),)
            except CoercionFailure as failure:
                return None, self._message(topic, str(failure)), (str(failure), failure.message)
        raise AssertionError("exact parsing yields no floats")  # pragma: no cover

    def coerce_all(self, rows: Sequence[bytes], topic: str) -> list[tuple[Any, str | None, tuple[str, ...]]]:
        return [self.coerce(raw, topic) for raw in rows]

    def _message(self, topic: str, detail: str) -> str:
        return f"Failed to deserialize {self.target} from topic: {topic}. {detail}"

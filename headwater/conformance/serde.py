"""The test harness's own serialisers: value specs to record bytes and back (FORMAT.md §6).

ksqlDB's harness does not use the product's serdes to write test inputs or to read actual outputs; it has
its own per-format suppliers (``ValueSpecJsonSerdeSupplier``, ``StringSerdeSupplier``,
``KafkaSerdeSupplier``, ``NoneSerdeSupplier``), and the expected files are written against what they
produce. This module is their Python equivalent:

=========== =============================================== ===============================================
format      spec -> bytes (inputs)                          bytes -> spec (actual outputs)
=========== =============================================== ===============================================
JSON        the spec as JSON, decimals keeping their scale  JSON with exact decimals (floats when
            (a string spec becomes a quoted JSON string)    ``use.exact.numeric.comparison`` is false)
DELIMITED   the spec must be a string: its UTF-8 bytes      the UTF-8 string
KAFKA       by the single column's SQL type: INT 4 bytes,   INT / BIGINT integers, DOUBLE as
            BIGINT 8 (any number, truncated), DOUBLE 8,     ``BigDecimal.valueOf(double)``, STRING, BYTES
            STRING and BYTES as UTF-8; no column: a string  as a UTF-8 string
NONE        always null                                     always null
=========== =============================================== ===============================================

Windowed keys are framed as Kafka Streams does: a time-windowed key is the inner key followed by the
window start (8 bytes, big-endian); a session-windowed key by the window end, then the start. Reading a
time-windowed key derives the end from the window size of the topic's key format.

Errors are :class:`SerdeFailure` with ksqlDB's wording ("Failed to serialize key: ...").

Example:
    >>> from decimal import Decimal
    >>> spec_to_json_bytes({"ID": Decimal("1.50"), "NAME": "a"})
    b'{"ID":1.50,"NAME":"a"}'
    >>> json_bytes_to_spec(b'{"V": 1.50}', exact_decimals=True)
    {'V': Decimal('1.50')}
"""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from headwater.conformance.java_text import java_double_text
from headwater.conformance.model import WindowSpec, WindowType
from headwater.engine.catalog import DataSource
from headwater.engine.catalog import WindowType as SourceWindowType
from headwater.engine.schema import Column
from headwater.parser import types as t

__all__ = [
    "SerdeFailure",
    "TopicSerdes",
    "json_bytes_to_spec",
    "spec_to_json_bytes",
]

_INT = struct.Struct(">i")
_LONG = struct.Struct(">q")
_DOUBLE = struct.Struct(">d")
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


class SerdeFailure(AssertionError):
    """A record could not be serialised or deserialised with its topic's serdes (ksqlDB raises an
    AssertionError, so a negative case's expectation never matches it)."""


# --------------------------------------------------------------------------------------------------------
# JSON


def _json_text(spec: Any) -> str:
    if spec is None:
        return "null"
    if isinstance(spec, bool):
        return "true" if spec else "false"
    if isinstance(spec, int):
        return str(spec)
    if isinstance(spec, Decimal):
        return str(spec)  # Java's BigDecimal.toString: the scale is kept
    if isinstance(spec, float):
        return repr(spec)
    if isinstance(spec, str):
        return json.dumps(spec, ensure_ascii=False)
    if isinstance(spec, list):
        return "[" + ",".join(_json_text(v) for v in spec) + "]"
    if isinstance(spec, dict):
        for key in spec:
            if not isinstance(key, str):
                raise SerdeFailure("Test framework does not yet support maps with non-string keys")
        return (
            "{"
            + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{_json_text(v)}" for k, v in spec.items())
            + "}"
        )
    raise SerdeFailure(f"Test framework does not current handle {spec!r}")


def spec_to_json_bytes(spec: Any) -> bytes | None:
    """A value spec as the JSON bytes ksqlDB's harness writes (None for a null spec)."""
    if spec is None:
        return None
    return _json_text(spec).encode("utf-8")


def json_bytes_to_spec(data: bytes | None, *, exact_decimals: bool) -> Any:
    """JSON bytes read back as a spec: non-integers as exact decimals, or as floats when
    ``exact_decimals`` is off (the ``use.exact.numeric.comparison=false`` case property).

    Raises:
        SerdeFailure: the bytes are not JSON.
    """
    if data is None:
        return None
    try:
        if exact_decimals:
            return json.loads(data, parse_float=Decimal)
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as e:
        raise SerdeFailure(f"not JSON: {e}: {data[:200]!r}") from None


# --------------------------------------------------------------------------------------------------------
# KAFKA


def _kafka_column_type(columns: Sequence[Column]) -> t.SqlType | None:
    if not columns:
        return None  # the harness uses a string serde for "no columns"
    if len(columns) != 1:
        raise SerdeFailure("KAFKA format only supports single column schemas.")
    return columns[0].type


def _kafka_serialize(spec: Any, sql_type: t.SqlType | None) -> bytes | None:
    if spec is None:
        return None
    if sql_type is None or sql_type == t.STRING:
        if not isinstance(spec, str):
            raise SerdeFailure(f"{type(spec).__name__} cannot be cast to class java.lang.String: {spec!r}")
        return spec.encode("utf-8")
    if sql_type == t.INT:
        if isinstance(spec, bool) or not isinstance(spec, int) or not _INT_MIN <= spec <= _INT_MAX:
            raise SerdeFailure(f"{spec!r} cannot be cast to class java.lang.Integer")
        return _INT.pack(spec)
    if sql_type == t.BIGINT:
        if isinstance(spec, bool) or not isinstance(spec, int | Decimal):
            raise SerdeFailure(f"Can't serialize {spec} as Long")
        value = int(spec) & (2**64 - 1)  # Number.longValue(): truncation, then 64-bit wrap
        return _LONG.pack(value - 2**64 if value >= 2**63 else value)
    if sql_type == t.DOUBLE:
        if isinstance(spec, bool) or not isinstance(spec, int | Decimal | float):
            raise SerdeFailure(f"Can't serialize {spec} as Double")
        return _DOUBLE.pack(float(spec))
    if sql_type == t.BYTES:
        if not isinstance(spec, str):
            raise SerdeFailure(f"Can't serialize {spec} as BYTEBUFFER")
        return spec.encode("utf-8")
    raise SerdeFailure("Unsupported type for KAFKA format")


def _kafka_deserialize(data: bytes | None, sql_type: t.SqlType | None) -> Any:
    if data is None:
        return None
    if sql_type is None or sql_type == t.STRING or sql_type == t.BYTES:
        return data.decode("utf-8", errors="replace")
    if sql_type == t.INT:
        if len(data) != 4:
            raise SerdeFailure("Size of data received by IntegerDeserializer is not 4")
        return _INT.unpack(data)[0]
    if sql_type == t.BIGINT:
        if len(data) != 8:
            raise SerdeFailure("Size of data received by LongDeserializer is not 8")
        return _LONG.unpack(data)[0]
    if sql_type == t.DOUBLE:
        if len(data) != 8:
            raise SerdeFailure("Size of data received by DoubleDeserializer is not 8")
        return Decimal(java_double_text(_DOUBLE.unpack(data)[0]))
    raise SerdeFailure("Unsupported type for KAFKA format")


# --------------------------------------------------------------------------------------------------------
# one topic


@dataclass(frozen=True, slots=True)
class _Serde:
    format: str
    columns: tuple[Column, ...]
    exact_decimals: bool

    def serialize(self, spec: Any) -> bytes | None:
        if self.format in ("JSON", "JSON_SR"):
            return spec_to_json_bytes(spec)
        if self.format == "DELIMITED":
            if spec is None:
                return None
            if not isinstance(spec, str):
                raise SerdeFailure(
                    f"{type(spec).__name__} cannot be cast to class java.lang.String: {spec!r}"
                )
            return spec.encode("utf-8")
        if self.format == "KAFKA":
            return _kafka_serialize(spec, _kafka_column_type(self.columns))
        if self.format == "NONE":
            return None
        raise SerdeFailure(f"format {self.format} is not supported by the test harness")

    def deserialize(self, data: bytes | None) -> Any:
        if self.format in ("JSON", "JSON_SR"):
            return json_bytes_to_spec(data, exact_decimals=self.exact_decimals)
        if self.format == "DELIMITED":
            return None if data is None else data.decode("utf-8", errors="replace")
        if self.format == "KAFKA":
            return _kafka_deserialize(data, _kafka_column_type(self.columns))
        if self.format == "NONE":
            return None
        raise SerdeFailure(f"format {self.format} is not supported by the test harness")


class TopicSerdes:
    """The harness's key and value serdes of a topic, from the source declared on it (FORMAT.md §4.2):
    its key and value formats, its columns (for KAFKA) and its window type and size."""

    def __init__(self, source: DataSource, *, exact_decimals: bool = True) -> None:
        self.source = source
        schema = source.schema
        self._key = _Serde(source.key_format.name.upper(), schema.key_columns, exact_decimals)
        self._value = _Serde(source.value_format.name.upper(), schema.value_columns, exact_decimals)
        self._window = source.window

    @property
    def windowed(self) -> bool:
        return self._window is not None

    def serialize_key(self, spec: Any, window: WindowSpec | None) -> bytes | None:
        """The key bytes of an input record.

        Raises:
            SerdeFailure: "Failed to serialize key: ..." when the spec does not fit the format, or the
                record's window does not fit the topic's windowing.
        """
        try:
            inner = self._key.serialize(spec)
            if self._window is None:
                if window is not None:
                    raise SerdeFailure("the record has a window but the topic's key is not windowed")
                return inner
            if window is None:
                raise SerdeFailure("the topic's key is windowed but the record has no window")
            framed = inner or b""
            if self._window.type is SourceWindowType.SESSION:
                return framed + _LONG.pack(window.end) + _LONG.pack(window.start)
            return framed + _LONG.pack(window.start)
        except SerdeFailure as e:
            raise SerdeFailure(f"Failed to serialize key: {e}") from None

    def serialize_value(self, spec: Any) -> bytes | None:
        """The value bytes of an input record.

        Raises:
            SerdeFailure: "Failed to serialize value: ..."
        """
        try:
            return self._value.serialize(spec)
        except SerdeFailure as e:
            raise SerdeFailure(f"Failed to serialize value: {e}") from None

    def deserialize_key(self, data: bytes | None) -> tuple[Any, WindowSpec | None]:
        """The key spec and, for windowed topics, the window of an actual record.

        Raises:
            SerdeFailure: "Failed to deserialize key: ..."
        """
        try:
            if self._window is None:
                return self._key.deserialize(data), None
            if data is None:
                raise SerdeFailure("a windowed key cannot be null")
            if self._window.type is SourceWindowType.SESSION:
                if len(data) < 16:
                    raise SerdeFailure("a session-windowed key needs at least 16 bytes")
                end = _LONG.unpack(data[-16:-8])[0]
                start = _LONG.unpack(data[-8:])[0]
                return self._key.deserialize(data[:-16]), WindowSpec(start, end, WindowType.SESSION)
            if len(data) < 8:
                raise SerdeFailure("a time-windowed key needs at least 8 bytes")
            if self._window.size_ms is None:
                raise SerdeFailure("the topic's time window has no size")
            start = _LONG.unpack(data[-8:])[0]
            end = min(start + self._window.size_ms, 2**63 - 1)
            return self._key.deserialize(data[:-8]), WindowSpec(start, end, WindowType.TIME)
        except SerdeFailure as e:
            raise SerdeFailure(f"Failed to deserialize key: {e}") from None

    def deserialize_value(self, data: bytes | None) -> Any:
        """The value spec of an actual record.

        Raises:
            SerdeFailure: "Failed to deserialize value: ..."
        """
        try:
            return self._value.deserialize(data)
        except SerdeFailure as e:
            raise SerdeFailure(f"Failed to deserialize value: {e}") from None

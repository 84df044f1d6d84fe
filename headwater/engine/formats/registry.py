"""The formats Headwater knows, by name: JSON, DELIMITED, KAFKA and NONE, plus the names it knows of
but does not support yet (AVRO, PROTOBUF, PROTOBUF_NOSR, JSON_SR)."""

from __future__ import annotations

from headwater.engine.casts.rules import base_name
from headwater.engine.formats.base import Columns, Decoder, Encoder, Format, columns_text
from headwater.engine.formats.delimited import DelimitedDecoder, DelimitedEncoder
from headwater.engine.formats.json_decode import JsonDecoder
from headwater.engine.formats.json_encode import JsonEncoder
from headwater.engine.formats.kafka import KafkaDecoder, KafkaEncoder
from headwater.engine.formats.none import NoneDecoder, NoneEncoder
from headwater.errors import PlanError
from headwater.parser import types as t

__all__ = [
    "DELIMITED",
    "JSON",
    "KAFKA",
    "NONE",
    "NOT_YET_SUPPORTED",
    "UnsupportedFormatError",
    "get_format",
    "is_known",
    "is_supported",
]

NOT_YET_SUPPORTED = frozenset({"AVRO", "PROTOBUF", "PROTOBUF_NOSR", "JSON_SR"})
"""Format names ksqlDB accepts and Headwater does not implement yet."""


class UnsupportedFormatError(PlanError):
    """A format ksqlDB knows (AVRO, PROTOBUF...) that Headwater does not support yet.

    Attributes:
        format_name: the canonical name.
    """

    def __init__(self, format_name: str) -> None:
        self.format_name = format_name
        super().__init__(f"The '{format_name}' format is not supported by Headwater yet")


def _primitive_or_decimal(sql_type: t.SqlType) -> bool:
    return isinstance(sql_type, (t.Primitive, t.Decimal))


class _Json(Format):
    name = "JSON"
    supports_wrapping = True
    supports_unwrapping = True

    def validate_columns(self, columns: Columns, *, is_key: bool) -> None:
        for _, sql_type in columns:
            if _has_non_string_map_key(sql_type):
                raise PlanError("JSON only supports MAP types with STRING keys")

    def supports_type(self, sql_type: t.SqlType) -> bool:
        return not _has_non_string_map_key(sql_type)

    def _new_decoder(
        self, columns: Columns, *, is_key: bool, wrap_single: bool | None, delimiter: str | None
    ) -> Decoder:
        if not columns:
            return NoneDecoder(columns)
        return JsonDecoder(columns, is_key=is_key, unwrapped=_unwrapped(columns, is_key, wrap_single))

    def _new_encoder(
        self, columns: Columns, *, is_key: bool, wrap_single: bool | None, delimiter: str | None
    ) -> Encoder:
        if not columns:
            return NoneEncoder(columns)
        return JsonEncoder(columns, unwrapped=_unwrapped(columns, is_key, wrap_single))


def _unwrapped(columns: Columns, is_key: bool, wrap_single: bool | None) -> bool:
    """JSON keys of one column are bare unless asked otherwise; values are wrapped unless asked."""
    if len(columns) != 1:
        return False
    if is_key:
        return wrap_single is not True
    return wrap_single is False


def _has_non_string_map_key(sql_type: t.SqlType) -> bool:
    if isinstance(sql_type, t.Map):
        return sql_type.key != t.STRING or _has_non_string_map_key(sql_type.value)
    if isinstance(sql_type, t.Array):
        return _has_non_string_map_key(sql_type.element)
    if isinstance(sql_type, t.Struct):
        return any(_has_non_string_map_key(ft) for _, ft in sql_type.fields)
    return False


class _Delimited(Format):
    name = "DELIMITED"
    supports_unwrapping = True
    supported_properties = frozenset({"delimiter"})

    def validate_columns(self, columns: Columns, *, is_key: bool) -> None:
        for name, sql_type in columns:
            if not _primitive_or_decimal(sql_type):
                raise PlanError(
                    f"The 'DELIMITED' format does not support type '{base_name(sql_type)}', column: `{name}`"
                )

    def supports_type(self, sql_type: t.SqlType) -> bool:
        return _primitive_or_decimal(sql_type)

    def _new_decoder(
        self, columns: Columns, *, is_key: bool, wrap_single: bool | None, delimiter: str | None
    ) -> Decoder:
        return DelimitedDecoder(columns, delimiter=delimiter or ",")

    def _new_encoder(
        self, columns: Columns, *, is_key: bool, wrap_single: bool | None, delimiter: str | None
    ) -> Encoder:
        return DelimitedEncoder(columns, delimiter=delimiter or ",")


_KAFKA_TYPES = (t.INT, t.BIGINT, t.DOUBLE, t.STRING, t.BYTES)


class _Kafka(Format):
    name = "KAFKA"
    supports_unwrapping = True
    supports_multiple_columns = False

    def validate_columns(self, columns: Columns, *, is_key: bool) -> None:
        if len(columns) > 1:
            raise PlanError(
                f"The 'KAFKA' format only supports a single field. Got: {columns_text(columns, is_key=is_key)}"
            )
        for _, sql_type in columns:
            if sql_type not in _KAFKA_TYPES:
                raise PlanError(f"The 'KAFKA' format does not support type '{base_name(sql_type)}'")

    def supports_type(self, sql_type: t.SqlType) -> bool:
        return sql_type in _KAFKA_TYPES

    def _new_decoder(
        self, columns: Columns, *, is_key: bool, wrap_single: bool | None, delimiter: str | None
    ) -> Decoder:
        return KafkaDecoder(columns)

    def _new_encoder(
        self, columns: Columns, *, is_key: bool, wrap_single: bool | None, delimiter: str | None
    ) -> Encoder:
        return KafkaEncoder(columns)


class _None(Format):
    name = "NONE"
    supports_multiple_columns = False

    def validate_columns(self, columns: Columns, *, is_key: bool) -> None:
        if columns:
            raise PlanError(
                "The 'NONE' format can only be used when no columns are defined. "
                f"Got: {columns_text(columns, is_key=is_key)}"
            )

    def supports_type(self, sql_type: t.SqlType) -> bool:
        return False

    def _new_decoder(
        self, columns: Columns, *, is_key: bool, wrap_single: bool | None, delimiter: str | None
    ) -> Decoder:
        return NoneDecoder(columns)

    def _new_encoder(
        self, columns: Columns, *, is_key: bool, wrap_single: bool | None, delimiter: str | None
    ) -> Encoder:
        return NoneEncoder(columns)


JSON: Format = _Json()
DELIMITED: Format = _Delimited()
KAFKA: Format = _Kafka()
NONE: Format = _None()

_FORMATS = {fmt.name: fmt for fmt in (JSON, DELIMITED, KAFKA, NONE)}


def get_format(name: str) -> Format:
    """The format called ``name`` (any case).

    Raises:
        UnsupportedFormatError: a format ksqlDB has and Headwater does not yet (AVRO, PROTOBUF,
            PROTOBUF_NOSR, JSON_SR).
        PlanError: ``Unknown format: FOO`` for any other name.
    """
    canonical = name.upper()
    fmt = _FORMATS.get(canonical)
    if fmt is not None:
        return fmt
    if canonical in NOT_YET_SUPPORTED:
        raise UnsupportedFormatError(canonical)
    raise PlanError(f"Unknown format: {canonical}")


def is_supported(name: str) -> bool:
    """Whether Headwater can read and write this format (so a caller can skip the others)."""
    return name.upper() in _FORMATS


def is_known(name: str) -> bool:
    """Whether ksqlDB knows this format name (supported by Headwater or not)."""
    return name.upper() in _FORMATS or name.upper() in NOT_YET_SUPPORTED

"""Serialisation of a source's keys and values: the engine's one door to :mod:`headwater.engine.formats`.

A :class:`SourceSerde` is built once per source and query from the source's formats and schema. It
decodes the raw ``__key`` / ``__value`` bytes of a raw topic into the source's key and value columns, and
encodes typed columns back into bytes (INSERT VALUES into raw topics, PRINT, re-keying: the partition of
a record is chosen from its serialised key, as Kafka's partitioner does).

Decoding never raises for a bad record: it returns the row indexes that failed with ksqlDB's message, and
the caller drops those rows and reports them to the processing log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from headwater.engine.catalog import DataSource, FormatSpec
from headwater.engine.schema import Column
from headwater.engine.types import to_arrow
from headwater.errors import PlanError
from headwater.parser import types as t

__all__ = ["DecodedColumns", "SourceSerde", "format_options"]


@dataclass(frozen=True, slots=True)
class DecodedColumns:
    """Decoded columns (one Arrow array per requested column, full length: failed rows are null) and the
    failures as (row index, message)."""

    columns: dict[str, pa.Array]
    errors: list[tuple[int, str]] = field(default_factory=list)


def format_options(spec: FormatSpec, *, is_key: bool) -> dict[str, Any]:
    """The keyword options the formats package takes for ``spec`` (delimiter, wrapping)."""
    options: dict[str, Any] = {"is_key": is_key}
    delimiter = spec.get_property("delimiter")
    if delimiter is not None:
        options["delimiter"] = delimiter
    if spec.wrap_single is not None:
        options["wrap_single"] = spec.wrap_single
    return options


def _columns(columns: Sequence[Column]) -> list[tuple[str, t.SqlType]]:
    return [(c.name, c.type) for c in columns]


class SourceSerde:
    """Decoders and encoders for one source's key and value.

    Building one validates the source's schema against its formats (ksqlDB's statement-time messages:
    unsupported types, too many columns for KAFKA, WRAP_SINGLE_VALUE rules, bad delimiters...).
    """

    def __init__(self, source: DataSource) -> None:
        from headwater.engine import formats

        self.source = source
        schema = source.schema
        self.key_columns = schema.key_columns
        self.value_columns = schema.value_columns
        self._key_format = formats.get_format(source.key_format.name)
        self._value_format = formats.get_format(source.value_format.name)
        key_columns, value_columns = _columns(self.key_columns), _columns(self.value_columns)
        self._key_format.validate_properties(dict(source.key_format.properties))
        self._value_format.validate_properties(dict(source.value_format.properties))
        self._key_format.validate_columns(key_columns, is_key=True)
        self._value_format.validate_columns(value_columns, is_key=False)
        key_options = format_options(source.key_format, is_key=True)
        value_options = format_options(source.value_format, is_key=False)
        self._key_decoder: Any = self._key_format.decoder(key_columns, **key_options)
        self._value_decoder: Any = self._value_format.decoder(value_columns, **value_options)
        self._key_encoder: Any = self._key_format.encoder(key_columns, **key_options)
        self._value_encoder: Any = self._value_format.encoder(value_columns, **value_options)
        if source.window is not None:
            window_type = source.window.type.value
            size = source.window.size_ms
            wrap_decoder = getattr(formats, "windowed_key_decoder", None)
            wrap_encoder = getattr(formats, "windowed_key_encoder", None)
            if wrap_decoder is None or wrap_encoder is None:
                raise PlanError("Windowed keys are not supported by the installed formats package yet.")
            self._key_decoder = wrap_decoder(self._key_decoder, window_type, size)
            self._key_encoder = wrap_encoder(self._key_encoder, window_type, size)

    def decode_key(self, data: pa.Array) -> DecodedColumns:
        return self._decode(self._key_decoder, data, self.key_columns)

    def decode_value(self, data: pa.Array) -> DecodedColumns:
        return self._decode(self._value_decoder, data, self.value_columns)

    def encode_key(self, columns: Sequence[pa.Array]) -> tuple[pa.Array, list[tuple[int, str]]]:
        return self._encode(self._key_encoder, columns, self.key_columns)

    def encode_value(self, columns: Sequence[pa.Array]) -> tuple[pa.Array, list[tuple[int, str]]]:
        return self._encode(self._value_encoder, columns, self.value_columns)

    def _decode(self, decoder: Any, data: pa.Array, columns: Sequence[Column]) -> DecodedColumns:
        result = decoder.decode(data, topic=self.source.topic)
        table = result.table
        errors = [(int(e.row), str(e.message)) for e in result.errors]
        out: dict[str, pa.Array] = {}
        for column in columns:
            values = table.column(column.name)
            if isinstance(values, pa.ChunkedArray):
                values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
            wanted = to_arrow(column.type)
            if values.type != wanted:
                values = values.cast(wanted)
            out[column.name] = values
        return DecodedColumns(out, errors)

    @staticmethod
    def _encode(
        encoder: Any, arrays: Sequence[pa.Array], columns: Sequence[Column]
    ) -> tuple[pa.Array, list[tuple[int, str]]]:
        del columns
        result = encoder.encode(list(arrays))
        return result.data, [(int(e.row), str(e.message)) for e in result.errors]

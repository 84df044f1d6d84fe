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
    """Decoders and encoders for one source's key and value."""

    def __init__(self, source: DataSource) -> None:
        from headwater.engine import formats

        self.source = source
        schema = source.schema
        self.key_columns = schema.key_columns
        self.value_columns = schema.value_columns
        self._key_format = formats.get_format(source.key_format.name)
        self._value_format = formats.get_format(source.value_format.name)
        key_options = format_options(source.key_format, is_key=True)
        value_options = format_options(source.value_format, is_key=False)
        self._key_decoder = self._key_format.decoder(_columns(self.key_columns), **key_options)
        self._value_decoder = self._value_format.decoder(_columns(self.value_columns), **value_options)
        self._key_encoder = self._key_format.encoder(_columns(self.key_columns), **key_options)
        self._value_encoder = self._value_format.encoder(_columns(self.value_columns), **value_options)
        if source.window is not None:
            self._key_decoder = formats.windowed_key_decoder(
                self._key_decoder, source.window.type.value, source.window.size_ms
            )
            self._key_encoder = formats.windowed_key_encoder(
                self._key_encoder, source.window.type.value, source.window.size_ms
            )

    def decode_key(self, data: pa.Array) -> DecodedColumns:
        return self._decode(self._key_decoder, data, self.key_columns)

    def decode_value(self, data: pa.Array) -> DecodedColumns:
        return self._decode(self._value_decoder, data, self.value_columns)

    def encode_key(self, columns: Sequence[pa.Array]) -> tuple[pa.Array, list[tuple[int, str]]]:
        return self._encode(self._key_encoder, columns, self.key_columns)

    def encode_value(self, columns: Sequence[pa.Array]) -> tuple[pa.Array, list[tuple[int, str]]]:
        return self._encode(self._value_encoder, columns, self.value_columns)

    @staticmethod
    def _decode(decoder: Any, data: pa.Array, columns: Sequence[Column]) -> DecodedColumns:
        result = decoder.decode(data)
        table = result.table if hasattr(result, "table") else result.columns
        errors = [(int(e.row), str(e.message)) for e in result.errors]
        out: dict[str, pa.Array] = {}
        for column in columns:
            values = table.column(column.name) if hasattr(table, "column") else table[column.name]
            if isinstance(values, pa.ChunkedArray):
                values = values.combine_chunks()
            wanted = to_arrow(column.type)
            if values.type != wanted:
                values = values.cast(wanted)
            out[column.name] = values
        return DecodedColumns(out, errors)

    @staticmethod
    def _encode(
        encoder: Any, arrays: Sequence[pa.Array], columns: Sequence[Column]
    ) -> tuple[pa.Array, list[tuple[int, str]]]:
        table = pa.table({c.name: a for c, a in zip(columns, arrays)}) if columns else None
        result = encoder.encode(table)
        if isinstance(result, tuple):
            data, errors = result
        else:
            data, errors = result.data, result.errors
        return data, [(int(e.row), str(e.message)) for e in errors]

"""Serialisation of a source's keys and values: the engine's one door to :mod:`headwater.engine.formats`.

A :class:`SourceSerde` is built once per source and query from the source's formats and schema. It
decodes the raw ``__key`` / ``__value`` bytes of a raw topic into the source's key and value columns, and
encodes typed columns back into bytes (INSERT VALUES into raw topics, re-keying: the partition of a
record is chosen from its serialised key, as Kafka's partitioner does; the conformance runner reads
typed sinks back as the bytes ksqlDB would have written).

Decoding never raises for a bad record: it returns the rows that failed with ksqlDB's message, and the
caller drops those rows and reports them to the processing log. Windowed sources wrap the key format's
bytes in Kafka Streams' window layout; :meth:`SourceSerde.decode_key` then also returns the window
bounds as ``WINDOWSTART`` / ``WINDOWEND`` columns, and :meth:`SourceSerde.encode_key` takes them.

A source without key columns has a null key in every record, whatever its key format says, and a
source without value columns (the NONE value format) a null value. A multi-column key whose columns are
all null is written as a key of nulls (``{"K":null,"K2":null}``), as ksqlDB writes the key of a row
re-keyed to nulls; a record that had no key at all cannot be told apart once in a typed topic.

Example:
    >>> from headwater.parser import types as t
    >>> from headwater.engine.catalog import DataSource, FormatSpec, SourceType
    >>> from headwater.engine.schema import Column, LogicalSchema, Namespace
    >>> source = DataSource("S", SourceType.STREAM,
    ...     LogicalSchema((Column("K", t.STRING, Namespace.KEY), Column("V", t.INT))),
    ...     "s", FormatSpec("KAFKA"), FormatSpec("JSON"))
    >>> serde = SourceSerde(source)
    >>> data, errors = serde.encode_value([pa.array([1, None], pa.int32())])
    >>> data.to_pylist(), errors
    ([b'{"V":1}', b'{"V":null}'], [])
    >>> serde.decode_value(data).columns["V"].to_pylist()
    [1, None]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine import formats
from headwater.engine.catalog import DataSource, FormatSpec, WindowType
from headwater.engine.formats import Decoder, Encoder
from headwater.engine.schema import WINDOWEND, WINDOWSTART, Column
from headwater.engine.types import to_arrow
from headwater.parser import types as t

__all__ = ["DecodedColumns", "SourceSerde", "format_delimiter"]

RowErrors = list[tuple[int, str]]
"""(row index, ksqlDB's message) per row that could not be decoded or encoded."""


@dataclass(frozen=True, slots=True)
class DecodedColumns:
    """Decoded columns (one Arrow array per column, full length: failed and null rows are null), the
    failures as (row index, message), and which rows held null bytes (a tombstone, a missing key)."""

    columns: dict[str, pa.Array]
    errors: RowErrors = field(default_factory=list)
    null_record: np.ndarray | None = None


def format_delimiter(spec: FormatSpec) -> str | None:
    """The delimiter character of a DELIMITED format spec (the property is stored already parsed)."""
    return spec.get_property("delimiter")


def _columns(columns: Sequence[Column]) -> list[tuple[str, t.SqlType]]:
    return [(c.name, c.type) for c in columns]


def _contiguous(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    return values


class SourceSerde:
    """Decoders and encoders for one source's key and value.

    Building one validates the source's schema against its formats (ksqlDB's statement-time messages:
    unsupported types, too many columns for KAFKA, NONE with columns, map keys, bad delimiters...).

    Raises:
        PlanError: the formats cannot hold the source's columns.
    """

    def __init__(self, source: DataSource) -> None:
        self.source = source
        schema = source.schema
        self.key_columns = schema.key_columns
        self.value_columns = schema.value_columns
        key_format = formats.get_format(source.key_format.name)
        value_format = formats.get_format(source.value_format.name)
        key_columns, value_columns = _columns(self.key_columns), _columns(self.value_columns)
        key_format.validate_properties(dict(source.key_format.properties))
        value_format.validate_properties(dict(source.value_format.properties))
        formats.validate_key_column_types(key_columns)
        key_format.validate_columns(key_columns, is_key=True)
        value_format.validate_columns(value_columns, is_key=False)
        key_wrap = formats.decoder_wrap_single(source.key_format.features)
        value_wrap = formats.decoder_wrap_single(source.value_format.features)
        key_delimiter = format_delimiter(source.key_format)
        value_delimiter = format_delimiter(source.value_format)
        self._key_decoder = key_format.decoder(
            key_columns, is_key=True, wrap_single=key_wrap, delimiter=key_delimiter
        )
        self._key_encoder = key_format.encoder(
            key_columns, is_key=True, wrap_single=key_wrap, delimiter=key_delimiter
        )
        self._value_decoder = value_format.decoder(
            value_columns, is_key=False, wrap_single=value_wrap, delimiter=value_delimiter
        )
        self._value_encoder = value_format.encoder(
            value_columns, is_key=False, wrap_single=value_wrap, delimiter=value_delimiter
        )

    # -- decoding -----------------------------------------------------------------------------------------
    def decode_key(self, data: pa.Array | pa.ChunkedArray) -> DecodedColumns:
        """The key columns of each row (plus WINDOWSTART / WINDOWEND for a windowed source)."""
        data = _contiguous(data)
        window = self.source.window
        if window is None:
            return self._decode(self._key_decoder, data, self.key_columns)
        if window.type is WindowType.SESSION:
            keys = formats.unwrap_session_windows(data)
        else:
            keys = formats.unwrap_time_windows(data, window_size_ms=window.size_ms or 0)
        decoded = self._decode(self._key_decoder, keys.inner, self.key_columns)
        columns = dict(decoded.columns)
        columns[WINDOWSTART] = keys.start
        columns[WINDOWEND] = keys.end
        errors = sorted([*decoded.errors, *((int(e.row), str(e.message)) for e in keys.errors)])
        return DecodedColumns(columns, errors, decoded.null_record)

    def decode_value(self, data: pa.Array | pa.ChunkedArray) -> DecodedColumns:
        """The value columns of each row; ``null_record`` marks tombstones."""
        return self._decode(self._value_decoder, _contiguous(data), self.value_columns)

    def _decode(self, decoder: Decoder, data: pa.Array, columns: Sequence[Column]) -> DecodedColumns:
        result = decoder.decode(data, topic=self.source.topic)
        table = result.table
        out: dict[str, pa.Array] = {}
        for column in columns:
            values = _contiguous(table.column(column.name))
            wanted = to_arrow(column.type)
            if values.type != wanted:
                values = values.cast(wanted)
            out[column.name] = values
        errors = [(int(e.row), str(e.message)) for e in result.errors]
        return DecodedColumns(out, errors, np.asarray(result.null_record, dtype=bool))

    # -- encoding -----------------------------------------------------------------------------------------
    def encode_key(
        self,
        columns: Sequence[pa.Array | pa.ChunkedArray],
        *,
        rows: int | None = None,
        absent: np.ndarray | None = None,
    ) -> tuple[pa.Array, RowErrors]:
        """Serialised keys of the rows whose key columns are ``columns`` (in key order; a windowed
        source takes WINDOWSTART and WINDOWEND after them). A source without key columns gets null
        keys, ``rows`` of them (the length cannot be read from no columns). Rows marked in ``absent``
        (records that had no key: :data:`~headwater.engine.operators.base.ABSENT_KEY_COLUMN`) get a
        null key (and no window)."""
        arrays = [_contiguous(c) for c in columns]
        length = len(arrays[0]) if arrays else (rows or 0)
        inner = arrays[: len(self.key_columns)]
        if not self.key_columns:
            data: pa.Array = pa.nulls(length, pa.binary())
            errors: RowErrors = []
        else:
            data, errors = self._encode(self._key_encoder, inner, None)
        window = self.source.window
        if window is None:
            return _without_absent(data, absent), errors
        if len(arrays) < len(self.key_columns) + 2:
            raise ValueError("a windowed key needs WINDOWSTART and WINDOWEND after the key columns")
        start, end = arrays[len(self.key_columns)], arrays[len(self.key_columns) + 1]
        if window.type is WindowType.SESSION:
            return _without_absent(formats.wrap_session_windows(data, start, end), absent), errors
        return _without_absent(formats.wrap_time_windows(data, start), absent), errors

    def encode_value(
        self,
        columns: Sequence[pa.Array | pa.ChunkedArray],
        *,
        rows: int | None = None,
        null_record: np.ndarray | None = None,
    ) -> tuple[pa.Array, RowErrors]:
        """Serialised values; rows marked in ``null_record`` (tombstones) are null bytes."""
        arrays = [_contiguous(c) for c in columns]
        length = len(arrays[0]) if arrays else (rows if rows is not None else 0)
        if not self.value_columns:
            return pa.nulls(length, pa.binary()), []
        return self._encode(self._value_encoder, arrays, null_record)

    @staticmethod
    def _encode(
        encoder: Encoder, arrays: Sequence[pa.Array], null_record: np.ndarray | None
    ) -> tuple[pa.Array, RowErrors]:
        result = encoder.encode(list(arrays), null_record=null_record)
        return result.data, [(int(e.row), str(e.message)) for e in result.errors]


def _without_absent(keys: pa.Array, absent: np.ndarray | None) -> pa.Array:
    """``keys`` with the rows marked in ``absent`` null."""
    if absent is None or not absent.any():
        return keys
    return pc.if_else(pa.array(absent), pa.scalar(None, keys.type), keys)

"""Source scan: stored record batches of a topic -> row batches of a source.

The input is a batch as the event log stores it (``__offset``, ``__timestamp``, ``__headers`` and either
``__key`` / ``__value`` bytes for a raw topic or the typed columns of a typed topic) with a
``__partition`` column the driver adds. The output is a row batch (see
:mod:`headwater.engine.operators.base`): the source's key, value and header columns, ROWTIME,
ROWPARTITION, ROWOFFSET and the headers.

* Raw topics are decoded with the source's formats, vectorized; rows whose key or value fails to decode
  are dropped and reported (ksqlDB logs them to the processing log and goes on).
* A record with a null value becomes a row without a value (:data:`NULL_VALUE_COLUMN` true, value
  columns null), which later operators treat as ksqlDB does (see :mod:`headwater.engine.operators.base`).
* A windowed source's key carries its window: WINDOWSTART and WINDOWEND columns follow the schema's.
* Typed topics are read by column name; a typed topic whose columns differ from the source's schema
  (a source declared over another query's sink with other columns) is re-encoded with the topic's
  formats and decoded with the source's, exactly what ksqlDB would do with the bytes.
* ROWTIME is the record's timestamp, or the TIMESTAMP column (BIGINT ms, TIMESTAMP, or STRING parsed
  with TIMESTAMP_FORMAT); a row whose timestamp column is NULL or unparsable is dropped and reported.
* ``HEADERS`` columns get the record's headers; ``HEADER('k')`` columns the last value of header k.
* A table's record without a key is dropped: a table row needs a key, and Kafka Streams' table
  source skips such records. A multi-column key with some NULL columns is a key (ksqlDB's key is the
  struct of its columns); with one key column, NULL is no key.
* A stream's record without a key, when the stream has several key columns, has all its key columns
  NULL and :data:`ABSENT_KEY_COLUMN` set, so that a sink writes it back without a key (a typed sink
  topic stores the mark: :func:`headwater.engine.operators.sink.stored_schema`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.catalog import DataSource
from headwater.engine.operators.base import (
    ABSENT_KEY_COLUMN,
    ABSENT_KEY_METADATA,
    HEADERS_ARROW_TYPE,
    HEADERS_COLUMN,
    NULL_VALUE_COLUMN,
    Operator,
)
from headwater.engine.schema import (
    HEADERS_TYPE,
    ROWOFFSET,
    ROWPARTITION,
    ROWTIME,
    WINDOWEND,
    WINDOWSTART,
    Column,
    quote,
)
from headwater.engine.serde import SourceSerde
from headwater.engine.types import to_arrow
from headwater.errors import ExecutionError
from headwater.parser import types as t

__all__ = ["PARTITION_COLUMN", "SourceScanOperator", "header_values"]

PARTITION_COLUMN = "__partition"
"""Added by the driver to a stored batch: the partition it was read from (int32)."""

RecordErrorReporter = Callable[[str, str, int, int, str, bytes | None], None]
"""(topic, target "key"/"value"/"timestamp", partition, offset, message, raw bytes) for a dropped
record."""


def header_values(headers: pa.Array, key: str) -> pa.Array:
    """The value of the last header named ``key`` in each row's header list (NULL when absent).

    Vectorized: flatten the lists, keep entries with the key, and for each parent row take the last one.

    Example:
        >>> h = pa.array([[{"key": "a", "value": b"1"}, {"key": "a", "value": b"2"}], None, []],
        ...              type=HEADERS_ARROW_TYPE)
        >>> header_values(h, "a").to_pylist()
        [b'2', None, None]
    """
    rows = len(headers)
    if rows == 0:
        return pa.array([], type=pa.binary())
    if isinstance(headers, pa.ChunkedArray):
        headers = headers.combine_chunks()
    flat = pc.list_flatten(headers)
    parents = pc.list_parent_indices(headers)
    if len(flat) == 0:
        return pa.nulls(rows, type=pa.binary())
    matches = pc.equal(pc.struct_field(flat, [0]), key)
    matches = pc.fill_null(matches, False)
    positions = np.flatnonzero(matches.to_numpy(zero_copy_only=False))
    if positions.size == 0:
        return pa.nulls(rows, type=pa.binary())
    matched_parents = parents.to_numpy()[positions]
    # The last match per parent: positions are increasing, so keep each parent's final occurrence.
    last = np.ones(positions.size, dtype=bool)
    last[:-1] = matched_parents[:-1] != matched_parents[1:]
    take_index = np.full(rows, -1, dtype=np.int64)
    take_index[matched_parents[last]] = positions[last]
    values = pc.struct_field(flat, [1])
    mask = take_index < 0
    return values.take(pa.array(np.where(mask, 0, take_index), mask=mask))


def _tombstones(batch: pa.RecordBatch) -> np.ndarray:
    """The ``__tombstone`` flags of a typed batch (all false when the column is absent)."""
    index = batch.schema.get_field_index("__tombstone")
    if index < 0:
        return np.zeros(batch.num_rows, dtype=bool)
    return np.asarray(pc.fill_null(batch.column(index), False).to_numpy(zero_copy_only=False), dtype=bool)


def _tombstone_flags(batch: pa.RecordBatch) -> pa.Array:
    """The ``__tombstone`` flags of a typed batch as the row batch's null-value column, without a trip
    through numpy: the stored column itself when it has no nulls (the common case), else with nulls
    read as false; all false when the column is absent."""
    index = batch.schema.get_field_index("__tombstone")
    if index < 0:
        return pa.repeat(pa.scalar(False), batch.num_rows)
    flags = batch.column(index)
    if flags.type != pa.bool_():
        flags = flags.cast(pa.bool_())
    return flags if flags.null_count == 0 else pc.fill_null(flags, False)


def _headers_column(headers: pa.Array) -> pa.Array:
    """The stored headers as the SQL type ARRAY<STRUCT<KEY STRING, VALUE BYTES>>: the same buffers with
    the struct's fields renamed (a cast would match fields by name and find none)."""
    if isinstance(headers, pa.ChunkedArray):
        headers = headers.combine_chunks()
    if headers.offset and headers.null_count:
        headers = pa.concat_arrays([headers.slice(0, 0), headers])  # a copy that starts at offset 0
    entries = headers.values
    keys, values = entries.flatten()
    renamed = pa.StructArray.from_arrays(
        [keys, values], names=["KEY", "VALUE"], mask=entries.is_null() if entries.null_count else None
    )
    out = pa.ListArray.from_arrays(
        headers.offsets, renamed, mask=headers.is_null() if headers.null_count else None
    )
    wanted = to_arrow(HEADERS_TYPE)
    return out if out.type == wanted else out.cast(wanted)


class SourceScanOperator(Operator):
    """Turns stored batches of one source's topic into row batches (see the module docstring).

    Args:
        source: the source being read.
        raw: True when the topic holds ``__key`` / ``__value`` bytes.
        topic_source: for a typed topic read with other columns, the source whose formats describe how
            the topic's columns serialise (the sink that created it); None otherwise.
        report: called for each dropped record.
        timestamp_parser: parses a STRING timestamp column (TIMESTAMP_FORMAT).
        throw_on_invalid_timestamp: ``ksql.timestamp.throw.on.invalid``: a record whose timestamp
            column is NULL, negative or unparsable fails the query instead of being dropped and logged.
        drop_null_keys: drop records with a NULL in a key column (a table's records).
    """

    kind = "scan"

    def __init__(
        self,
        source: DataSource,
        *,
        raw: bool,
        topic_source: DataSource | None = None,
        report: RecordErrorReporter | None = None,
        timestamp_parser: Callable[[pa.Array], tuple[pa.Array, list[tuple[int, str]]]] | None = None,
        throw_on_invalid_timestamp: bool = False,
        drop_null_keys: bool = False,
    ) -> None:
        self.source = source
        self.drop_null_keys = drop_null_keys and bool(source.schema.key_columns)
        self.raw = raw
        self.report = report
        self.serde = SourceSerde(source) if (raw or topic_source is not None) else None
        self.topic_serde = SourceSerde(topic_source) if topic_source is not None else None
        self.timestamp_parser = timestamp_parser
        self.throw_on_invalid_timestamp = throw_on_invalid_timestamp

    def process(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        rows = batch.num_rows
        if rows == 0:
            return []
        keep = np.ones(rows, dtype=bool)
        offsets = batch.column("__offset")
        partitions = batch.column(PARTITION_COLUMN)
        columns: dict[str, pa.Array] = {}
        schema = self.source.schema
        null_value: np.ndarray | pa.Array
        if self.raw:
            null_value = self._decode_raw(batch, columns, keep, partitions, offsets)
        elif self.topic_serde is not None:
            null_value = self._transcode(batch, columns, keep, partitions, offsets)
        else:
            null_value = self._read_typed(batch, columns)
        headers = (
            batch.column("__headers")
            if "__headers" in batch.schema.names
            else pa.nulls(rows, HEADERS_ARROW_TYPE)
        )
        for column in schema.header_columns:
            columns[column.name] = self._header_column(column, headers)
        rowtime = self._rowtime(batch, columns, keep, partitions, offsets)
        if self.drop_null_keys:
            keep &= self._has_key(batch, columns)
        names = [c.name for c in schema]
        arrays = [columns[name] for name in names]
        if self.source.window is not None:
            names += [WINDOWSTART, WINDOWEND]
            arrays += [columns[WINDOWSTART], columns[WINDOWEND]]
        if partitions.type != pa.int32():
            partitions = partitions.cast(pa.int32())
        null_flags = null_value if isinstance(null_value, pa.Array) else pa.array(null_value)
        arrays += [rowtime, partitions, offsets, headers, null_flags]
        names += [ROWTIME, ROWPARTITION, ROWOFFSET, HEADERS_COLUMN, NULL_VALUE_COLUMN]
        absent = self._absent_keys(batch)
        if absent is not None:
            arrays.append(absent)
            names.append(ABSENT_KEY_COLUMN)
        out = pa.RecordBatch.from_arrays(arrays, names=names)
        if not keep.all():
            out = out.filter(pa.array(keep))
        return [out] if out.num_rows else []

    def _absent_keys(self, batch: pa.RecordBatch) -> pa.Array | None:
        """For a stream with several key columns, which records had no key at all (None when every
        record had one): null key bytes, or a typed topic's marker column."""
        if self.drop_null_keys or len(self.source.schema.key_columns) < 2:
            return None
        if "__key" in batch.schema.names:
            keys = batch.column("__key")
            return keys.is_null() if keys.null_count else None
        for field in batch.schema:
            if field.metadata and field.metadata.get(ABSENT_KEY_METADATA.encode()) == b"true":
                marks = batch.column(field.name)
                return marks if marks.null_count < len(marks) and pc.any(marks).as_py() else None
        return None

    def _has_key(self, batch: pa.RecordBatch, columns: dict[str, pa.Array]) -> np.ndarray:
        """Which rows have a key: a raw record's key bytes, a typed row's key columns not all NULL."""
        keys = self.source.schema.key_columns
        if self.raw and len(keys) > 1:
            return np.asarray(batch.column("__key").is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        present = np.zeros(batch.num_rows, dtype=bool)
        for column in keys:
            present |= np.asarray(columns[column.name].is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        return present

    def _decode_raw(
        self,
        batch: pa.RecordBatch,
        columns: dict[str, pa.Array],
        keep: np.ndarray,
        partitions: pa.Array,
        offsets: pa.Array,
    ) -> np.ndarray:
        """Decode ``__key`` / ``__value`` bytes; returns which rows have a null value."""
        assert self.serde is not None
        key_bytes = batch.column("__key")
        value_bytes = batch.column("__value")
        if self.source.schema.key_columns or self.source.window is not None:
            decoded = self.serde.decode_key(key_bytes)
            columns.update(decoded.columns)
            self._drop(decoded.errors, keep, "key", partitions, offsets, key_bytes)
        decoded = self.serde.decode_value(value_bytes)
        columns.update(decoded.columns)
        self._drop(decoded.errors, keep, "value", partitions, offsets, value_bytes)
        if self.source.schema.value_columns and decoded.null_record is not None:
            return decoded.null_record.copy()
        return np.asarray(value_bytes.is_null().to_numpy(zero_copy_only=False), dtype=bool)

    def _read_typed(self, batch: pa.RecordBatch, columns: dict[str, pa.Array]) -> pa.Array:
        """Typed topic with the source's own columns: read them by name; returns the tombstones."""
        rows = batch.num_rows
        wanted_columns = [c for c in self.source.schema if not c.is_header]
        if self.source.window is not None:
            wanted_columns += [Column(WINDOWSTART, t.BIGINT), Column(WINDOWEND, t.BIGINT)]
        for column in wanted_columns:
            index = batch.schema.get_field_index(column.name)
            wanted = to_arrow(column.type)
            if index < 0:
                columns[column.name] = pa.nulls(rows, type=wanted)
            else:
                values = batch.column(index)
                columns[column.name] = values if values.type == wanted else values.cast(wanted)
        return _tombstone_flags(batch)

    # -- pieces --------------------------------------------------------------------------------------------
    def _drop(
        self,
        errors: list[tuple[int, str]],
        keep: np.ndarray,
        target: str,
        partitions: pa.Array,
        offsets: pa.Array,
        data: pa.Array | None,
    ) -> None:
        for row, message in errors:
            if keep[row] and self.report is not None:
                raw = data[row].as_py() if data is not None else None
                self.report(
                    self.source.topic,
                    target,
                    int(partitions[row].as_py()),
                    int(offsets[row].as_py()),
                    message,
                    raw,
                )
            keep[row] = False

    def _transcode(
        self,
        batch: pa.RecordBatch,
        columns: dict[str, pa.Array],
        keep: np.ndarray,
        partitions: pa.Array,
        offsets: pa.Array,
    ) -> np.ndarray:
        """Typed topic, other schema: encode with the topic's formats, decode with the source's;
        returns the tombstones."""
        assert self.topic_serde is not None and self.serde is not None
        topic_serde = self.topic_serde

        def stored(cols: tuple[Column, ...]) -> list[pa.Array]:
            out = []
            for c in cols:
                index = batch.schema.get_field_index(c.name)
                out.append(batch.column(index) if index >= 0 else pa.nulls(batch.num_rows, to_arrow(c.type)))
            return out

        rows = batch.num_rows
        if self.source.schema.key_columns:
            key_inputs = stored(topic_serde.key_columns)
            if self.topic_serde.source.window is not None:
                key_inputs += stored((Column(WINDOWSTART, t.BIGINT), Column(WINDOWEND, t.BIGINT)))
            key_bytes, key_errors = topic_serde.encode_key(key_inputs, rows=rows)
            self._drop(key_errors, keep, "key", partitions, offsets, None)
            decoded = self.serde.decode_key(key_bytes)
            columns.update(decoded.columns)
            self._drop(decoded.errors, keep, "key", partitions, offsets, key_bytes)
        tombstones = _tombstones(batch)
        value_bytes, value_errors = topic_serde.encode_value(
            stored(topic_serde.value_columns), rows=rows, null_record=tombstones
        )
        self._drop(value_errors, keep, "value", partitions, offsets, None)
        decoded = self.serde.decode_value(value_bytes)
        columns.update(decoded.columns)
        self._drop(decoded.errors, keep, "value", partitions, offsets, value_bytes)
        if self.source.schema.value_columns and decoded.null_record is not None:
            return decoded.null_record | tombstones
        return tombstones

    def _header_column(self, column: Column, headers: pa.Array) -> pa.Array:
        if column.header_key is None:
            return _headers_column(headers)
        return header_values(headers, column.header_key)

    def _rowtime(
        self,
        batch: pa.RecordBatch,
        columns: dict[str, pa.Array],
        keep: np.ndarray,
        partitions: pa.Array,
        offsets: pa.Array,
    ) -> pa.Array:
        name = self.source.timestamp_column
        if name is None:
            return batch.column("__timestamp")
        column = self.source.schema.find(name)
        assert column is not None
        values = columns[name]
        errors: list[tuple[int, str]] = []
        if column.type == t.STRING:
            if self.timestamp_parser is None:
                raise ValueError("a STRING timestamp column needs a timestamp parser")
            millis, errors = self.timestamp_parser(values)
        else:
            millis = values.cast(pa.int64())
        invalid = np.flatnonzero(
            pc.or_kleene(pc.is_null(millis), pc.less(pc.fill_null(millis, 0), 0)).to_numpy(
                zero_copy_only=False
            )
            & keep
        )
        if self.throw_on_invalid_timestamp and len(invalid):
            first = int(invalid[0])
            reason = dict(errors).get(first, f"Invalid timestamp in column {name}")
            raise ExecutionError(
                f"Invalid timestamp in column {quote(name)} of topic {self.source.topic}, partition "
                f"{partitions[first].as_py()}, offset {offsets[first].as_py()}: {reason}"
            )
        self._drop(errors, keep, "timestamp", partitions, offsets, None)
        for row in invalid:
            if keep[row] and self.report is not None:
                self.report(
                    self.source.topic,
                    "timestamp",
                    int(partitions[row].as_py()),
                    int(offsets[row].as_py()),
                    f"Invalid timestamp in column {name}",
                    None,
                )
            keep[row] = False
        return pc.fill_null(millis, 0)

"""Sink: append row batches to the sink's topic, with each row's event time and headers.

A *typed* sink topic (what a CSAS creates) stores the sink's columns in schema order (key columns carry
the ``headwater.key`` metadata). A *raw* sink topic (INSERT INTO ... SELECT, or a CSAS, into a stream
declared over a topic of serialised records) stores ``__key`` / ``__value`` bytes in the sink's formats,
as ksqlDB would have produced them; a row whose value cannot be serialised is dropped and reported.

Either way ``__timestamp`` comes from ROWTIME (or from the sink's TIMESTAMP column when the statement
named one: BIGINT milliseconds, a TIMESTAMP, or a STRING parsed with TIMESTAMP_FORMAT; a row whose column
is NULL or unparsable keeps ROWTIME), and ``__headers`` is copied from the input record, as Kafka Streams
copies headers to its output. A row without a value (see :mod:`headwater.engine.operators.base`) is a
record with a null value: ``__tombstone`` set and null value columns (typed), or a null ``__value``.

Partitioning: with :data:`~headwater.engine.operators.repartition.KEY_BYTES_COLUMN` present (keyed sinks)
the log hashes the serialised key with murmur2 (a windowed key without its window, as Kafka Streams'
``WindowedStreamPartitioner`` does, so all windows of a key share a partition); a keyless row keeps its
source partition modulo the sink's partition count, so a keyless stream stays in order per source
partition.

The sink appends and returns nothing; the runtime commits the step's checkpoint after it (see
:mod:`headwater.engine.runtime.persistent`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.catalog import DataSource, SourceType, WindowType
from headwater.engine.formats.windowed import partition_key_bytes
from headwater.engine.operators.base import (
    ABSENT_KEY_COLUMN,
    ABSENT_KEY_METADATA,
    HEADERS_COLUMN,
    Operator,
    absent_key_mask,
    null_value_mask,
    system_column,
)
from headwater.engine.operators.repartition import KEY_BYTES_COLUMN
from headwater.engine.schema import ROWPARTITION, ROWTIME, WINDOWEND, WINDOWSTART
from headwater.engine.serde import SourceSerde
from headwater.parser import types as t

__all__ = ["SMALL_APPEND_ROWS", "SinkOperator", "absent_key_field", "stored_schema"]

SMALL_APPEND_ROWS = 4096
"""Between :meth:`SinkOperator.begin_step` and :meth:`SinkOperator.end_step`, outputs smaller than this
are gathered and appended together (up to about this many rows per append)."""

_Routing = tuple[str, Any]
"""How a stored batch's rows find their partitions: ("key_bytes", serialised keys), ("partitions",
partition per row) or ("partition", None) for partition 0."""


def stored_schema(sink: DataSource) -> pa.Schema:
    """The Arrow schema of the sink's typed topic: the user columns (the log adds system columns), and
    for a windowed sink the window bounds of each row's key, WINDOWSTART and WINDOWEND (int64 ms).

    A stream with several key columns also stores which records had no key at all (a boolean column
    marked with :data:`~headwater.engine.operators.base.ABSENT_KEY_METADATA`, true for such a record;
    see :data:`~headwater.engine.operators.base.ABSENT_KEY_COLUMN`): its key columns are all NULL
    either way, but ksqlDB writes it back with a null key, not a key of NULLs. Readers find the column
    by its metadata (:func:`absent_key_field`); its name only avoids the sink's own columns."""
    fields = [f for f, c in zip(sink.schema.arrow_fields(), sink.schema) if not c.is_header]
    if sink.window is not None:
        bound = {"headwater.window": "true"}
        fields += [pa.field(WINDOWSTART, pa.int64(), metadata=bound), pa.field(WINDOWEND, pa.int64(), metadata=bound)]
    if sink.kind is SourceType.STREAM and len(sink.schema.key_columns) > 1:
        taken = {f.name for f in fields} | {c.name for c in sink.schema}
        name, suffix = "HEADWATER_ABSENT_KEY", 0
        while name in taken:
            suffix += 1
            name = f"HEADWATER_ABSENT_KEY_{suffix}"
        fields.append(pa.field(name, pa.bool_(), metadata={ABSENT_KEY_METADATA: "true"}))
    return pa.schema(fields)


def absent_key_field(schema: pa.Schema) -> str | None:
    """The name of the column of a typed topic's schema that marks records without a key, if any."""
    for field in schema:
        if field.metadata and field.metadata.get(ABSENT_KEY_METADATA.encode()) == b"true":
            return field.name
    return None


class SinkOperator(Operator):
    """Appends to ``topic`` (an event-log topic with ``partition_count`` partitions).

    Attributes:
        appended: records appended since creation (for tests and statistics).
    """

    kind = "sink"

    def __init__(
        self,
        sink: DataSource,
        topic: Any,
        partition_count: int,
        timestamp_parser: Callable[[pa.Array], tuple[pa.Array, list[tuple[int, str]]]] | None = None,
        *,
        raw: bool = False,
        report: Callable[[int, str], None] | None = None,
    ) -> None:
        self.sink = sink
        self.topic = topic
        self.partition_count = partition_count
        self.timestamp_parser = timestamp_parser
        self.raw = raw
        self.report = report
        self.serde = SourceSerde(sink) if raw else None
        self.schema = stored_schema(sink)
        self.absent_key = absent_key_field(self.schema)
        self.appended = 0
        self._pending: list[tuple[pa.RecordBatch, _Routing]] | None = None
        self._pending_rows = 0

    def _timestamps(self, batch: pa.RecordBatch) -> pa.Array:
        timestamp = system_column(batch, ROWTIME)
        ts_name = self.sink.timestamp_column
        if ts_name is not None and ts_name in batch.schema.names:
            column = self.sink.schema.find(ts_name)
            values = batch.column(ts_name)
            if column is not None and column.type in (t.BIGINT, t.TIMESTAMP, t.INT):
                timestamp = pc.coalesce(values.cast(pa.int64()), timestamp)
            elif column is not None and column.type == t.STRING and self.timestamp_parser is not None:
                millis, _ = self.timestamp_parser(values)
                timestamp = pc.coalesce(millis, timestamp)
        return timestamp.cast(pa.int64())

    def stored_batch(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """The batch as the sink's typed topic stores it."""
        arrays = [
            self._absent_keys(batch) if field.name == self.absent_key else batch.column(field.name)
            for field in self.schema
        ]
        arrays = [a if a.type == f.type else a.cast(f.type) for a, f in zip(arrays, self.schema)]
        timestamp = self._timestamps(batch)
        fields = list(self.schema)
        null_values = null_value_mask(batch)
        if null_values is not None:
            # a tombstone keeps its key, and a windowed key its window
            keys = {c.name for c in self.sink.schema.key_columns} | {WINDOWSTART, WINDOWEND}
            blank = pa.array(null_values)
            arrays = [
                a if f.name in keys else pc.if_else(blank, pa.scalar(None, f.type), a)
                for a, f in zip(arrays, fields)
            ]
            arrays.append(blank)
            fields.append(pa.field("__tombstone", pa.bool_(), nullable=False))
        if HEADERS_COLUMN in batch.schema.names:
            arrays.append(batch.column(HEADERS_COLUMN))
            fields.append(batch.schema.field(HEADERS_COLUMN))
        arrays.append(timestamp)
        fields.append(pa.field("__timestamp", pa.int64()))
        return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))

    def _partition_keys(self, key_bytes: pa.Array) -> pa.Array:
        window = self.sink.window
        if window is None:
            return key_bytes
        return partition_key_bytes(key_bytes, session=window.type is WindowType.SESSION)

    @staticmethod
    def _absent_keys(batch: pa.RecordBatch) -> pa.Array:
        index = batch.schema.get_field_index(ABSENT_KEY_COLUMN)
        return batch.column(index) if index >= 0 else pa.nulls(batch.num_rows, pa.bool_())

    def raw_batch(self, batch: pa.RecordBatch) -> tuple[pa.RecordBatch, pa.RecordBatch]:
        """The batch as a raw topic stores it (serialised in the sink's formats), and the input rows that
        made it (rows whose value cannot be serialised are dropped and reported)."""
        assert self.serde is not None
        rows = batch.num_rows
        null_values = null_value_mask(batch)
        values, errors = self.serde.encode_value(
            [batch.column(c.name) for c in self.serde.value_columns], rows=rows, null_record=null_values
        )
        if KEY_BYTES_COLUMN in batch.schema.names:
            keys = batch.column(KEY_BYTES_COLUMN)
            absent = absent_key_mask(batch)
            if absent is not None:  # records that had no key are written without one
                keys = pc.if_else(pa.array(absent), pa.scalar(None, keys.type), keys)
        else:
            keys = pa.nulls(rows, pa.binary())
        arrays = [keys, values, self._timestamps(batch)]
        names = ["__key", "__value", "__timestamp"]
        if HEADERS_COLUMN in batch.schema.names:
            arrays.append(batch.column(HEADERS_COLUMN))
            names.append(HEADERS_COLUMN)
        stored = pa.RecordBatch.from_arrays(arrays, names=names)
        if errors:
            keep = np.ones(rows, dtype=bool)
            for row, message in errors:
                keep[row] = False
                if self.report is not None:
                    self.report(row, message)
            mask = pa.array(keep)
            return stored.filter(mask), batch.filter(mask)
        return stored, batch

    def process(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        if batch.num_rows == 0:
            return []
        if self.raw:
            stored, batch = self.raw_batch(batch)
            if stored.num_rows == 0:
                return []
        else:
            stored = self.stored_batch(batch)
        if KEY_BYTES_COLUMN in batch.schema.names:
            routing: _Routing = ("key_bytes", self._partition_keys(batch.column(KEY_BYTES_COLUMN)))
        elif self.partition_count == 1:
            routing = ("partition", None)
        else:
            source_partition = system_column(batch, ROWPARTITION).to_numpy(zero_copy_only=False).astype(np.int64)
            routing = ("partitions", source_partition % self.partition_count)
        self.appended += batch.num_rows
        if self._pending is None or stored.num_rows >= SMALL_APPEND_ROWS:
            self._flush_pending()
            self._append(stored, routing)
            return []
        if self._pending and (
            self._pending[0][0].schema != stored.schema or self._pending[0][1][0] != routing[0]
        ):
            self._flush_pending()
        self._pending.append((stored, routing))
        self._pending_rows += stored.num_rows
        if self._pending_rows >= SMALL_APPEND_ROWS:
            self._flush_pending()
        return []

    # -- step buffering --------------------------------------------------------------------------------------
    def begin_step(self) -> None:
        """From now until :meth:`end_step`, gather small outputs and append them together.

        A selective query (a WHERE keeping one row in a hundred) turns each stored input batch into a
        few output rows; appending each alone pays the log's fixed cost per append (schema checks, a
        segment write, index entries) once per input batch. Gathered, the step's output goes to the log
        in one append of the same rows in the same order, before the step commits. Outputs of at least
        :data:`SMALL_APPEND_ROWS` rows are appended at once (concatenating them would only copy)."""
        if self._pending is None:
            self._pending = []
            self._pending_rows = 0

    def end_step(self) -> None:
        """Append what :meth:`begin_step` gathered (call before the step commits) and stop gathering."""
        self._flush_pending()
        self._pending = None

    def abandon_step(self) -> None:
        """Drop what :meth:`begin_step` gathered (the step failed: its output must not reach the log)."""
        self._pending = None
        self._pending_rows = 0

    def _flush_pending(self) -> None:
        pending = self._pending
        if not pending:
            return
        self._pending = []
        self._pending_rows = 0
        if len(pending) == 1:
            self._append(*pending[0])
            return
        stored = pa.concat_batches([item[0] for item in pending])
        kind = pending[0][1][0]
        routes = [item[1][1] for item in pending]
        if kind == "key_bytes":
            self._append(stored, (kind, pa.concat_arrays(routes)))
        elif kind == "partitions":
            self._append(stored, (kind, np.concatenate(routes)))
        else:
            self._append(stored, (kind, None))

    def _append(self, stored: pa.RecordBatch, routing: _Routing) -> None:
        kind, route = routing
        if kind == "key_bytes":
            self.topic.append(stored, key_bytes=route)
        elif kind == "partitions":
            self.topic.append(stored, partitions=route)
        else:
            self.topic.append(stored, partition=0)

    def discard_output(self) -> None:
        """From now on, convert and route every batch as before but append nothing (the count in
        :attr:`appended` goes on). For measuring what writing the sink topic costs: the query's
        checkpoints still record the topic's (unchanged) end offsets, so restarting the query later
        neither repeats nor loses anything it consumed while discarding, and none of that output
        exists."""
        self.topic = _DiscardedTopic()


class _DiscardedTopic:
    """Takes a sink topic's place for :meth:`SinkOperator.discard_output`: accepts appends, keeps nothing."""

    def append(
        self,
        batch: pa.RecordBatch,
        partition: int | None = None,
        partitions: np.ndarray | None = None,
        key_bytes: pa.Array | None = None,
    ) -> list[Any]:
        return []

"""Decoding stored records into a source's rows for historical queries: the streaming scan, reused.

Sources whose topic does not store their columns as they are (raw JSON or DELIMITED topics, a typed
topic declared with other columns, header columns, a TIMESTAMP column for ROWTIME) are read through
the very :class:`~headwater.engine.operators.source_scan.SourceScanOperator` a push or persistent query
uses, lowered from the same ``ScanNode``. A historical query therefore sees exactly the rows a
streaming query would: the same vectorized decoders, the same null-value rows, the same ROWTIME.

Records that do not decode are dropped from the rows, as in streaming, and never silently: each goes to
the processing log (once, when its segment is decoded) and the :class:`DecodeReport` of the query
counts it, so results can say how many records were skipped.

Decoding is the expensive part of a historical query over a raw topic, so a :class:`DecodeCache` keeps
the decoded rows of sealed segments (immutable files) for the life of a client, keyed by the file's
identity (path, inode, size, modification time) and the source's definition.

Example::

    decoder = SourceDecoder.for_source(engine, source, config, report)
    table = decoder.decode(snapshot, segments, cache, counter)    # source columns + ROWTIME ...
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from headwater.engine.catalog import DataSource
from headwater.engine.historical.segments import SegmentOpenCounter, TopicSnapshot, read_segment
from headwater.engine.operators.base import NULL_VALUE_COLUMN, Operator
from headwater.engine.planner.binding import compile_timestamp_parser
from headwater.engine.planner.logical import RowColumn, ScanNode
from headwater.engine.planner.physical import LoweringContext, lower
from headwater.engine.runtime.processing_log import ProcessingLogEntry
from headwater.engine.schema import PSEUDO_COLUMNS, WINDOW_COLUMNS
from headwater.engine.types import to_arrow

__all__ = ["HISTORICAL_QUERY_ID", "DecodeCache", "DecodeReport", "SourceDecoder", "row_schema"]

HISTORICAL_QUERY_ID = "HISTORICAL"
"""The query id processing-log entries of historical reads carry."""


def row_schema(source: DataSource) -> pa.Schema:
    """The Arrow schema of a source's decoded rows: its columns in schema order, WINDOWSTART and
    WINDOWEND for a windowed source, ROWTIME, ROWPARTITION, ROWOFFSET, and the null-value flag."""
    fields = [pa.field(c.name, to_arrow(c.type)) for c in source.schema]
    if source.window is not None:
        fields += [pa.field(name, to_arrow(sql_type)) for name, sql_type in WINDOW_COLUMNS.items()]
    fields += [pa.field(name, to_arrow(sql_type)) for name, sql_type in PSEUDO_COLUMNS.items()]
    fields.append(pa.field(NULL_VALUE_COLUMN, pa.bool_()))
    return pa.schema(fields)


class DecodeReport:
    """Records that could not be decoded during one query, counted per topic (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}

    def add(self, topic: str, count: int) -> None:
        if count:
            with self._lock:
                self._counts[topic] = self._counts.get(topic, 0) + count

    @property
    def counts(self) -> dict[str, int]:
        """Undecodable records per topic."""
        with self._lock:
            return dict(self._counts)

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())


@dataclass(frozen=True, slots=True)
class _Decoded:
    table: pa.Table
    failures: int


class DecodeCache:
    """Decoded rows of sealed segments, least recently used dropped first beyond ``max_bytes``."""

    def __init__(self, max_bytes: int = 512 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple[Any, ...], _Decoded] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> _Decoded | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: tuple[Any, ...], value: _Decoded) -> None:
        size = value.table.nbytes
        if size > self.max_bytes:
            return
        with self._lock:
            previous = self._entries.pop(key, None)
            if previous is not None:
                self._bytes -= previous.table.nbytes
            self._entries[key] = value
            self._bytes += size
            while self._bytes > self.max_bytes and self._entries:
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= dropped.table.nbytes

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


def _file_identity(path: Any) -> tuple[int, int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


class SourceDecoder:
    """Stored batches of one source's topic -> the source's rows (see the module docstring)."""

    def __init__(self, source: DataSource, scan: Operator, report: DecodeReport, cache_tag: tuple[Any, ...]) -> None:
        self.source = source
        self.scan = scan
        self.report = report
        self.schema = row_schema(source)
        self._failures = 0
        self._cache_tag = cache_tag

    @classmethod
    def for_source(
        cls, engine: Any, source: DataSource, config: Mapping[str, Any], report: DecodeReport
    ) -> SourceDecoder:
        """A decoder lowered exactly as a streaming query's scan of ``source`` is."""
        decoder: SourceDecoder

        def report_record(
            topic: str, target: str, partition: int, offset: int, message: str, raw: bytes | None
        ) -> None:
            decoder._failures += 1
            engine.processing_log.write(
                [
                    ProcessingLogEntry.deserialization(
                        HISTORICAL_QUERY_ID, topic, partition, target, message, raw, offset
                    )
                ]
            )

        def report_row(kind: str, row: int, message: str) -> None:
            engine.processing_log.write([ProcessingLogEntry.processing(HISTORICAL_QUERY_ID, message, None)])

        def open_topic(name: str) -> tuple[Any, int, bool, DataSource | None]:
            topic = engine.log.topic(name)
            raw = topic.schema is None
            writer = None
            if not raw:
                writer = next((s for s in engine.catalog.sources() if s.topic == name and s.is_sink), None)
            return topic, len(topic.end_offsets()), raw, writer

        def timestamp_parser(for_source: DataSource) -> Any:
            if for_source.timestamp_column is None or for_source.timestamp_format is None:
                return None
            return compile_timestamp_parser(
                for_source.timestamp_column, for_source.timestamp_format, engine.registry, config
            )

        lowering = LoweringContext(
            config=dict(config),
            report_row=report_row,
            report_record=report_record,
            open_topic=open_topic,
            timestamp_parser=timestamp_parser,
        )
        columns = tuple(RowColumn(c.name, c.type, c.namespace) for c in source.schema)
        (scan,) = lower(ScanNode(source, columns), lowering)
        throw = str(config.get("ksql.timestamp.throw.on.invalid", "false")).lower()
        decoder = cls(source, scan, report, (source, throw))
        return decoder

    def decode(
        self,
        snapshot: TopicSnapshot,
        segments: Sequence[Any],
        cache: DecodeCache | None,
        counter: SegmentOpenCounter | None,
    ) -> pa.Table:
        """The rows of ``segments``, null-value rows included (flagged), in segment order."""
        tables = []
        for segment in segments:
            key = None
            identity = _file_identity(segment.path) if segment.sealed else None
            if cache is not None and identity is not None:
                key = (str(segment.path), identity, self._cache_tag)
                found = cache.get(key)
                if found is not None:
                    if counter is not None:
                        counter.note(str(segment.path))
                    self.report.add(self.source.topic, found.failures)
                    tables.append(found.table)
                    continue
            decoded = self._decode_segment(snapshot, segment, counter)
            self.report.add(self.source.topic, decoded.failures)
            if key is not None and cache is not None:
                cache.put(key, decoded)
            tables.append(decoded.table)
        if not tables:
            return self.schema.empty_table()
        return pa.concat_tables(tables)

    def _decode_segment(self, snapshot: TopicSnapshot, segment: Any, counter: SegmentOpenCounter | None) -> _Decoded:
        self._failures = 0
        batches = []
        for stored in read_segment(snapshot, segment, counter):
            for row_batch in self.scan.process(stored):
                batches.append(self._conform(row_batch))
        table = pa.Table.from_batches(batches, schema=self.schema) if batches else self.schema.empty_table()
        return _Decoded(table, self._failures)

    def _conform(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """A scan output batch with exactly :func:`row_schema`'s columns (the hidden headers dropped)."""
        arrays = []
        for target in self.schema:
            index = batch.schema.get_field_index(target.name)
            if index < 0:
                if target.name == NULL_VALUE_COLUMN:
                    arrays.append(pa.repeat(pa.scalar(False), batch.num_rows))
                    continue
                arrays.append(pa.nulls(batch.num_rows, target.type))
                continue
            column = batch.column(index)
            arrays.append(column if column.type == target.type else column.cast(target.type))
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)


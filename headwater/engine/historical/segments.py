"""A topic's segments as an Arrow dataset, with the statistics that let a time-range query skip them.

Sealed segments are complete Arrow IPC files (docs/storage-format.md). Each becomes one fragment of a
``pyarrow.dataset.FileSystemDataset`` whose *partition expression* states what the segment's footer
says about it::

    __partition == p  and  __timestamp between min_timestamp and max_timestamp
                      and  __offset between min_offset and max_offset

Arrow uses a fragment's partition expression in two ways: a scan whose filter contradicts it skips the
fragment without opening the file (DuckDB pushes ``ROWTIME >= x`` down to the scan as such a filter),
and the equality fills the ``__partition`` column, which the files do not store. The active segment
of each partition, which is not a complete IPC file yet, is read through ``PartitionLog.read`` and joins
the dataset as an in-memory table.

Segments are chosen from one :class:`TopicSnapshot` per query (the list of segments and their record
counts at that moment), so rows appended while the query runs are not half seen. Every segment a
query reads is recorded by its :class:`SegmentOpenCounter`: the files are opened through a
``pyarrow.fs.PyFileSystem`` that counts ``open_input_file`` calls and hands back the local file system's
memory-mapped file, so reads stay native and zero-copy.

Example::

    snapshot = TopicSnapshot.take(log.topic("events"))
    chosen = snapshot.select(ScanBounds(min_timestamp=t0, max_timestamp=t1))
    dataset = stored_dataset(snapshot, chosen, counter)      # DuckDB can scan this directly
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs as pafs

from headwater.engine.historical.bounds import ScanBounds
from headwater.engine.operators.source_scan import PARTITION_COLUMN

__all__ = [
    "SealedSegmentCache",
    "SegmentOpenCounter",
    "TopicSnapshot",
    "conform_batch",
    "read_segment",
    "segment_guarantee",
    "stored_dataset",
    "stored_table",
    "table_schema",
]


class SegmentOpenCounter(pafs.FileSystemHandler):
    """A read-only local file system that remembers which files were opened.

    Only ``open_input_file`` / ``open_input_stream`` (and the metadata calls Arrow makes) are served;
    writes are refused. Thread-safe: DuckDB scans fragments on several threads.
    """

    def __init__(self) -> None:
        self._local = pafs.LocalFileSystem(use_mmap=True)
        self._lock = threading.Lock()
        self._opened: set[str] = set()

    # -- what callers read ---------------------------------------------------------------------------------
    @property
    def opened(self) -> frozenset[str]:
        """Paths of the files opened so far."""
        with self._lock:
            return frozenset(self._opened)

    def note(self, path: str) -> None:
        """Record a segment read another way (through ``PartitionLog.read``)."""
        with self._lock:
            self._opened.add(path)

    def filesystem(self) -> pafs.PyFileSystem:
        """A pyarrow file system served by this handler."""
        return pafs.PyFileSystem(self)

    # -- FileSystemHandler ---------------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        return self is other

    def __ne__(self, other: object) -> bool:
        return self is not other

    def __hash__(self) -> int:
        return id(self)

    def get_type_name(self) -> str:
        return "headwater-segments"

    def normalize_path(self, path: str) -> str:
        return path

    def get_file_info(self, paths: list[str]) -> list[pafs.FileInfo]:
        return list(self._local.get_file_info(paths))

    def get_file_info_selector(self, selector: pafs.FileSelector) -> list[pafs.FileInfo]:
        return list(self._local.get_file_info(selector))

    def open_input_file(self, path: str) -> pa.NativeFile:
        self.note(path)
        return self._local.open_input_file(path)

    def open_input_stream(self, path: str) -> pa.NativeFile:
        self.note(path)
        return self._local.open_input_stream(path)

    def _refuse(self, *args: Any) -> Any:
        raise OSError("segments are read-only to historical queries")

    create_dir = delete_dir = delete_dir_contents = delete_root_dir_contents = _refuse
    delete_file = move = copy_file = open_output_stream = open_append_stream = _refuse


@dataclass(frozen=True, slots=True)
class TopicSnapshot:
    """A topic's segments at one moment.

    Attributes:
        topic: the storage topic (``headwater.storage.Topic``).
        segments: every segment of every partition (``SegmentInfo``), by partition then offset.
    """

    topic: Any
    segments: tuple[Any, ...]
    stored_schema: pa.Schema = field(compare=False)

    @classmethod
    def take(cls, topic: Any) -> TopicSnapshot:
        """List ``topic``'s segments now."""
        return cls(topic, tuple(topic.segments()), topic.stored_schema)

    @property
    def is_raw(self) -> bool:
        return bool(self.topic.is_raw)

    @property
    def name(self) -> str:
        return str(self.topic.name)

    def select(self, bounds: ScanBounds) -> list[Any]:
        """The segments that may hold rows within ``bounds`` (empty segments never qualify)."""
        return [
            s
            for s in self.segments
            if s.record_count
            and bounds.admits_segment(s.partition, s.min_timestamp, s.max_timestamp, s.min_offset, s.max_offset)
        ]

    def dataset_schema(self) -> pa.Schema:
        """The stored schema plus the ``__partition`` column the fragments' guarantees fill in."""
        return self.stored_schema.append(pa.field(PARTITION_COLUMN, pa.int32(), nullable=False))


def segment_guarantee(segment: Any) -> ds.Expression:
    """What the segment's footer guarantees about its rows, as an Arrow expression."""
    return (
        (ds.field(PARTITION_COLUMN) == pa.scalar(segment.partition, pa.int32()))
        & (ds.field("__timestamp") >= segment.min_timestamp)
        & (ds.field("__timestamp") <= segment.max_timestamp)
        & (ds.field("__offset") >= segment.min_offset)
        & (ds.field("__offset") <= segment.max_offset)
    )


def conform_batch(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """``batch`` with exactly ``schema``'s columns: missing ones NULL, others cast by name (a batch
    written before a schema change lacks the columns added since)."""
    if batch.schema.equals(schema):
        return batch
    arrays = []
    for target in schema:
        index = batch.schema.get_field_index(target.name)
        if index < 0:
            arrays.append(pa.nulls(batch.num_rows, target.type))
            continue
        column = batch.column(index)
        arrays.append(column if column.type == target.type else column.cast(target.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def read_segment(snapshot: TopicSnapshot, segment: Any, counter: SegmentOpenCounter | None) -> list[pa.RecordBatch]:
    """The stored batches of one segment as of the snapshot, each with the ``__partition`` column.

    Reads through ``PartitionLog.read`` (memory-mapped, zero-copy), which also serves the active segment
    and restores ``__headers`` of headerless segments.
    """
    if counter is not None:
        counter.note(str(segment.path))
    partition = snapshot.topic.partition(segment.partition)
    result = partition.read(segment.base_offset, max_records=segment.record_count)
    out = []
    for batch in result.batches:
        if not batch.num_rows:
            continue
        offsets = batch.column("__offset")
        if offsets[batch.num_rows - 1].as_py() >= segment.next_offset:
            # a read that ran into the next segment (the active segment was rolled meanwhile)
            keep = pc.less(offsets, segment.next_offset)
            batch = batch.filter(keep)
            if not batch.num_rows:
                continue
        out.append(batch.append_column(PARTITION_COLUMN, pa.repeat(pa.scalar(segment.partition, pa.int32()), batch.num_rows)))
    return out


def stored_dataset(
    snapshot: TopicSnapshot, segments: Sequence[Any], counter: SegmentOpenCounter
) -> ds.Dataset:
    """The stored rows of ``segments`` (of a typed topic) as one Arrow dataset with guarantees.

    Sealed segments are file fragments opened through ``counter``; active ones are read now and added
    as an in-memory table.
    """
    schema = snapshot.dataset_schema()
    sealed = [s for s in segments if s.sealed]
    active = [s for s in segments if not s.sealed]
    parts: list[ds.Dataset] = []
    if sealed:
        parts.append(
            ds.FileSystemDataset.from_paths(
                [str(s.path) for s in sealed],
                schema=schema,
                format=ds.IpcFileFormat(),
                filesystem=counter.filesystem(),
                partitions=[segment_guarantee(s) for s in sealed],
            )
        )
    batches = [conform_batch(b, schema) for s in active for b in read_segment(snapshot, s, counter)]
    if batches or not parts:
        parts.append(ds.InMemoryDataset(pa.Table.from_batches(batches, schema=schema)))
    return parts[0] if len(parts) == 1 else ds.UnionDataset(schema, parts)


class SealedSegmentCache:
    """Prepared batches of sealed segments (memory-mapped, columns chosen, partition attached), kept
    between queries: a sealed segment never changes, so opening it and slicing its batches once is
    enough (measured: a third of a 10M-event scan's time went there). Keyed by the file's identity (path,
    inode, size, modification time: compaction and retention replace or remove the file) and the
    schema the batches are prepared for; the least recently used entries go beyond ``max_entries``."""

    def __init__(self, max_entries: int = 4096) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[Any, ...], list[pa.RecordBatch]] = OrderedDict()
        self._lock = threading.Lock()

    def batches(self, segment: Any, schema: pa.Schema) -> list[pa.RecordBatch]:
        """The segment's batches with exactly ``schema``'s columns."""
        path = str(segment.path)
        stat = os.stat(path)
        key = (path, stat.st_ino, stat.st_size, stat.st_mtime_ns, schema)
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                return found
        prepared = _prepare_sealed(segment, schema)
        with self._lock:
            self._entries[key] = prepared
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return prepared

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


def _partition_column(partition: int, rows: int) -> pa.Array:
    """The partition number for ``rows`` rows, run-end encoded (one run: no buffer of ``rows`` values)."""
    return pa.RunEndEncodedArray.from_arrays(pa.array([rows], pa.int32()), pa.array([partition], pa.int32()))


def _select(batch: pa.RecordBatch, schema: pa.Schema, partition: int) -> pa.RecordBatch:
    names = schema.names[:-1]
    present = [n for n in names if n in batch.schema.names]
    selected = batch.select(present).append_column(schema.field(PARTITION_COLUMN), _partition_column(partition, batch.num_rows))
    return selected if selected.schema.equals(schema) else conform_batch(selected, schema)


def _prepare_sealed(segment: Any, schema: pa.Schema) -> list[pa.RecordBatch]:
    reader = pa.ipc.open_file(pa.memory_map(str(segment.path)))
    batches = (reader.get_batch(i) for i in range(reader.num_record_batches))
    return [_select(b, schema, segment.partition) for b in batches if b.num_rows]


def stored_table(
    snapshot: TopicSnapshot,
    segments: Sequence[Any],
    counter: SegmentOpenCounter,
    cache: SealedSegmentCache | None = None,
) -> pa.Table:
    """The stored rows of ``segments`` (of a typed topic) as one Arrow table, without ``__headers``.

    Sealed segments are memory-mapped and their batches referenced in place (zero-copy: nothing is read
    until DuckDB touches a column), prepared once per ``cache``; active ones are read through the log. A
    table, unlike a dataset, tells DuckDB its row count, which its optimizer needs to order joins (a join
    built on the wrong side measured 3x slower); the segments are chosen beforehand from the query's
    bounds. ``__partition`` is run-end encoded.
    """
    schema = table_schema(snapshot)
    batches: list[pa.RecordBatch] = []
    for segment in segments:
        counter.note(str(segment.path))
        if segment.sealed:
            batches.extend(cache.batches(segment, schema) if cache is not None else _prepare_sealed(segment, schema))
            continue
        for batch in read_segment(snapshot, segment, None):
            batches.append(_select(batch.drop_columns([PARTITION_COLUMN]), schema, segment.partition))
    return pa.Table.from_batches(batches, schema=schema)


def table_schema(snapshot: TopicSnapshot) -> pa.Schema:
    """The columns :func:`stored_table` gives: the stored ones but ``__headers``, then ``__partition``
    (run-end encoded)."""
    fields = [f for f in snapshot.stored_schema if f.name != "__headers"]
    partition = pa.run_end_encoded(pa.int32(), pa.int32())
    return pa.schema([*fields, pa.field(PARTITION_COLUMN, partition, nullable=False)])

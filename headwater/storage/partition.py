"""One partition: an append-only sequence of segments, one writer, any number of readers.

The newest segment is the active one: appends go there, and it is rolled (sealed, and a new one
started at the next offset) when ``RollParams.should_roll`` says so or the schema changes. Offsets are
assigned here, contiguously from the end offset. Retention and compaction never touch the newest
segment.

Concurrency:

* in one object, a re-entrant lock guards the segment list; appends, reads and truncation hold it
  for their (short) duration, and ``read_wait`` waits on a condition the writer notifies;
* across objects and processes, the first mutation (append, truncate, retention, compaction, roll)
  takes the partition's ``flock`` (:class:`PartitionLock`) and keeps it until :meth:`close`; taking it
  runs recovery, because the previous writer may have died mid-append;
* an object that is not the writer sees another writer's appends by re-scanning the file tail (only
  complete batches count) and relisting the directory when its mtime changes.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from bisect import bisect_right
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa

from headwater.storage import cleaner
from headwater.storage.columns import (
    HEADERS_FIELD,
    OFFSET,
    StoredLayout,
    headerless,
    is_headerless,
    null_headers_of,
    wall_clock_ms,
    with_headers,
)
from headwater.storage.config import TopicConfig
from headwater.storage.errors import (
    CorruptSegmentError,
    OffsetOutOfRangeError,
    RecordBatchError,
    StorageError,
    TopicNotFoundError,
)
from headwater.storage.locking import PartitionLock
from headwater.storage.names import (
    INDEX_SUFFIX,
    TEMP_SUFFIX,
    TIME_INDEX_SUFFIX,
    parse_segment_base,
    segment_path,
    temp_path,
)
from headwater.storage.notify import DirectoryWatcher
from headwater.storage.segment import Segment, fsync_directory, write_all
from headwater.storage.values import (
    AppendResult,
    CompactionReport,
    PartitionRecovery,
    ReadResult,
    RetentionReport,
    RollParams,
    SegmentInfo,
)

__all__ = ["PartitionLog"]

_INT64 = pa.int64()
_OFFSET_FIELD = pa.field(OFFSET, _INT64, nullable=False)
_MINIMUM = np.minimum.reduce  # the ufuncs themselves: ndarray.min() adds a Python-level wrapper
_MAXIMUM = np.maximum.reduce
_ROLL_CHECK_MARGIN = 1 << 20  # bytes a batch message may add to its buffers (metadata, padding)


class PartitionLog:
    """The log of one partition of a topic.

    Example:
        >>> p = topic.partition(0)                                      # doctest: +SKIP
        >>> p.append(batch).base_offset, p.read(0).next_offset          # doctest: +SKIP
        (0, 3)
    """

    def __init__(self, topic: str, partition: int, directory: Path, config: TopicConfig,
                 stored_schema: Callable[[], pa.Schema], key_columns: Callable[[], list[str]], *, raw: bool) -> None:
        self.topic = topic
        self.partition = partition
        self.directory = directory
        self.config = config
        self.raw = raw
        self._stored_schema = stored_schema
        self._key_columns = key_columns
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._segments: list[Segment] = []
        self._bases: list[int] = []
        self._writer: PartitionLock | None = None
        self._watcher: DirectoryWatcher | None = None
        self._dir_mtime = -1
        self._last_fsync = time.monotonic()
        self._closed = False
        self._layout: StoredLayout | None = None
        self._waiting_readers = 0
        self.last_recovery: PartitionRecovery | None = None
        self._load()

    @property
    def name(self) -> str:
        """``topic/partition``, for messages."""
        return f"{self.topic}/{self.partition}"

    @staticmethod
    def initialize(directory: Path, schema: pa.Schema, config: TopicConfig) -> None:
        """Create a partition directory holding one empty segment at offset 0 (headerless variant)."""
        directory.mkdir(parents=True, exist_ok=True)
        Segment.create(directory, 0, headerless(schema), index_interval_bytes=config.index_interval_bytes,
                       durable=config.flush_policy != "os")

    # ----------------------------------------------------------------------------------------------
    # loading and refreshing

    def _listed_bases(self) -> list[int]:
        bases = []
        with os.scandir(self.directory) as entries:
            for entry in entries:
                base = parse_segment_base(entry.name)
                if base is not None:
                    bases.append(base)
        return sorted(bases)

    def _open_segment(self, base: int) -> Segment:
        return Segment.open(self.directory, base, index_interval_bytes=self.config.index_interval_bytes)

    def _load(self) -> None:
        """(Re)build the segment list from the directory."""
        try:
            self._dir_mtime = os.stat(self.directory).st_mtime_ns
        except FileNotFoundError:
            raise TopicNotFoundError(f"Partition {self.name} no longer exists (was its topic deleted?)") from None
        segments = []
        for base in self._listed_bases():
            try:
                segments.append(self._open_segment(base))
            except CorruptSegmentError:
                if not os.path.exists(segment_path(self.directory, base)):
                    continue
                raise
        self._set_segments(segments)

    def _set_segments(self, segments: list[Segment]) -> None:
        self._segments = segments
        self._bases = [s.base_offset for s in segments]

    def _refresh(self) -> None:
        """For a non-writer: pick up another writer's appends, new segments, deletions and rewrites."""
        if self._writer is not None:
            return
        try:
            mtime = os.stat(self.directory).st_mtime_ns
        except FileNotFoundError:
            raise TopicNotFoundError(f"Partition {self.name} no longer exists (was its topic deleted?)") from None
        if mtime != self._dir_mtime:
            self._dir_mtime = mtime
            known = {s.base_offset: s for s in self._segments}
            segments = []
            for base in self._listed_bases():
                segment = known.get(base)
                try:
                    if segment is None or segment.refresh() in ("replaced", "missing"):
                        segment = self._open_segment(base)
                except CorruptSegmentError:
                    if os.path.exists(segment_path(self.directory, base)):
                        raise
                    continue
                segments.append(segment)
            self._set_segments(segments)
            return
        if self._segments:
            status = self._segments[-1].refresh()
            if status in ("replaced", "missing"):
                self._dir_mtime = -1
                self._refresh()

    # ----------------------------------------------------------------------------------------------
    # offsets

    @property
    def start_offset(self) -> int:
        """The first offset still in the log (records below were deleted by retention)."""
        with self._lock:
            self._refresh()
            return self._segments[0].base_offset if self._segments else 0

    @property
    def end_offset(self) -> int:
        """The offset the next appended record will get (one past the last record)."""
        with self._lock:
            self._refresh()
            return self._segments[-1].next_offset if self._segments else 0

    @property
    def is_writer(self) -> bool:
        """True while this object holds the partition's write lock."""
        return self._writer is not None

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError(f"Partition {self.name} is closed")

    # ----------------------------------------------------------------------------------------------
    # writing

    def _durable(self) -> bool:
        return self.config.flush_policy == "always"

    def _ensure_writer(self) -> None:
        """Take the write lock (first mutation) and recover the tail the previous writer left."""
        self._check_open()
        if self._writer is not None:
            return
        self._writer = PartitionLock.acquire(self.directory, "append", self.name)
        try:
            self.last_recovery = self._recover_locked()
        except BaseException:
            self._writer.release()
            self._writer = None
            raise

    def acquire_writer(self) -> None:
        """Become the partition's writer now (normally the first mutation does this)."""
        with self._lock:
            self._ensure_writer()

    def recover(self) -> PartitionRecovery:
        """Validate the tail, truncate a torn last batch, seal, rebuild indexes; say what was dropped.

        Takes the write lock for the duration when this object is not the writer already (and raises
        :class:`PartitionLockedError` if a live writer holds it).
        """
        with self._lock:
            self._check_open()
            if self._writer is not None:
                return self._recover_locked()
            lock = PartitionLock.acquire(self.directory, "recovery", self.name)
            self._writer = lock
            try:
                report = self._recover_locked()
            finally:
                for segment in self._segments:
                    segment.close_writer()
                self._writer = None
                lock.release()
                self._dir_mtime = -1
            self.last_recovery = report
            return report

    def _recover_locked(self) -> PartitionRecovery:
        """Recovery with the lock held: reload from disk, then repair every segment that needs it."""
        removed = 0
        bases = set(self._listed_bases())
        with os.scandir(self.directory) as entries:
            names = [entry.name for entry in entries]
        for name in names:
            stem = name.split(".", 1)[0]
            orphan_index = (name.endswith((INDEX_SUFFIX, TIME_INDEX_SUFFIX)) and stem.isdigit()
                            and int(stem) not in bases)
            if name.endswith(TEMP_SUFFIX) or orphan_index:
                with contextlib.suppress(FileNotFoundError):
                    (self.directory / name).unlink()
                removed += 1
        self._load()
        if not self._segments:
            self._set_segments([Segment.create(self.directory, 0, headerless(self._stored_schema()),
                                               index_interval_bytes=self.config.index_interval_bytes,
                                               durable=self._durable())])
        bytes_dropped = batches_dropped = sealed = rebuilt = 0
        for i, segment in enumerate(self._segments):
            is_last = i == len(self._segments) - 1
            junk = 0 if segment.sealed else segment.file_size - segment.data_end
            if not segment.indexes_match_files:
                rebuilt += 1
            if junk > 0:
                bytes_dropped += junk
                batches_dropped += 1
                segment = self._rewrite_prefix(segment, segment.data_end, None)
                self._segments[i] = segment
            if not segment.sealed and not is_last:
                segment.seal(durable=self._durable())
                sealed += 1
            if not segment.indexes_match_files:
                segment.write_indexes(durable=self._durable())
            if i and self._segments[i - 1].next_offset > segment.base_offset:
                raise CorruptSegmentError(
                    f"Partition {self.name}: segment {segment.path.name} starts at {segment.base_offset} but the "
                    f"previous segment runs to {self._segments[i - 1].next_offset}", path=str(segment.path))
        self._set_segments(self._segments)
        return PartitionRecovery(self.topic, self.partition, bytes_dropped=bytes_dropped,
                                 batches_dropped=batches_dropped, segments_sealed=sealed,
                                 indexes_rebuilt=rebuilt, temp_files_removed=removed)

    def _rewrite_prefix(self, segment: Segment, length: int, extra: pa.RecordBatch | None) -> Segment:
        """Replace a segment file by its first ``length`` bytes (plus one batch), via temp + rename.

        Files never shrink in place, so readers' memory maps of the old file stay valid.
        """
        segment.close_writer()
        tmp = temp_path(segment.path)
        with open(segment.path, "rb") as src, open(tmp, "wb") as dst:
            copied = 0
            try:
                while copied < length:
                    n = os.copy_file_range(src.fileno(), dst.fileno(), length - copied, copied, copied)
                    if n == 0:
                        break
                    copied += n
            except OSError:
                copied = 0
            if copied != length:
                src.seek(0)
                dst.seek(0)
                dst.truncate()
                dst.write(src.read(length))
            dst.seek(length)
            if extra is not None:
                write_all(dst.fileno(), extra.serialize())
            dst.flush()
            if self._durable():
                os.fsync(dst.fileno())
        segment.install_file(tmp)
        if self._durable():
            fsync_directory(self.directory)
        reopened = self._open_segment(segment.base_offset)
        reopened.write_indexes(durable=self._durable())
        return reopened

    def _new_active(self, base: int, schema: pa.Schema) -> Segment:
        return Segment.create(self.directory, base, schema, index_interval_bytes=self.config.index_interval_bytes,
                              durable=self.config.flush_policy != "os")

    def roll(self, schema: pa.Schema | None = None) -> None:
        """Seal the active segment and start a new one (with ``schema``, default the current one).

        An empty active segment is replaced rather than sealed, so no empty sealed segments pile up.
        """
        with self._lock:
            self._ensure_writer()
            schema = schema or self._stored_schema()
            if is_headerless(self._segments[-1].schema):
                schema = headerless(schema)
            self._roll_locked(schema)

    def _roll_locked(self, schema: pa.Schema) -> Segment:
        """Seal the active segment and start one with ``schema``.

        A new segment keeps the previous one's way of storing ``__headers`` unless ``schema`` needs
        the list type: once a partition has seen headers its segments keep the list type, so a mix of
        batches with and without headers does not roll at every change.
        """
        active = self._segments[-1]
        if not is_headerless(active.schema) and is_headerless(schema):
            schema = schema.set(2, HEADERS_FIELD)
        if not active.sealed and active.record_count == 0 and active.next_offset == active.base_offset:
            active.close_writer()
            replacement = self._new_active(active.base_offset, schema)
            self._segments[-1] = replacement
            return replacement
        if not active.sealed:
            active.seal(durable=self.config.flush_policy != "os")
        active.close_writer()
        fresh = self._new_active(active.next_offset, schema)
        self._segments.append(fresh)
        self._bases.append(fresh.base_offset)
        if self.config.deletes and (self.config.retention_ms >= 0 or self.config.retention_bytes >= 0):
            self._enforce_retention_locked(wall_clock_ms())
        return fresh

    def append(self, batch: pa.RecordBatch) -> AppendResult:
        """Append a stored batch that lacks only ``__offset``; return where its records went.

        The caller has validated and completed the batch (``Topic.append`` does, through
        :class:`~headwater.storage.columns.AppendPreparer`): its columns are the topic's stored
        columns after ``__offset`` (names, types and nullability), ``__headers`` of either type.
        """
        layout = self._current_layout()
        schema = batch.schema
        if schema.equals(layout.headerless_columns, check_metadata=False):
            headerless_batch = True
        elif schema.equals(layout.columns, check_metadata=False):
            headerless_batch = False
        else:
            raise RecordBatchError(
                f"Batch schema does not match topic {self.topic}'s stored schema; append through Topic.append, "
                "which validates and completes batches")
        return self.append_prepared(batch, headerless=headerless_batch)

    def append_prepared(self, batch: pa.RecordBatch, *, headerless: bool,
                        timestamp: int | None = None) -> AppendResult:
        """:meth:`append` for a batch ``AppendPreparer`` built (no schema check); ``headerless`` says
        whether its ``__headers`` is of the null type, ``timestamp`` the one ``__timestamp`` of all its
        records when the caller knows it (no pass over the column then).

        The offsets are added and the batch is written as one message with one ``writev``; it is
        visible to readers once this returns.
        """
        n = batch.num_rows
        with self._lock:
            if self._writer is None:
                self._ensure_writer()
            active = self._segments[-1]
            base = active.next_offset
            if n == 0:
                return AppendResult(self.partition, base, 0)
            layout = self._current_layout()
            if timestamp is None:
                timestamps = batch.column(0).to_numpy()
                batch_min, batch_max = int(_MINIMUM(timestamps)), int(_MAXIMUM(timestamps))
            else:
                batch_min = batch_max = timestamp
            schema = self._segment_schema(active, layout, headerless)
            if schema is None:
                active = self._roll_locked(layout.headerless if headerless else layout.stored)
                schema = self._segment_schema(active, layout, headerless)
                assert schema is not None
            if headerless and schema is layout.stored:
                batch = batch.set_column(1, HEADERS_FIELD, null_headers_of(n))
            offsets = pa.Array.from_buffers(_INT64, n, [None, pa.py_buffer(np.arange(base, base + n, dtype=np.int64))])
            stored = batch.add_column(0, _OFFSET_FIELD, offsets)
            if active.first_timestamp is not None and self._may_roll(active, stored, batch_max):
                params = RollParams(self.config.segment_bytes, self.config.segment_ms, active.data_end,
                                    active.first_timestamp, pa.ipc.get_record_batch_size(stored), batch_max)
                if params.should_roll():
                    active = self._roll_locked(schema)
            active.append(stored, durable=self.config.flush_policy == "always", first_offset=base,
                          min_timestamp=batch_min, max_timestamp=batch_max)
            if self.config.flush_policy == "interval":
                now = time.monotonic()
                if (now - self._last_fsync) * 1000.0 >= self.config.flush_ms:
                    active.fsync()
                    self._last_fsync = now
            if self._waiting_readers:
                self._changed.notify_all()
            return AppendResult(self.partition, base, n)

    def _may_roll(self, active: Segment, stored: pa.RecordBatch, batch_max: int) -> bool:
        """False when ``stored`` certainly does not make ``active`` roll, without serialising it.

        The exact test (:class:`RollParams`) needs the batch's message size, which costs as much as
        assembling the message. Far from ``segment.bytes`` a cheap bound decides: twice the bytes of
        the batch's buffers plus a margin for the message's metadata and padding. (The bound could
        only be passed by a batch whose columns share one buffer three times or more; such a batch
        can make a segment end past ``segment.bytes`` by less than its own size.)
        """
        if batch_max - (active.first_timestamp or 0) >= self.config.segment_ms:
            return True
        bound = 2 * stored.get_total_buffer_size() + _ROLL_CHECK_MARGIN
        return active.data_end + bound > self.config.segment_bytes

    def _current_layout(self) -> StoredLayout:
        """The :class:`StoredLayout` of the topic's current stored schema (rebuilt when it changes)."""
        stored = self._stored_schema()
        if self._layout is None or self._layout.stored is not stored:
            self._layout = StoredLayout.of(stored)
        return self._layout

    @staticmethod
    def _segment_schema(active: Segment, layout: StoredLayout, headerless_batch: bool) -> pa.Schema | None:
        """The schema a batch of ``layout`` is stored with in ``active``, or None when it needs a roll.

        A headerless batch goes into a segment of either ``__headers`` type (converted to all-null
        lists for the list type); a batch with headers needs the list type. A segment whose schema
        equals one of the layout's takes that very object, so later checks are identity checks.
        """
        if active.sealed:
            return None
        schema = active.schema
        if schema is layout.stored or schema is layout.headerless:
            return None if schema is layout.headerless and not headerless_batch else schema
        for candidate in (layout.stored, layout.headerless):
            if schema.equals(candidate, check_metadata=True):
                active.schema = candidate
                return None if candidate is layout.headerless and not headerless_batch else candidate
        return None

    def flush(self) -> None:
        """fsync the active segment and its indexes (whatever the flush policy)."""
        with self._lock:
            if self._writer is not None and self._segments:
                self._segments[-1].fsync()
                self._last_fsync = time.monotonic()

    def truncate_to(self, offset: int) -> None:
        """Remove every record with an offset >= ``offset``; the next append gets ``offset``.

        Whole segments past the point are deleted newest first; the segment holding the point is
        rewritten (prefix copy + rename) and becomes the active segment. Exactly-once recovery uses
        this to cut a sink back to its last committed end offset.
        """
        with self._lock:
            self._ensure_writer()
            end = self._segments[-1].next_offset
            start = self._segments[0].base_offset
            if offset > end:
                raise OffsetOutOfRangeError(f"Cannot truncate {self.name} to {offset}: its end offset is {end}")
            if offset < start:
                raise OffsetOutOfRangeError(
                    f"Cannot truncate {self.name} to {offset}: records before {start} were already deleted")
            if offset == end:
                return
            schema = self._segments[-1].schema
            while self._segments and self._segments[-1].base_offset >= offset:
                self._segments.pop().delete_files()
            if not self._segments:
                self._segments.append(self._new_active(offset, schema))
            else:
                self._truncate_segment(offset)
            self._set_segments(self._segments)
            self._changed.notify_all()

    def _truncate_segment(self, offset: int) -> None:
        """Cut the last segment (base < offset < next_offset) back to the records below ``offset``."""
        segment = self._segments[-1]
        entry = segment.offset_index.lookup(offset)
        cut_at = segment.data_end
        head: pa.RecordBatch | None = None
        for position, batch in segment.iter_positioned(entry.position if entry else None):
            offsets = batch.column(0).to_numpy()
            if offsets[-1] < offset:
                continue
            cut_at = position
            keep = int(np.searchsorted(offsets, offset))
            head = batch.slice(0, keep) if keep else None
            break
        rewritten = self._rewrite_prefix(segment, cut_at, head)
        self._segments[-1] = rewritten
        if rewritten.next_offset < offset:
            rewritten.next_offset = offset
            rewritten.seal(durable=self._durable())
            self._segments.append(self._new_active(offset, rewritten.schema))

    # ----------------------------------------------------------------------------------------------
    # reading

    def _segment_index(self, offset: int) -> int:
        """Index of the first segment that may hold ``offset`` or anything after it."""
        i = max(bisect_right(self._bases, offset) - 1, 0)
        while i < len(self._segments) - 1 and self._segments[i].next_offset <= offset:
            i += 1
        return i

    def read(self, from_offset: int, max_records: int | None = None) -> ReadResult:
        """Records from ``from_offset`` on, at most ``max_records`` (None: up to the end), zero-copy.

        Offsets below the start offset (deleted by retention) read from the start offset; gaps left by
        compaction are skipped; ``next_offset`` is where to continue. Batches keep their segment's
        schema, so a read across a schema change returns batches of both schemas.
        """
        if max_records is not None and max_records < 0:
            raise OffsetOutOfRangeError(f"max_records must be >= 0, got {max_records}")
        with self._lock:
            self._check_open()
            self._refresh()
            segments = self._segments
            if not segments:
                return ReadResult((), from_offset)
            end = segments[-1].next_offset
            if from_offset > end:
                raise OffsetOutOfRangeError(f"Offset {from_offset} is past the end of {self.name} (end offset {end})")
            offset = max(from_offset, segments[0].base_offset)
            remaining = max_records if max_records is not None else end - offset
            batches: list[pa.RecordBatch] = []
            i = self._segment_index(offset)
            while i < len(segments) and remaining > 0:
                segment = segments[i]
                if segment.record_count and offset < segment.next_offset:
                    restore = is_headerless(segment.schema)
                    for batch in segment.batches_from(offset):
                        if restore:
                            batch = with_headers(batch)
                        offsets = batch.column(0).to_numpy()
                        if offsets[-1] < offset:
                            continue
                        first = 0 if offsets[0] >= offset else int(np.searchsorted(offsets, offset))
                        take = min(len(offsets) - first, remaining)
                        batches.append(batch if first == 0 and take == len(offsets) else batch.slice(first, take))
                        remaining -= take
                        offset = int(offsets[first + take - 1]) + 1
                        if remaining <= 0:
                            break
                if remaining > 0:
                    offset = max(offset, segment.next_offset)
                i += 1
            return ReadResult(tuple(batches), offset)

    def read_wait(self, from_offset: int, max_records: int | None = None, timeout_s: float = 0.0) -> ReadResult:
        """Like :meth:`read`, but when nothing is there yet wait up to ``timeout_s`` for new records.

        Waiting never spins: this object's own appends wake it through a condition variable; appends
        by another writer (another process) wake it through inotify on the partition directory, or a
        bounded backoff poll where inotify is unavailable (see :mod:`headwater.storage.notify`).
        """
        deadline = time.monotonic() + max(timeout_s, 0.0)
        while True:
            with self._lock:
                if self._writer is not None:
                    result = self.read(from_offset, max_records)
                    remaining = deadline - time.monotonic()
                    if result.batches or result.next_offset != from_offset or remaining <= 0 or self._closed:
                        return result
                    self._waiting_readers += 1
                    try:
                        self._changed.wait(remaining)
                    finally:
                        self._waiting_readers -= 1
                    continue
                if self._watcher is None:
                    self._watcher = DirectoryWatcher(self.directory)
                watcher = self._watcher
            watcher.drain()
            result = self.read(from_offset, max_records)
            remaining = deadline - time.monotonic()
            if result.batches or result.next_offset != from_offset or remaining <= 0 or self._closed:
                watcher.reset_backoff()
                return result
            watcher.wait(remaining)

    def offset_for_timestamp(self, timestamp: int) -> int | None:
        """The first offset whose record timestamp is >= ``timestamp``, or None if there is none.

        Segments whose maximum timestamp is earlier are skipped without being read; inside the first
        candidate segment the time index gives where to start scanning.
        """
        with self._lock:
            self._check_open()
            self._refresh()
            for segment in self._segments:
                found = segment.first_offset_at_or_after(timestamp)
                if found is not None:
                    return found
            return None

    def segments(self) -> list[SegmentInfo]:
        """A snapshot of every segment, oldest first."""
        with self._lock:
            self._check_open()
            self._refresh()
            return [segment.info(self.topic, self.partition) for segment in self._segments]

    @property
    def size_bytes(self) -> int:
        """Bytes of all segments."""
        with self._lock:
            self._refresh()
            return sum(segment.size_bytes for segment in self._segments)

    # ----------------------------------------------------------------------------------------------
    # retention and compaction

    def enforce_retention(self, now_ms: int | None = None) -> RetentionReport:
        """Delete the oldest closed segments that ``retention.ms`` / ``retention.bytes`` expire."""
        with self._lock:
            self._ensure_writer()
            return self._enforce_retention_locked(wall_clock_ms() if now_ms is None else now_ms)

    def _enforce_retention_locked(self, now_ms: int) -> RetentionReport:
        count = cleaner.expired_segment_count(self._segments, self.config, now_ms) if self.config.deletes else 0
        deleted = self._segments[:count]
        for segment in deleted:
            segment.delete_files()
        if count:
            self._set_segments(self._segments[count:])
        return RetentionReport(self.topic, self.partition, segments_deleted=count,
                               bytes_deleted=sum(s.size_bytes for s in deleted),
                               records_deleted=sum(s.record_count for s in deleted),
                               start_offset=self._segments[0].base_offset)

    def compact(self, now_ms: int | None = None) -> CompactionReport:
        """Keep only the latest record per key in the closed segments; drop old tombstones.

        Offsets of kept records do not change, so reads skip the gaps. The active segment is not
        compacted (its records still supersede nothing here, as in Kafka).
        """
        with self._lock:
            self._ensure_writer()
            now = wall_clock_ms() if now_ms is None else now_ms
            plan = cleaner.plan_compaction(self._segments[:-1], self._key_columns(), raw=self.raw, now_ms=now,
                                           delete_retention_ms=self.config.delete_retention_ms)
            bytes_before = sum(s.size_bytes for s in self._segments[:-1])
            for rewrite in plan.rewrites:
                old = self._segments[rewrite.index]
                self._segments[rewrite.index] = Segment.write_sealed(
                    self.directory, old.base_offset, old.schema, rewrite.batches, next_offset=old.next_offset,
                    index_interval_bytes=self.config.index_interval_bytes, durable=self._durable())
            return CompactionReport(self.topic, self.partition, segments_rewritten=len(plan.rewrites),
                                    records_removed=plan.records_removed, tombstones_removed=plan.tombstones_removed,
                                    bytes_before=bytes_before,
                                    bytes_after=sum(s.size_bytes for s in self._segments[:-1]))

    # ----------------------------------------------------------------------------------------------

    def close(self) -> None:
        """Release the write lock and descriptors; wake waiting readers. The object is unusable after."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._writer is not None and self._segments and self.config.flush_policy != "os":
                self._segments[-1].fsync()
            for segment in self._segments:
                segment.close_writer()
            if self._writer is not None:
                self._writer.release()
                self._writer = None
            if self._watcher is not None:
                self._watcher.close()
                self._watcher = None
            self._changed.notify_all()

    def release_writer(self) -> None:
        """Give up the write lock but stay open for reading (another writer may take over)."""
        with self._lock:
            for segment in self._segments:
                segment.close_writer()
            if self._writer is not None:
                self._writer.release()
                self._writer = None
                self._dir_mtime = -1


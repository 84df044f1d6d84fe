"""One segment: a run of record batches of one partition in one Arrow IPC file, plus its two indexes.

Byte layout of ``<base>.arrow`` (docs/storage-format.md has the full picture)::

    offset 0   "ARROW1\\0\\0"                      8 bytes: the IPC file magic, padded to 8
    offset 8   schema message                     encapsulated IPC message (0xFFFFFFFF, int32 length,
                                                  flatbuffer Schema, padding to 8)
    header_end record batch message, ...          one encapsulated message per appended batch
    data_end   (sealed only) 0xFFFFFFFF 00000000  IPC end-of-stream marker
               (sealed only) footer flatbuffer    Arrow's File footer: schema, one Block per batch and
                                                  custom metadata ``headwater.*`` (stats, data_end)
               (sealed only) int32 footer length, "ARROW1"

While a segment is active its file is the IPC file magic followed by an IPC stream: every append is
one batch message written with one ``writev`` by the segment's :class:`SegmentWriter` (pyarrow's IPC
file writer over the end of the file), and a file of this shape is resumable by a later process (it
only appends). Sealing appends end-of-stream, the footer and the trailing magic, which makes the file
a complete Arrow IPC file that ``pyarrow.dataset`` opens. The footer comes from that writer, which has
seen every batch (:mod:`headwater.storage.segment_writer`); without one (compaction's rewrites, a
segment with no records) the batches are replayed (zero-copy, from the memory map) through pyarrow's
own ``RecordBatchFileWriter`` into a sink that only counts bytes until ``close`` writes the footer,
which is captured. Either way the writer must reach exactly ``data_end``, i.e. pyarrow would have
written the very same bytes, or the segment is rewritten first. Sealed files are therefore
byte-identical to what ``pyarrow.ipc.new_file`` produces for the same batches and footer metadata.

Invariants:

* a segment holds one schema; every batch's first column is ``__offset``, strictly increasing across
  the segment, all >= ``base_offset`` and < ``next_offset``;
* bytes past ``data_end`` of an unsealed segment are a torn append, never data: readers ignore them
  and the writer's recovery removes them before appending;
* files never shrink in place: shrinking means writing a new file and renaming it over the old, so a
  memory map another reader holds stays valid (no SIGBUS) and sees the old bytes.

Readers memory-map the file and build batches with ``pyarrow.ipc.read_message`` and
``read_record_batch``, so batch buffers point into the page cache (zero-copy).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from headwater.storage.errors import CorruptSegmentError
from headwater.storage.index import OffsetIndex, TimeIndex
from headwater.storage.ipc_io import (
    EOS_MARKER,
    MAGIC,
    TRAILER_MAGIC,
    CaptureSink,
    fsync_directory,
    write_all,
)
from headwater.storage.names import index_path, segment_path, temp_path, time_index_path
from headwater.storage.segment_writer import SegmentWriter, padded_value
from headwater.storage.values import SegmentInfo

__all__ = ["EOS_MARKER", "MAGIC", "ScanOutcome", "Segment", "fsync_directory", "write_all"]

_META_PREFIX = "headwater."
FORMAT_VERSION = "1"
# Footer statistics known only when a segment is sealed, in footer order (after format_version and
# base_offset, which are known when it is created).
_LATER_STATISTICS = ("next_offset", "data_end", "record_count", "batch_count", "first_offset", "last_offset",
                     "min_timestamp", "max_timestamp", "first_timestamp")


@contextlib.contextmanager
def _temp_file(path: Path, *, durable: bool) -> Iterator[tuple[Path, int]]:
    """A new file beside ``path`` (its temp name) and a descriptor to write it: fsynced when the block
    ends normally and ``durable``, closed in any case. The caller renames it into place."""
    tmp = temp_path(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        yield tmp, fd
        if durable:
            os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True, slots=True)
class ScanOutcome:
    """Where a scan over a segment's messages stopped.

    Attributes:
        data_end: position after the last valid batch.
        status: ``"end"`` (clean end of bytes), ``"eos"`` (end-of-stream marker at ``data_end``) or
            ``"torn"`` (bytes at ``data_end`` are not a complete, valid batch).
        batches_found: valid batches scanned.
        detail: why the scan stopped, for ``"torn"``.
    """

    data_end: int
    status: str
    batches_found: int
    detail: str = ""


class Segment:
    """A segment file and its indexes, with the statistics readers and the cleaner need.

    Create with :meth:`create` (new, empty, active) or :meth:`open` (existing file). Only the partition
    writer calls :meth:`append`, :meth:`seal` and :meth:`close_writer`; readers call
    :meth:`batches_from` and :meth:`refresh`.
    """

    def __init__(self, directory: Path, base_offset: int, index_interval_bytes: int) -> None:
        self.directory = directory
        self.base_offset = base_offset
        self.path = segment_path(directory, base_offset)
        self.index_interval_bytes = index_interval_bytes
        self.schema: pa.Schema = pa.schema([])
        self.header_end = 0
        self.data_end = 0
        self.file_size = 0
        self.sealed = False
        self.next_offset = base_offset
        self.record_count = 0
        self.batch_count = 0
        self.first_offset: int | None = None
        self.last_offset: int | None = None
        self.min_timestamp: int | None = None
        self.max_timestamp: int | None = None
        self.first_timestamp: int | None = None
        self.offset_index = OffsetIndex(index_path(directory, base_offset))
        self.time_index = TimeIndex(time_index_path(directory, base_offset))
        self.indexes_match_files = True
        self.tail_status = "end"
        self._bytes_since_offset_entry = 0
        self._bytes_since_time_entry = 0
        self._writer: SegmentWriter | None = None
        self._buffer: pa.Buffer | None = None
        self._inode = 0

    # ----------------------------------------------------------------------------------------------
    # creation and opening

    @classmethod
    def create(cls, directory: Path, base_offset: int, schema: pa.Schema, *, index_interval_bytes: int,
               durable: bool) -> Segment:
        """Write a new empty segment (magic + schema) under a temp name and rename it into place."""
        segment = cls(directory, base_offset, index_interval_bytes)
        header = MAGIC + schema.serialize().to_pybytes()
        with _temp_file(segment.path, durable=durable) as (tmp, fd):
            write_all(fd, header)
        segment.install_file(tmp)
        if durable:
            fsync_directory(directory)
        segment.schema = schema
        segment.header_end = segment.data_end = segment.file_size = len(header)
        segment._inode = os.stat(segment.path).st_ino
        return segment

    @classmethod
    def open(cls, directory: Path, base_offset: int, *, index_interval_bytes: int) -> Segment:
        """Open an existing segment file without changing it.

        A sealed file is trusted through its footer and index files (indexes that fail validation are
        rebuilt in memory and flagged by ``indexes_match_files = False``). An unsealed file is scanned
        batch by batch, which yields its statistics and indexes; bytes after the last valid batch are
        left alone and reported through ``file_size - data_end``.
        """
        segment = cls(directory, base_offset, index_interval_bytes)
        buffer = segment._map()
        if buffer.size < len(MAGIC) + 8 or buffer.slice(0, len(MAGIC)).to_pybytes() != MAGIC:
            raise CorruptSegmentError(f"Segment {segment.path} does not start with the Arrow IPC magic",
                                      path=str(segment.path), position=0)
        reader = pa.BufferReader(buffer)
        reader.seek(len(MAGIC))
        try:
            segment.schema = pa.ipc.read_schema(pa.ipc.read_message(reader))
        except (pa.ArrowInvalid, OSError, EOFError) as exc:
            raise CorruptSegmentError(f"Segment {segment.path} has no readable schema message: {exc}",
                                      path=str(segment.path), position=len(MAGIC)) from None
        segment.header_end = segment.data_end = reader.tell()
        if not segment._load_sealed(buffer):
            segment._scan_and_index(buffer)
        return segment

    def _load_sealed(self, buffer: pa.Buffer) -> bool:
        """Take statistics from a valid footer; False when the file has none (or a broken one)."""
        size = buffer.size
        if size < self.header_end + len(EOS_MARKER) + 10 or buffer.slice(size - 6).to_pybytes() != TRAILER_MAGIC:
            return False
        try:
            meta = pa.ipc.open_file(pa.BufferReader(buffer)).metadata or {}
        except (pa.ArrowInvalid, OSError):
            return False
        stats = {k.decode(): v.decode() for k, v in meta.items() if k.startswith(_META_PREFIX.encode())}
        try:
            data_end = int(stats[_META_PREFIX + "data_end"])
        except (KeyError, ValueError):
            return False
        if not self.header_end <= data_end <= size - 8 or buffer.slice(data_end, 8).to_pybytes() != EOS_MARKER:
            return False

        def opt(name: str) -> int | None:
            text = stats.get(_META_PREFIX + name, "").strip()  # values may be right-aligned with spaces
            return int(text) if text else None

        self.sealed = True
        self.data_end = data_end
        self.next_offset = opt("next_offset") or self.base_offset
        self.record_count = opt("record_count") or 0
        self.batch_count = opt("batch_count") or 0
        self.first_offset = opt("first_offset")
        self.last_offset = opt("last_offset")
        self.min_timestamp = opt("min_timestamp")
        self.max_timestamp = opt("max_timestamp")
        self.first_timestamp = opt("first_timestamp")
        offset_index = OffsetIndex.load(self.offset_index.path)
        time_index = TimeIndex.load(self.time_index.path)
        if offset_index is not None and time_index is not None and self._indexes_plausible(offset_index, time_index):
            self.offset_index, self.time_index = offset_index, time_index
        else:
            footer_next_offset = self.next_offset
            self._scan_and_index(buffer, sealed_end=data_end)
            self.sealed = True
            self.next_offset = footer_next_offset
            self.indexes_match_files = False
        return True

    def _indexes_plausible(self, offset_index: OffsetIndex, time_index: TimeIndex) -> bool:
        """Index entries that point inside this segment (positions and offsets in range)."""
        if self.record_count and not len(offset_index):
            return False
        for entry in offset_index.entries():
            if not (self.header_end <= entry.position < self.data_end and self.base_offset <= entry.offset < self.next_offset):
                return False
        if not all(self.base_offset <= entry.offset < self.next_offset for entry in time_index.entries()):
            return False
        last = offset_index.last
        if last is None:
            return True
        try:
            reader = pa.BufferReader(self._mapped(self.data_end).slice(0, self.data_end))
            reader.seek(last.position)
            batch = pa.ipc.read_record_batch(pa.ipc.read_message(reader), self.schema)
        except (pa.ArrowInvalid, OSError, EOFError):
            return False
        return batch.num_rows > 0 and batch.column(0)[0].as_py() == last.offset

    @classmethod
    def write_sealed(cls, directory: Path, base_offset: int, schema: pa.Schema, batches: list[pa.RecordBatch], *,
                     next_offset: int, index_interval_bytes: int, durable: bool) -> Segment:
        """Write a complete, sealed segment (e.g. a compacted one) and rename it over ``<base>.arrow``.

        The old index files are removed before the rename, so a crash in between leaves a segment
        with missing indexes (rebuilt on recovery), never one with another file's index entries.
        """
        segment = cls(directory, base_offset, index_interval_bytes)
        segment.schema = schema
        header = MAGIC + schema.serialize().to_pybytes()
        segment.header_end = segment.data_end = len(header)
        with _temp_file(segment.path, durable=durable) as (tmp, fd):
            write_all(fd, header)
            for batch in batches:
                payload = batch.serialize()
                write_all(fd, payload)
                segment._account(batch, segment.data_end, payload.size, persist=False)
                segment.data_end += payload.size
            segment.next_offset = max(segment.next_offset, next_offset)
            footer = segment._footer(batches)
            if footer is None:
                raise CorruptSegmentError(f"Segment {segment.path} could not be sealed: the IPC replay disagrees",
                                          path=str(segment.path))
            write_all(fd, footer)
        segment.install_file(tmp)
        segment.write_indexes(durable=durable)
        if durable:
            fsync_directory(directory)
        segment.sealed = True
        segment._map()
        return segment

    # ----------------------------------------------------------------------------------------------
    # scanning

    def _map(self) -> pa.Buffer:
        """Memory-map the whole file as it is now (the map outlives the descriptor)."""
        try:
            mapped = pa.memory_map(str(self.path))
        except FileNotFoundError:
            raise CorruptSegmentError(f"Segment file {self.path} disappeared", path=str(self.path)) from None
        try:
            self._buffer = mapped.read_buffer()
            self._inode = os.fstat(mapped.fileno()).st_ino
        finally:
            mapped.close()
        self.file_size = self._buffer.size
        return self._buffer

    def _mapped(self, upto: int) -> pa.Buffer:
        """A map covering bytes [0, upto), remapping when the file grew since the last map."""
        if self._buffer is None or self._buffer.size < upto:
            self._map()
        assert self._buffer is not None
        return self._buffer

    def _scan(self, buffer: pa.Buffer, start: int, end: int) -> tuple[ScanOutcome, list[tuple[int, int, pa.RecordBatch]]]:
        """Parse batch messages in [start, end) until the bytes stop being complete, valid batches."""
        found: list[tuple[int, int, pa.RecordBatch]] = []
        view = buffer.slice(0, end)
        reader = pa.BufferReader(view)
        position = start
        expected = self.next_offset
        while position < end:
            if end - position < 8:
                return ScanOutcome(position, "torn", len(found), "fewer than 8 bytes"), found
            if view.slice(position, 8).to_pybytes() == EOS_MARKER:
                return ScanOutcome(position, "eos", len(found)), found
            reader.seek(position)
            try:
                message = pa.ipc.read_message(reader)
                if message.type != "record batch":
                    return ScanOutcome(position, "torn", len(found), f"a {message.type} message"), found
                batch = pa.ipc.read_record_batch(message, self.schema)
            except (pa.ArrowInvalid, OSError, EOFError, ValueError) as exc:
                return ScanOutcome(position, "torn", len(found), str(exc)), found
            offsets = batch.column(0)
            if batch.num_rows == 0 or offsets.null_count:
                return ScanOutcome(position, "torn", len(found), "an empty batch or null offsets"), found
            values = offsets.to_numpy()
            if values[0] < expected or (len(values) > 1 and not np.all(values[1:] > values[:-1])):
                return ScanOutcome(position, "torn", len(found), "offsets out of order"), found
            expected = int(values[-1]) + 1
            next_position = reader.tell()
            found.append((position, next_position, batch))
            position = next_position
        return ScanOutcome(position, "end", len(found)), found

    def _scan_and_index(self, buffer: pa.Buffer, sealed_end: int | None = None) -> None:
        """Scan from ``header_end``, computing statistics and indexes; compare indexes with the files."""
        self._reset_stats()
        end = sealed_end if sealed_end is not None else buffer.size
        outcome, found = self._scan(buffer, self.header_end, end)
        for position, next_position, batch in found:
            self._account(batch, position, next_position - position, persist=False)
        self.data_end = outcome.data_end
        if sealed_end is None:
            self.tail_status = outcome.status
            if outcome.status == "eos" and self._load_sealed_after_scan(buffer):
                return
        self.indexes_match_files = self.offset_index.matches_file() and self.time_index.matches_file()

    def _load_sealed_after_scan(self, buffer: pa.Buffer) -> bool:
        """After a scan met end-of-stream, adopt the footer if it is valid and agrees with the scan."""
        stats = (self.data_end, self.record_count)
        offset_index, time_index = self.offset_index, self.time_index
        scanned_next = self.next_offset
        if not self._load_sealed(buffer) or (self.data_end, self.record_count) != stats:
            self.sealed = False
            self.offset_index, self.time_index = offset_index, time_index
            self.next_offset = scanned_next
            return False
        return True

    def _reset_stats(self) -> None:
        self.sealed = False
        self.next_offset = self.base_offset
        self.record_count = self.batch_count = 0
        self.first_offset = self.last_offset = None
        self.min_timestamp = self.max_timestamp = self.first_timestamp = None
        self.offset_index = OffsetIndex(self.offset_index.path)
        self.time_index = TimeIndex(self.time_index.path)
        self._bytes_since_offset_entry = self._bytes_since_time_entry = 0

    def _account(self, batch: pa.RecordBatch, position: int, size: int, *, persist: bool) -> None:
        """Update statistics and indexes for a batch stored at ``position`` (scanned or rewritten), reading
        its offsets and timestamp bounds from the batch."""
        offsets = batch.column(0).to_numpy()
        timestamps = batch.column(1).to_numpy()
        self._account_bounds(batch, position, size, int(offsets[0]), int(offsets[-1]), int(timestamps.min()),
                             int(timestamps.max()), persist=persist)

    def refresh(self) -> str:
        """Catch up with a file another process writes: ``same``, ``grew``, ``replaced`` or ``missing``.

        ``replaced`` (a new inode under the same name: compaction, truncation, recovery) means the
        caller must reopen the segment; this object keeps describing the old file.
        """
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            return "missing"
        if stat.st_ino != self._inode:
            return "replaced"
        if self.sealed or stat.st_size <= self.file_size:
            return "same"
        buffer = self._map()
        if self._inode != stat.st_ino:
            return "replaced"
        before = self.data_end
        outcome, found = self._scan(buffer, self.data_end, buffer.size)
        for position, next_position, batch in found:
            self._account(batch, position, next_position - position, persist=False)
        self.data_end = outcome.data_end
        self.tail_status = outcome.status
        if outcome.status == "eos":
            self._load_sealed_after_scan(buffer)
        return "grew" if self.data_end != before or self.sealed else "same"

    # ----------------------------------------------------------------------------------------------
    # writing (the partition writer only)

    def open_writer(self) -> None:
        """Open the file for appending through a :class:`SegmentWriter`; the caller has removed any
        torn tail first.

        A segment that already holds batches primes the writer by replaying them (zero-copy); if the
        replay does not reproduce the file's bytes, the file is first rewritten with pyarrow's own.
        """
        if self.sealed:
            raise CorruptSegmentError(f"Segment {self.path} is sealed and cannot take appends", path=str(self.path))
        if self._writer is not None:
            return
        fixed = {_META_PREFIX + "format_version": FORMAT_VERSION, _META_PREFIX + "base_offset": str(self.base_offset)}
        later = [_META_PREFIX + name for name in _LATER_STATISTICS]
        existing = self.iter_batches() if self.batch_count else ()
        try:
            self._writer = SegmentWriter(self.path, self.schema, self.data_end, existing, fixed, later)
        except CorruptSegmentError:
            if not self.batch_count or os.path.getsize(self.path) != self.data_end:
                raise
            self._rewrite_from_batches()
            self._writer = SegmentWriter(self.path, self.schema, self.data_end, self.iter_batches(), fixed, later)

    def append(self, batch: pa.RecordBatch, *, durable: bool, first_offset: int, min_timestamp: int,
               max_timestamp: int) -> int:
        """Append one batch (``__offset`` filled, contiguous from ``first_offset``) with one ``writev``.

        Returns the bytes written. The caller passes the batch's timestamp bounds, which it has
        already computed for the roll decision.
        """
        if self._writer is None:
            self.open_writer()
        writer = self._writer
        assert writer is not None
        position = self.data_end
        try:
            size = writer.append(batch, position)
        except BaseException:
            # The writer may have counted the batch; a fresh one is primed from the file next time.
            self._close_stream()
            raise
        if durable:
            os.fsync(writer.fd)
        self.data_end += size
        self.file_size = self.data_end
        self._account_bounds(batch, position, size, first_offset, first_offset + batch.num_rows - 1, min_timestamp,
                             max_timestamp, persist=True)
        return size

    def _account_bounds(self, batch: pa.RecordBatch, position: int, size: int, first: int, last: int,
                        batch_min: int, batch_max: int, *, persist: bool) -> None:
        """Update statistics and indexes for a batch stored at ``position`` whose first and last offsets
        and timestamp bounds are known (an append knows them without reading the batch)."""
        if not self.offset_index._first or self._bytes_since_offset_entry >= self.index_interval_bytes:
            self.offset_index.append(first, position, persist=persist)
            self._bytes_since_offset_entry = 0
        if self.max_timestamp is None or batch_max > self.max_timestamp:
            if not self.time_index._first or self._bytes_since_time_entry >= self.index_interval_bytes:
                # The batch's first offset keeps the invariant: every earlier record is below the
                # previous maximum, hence below batch_max. (A scan starts at a batch anyway.)
                self.time_index.append(batch_max, first, persist=persist)
                self._bytes_since_time_entry = 0
            self.max_timestamp = batch_max
        if self.min_timestamp is None or batch_min < self.min_timestamp:
            self.min_timestamp = batch_min
        if self.first_offset is None:
            self.first_offset = first
            self.first_timestamp = int(batch.column(1)[0].as_py())
        self.last_offset = last
        self.next_offset = last + 1
        self.record_count += batch.num_rows
        self.batch_count += 1
        self._bytes_since_offset_entry += size
        self._bytes_since_time_entry += size

    def fsync(self) -> None:
        """Force appended batches and index entries to disk."""
        if self._writer is not None:
            os.fsync(self._writer.fd)
        self.offset_index.fsync()
        self.time_index.fsync()

    def footer_metadata(self) -> dict[str, str]:
        """The ``headwater.*`` key/values stored in the footer of a sealed segment."""
        metadata = {_META_PREFIX + "format_version": FORMAT_VERSION, _META_PREFIX + "base_offset": str(self.base_offset)}
        metadata.update((_META_PREFIX + name, padded_value(value)) for name, value in self._statistics().items())
        return metadata

    def _statistics(self) -> dict[str, int | None]:
        """The footer statistics known at seal time, by name (without the ``headwater.`` prefix)."""
        return {
            "next_offset": self.next_offset,
            "data_end": self.data_end,
            "record_count": self.record_count,
            "batch_count": self.batch_count,
            "first_offset": self.first_offset,
            "last_offset": self.last_offset,
            "min_timestamp": self.min_timestamp,
            "max_timestamp": self.max_timestamp,
            "first_timestamp": self.first_timestamp,
        }

    def _footer(self, batches: Iterable[pa.RecordBatch]) -> bytes | None:
        """The bytes pyarrow's file writer puts after ``data_end``, or None if its replay disagrees."""
        sink = CaptureSink()
        writer = pa.ipc.new_file(pa.PythonFile(sink, mode="w"), self.schema, metadata=self.footer_metadata())
        for batch in batches:
            writer.write_batch(batch)
        if sink.position == 0:
            # No batch: pyarrow writes magic and schema only at close, so capture them too.
            sink.capturing = True
            writer.close()
            written = b"".join(sink.captured)
            header = MAGIC + self.schema.serialize().to_pybytes()
            if self.data_end != len(header) or not written.startswith(header):
                return None
            return written[len(header):]
        if sink.position != self.data_end:
            writer.close()
            return None
        sink.capturing = True
        writer.close()
        return b"".join(sink.captured)

    def seal(self, *, durable: bool) -> None:
        """Append end-of-stream and the IPC footer, making the file a complete Arrow IPC file.

        The footer comes from the segment's own writer when it has seen every batch (the usual case:
        no replay). Otherwise the batches are replayed through a new file writer; if pyarrow's replay
        does not land exactly on ``data_end`` the segment is first rewritten from its batches (so the
        bytes are pyarrow's own), then sealed.
        """
        if self.sealed:
            return
        footer: bytes | None = None
        writer = self._writer
        if writer is not None and writer.batches == self.batch_count and self.record_count:
            statistics = {_META_PREFIX + name: value for name, value in self._statistics().items()}
            with contextlib.suppress(CorruptSegmentError):
                footer = writer.footer(statistics, self.data_end)
        if footer is None:
            footer = self._footer(self.iter_batches())
        if footer is None:
            self._rewrite_from_batches()
            footer = self._footer(self.iter_batches())
            if footer is None:
                raise CorruptSegmentError(f"Segment {self.path} could not be sealed: the IPC replay disagrees",
                                          path=str(self.path))
        self._close_stream()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        try:
            write_all(fd, footer)
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        self.file_size = self.data_end + len(footer)
        self.sealed = True
        self.write_indexes(durable=durable)

    def _rewrite_from_batches(self) -> None:
        """Replace the file with magic, schema and the re-serialized batches (same data, pyarrow's bytes)."""
        batches = list(self.iter_batches())
        self.close_writer()
        with _temp_file(self.path, durable=False) as (tmp, fd):
            write_all(fd, MAGIC + self.schema.serialize().to_pybytes())
            for batch in batches:
                write_all(fd, batch.serialize())
        os.replace(tmp, self.path)
        buffer = self._map()
        reader = pa.BufferReader(buffer)
        reader.seek(len(MAGIC))
        pa.ipc.read_message(reader)
        self.header_end = reader.tell()
        self._scan_and_index(buffer)

    def install_file(self, replacement: Path) -> None:
        """Rename ``replacement`` over this segment's file, removing the old index files first.

        A crash in between leaves a segment with missing indexes (rebuilt on recovery), never one with
        another file's index entries.
        """
        for index in (self.offset_index, self.time_index):
            index.path.unlink(missing_ok=True)
        os.replace(replacement, self.path)

    def write_indexes(self, *, durable: bool) -> None:
        """Write both index files from memory (atomic), e.g. after a scan found them stale."""
        for index in (self.offset_index, self.time_index):
            index.write_file()
            if durable:
                with open(index.path, "rb+") as f:
                    os.fsync(f.fileno())
        self.indexes_match_files = True

    def _close_stream(self) -> None:
        """Drop the writer (and its descriptor) without letting anything it still emits reach the file."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def close_writer(self) -> None:
        """Close the append descriptors (the segment stays readable)."""
        self._close_stream()
        self.offset_index.close()
        self.time_index.close()

    # ----------------------------------------------------------------------------------------------
    # reading

    def iter_positioned(self, start_position: int | None = None) -> Iterator[tuple[int, pa.RecordBatch]]:
        """(byte position, batch) for every batch from ``start_position`` (default: the first), zero-copy."""
        end = self.data_end
        position = self.header_end if start_position is None else start_position
        if position >= end:
            return
        view = self._mapped(end).slice(0, end)
        reader = pa.BufferReader(view)
        reader.seek(position)
        schema = self.schema
        read_message = pa.ipc.read_message
        read_record_batch = pa.ipc.read_record_batch
        while position < end:
            try:
                batch = read_record_batch(read_message(reader), schema)
            except (pa.ArrowInvalid, OSError, EOFError) as exc:
                raise CorruptSegmentError(f"Segment {self.path}: unreadable batch at byte {position}: {exc}",
                                          path=str(self.path), position=position) from None
            yield position, batch
            position = reader.tell()

    def iter_batches(self, start_position: int | None = None) -> Iterator[pa.RecordBatch]:
        """Every batch from ``start_position`` (default: the first) to ``data_end``, zero-copy."""
        for _, batch in self.iter_positioned(start_position):
            yield batch

    def batches_from(self, offset: int) -> Iterator[pa.RecordBatch]:
        """Batches starting with the one that may hold ``offset`` (found through the sparse index)."""
        entry = self.offset_index.lookup(offset)
        return self.iter_batches(entry.position if entry is not None else None)

    def first_offset_at_or_after(self, timestamp: int) -> int | None:
        """The first offset in this segment whose timestamp is >= ``timestamp``, or None."""
        if self.max_timestamp is None or self.max_timestamp < timestamp:
            return None
        entry = self.time_index.lookup(timestamp)
        start = entry.offset if entry is not None else self.base_offset
        for batch in self.batches_from(start):
            offsets = batch.column(0).to_numpy()
            timestamps = batch.column(1).to_numpy()
            hits = np.flatnonzero((timestamps >= timestamp) & (offsets >= start))
            if len(hits):
                return int(offsets[hits[0]])
        return None

    @property
    def size_bytes(self) -> int:
        """Bytes of the file that belong to the segment (batches, and footer once sealed)."""
        return self.file_size if self.sealed else self.data_end

    @property
    def inode(self) -> int:
        """The inode of the file this object describes (to notice a replacement)."""
        return self._inode

    def info(self, topic: str, partition: int) -> SegmentInfo:
        """A :class:`SegmentInfo` snapshot of this segment."""
        return SegmentInfo(
            topic=topic,
            partition=partition,
            base_offset=self.base_offset,
            next_offset=self.next_offset,
            path=self.path,
            sealed=self.sealed,
            min_timestamp=self.min_timestamp,
            max_timestamp=self.max_timestamp,
            min_offset=self.first_offset,
            max_offset=self.last_offset,
            record_count=self.record_count,
            size_bytes=self.size_bytes,
            schema=self.schema,
        )

    def delete_files(self) -> None:
        """Remove the segment and its indexes (open maps stay valid until released)."""
        self.close_writer()
        for path in (self.path, self.offset_index.path, self.time_index.path):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


"""The two per-segment indexes: a sparse offset index and a time index, as fixed-width binary files.

Both files are a flat array of 16-byte little-endian entries, no header:

==============  ==========================================  ==========================================
file            entry (bytes 0-7, bytes 8-15)               invariant
==============  ==========================================  ==========================================
``.index``      int64 offset, int64 byte position           offsets and positions strictly increasing;
                                                            the batch starting at ``position`` has
                                                            ``offset`` as its first record
``.timeindex``  int64 timestamp, int64 offset               timestamps and offsets strictly increasing;
                                                            every record of the segment before
                                                            ``offset`` has a timestamp < ``timestamp``
==============  ==========================================  ==========================================

The offset index is sparse (Kafka's design): an entry is added when at least ``index.interval.bytes``
of batches were written since the last one, so a lookup returns the nearest indexed batch at or before
an offset and the reader scans forward from there. The time index gets an entry when a batch raises the
segment's maximum timestamp (and the same byte interval has passed); the entry is (the new maximum,
the batch's first offset). Every earlier record is at most the previous maximum, which is below the new
one, so the invariant above holds and a lookup for ``t`` may start scanning at the last entry whose
timestamp is <= ``t`` without missing a record.

Entries are kept in memory as Python lists (bisect lookups) and appended to the file in groups (and
whenever the segment is sealed, flushed or closed). Index files are derived data: recovery validates
them and rebuilds any that are missing, short or wrong from the segment itself.
"""

from __future__ import annotations

import os
import struct
from bisect import bisect_right
from pathlib import Path
from typing import Generic, Self, TypeVar

import numpy as np

from headwater.storage.values import OffsetPosition, TimestampOffset

__all__ = ["ENTRY_BYTES", "OffsetIndex", "TimeIndex"]

ENTRY_BYTES = 16
_ENTRY = np.dtype([("first", "<i8"), ("second", "<i8")])
_PACK = struct.Struct("<qq").pack
_FLUSH_ENTRIES = 256

EntryT = TypeVar("EntryT", OffsetPosition, TimestampOffset)


class _PairIndex(Generic[EntryT]):
    """A file of (int64, int64) entries whose first and second fields both strictly increase.

    A subclass names its entry type (``_entry``) and how it appends; lookups and listings are shared.
    """

    _entry: type[EntryT]

    def __init__(self, path: Path, first: list[int] | None = None, second: list[int] | None = None) -> None:
        self.path = path
        self._first: list[int] = first if first is not None else []
        self._second: list[int] = second if second is not None else []
        self._fd: int | None = None
        self._pending = bytearray()

    def __len__(self) -> int:
        return len(self._first)

    @staticmethod
    def read_entries(path: Path) -> tuple[list[int], list[int]] | None:
        """Entries of the file at ``path``, or None when it is missing or breaks the invariants."""
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        if len(raw) % ENTRY_BYTES:
            return None
        entries = np.frombuffer(raw, dtype=_ENTRY)
        first = entries["first"]
        second = entries["second"]
        if len(entries) > 1 and not (np.all(np.diff(first) > 0) and np.all(np.diff(second) > 0)):
            return None
        return first.tolist(), second.tolist()

    def append_entry(self, first: int, second: int, *, persist: bool) -> None:
        """Add an entry in memory and, when ``persist``, queue it for the file.

        Queued entries are written in groups of ``_FLUSH_ENTRIES`` and on :meth:`flush`,
        :meth:`fsync` and :meth:`close`: index files are derived data, and the active segment's
        are compared with a scan (and rewritten) whenever a writer opens it.
        """
        self._first.append(first)
        self._second.append(second)
        if persist:
            self._pending += _PACK(first, second)
            if len(self._pending) >= _FLUSH_ENTRIES * ENTRY_BYTES:
                self.flush()

    def flush(self) -> None:
        """Append queued entries to the file."""
        if self._pending:
            if self._fd is None:
                self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            os.write(self._fd, self._pending)
            self._pending = bytearray()

    def write_file(self) -> None:
        """Write all in-memory entries to the file atomically (temp file, then rename)."""
        self._pending = bytearray()
        self.close()
        tmp = self.path.with_name(self.path.name + ".tmp")
        entries = np.empty(len(self._first), dtype=_ENTRY)
        entries["first"] = self._first
        entries["second"] = self._second
        with open(tmp, "wb") as f:
            f.write(entries.tobytes())
        os.replace(tmp, self.path)

    def matches_file(self) -> bool:
        """True when the file holds exactly the in-memory entries."""
        on_disk = self.read_entries(self.path)
        return on_disk is not None and on_disk[0] == self._first and on_disk[1] == self._second

    def fsync(self) -> None:
        """Force appended entries to disk."""
        self.flush()
        if self._fd is not None:
            os.fsync(self._fd)

    def close(self) -> None:
        """Write queued entries and close the append handle (entries stay in memory)."""
        self.flush()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


    @property
    def last(self) -> EntryT | None:
        """The newest entry."""
        return self._entry(self._first[-1], self._second[-1]) if self._first else None

    def lookup(self, key: int) -> EntryT | None:
        """The entry with the largest first field <= ``key``: where a scan for an offset (offset index)
        or a timestamp (time index) may start."""
        i = bisect_right(self._first, key) - 1
        return self._entry(self._first[i], self._second[i]) if i >= 0 else None

    def entries(self) -> list[EntryT]:
        """All entries, oldest first."""
        return [self._entry(first, second) for first, second in zip(self._first, self._second)]

    @classmethod
    def load(cls, path: Path) -> Self | None:
        """The index stored at ``path``, or None if the file is missing or invalid."""
        entries = cls.read_entries(path)
        return None if entries is None else cls(path, *entries)


class OffsetIndex(_PairIndex[OffsetPosition]):
    """Sparse map from a batch's first offset to the byte position where the batch starts."""

    _entry = OffsetPosition

    def append(self, offset: int, position: int, *, persist: bool = True) -> None:
        """Index the batch starting at ``position`` whose first record is ``offset``."""
        self.append_entry(offset, position, persist=persist)


class TimeIndex(_PairIndex[TimestampOffset]):
    """Map from a segment's running maximum timestamp to the first offset that reached it."""

    _entry = TimestampOffset

    def append(self, timestamp: int, offset: int, *, persist: bool = True) -> None:
        """Record that ``offset`` is the first record with the new maximum ``timestamp``."""
        self.append_entry(timestamp, offset, persist=persist)

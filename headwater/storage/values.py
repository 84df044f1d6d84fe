"""Small immutable values the storage modules pass around and return.

They are frozen dataclasses rather than tuples so each field has a name at every use (Kafka's log layer
has ``OffsetPosition``, ``TimestampOffset`` and ``RollParams`` for the same reason).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

__all__ = [
    "AppendResult",
    "CompactionReport",
    "OffsetPosition",
    "PartitionRecovery",
    "ReadResult",
    "RecoveryReport",
    "RetentionReport",
    "RollParams",
    "SegmentInfo",
    "TimestampOffset",
]


@dataclass(frozen=True, slots=True)
class OffsetPosition:
    """One offset index entry: the batch whose first record has ``offset`` starts at byte ``position``."""

    offset: int
    position: int


@dataclass(frozen=True, slots=True)
class TimestampOffset:
    """One time index entry: every record of the segment before ``offset`` has a timestamp < ``timestamp``.

    ``offset`` is the first record of the batch that raised the segment's running maximum to ``timestamp``.
    """

    timestamp: int
    offset: int


@dataclass(frozen=True, slots=True)
class RollParams:
    """What decides whether the active segment is rolled before a batch is appended.

    Attributes:
        max_segment_bytes: ``segment.bytes``.
        max_segment_ms: ``segment.ms``.
        segment_size: bytes in the active segment now.
        segment_first_timestamp: timestamp of the active segment's first record (None when it is empty).
        batch_bytes: serialised size of the incoming batch.
        batch_max_timestamp: largest timestamp of the incoming batch.
    """

    max_segment_bytes: int
    max_segment_ms: int
    segment_size: int
    segment_first_timestamp: int | None
    batch_bytes: int
    batch_max_timestamp: int

    def should_roll(self) -> bool:
        """Roll when the batch would overflow ``segment.bytes`` or spans past ``segment.ms`` (Kafka's rule).

        An empty segment is never rolled: a batch larger than ``segment.bytes`` gets a segment of its own.
        """
        if self.segment_first_timestamp is None:
            return False
        if self.segment_size + self.batch_bytes > self.max_segment_bytes:
            return True
        return self.batch_max_timestamp - self.segment_first_timestamp >= self.max_segment_ms


@dataclass(frozen=True, slots=True)
class AppendResult:
    """Where one append put its records: offsets ``base_offset .. base_offset + count - 1`` of ``partition``."""

    partition: int
    base_offset: int
    count: int

    @property
    def next_offset(self) -> int:
        """The offset after the last record appended."""
        return self.base_offset + self.count


@dataclass(frozen=True, slots=True)
class ReadResult:
    """Batches read from one partition and the offset to read from next.

    ``next_offset`` is one past the last record returned, or, when nothing was returned, the offset a
    retry should ask for (past any gap left by compaction). Batches carry each segment's own schema.
    """

    batches: tuple[pa.RecordBatch, ...]
    next_offset: int

    @property
    def record_count(self) -> int:
        """Number of records in all batches."""
        return sum(batch.num_rows for batch in self.batches)

    def to_table(self, schema: pa.Schema | None = None) -> pa.Table:
        """The batches as one table (they must share a schema, or pass the one to unify to)."""
        if not self.batches:
            if schema is None:
                raise ValueError("No batches were read and no schema was given")
            return schema.empty_table()
        return pa.Table.from_batches(self.batches, schema=schema)


@dataclass(frozen=True, slots=True)
class SegmentInfo:
    """What the engine needs to plan a read of one segment (e.g. as a pyarrow dataset fragment).

    A sealed segment is a complete Arrow IPC file (``pyarrow.dataset.dataset(path, format="ipc")``
    opens it); an unsealed one is the active segment and must be read through ``PartitionLog.read``.
    Timestamp and offset bounds are None for a segment with no records. ``schema`` is the file's own:
    ``__headers`` may be Arrow's null type there (a segment without headers); give the topic's
    ``stored_schema`` to the dataset to read it as the list type.
    """

    topic: str
    partition: int
    base_offset: int
    next_offset: int
    path: Path
    sealed: bool
    min_timestamp: int | None
    max_timestamp: int | None
    min_offset: int | None
    max_offset: int | None
    record_count: int
    size_bytes: int
    schema: pa.Schema = field(compare=False)


@dataclass(frozen=True, slots=True)
class PartitionRecovery:
    """What recovery found and did in one partition.

    Attributes:
        bytes_dropped: bytes removed from segment tails (torn batches, torn footers).
        batches_dropped: batch messages removed (a torn tail counts as one).
        segments_sealed: segments that were left unsealed by a crash and got their footer.
        indexes_rebuilt: segments whose index files were missing, stale or invalid and were written anew.
        temp_files_removed: leftovers of interrupted atomic writes that were deleted.
    """

    topic: str
    partition: int
    bytes_dropped: int = 0
    batches_dropped: int = 0
    segments_sealed: int = 0
    indexes_rebuilt: int = 0
    temp_files_removed: int = 0

    @property
    def clean(self) -> bool:
        """True when nothing had to be dropped or repaired."""
        return not (self.bytes_dropped or self.batches_dropped or self.segments_sealed or self.temp_files_removed)


@dataclass(frozen=True, slots=True)
class RecoveryReport:
    """Recovery of every partition the log could lock, plus those it skipped because a writer is live."""

    partitions: tuple[PartitionRecovery, ...] = ()
    skipped_locked: tuple[tuple[str, int], ...] = ()
    damaged: tuple[tuple[str, int, str], ...] = ()
    """(topic, partition, what is wrong) of partitions whose files could not be opened: left untouched for
    someone to look at, while the rest of the log opens (reading them raises the same error)."""

    @property
    def bytes_dropped(self) -> int:
        """Total bytes dropped across partitions."""
        return sum(p.bytes_dropped for p in self.partitions)

    @property
    def batches_dropped(self) -> int:
        """Total batches dropped across partitions."""
        return sum(p.batches_dropped for p in self.partitions)

    @property
    def clean(self) -> bool:
        """True when no partition needed repair and none was found damaged."""
        return not self.damaged and all(p.clean for p in self.partitions)


@dataclass(frozen=True, slots=True)
class RetentionReport:
    """Segments deleted by retention in one partition and the partition's new start offset."""

    topic: str
    partition: int
    segments_deleted: int
    bytes_deleted: int
    records_deleted: int
    start_offset: int


@dataclass(frozen=True, slots=True)
class CompactionReport:
    """What one compaction pass over a partition did."""

    topic: str
    partition: int
    segments_rewritten: int
    records_removed: int
    tombstones_removed: int
    bytes_before: int
    bytes_after: int

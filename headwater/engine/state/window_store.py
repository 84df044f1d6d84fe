"""Rows by key and timestamp, with range lookups: the window store of a stream-stream join.

Each side of a stream-stream join keeps the records it has seen for the join window plus grace
(Kafka Streams' join window store). A :class:`TimestampedRows` holds rows as Arrow chunks plus, per row,
its key slot, timestamp and insertion sequence. :meth:`match` finds, for a whole batch of probes at once,
every stored row with the probe's slot and a timestamp within the probe's range: rows are kept sorted by
(slot, timestamp, sequence) and each probe's range is two ``searchsorted`` over a combined int64 key
(``slot * span + timestamp - base``, valid because rows older than the retention are purged, which bounds
the span), so the lookup is vectorized. Results come probe by probe, each probe's rows in timestamp
then arrival order, which is the order Kafka Streams' window store fetch returns them in.

Example:
    >>> import numpy as np, pyarrow as pa
    >>> store = TimestampedRows(pa.schema([("V", pa.string())]))
    >>> store.append(np.array([0, 0, 1]), np.array([10, 20, 10]), pa.table({"V": ["a", "b", "c"]}))
    >>> probes, found = store.match(np.array([0, 1]), np.array([15, 0]), np.array([25, 100]))
    >>> probes.tolist(), store.rows(found).column("V").to_pylist()
    ([0, 1], ['b', 'c'])
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

__all__ = ["TimestampedRows"]


class TimestampedRows:
    """Rows with a key slot and a timestamp, purged by age (see the module docstring)."""

    def __init__(self, value_schema: pa.Schema) -> None:
        self.value_schema = value_schema
        self._chunks: list[pa.Table] = []
        self._table: pa.Table | None = None
        self.slots = np.zeros(0, dtype=np.int64)
        self.timestamps = np.zeros(0, dtype=np.int64)
        self.sequences = np.zeros(0, dtype=np.int64)
        self.next_sequence = 0
        self._order: np.ndarray | None = None
        self._combined: np.ndarray | None = None
        self._base = 0
        self._span = 1

    def __len__(self) -> int:
        return len(self.slots)

    def append(self, slots: np.ndarray, timestamps: np.ndarray, values: pa.Table) -> None:
        """Store rows (in arrival order)."""
        if len(slots) == 0:
            return
        self._chunks.append(values.select(self.value_schema.names))
        self._table = None
        self.slots = np.concatenate([self.slots, np.asarray(slots, dtype=np.int64)])
        self.timestamps = np.concatenate([self.timestamps, np.asarray(timestamps, dtype=np.int64)])
        count = len(slots)
        self.sequences = np.concatenate([self.sequences, self.next_sequence + np.arange(count, dtype=np.int64)])
        self.next_sequence += count
        self._order = None

    def purge(self, keep_after: int) -> None:
        """Drop rows with a timestamp at or below ``keep_after``."""
        keep = self.timestamps > keep_after
        if keep.all():
            return
        table = self._values()
        positions = np.flatnonzero(keep)
        self._chunks = [table.take(pa.array(positions, pa.int64()))]
        self._table = None
        self.slots = self.slots[keep]
        self.timestamps = self.timestamps[keep]
        self.sequences = self.sequences[keep]
        self._order = None

    def _values(self) -> pa.Table:
        if self._table is None:
            if not self._chunks:
                self._table = self.value_schema.empty_table()
            else:
                self._table = pa.concat_tables(self._chunks).combine_chunks()
                self._chunks = [self._table]
        return self._table

    def rows(self, positions: np.ndarray) -> pa.Table:
        """The values of stored rows at ``positions``."""
        return self._values().take(pa.array(np.asarray(positions, dtype=np.int64), pa.int64()))

    def _sorted(self) -> tuple[np.ndarray, np.ndarray]:
        if self._order is None:
            self._order = np.lexsort((self.sequences, self.timestamps, self.slots))
            self._base = int(self.timestamps.min()) if len(self.timestamps) else 0
            self._span = (int(self.timestamps.max()) - self._base + 2) if len(self.timestamps) else 1
            top = int(self.slots.max()) if len(self.slots) else 0
            if (top + 2) * self._span >= (1 << 62):
                raise OverflowError("join window store key range too large")
            ordered = self._order
            self._combined = self.slots[ordered] * self._span + (self.timestamps[ordered] - self._base)
        assert self._combined is not None
        return self._order, self._combined

    def match(self, slots: np.ndarray, low: np.ndarray, high: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """All (probe, stored row) pairs where the row's slot equals the probe's and ``low <= timestamp
        <= high``; ordered by probe, then timestamp, then arrival. Probes with slot -1 match nothing."""
        if len(self.slots) == 0 or len(slots) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        order, combined = self._sorted()
        base, span = self._base, self._span
        low_clipped = np.clip(np.asarray(low, dtype=np.int64) - base, 0, span - 1)
        high_clipped = np.clip(np.asarray(high, dtype=np.int64) - base, -1, span - 2)
        slots = np.asarray(slots, dtype=np.int64)
        valid = (slots >= 0) & (np.asarray(high) >= np.asarray(low)) & (high_clipped >= low_clipped)
        start = np.searchsorted(combined, slots * span + low_clipped, side="left")
        stop = np.searchsorted(combined, slots * span + high_clipped, side="right")
        counts = np.where(valid, np.maximum(stop - start, 0), 0)
        probes = np.repeat(np.arange(len(slots), dtype=np.int64), counts)
        offsets = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
        positions = order[np.repeat(start, counts) + offsets]
        return probes, positions

    # -- snapshots ----------------------------------------------------------------------------------------
    def to_arrow(self) -> pa.Table:
        table = self._values()
        table = table.append_column("__slot", pa.array(self.slots, pa.int64()))
        table = table.append_column("__timestamp", pa.array(self.timestamps, pa.int64()))
        table = table.append_column("__sequence", pa.array(self.sequences, pa.int64()))
        return table.replace_schema_metadata({b"headwater.next_sequence": str(self.next_sequence).encode()})

    @classmethod
    def from_arrow(cls, table: pa.Table, value_schema: pa.Schema) -> TimestampedRows:
        store = cls(value_schema)
        store._chunks = [table.select(value_schema.names).cast(value_schema)]
        store.slots = np.asarray(table.column("__slot").to_numpy(), dtype=np.int64)
        store.timestamps = np.asarray(table.column("__timestamp").to_numpy(), dtype=np.int64)
        store.sequences = np.asarray(table.column("__sequence").to_numpy(), dtype=np.int64)
        metadata = table.schema.metadata or {}
        store.next_sequence = int(metadata.get(b"headwater.next_sequence", b"0"))
        return store

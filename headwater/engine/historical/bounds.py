"""Scan bounds: the ranges of event time, offset and partition a historical read needs.

A query's WHERE clause, the ``since``/``until`` of :meth:`headwater.api.Client.read` and the options of
an export all come down to one :class:`ScanBounds` per stream. Bounds decide which segments are read at
all (a segment whose ``[min_timestamp, max_timestamp]`` misses the time range is never opened), and they
are also handed to the Arrow dataset as a filter, so DuckDB's own predicates can prune further.

Bounds are inclusive on both ends and ``None`` means unbounded. They only ever *widen* the set of rows
the query itself selects (every row the query keeps lies within them); the query's predicates still
run in full, so bounds are an optimisation that cannot change an answer.

Example:
    >>> ScanBounds(min_timestamp=10).intersect(ScanBounds(max_timestamp=20))
    ScanBounds(min_timestamp=10, max_timestamp=20, min_offset=None, max_offset=None, partitions=None)
    >>> ScanBounds(min_timestamp=30, max_timestamp=20).empty
    True
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow.dataset as ds

__all__ = ["UNBOUNDED", "ScanBounds"]


def _max(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    return a if b is None else max(a, b)


def _min(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    return a if b is None else min(a, b)


@dataclass(frozen=True, slots=True)
class ScanBounds:
    """Inclusive ranges of ROWTIME and ROWOFFSET and a set of partitions; None is unbounded.

    Attributes:
        min_timestamp, max_timestamp: the event time range (ms since the epoch).
        min_offset, max_offset: the offset range (the same in every partition).
        partitions: the partitions to read, or None for all.
    """

    min_timestamp: int | None = None
    max_timestamp: int | None = None
    min_offset: int | None = None
    max_offset: int | None = None
    partitions: frozenset[int] | None = None

    @property
    def empty(self) -> bool:
        """True when no row can satisfy the bounds."""
        if (
            self.min_timestamp is not None
            and self.max_timestamp is not None
            and self.min_timestamp > self.max_timestamp
        ):
            return True
        if self.min_offset is not None and self.max_offset is not None and self.min_offset > self.max_offset:
            return True
        return self.partitions is not None and not self.partitions

    @property
    def unbounded(self) -> bool:
        """True when the bounds select everything."""
        return self == UNBOUNDED

    def intersect(self, other: ScanBounds) -> ScanBounds:
        """Rows within both bounds."""
        partitions = self.partitions
        if other.partitions is not None:
            partitions = other.partitions if partitions is None else partitions & other.partitions
        return ScanBounds(
            _max(self.min_timestamp, other.min_timestamp),
            _min(self.max_timestamp, other.max_timestamp),
            _max(self.min_offset, other.min_offset),
            _min(self.max_offset, other.max_offset),
            partitions,
        )

    def hull(self, other: ScanBounds) -> ScanBounds:
        """The smallest bounds holding the rows of either (for an OR of two conditions)."""

        def low(a: int | None, b: int | None) -> int | None:
            return None if a is None or b is None else min(a, b)

        def high(a: int | None, b: int | None) -> int | None:
            return None if a is None or b is None else max(a, b)

        partitions = None
        if self.partitions is not None and other.partitions is not None:
            partitions = self.partitions | other.partitions
        return ScanBounds(
            low(self.min_timestamp, other.min_timestamp),
            high(self.max_timestamp, other.max_timestamp),
            low(self.min_offset, other.min_offset),
            high(self.max_offset, other.max_offset),
            partitions,
        )

    def admits_segment(
        self,
        partition: int,
        min_timestamp: int | None,
        max_timestamp: int | None,
        min_offset: int | None,
        max_offset: int | None,
    ) -> bool:
        """Whether a segment with these statistics may hold rows within the bounds (a segment without
        records, whose statistics are None, holds none)."""
        if self.empty or min_timestamp is None or max_timestamp is None:
            return False
        if self.partitions is not None and partition not in self.partitions:
            return False
        if self.min_timestamp is not None and max_timestamp < self.min_timestamp:
            return False
        if self.max_timestamp is not None and min_timestamp > self.max_timestamp:
            return False
        if min_offset is not None and max_offset is not None:
            if self.min_offset is not None and max_offset < self.min_offset:
                return False
            if self.max_offset is not None and min_offset > self.max_offset:
                return False
        return True

    def dataset_filter(
        self, timestamp: str = "__timestamp", offset: str = "__offset", partition: str = "__partition"
    ) -> ds.Expression | None:
        """The bounds as an Arrow dataset filter over the stored column names, or None when unbounded."""
        terms: list[ds.Expression] = []
        if self.min_timestamp is not None:
            terms.append(ds.field(timestamp) >= self.min_timestamp)
        if self.max_timestamp is not None:
            terms.append(ds.field(timestamp) <= self.max_timestamp)
        if self.min_offset is not None:
            terms.append(ds.field(offset) >= self.min_offset)
        if self.max_offset is not None:
            terms.append(ds.field(offset) <= self.max_offset)
        if self.partitions is not None:
            terms.append(ds.field(partition).isin(sorted(self.partitions)))
        if not terms:
            return None
        combined = terms[0]
        for term in terms[1:]:
            combined = combined & term
        return combined

    def describe(self) -> str:
        """The bounds in words, for EXPLAIN."""
        parts = []
        if self.min_timestamp is not None or self.max_timestamp is not None:
            parts.append(f"ROWTIME in [{_text(self.min_timestamp, '-inf')}, {_text(self.max_timestamp, '+inf')}]")
        if self.min_offset is not None or self.max_offset is not None:
            parts.append(f"ROWOFFSET in [{_text(self.min_offset, '-inf')}, {_text(self.max_offset, '+inf')}]")
        if self.partitions is not None:
            parts.append(f"ROWPARTITION in {{{', '.join(str(p) for p in sorted(self.partitions))}}}")
        return ", ".join(parts) if parts else "unbounded"


def _text(value: int | None, infinite: str) -> str:
    return infinite if value is None else str(value)


UNBOUNDED = ScanBounds()
"""Bounds that select every row."""

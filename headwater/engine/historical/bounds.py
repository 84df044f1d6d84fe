"""Scan bounds: the ranges of event time, offset and partition a historical read needs.

A query's WHERE clause, the ``since``/``until`` of :meth:`headwater.api.Client.read` and the options of
an export all come down to one :class:`ScanBounds` per stream. Bounds decide which segments are read at
all: a segment whose ``[min_timestamp, max_timestamp]`` misses the time range is never opened.

Bounds are inclusive on both ends and ``None`` means unbounded. They only ever *widen* the set of rows
the query itself selects (every row the query keeps lies within them); the query's predicates still
run in full, so bounds are an optimisation that cannot change an answer.

An OR of conditions gives bounds with ``parts``: the fields hold the hull of the alternatives (what a
single range can say) and ``parts`` the alternatives themselves, so a segment between two ranges is
still left out. AND distributes over the parts (up to :data:`MAX_PARTS`, beyond which only the hull
is kept).

Example:
    >>> ScanBounds(min_timestamp=10).intersect(ScanBounds(max_timestamp=20))
    ScanBounds(min_timestamp=10, max_timestamp=20, min_offset=None, max_offset=None, partitions=None)
    >>> ScanBounds(min_timestamp=30, max_timestamp=20).empty
    True
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MAX_PARTS", "UNBOUNDED", "ScanBounds"]


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
    parts: tuple[ScanBounds, ...] = ()

    @property
    def box(self) -> ScanBounds:
        """The bounds without their parts (the hull)."""
        return ScanBounds(self.min_timestamp, self.max_timestamp, self.min_offset, self.max_offset, self.partitions)

    def alternatives(self) -> tuple[ScanBounds, ...]:
        """The boxes whose union the bounds are (one when there are no parts)."""
        return self.parts or (self,)

    @property
    def empty(self) -> bool:
        """True when no row can satisfy the bounds."""
        if self.parts:
            return all(part.empty for part in self.parts)
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
        box = self.box._intersect_box(other.box)
        if not self.parts and not other.parts:
            return box
        parts = [a._intersect_box(b) for a in self.alternatives() for b in other.alternatives()]
        parts = [p for p in parts if not p.empty]
        if not parts:
            return ScanBounds(partitions=frozenset())
        if len(parts) == 1:
            return parts[0]
        if len(parts) > MAX_PARTS:
            return box
        return _with_parts(box, tuple(parts))

    def _intersect_box(self, other: ScanBounds) -> ScanBounds:
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
        """Rows within either (an OR of two conditions): the hull, with both sides' boxes as parts."""
        if self.empty:
            return other
        if other.empty:
            return self
        box = self.box._hull_box(other.box)
        parts = tuple(dict.fromkeys((*self.alternatives(), *other.alternatives())))
        if UNBOUNDED in parts:
            return UNBOUNDED
        if len(parts) > MAX_PARTS:
            return box
        return _with_parts(box, parts)

    def _hull_box(self, other: ScanBounds) -> ScanBounds:
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
        if self.parts:
            return any(
                part.admits_segment(partition, min_timestamp, max_timestamp, min_offset, max_offset)
                for part in self.parts
            )
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

    def describe(self) -> str:
        """The bounds in words, for EXPLAIN."""
        if self.parts:
            return " or ".join(f"({part.describe()})" for part in self.parts)
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

MAX_PARTS = 32
"""The most alternatives bounds keep; beyond, the hull stands for them."""


def _with_parts(box: ScanBounds, parts: tuple[ScanBounds, ...]) -> ScanBounds:
    return ScanBounds(box.min_timestamp, box.max_timestamp, box.min_offset, box.max_offset, box.partitions, parts)

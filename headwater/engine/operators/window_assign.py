"""Window definitions and the assignment of records to time windows (vectorized).

ksqlDB's windows and their Kafka Streams semantics:

* **TUMBLING (SIZE s)** and **HOPPING (SIZE s, ADVANCE BY a)**: windows ``[start, start + s)`` with
  ``start`` a multiple of ``a`` (``a = s`` for tumbling). A record at ``t`` belongs to every window with
  ``start <= t < start + s`` and ``start >= 0``, in ascending order of start.
* **SESSION (g)**: a key's records closer than ``g`` to each other form one session ``[first, last]``
  (see :mod:`headwater.engine.operators.session_aggregate`).
* **GRACE PERIOD**: a window accepts records while the query's stream time (the largest timestamp it has
  seen) is below ``window end + grace``; later records are dropped for that window. When no grace is
  given ksqlDB uses Kafka Streams' legacy default, 24 hours minus the window size (minus the gap for
  sessions), never negative.
* **RETENTION**: how long the window store keeps windows (by default size + grace, gap + grace for
  sessions). It decides which closed windows EMIT FINAL can still emit and when state is dropped.

Example:
    >>> import numpy as np
    >>> hopping = TimeWindows.hopping(size_ms=30_000, advance_ms=15_000)
    >>> rows, starts = assign_time_windows(np.array([0, 89_999]), hopping)
    >>> rows.tolist(), starts.tolist()
    ([0, 1, 1], [0, 60000, 75000])
    >>> hopping.grace, TimeWindows.tumbling(1000, grace_ms=0).retention
    (86370000, 1000)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["DEFAULT_GRACE_BASE_MS", "SessionWindows", "TimeWindows", "assign_time_windows", "legacy_grace"]

DEFAULT_GRACE_BASE_MS = 24 * 60 * 60 * 1000
"""Kafka Streams' legacy retention (one day) from which the default grace is derived."""


def legacy_grace(span_ms: int) -> int:
    """Kafka Streams' default grace of a window spanning ``span_ms``: one day minus the span, at least 0."""
    return max(DEFAULT_GRACE_BASE_MS - span_ms, 0)


@dataclass(frozen=True, slots=True)
class TimeWindows:
    """TUMBLING or HOPPING windows.

    Attributes:
        size_ms: window length.
        advance_ms: distance between window starts (equal to the size for tumbling windows).
        grace_ms: the GRACE PERIOD, None when the statement gave none.
        retention_ms: the RETENTION, None when the statement gave none.
    """

    size_ms: int
    advance_ms: int
    grace_ms: int | None = None
    retention_ms: int | None = None

    def __post_init__(self) -> None:
        if self.size_ms <= 0:
            raise ValueError("window size must be positive")
        if not 0 < self.advance_ms <= self.size_ms:
            raise ValueError("window advance must be positive and at most the window size")
        if self.grace_ms is not None and self.grace_ms < 0:
            raise ValueError("grace period must not be negative")

    @classmethod
    def tumbling(cls, size_ms: int, *, grace_ms: int | None = None, retention_ms: int | None = None) -> TimeWindows:
        return cls(size_ms, size_ms, grace_ms, retention_ms)

    @classmethod
    def hopping(
        cls, size_ms: int, advance_ms: int, *, grace_ms: int | None = None, retention_ms: int | None = None
    ) -> TimeWindows:
        return cls(size_ms, advance_ms, grace_ms, retention_ms)

    @property
    def is_tumbling(self) -> bool:
        return self.advance_ms == self.size_ms

    @property
    def grace(self) -> int:
        """The effective grace period in ms."""
        return self.grace_ms if self.grace_ms is not None else legacy_grace(self.size_ms)

    @property
    def retention(self) -> int:
        """The effective store retention in ms."""
        return self.retention_ms if self.retention_ms is not None else self.size_ms + self.grace


@dataclass(frozen=True, slots=True)
class SessionWindows:
    """SESSION windows with inactivity gap ``gap_ms``."""

    gap_ms: int
    grace_ms: int | None = None
    retention_ms: int | None = None

    def __post_init__(self) -> None:
        if self.gap_ms <= 0:
            raise ValueError("session gap must be positive")
        if self.grace_ms is not None and self.grace_ms < 0:
            raise ValueError("grace period must not be negative")

    @property
    def grace(self) -> int:
        return self.grace_ms if self.grace_ms is not None else legacy_grace(self.gap_ms)

    @property
    def retention(self) -> int:
        return self.retention_ms if self.retention_ms is not None else self.gap_ms + self.grace


def assign_time_windows(timestamps: np.ndarray, windows: TimeWindows) -> tuple[np.ndarray, np.ndarray]:
    """Every (row, window start) pair: ``rows[i]`` is a row of ``timestamps`` and ``starts[i]`` the start
    of one window holding it; pairs come row by row, each row's windows by ascending start."""
    timestamps = np.asarray(timestamps, dtype=np.int64)
    size, advance = windows.size_ms, windows.advance_ms
    first = (np.maximum(0, timestamps - size + advance) // advance) * advance
    counts = (timestamps - first) // advance + 1
    counts = np.maximum(counts, 0)
    if len(counts) and int(counts.min()) == int(counts.max()):
        # every row in the same number of windows (rows past the first window's size, when the size is
        # a multiple of the advance): a row's starts are its first plus a fixed ladder of advances
        per_row = int(counts[0])
        ladder = np.arange(per_row, dtype=np.int64) * advance
        return np.repeat(np.arange(len(timestamps), dtype=np.int64), per_row), (first[:, None] + ladder).ravel()
    rows = np.repeat(np.arange(len(timestamps), dtype=np.int64), counts)
    offsets = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    starts = np.repeat(first, counts) + offsets * advance
    return rows, starts

"""EMIT FINAL: which closed windows to emit, and when (ksqlDB's emit-on-window-close).

``EMIT FINAL`` suppresses a windowed aggregation's updates and emits each window once, after it closed.
ksqlDB implements it with Kafka Streams' ``EmitStrategy.onWindowClose()`` inside the windowed aggregate,
so it is planned as a flag of the windowed aggregation operators
(:class:`~headwater.engine.operators.windowed_aggregate.WindowedAggregateOperator` and
:class:`~headwater.engine.operators.session_aggregate.SessionAggregateOperator` with
``emit_final=True``), which use the rules here. The rules, per processed record:

* the *close time* is ``stream time - grace`` for time windows and ``stream time - gap - grace`` for
  sessions; nothing happens unless it moved past the last close time that emitted;
* time windows: the windows whose start lies in ``[lower, close - size]`` are emitted, where ``lower`` is 0
  the first time and ``last close - size + 1`` afterwards, in order of start then key, each with its
  aggregate's timestamp; a window is only still there if the window store has not expired it: its start
  must be at least ``(largest window start stored) - retention``. A window that closed while expired is
  never emitted;
* sessions: the sessions whose end lies in ``[max(0, last close), close - 1]``, in order of end then
  key, stamped with their end;
* emitted records carry the headers of the record that closed them.

ksqlDB throttles this check to once per ``ksql.streams.__emit.interval.ms.kstreams.windowed.aggregation__``
of wall-clock time; Headwater checks on every batch, which is that setting at 0 (what ksqlDB's tests
use). Within a batch the rules are applied row by row, so batching does not change what is emitted.

Example:
    >>> import numpy as np
    >>> closer = TimeWindowCloser(size_ms=2, retention_ms=3)
    >>> closes = np.array([-1, 0, 1, 1, 1, 4])          # stream time - grace after each row
    >>> stored = np.array([0, 0, 2, 2, 2, 4])           # largest window start stored after each row
    >>> chosen, trigger = closer.due(closes, stored, starts=np.array([0, 2, 4]))
    >>> chosen.tolist(), trigger.tolist()                # window [0,2) had expired: only [2,4) is emitted
    ([1], [5])
"""

from __future__ import annotations

import numpy as np

__all__ = ["SessionCloser", "TimeWindowCloser"]


class TimeWindowCloser:
    """EMIT FINAL bookkeeping of TUMBLING / HOPPING windows (see the module docstring).

    Attributes:
        last_close: the close time of the last emission, None before the first.
    """

    def __init__(self, size_ms: int, retention_ms: int) -> None:
        self.size = size_ms
        self.retention = retention_ms
        self.last_close: int | None = None

    def due(self, closes: np.ndarray, stored: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Which windows a batch emits.

        Args:
            closes: the close time after each row of the batch (non-decreasing).
            stored: the largest window start in the store after each row.
            starts: the start of every window in the store (candidate windows), one per candidate.

        Returns:
            ``(candidates, trigger_rows)``: indexes into ``starts`` of the windows to emit, in emission
            order (the caller breaks ties between equal starts by key), and for each the batch row that
            emitted it.
        """
        if len(closes) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        floor = -(1 << 62) if self.last_close is None else self.last_close
        previous = np.maximum.accumulate(np.concatenate([[floor], closes]))[:-1]
        events = np.flatnonzero((closes > previous) & (closes - self.size >= 0))
        if len(events) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        uppers = closes[events] - self.size
        lower = 0 if self.last_close is None else max(0, self.last_close - self.size) + 1
        self.last_close = int(closes[events[-1]])
        candidates = np.flatnonzero((starts >= lower) & (starts <= uppers[-1]))
        if len(candidates) == 0:
            return candidates, np.zeros(0, dtype=np.int64)
        event_of = np.searchsorted(uppers, starts[candidates], side="left")
        live = starts[candidates] >= stored[events[event_of]] - self.retention
        candidates, event_of = candidates[live], event_of[live]
        order = np.lexsort((starts[candidates], event_of))
        return candidates[order], events[event_of[order]]


class SessionCloser:
    """EMIT FINAL bookkeeping of SESSION windows, checked record by record."""

    def __init__(self) -> None:
        self.last_close: int | None = None

    def on_record(self, close: int) -> tuple[int, int] | None:
        """The range of session ends to emit after a record that leaves the close time at ``close``
        (inclusive bounds), or None."""
        if self.last_close is not None and self.last_close >= close:
            return None
        upper = close - 1
        if upper < 0:
            return None
        lower = max(0, -1 if self.last_close is None else self.last_close)
        if upper < lower:
            return None
        self.last_close = close
        return lower, upper

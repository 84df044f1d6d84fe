"""Windowed GROUP BY over SESSION windows, with ksqlDB's merges and tombstones.

A record at ``t`` looks for its key's sessions that end no earlier than ``t - gap`` and start no later
than ``t + gap`` (and have not expired from the session store: end after ``newest stored end -
retention``). The new session spans the record and every session found; their aggregates are merged
(the aggregate's ``merge``) and the record is added. Kafka Streams' emission rules follow:

* every session that was found is removed and, under EMIT CHANGES, a tombstone is emitted for its window
  (stamped with that window's end), unless the new session is just the point ``[t, t]``;
* the new session is emitted with its window end as timestamp;
* a record is dropped when the merged session would end before ``stream time - gap - grace``.

Session assignment is inherently sequential (whether two sessions merge depends on arrival order), so it
runs record by record in Python (the measured exception, some 25 µs per record); the aggregates
themselves are updated vectorized, in runs of records between merges. Within a batch, each window's
changelog keeps the events of the last record that touched it, so with one record per batch the output
is exactly ksqlDB's, and with larger batches the same table.

EMIT FINAL suppresses those updates and emits each session once after it closes (rules in
:mod:`headwater.engine.operators.suppress`), with the session's value at that moment.

Output rows: key columns, ``WINDOWSTART``, ``WINDOWEND`` (the session's first and last timestamps),
aggregate columns, ROWTIME, ROWPARTITION, ROWOFFSET, headers (of the triggering record) and
``__null_value``.

Example:
    >>> import pyarrow as pa
    >>> from headwater.engine.aggregates import build_aggregates
    >>> from headwater.engine.operators.aggregate import AggregateCall, GroupKey
    >>> from headwater.engine.operators.window_assign import SessionWindows
    >>> from headwater.parser import types as t
    >>> class Col:
    ...     def __init__(self, name): self.name = name
    ...     def evaluate(self, batch): return batch.column(self.name)
    >>> op = SessionAggregateOperator(
    ...     [GroupKey("K", Col("K"), t.STRING)],
    ...     [AggregateCall("N", build_aggregates()["COUNT"].resolve((t.BIGINT,)), (Col("ROWTIME"),))],
    ...     SessionWindows(gap_ms=5))
    >>> first = op.process(pa.record_batch({"K": ["a"], "ROWTIME": pa.array([0], pa.int64())}))[0]
    >>> out = op.process(pa.record_batch({"K": ["a"], "ROWTIME": pa.array([3], pa.int64())}))[0]
    >>> [(r["WINDOWSTART"], r["WINDOWEND"], r["N"], r["__null_value"]) for r in out.to_pylist()]
    [(0, 0, None, True), (0, 3, 2, False)]
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from headwater.engine.aggregates.grouping import Grouping
from headwater.engine.aggregates.store import AggregationStore
from headwater.engine.operators.aggregate import (
    AggregateCall,
    GroupKey,
    apply_having,
    build_accumulators,
    changelog_batch,
    evaluate_arguments,
    prepare,
    system_columns,
)
from headwater.engine.operators.base import Evaluator, Operator
from headwater.engine.operators.suppress import SessionCloser
from headwater.engine.operators.window_assign import SessionWindows
from headwater.engine.schema import ROWTIME, WINDOWEND, WINDOWSTART
from headwater.engine.state.ipc import pack, scalar, scalars, unpack
from headwater.engine.state.key_index import KeyIndex
from headwater.engine.types import to_arrow

__all__ = ["SessionAggregateOperator"]

_SESSION_ID = "__session"


@dataclass
class _Event:
    row: int
    deleted: bool
    group: int
    start: int
    end: int
    slot: int


class _Sessions:
    """Each key's live sessions, sorted by end (non-overlapping, so also by start)."""

    def __init__(self) -> None:
        self.ends: dict[int, list[int]] = {}
        self.starts: dict[int, list[int]] = {}
        self.slots: dict[int, list[int]] = {}
        self.window: dict[int, tuple[int, int, int]] = {}  # slot -> (group, start, end)

    def find(self, group: int, low_end: int, high_start: int, live_after: int) -> list[int]:
        """Slots of ``group``'s sessions with end >= low_end, start <= high_start, end > live_after."""
        ends = self.ends.get(group)
        if not ends:
            return []
        position = bisect.bisect_left(ends, max(low_end, live_after + 1))
        found = []
        starts, slots = self.starts[group], self.slots[group]
        while position < len(ends) and starts[position] <= high_start:
            found.append(slots[position])
            position += 1
        return found

    def add(self, slot: int, group: int, start: int, end: int) -> None:
        ends = self.ends.setdefault(group, [])
        position = bisect.bisect_left(ends, end)
        ends.insert(position, end)
        self.starts.setdefault(group, []).insert(position, start)
        self.slots.setdefault(group, []).insert(position, slot)
        self.window[slot] = (group, start, end)

    def resize(self, slot: int, start: int, end: int) -> None:
        """Give a session new bounds; it keeps its place when its end stays between its neighbours'
        (the usual case: the newest session of a key grows)."""
        group, _, old_end = self.window[slot]
        ends = self.ends[group]
        position = bisect.bisect_left(ends, old_end)
        while self.slots[group][position] != slot:
            position += 1
        if (position + 1 == len(ends) or ends[position + 1] >= end) and (position == 0 or ends[position - 1] <= end):
            ends[position] = end
            self.starts[group][position] = start
            self.window[slot] = (group, start, end)
            return
        self.remove(slot)
        self.add(slot, group, start, end)

    def remove(self, slot: int) -> tuple[int, int, int]:
        group, start, end = self.window.pop(slot)
        slots = self.slots[group]
        position = slots.index(slot)
        del self.ends[group][position], self.starts[group][position], slots[position]
        return group, start, end

    def to_arrow(self) -> pa.Table:
        items = sorted(self.window.items())
        return pa.table(
            {
                "slot": pa.array([s for s, _ in items], pa.int64()),
                "group": pa.array([w[0] for _, w in items], pa.int64()),
                "start": pa.array([w[1] for _, w in items], pa.int64()),
                "end": pa.array([w[2] for _, w in items], pa.int64()),
            }
        )

    @classmethod
    def from_arrow(cls, table: pa.Table) -> _Sessions:
        sessions = cls()
        for slot, group, start, end in zip(*(table.column(n).to_pylist() for n in ("slot", "group", "start", "end"))):
            sessions.add(slot, group, start, end)
        return sessions


class SessionAggregateOperator(Operator):
    """GROUP BY with SESSION windows (see the module docstring).

    Args:
        keys: the GROUP BY expressions.
        calls: the aggregate calls.
        windows: the session definition.
        emit_final: EMIT FINAL instead of EMIT CHANGES.
        having: the HAVING predicate over the output row.
        config: the query configuration.
    """

    kind = "session_aggregate"

    def __init__(
        self,
        keys: Sequence[GroupKey],
        calls: Sequence[AggregateCall],
        windows: SessionWindows,
        *,
        emit_final: bool = False,
        having: Evaluator | None = None,
        config: Mapping[str, Any] | None = None,
    ) -> None:
        self.keys = list(keys)
        self.calls = list(calls)
        self.windows = windows
        self.emit_final = emit_final
        self.having = having
        self.config = dict(config or {})
        key_fields = [pa.field(key.name, to_arrow(key.type)) for key in self.keys]
        self.groups = KeyIndex(key_fields)
        # a session's slot is keyed by a session id; its group key lives in ``groups``
        self.store = AggregationStore([pa.field(_SESSION_ID, pa.int64())], build_accumulators(self.calls, self.config))
        self.sessions = _Sessions()
        self.stream_time: int | None = None
        self.store_time: int | None = None
        self.next_session = 0
        self.closer = SessionCloser()
        self._expired_up_to: int | None = None
        self._pending_rows: list[int] = []
        self._pending_slots: list[int] = []

    # -- processing ---------------------------------------------------------------------------------------
    def process(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        rows = prepare(batch, self.keys)
        if rows is None:
            return []
        if rows.signs is not None:
            raise ValueError("windowed aggregation of a table is not supported")
        batch = rows.batch
        count = batch.num_rows
        groups = self.groups.slots_for(rows.keys).tolist()
        self._pool: list[int] = []
        arguments = [evaluate_arguments(call, batch) for call in self.calls]
        timestamps = np.asarray(batch.column(ROWTIME).to_numpy(zero_copy_only=False), dtype=np.int64).tolist()
        gap, grace, retention = self.windows.gap_ms, self.windows.grace, self.windows.retention
        events: list[_Event] = []
        finals: list[tuple[int, np.ndarray, list[tuple[int, int, int]], list[pa.Array]]] = []
        for row in range(count):
            ts, group = timestamps[row], groups[row]
            self.stream_time = ts if self.stream_time is None else max(self.stream_time, ts)
            close = self.stream_time - gap - grace
            live_after = -(1 << 62) if self.store_time is None else self.store_time - retention
            found = self.sessions.find(group, ts - gap, ts + gap, live_after)
            start = min([ts] + [self.sessions.window[s][1] for s in found])
            end = max([ts] + [self.sessions.window[s][2] for s in found])
            if end >= close:
                slot = self._place(row, group, ts, start, end, found, count - row, arguments, events)
                self._pending_rows.append(row)
                self._pending_slots.append(slot)
                self.store_time = end if self.store_time is None else max(self.store_time, end)
            if self.emit_final:
                due = self.closer.on_record(close)
                if due is not None:
                    emitted = self._closed_sessions(*due)
                    if len(emitted):
                        self._flush(arguments)
                        windows = [self.sessions.window[int(s)] for s in emitted]
                        finals.append((row, emitted, windows, self.store.results(emitted)))
        self._flush(arguments)
        self.store.remove(np.asarray(self._pool, dtype=np.int64))
        self._pool = []
        outputs = self._final_output(finals, batch) if self.emit_final else self._changes_output(events, batch)
        self._expire()
        return [out for out in outputs if out.num_rows]

    def _place(
        self,
        row: int,
        group: int,
        ts: int,
        start: int,
        end: int,
        found: list[int],
        remaining: int,
        arguments: list[list[pa.Array]],
        events: list[_Event],
    ) -> int:
        """Put the record's session in place; returns the slot that aggregates the record."""
        point = start == ts and end == ts
        if len(found) == 1:
            slot = found[0]
            _, old_start, old_end = self.sessions.window[slot]
            if not point:
                events.append(_Event(row, True, group, old_start, old_end, slot))
            self.sessions.resize(slot, start, end)
            events.append(_Event(row, False, group, start, end, slot))
            return slot
        else:
            slot = self._fresh_slot(remaining)
            if found:
                self._flush(arguments)
                for source in found:
                    _, old_start, old_end = self.sessions.remove(source)
                    events.append(_Event(row, True, group, old_start, old_end, source))
                for accumulator in self.store.accumulators:
                    accumulator.merge(slot, found)
                self.store.remove(np.asarray(found, dtype=np.int64))
        self.sessions.add(slot, group, start, end)
        events.append(_Event(row, False, group, start, end, slot))
        return slot

    def _fresh_slot(self, remaining: int) -> int:
        """A new, initialised slot; slots are allocated a run at a time and the unused ones freed
        at the end of the batch."""
        if not self._pool:
            count = min(max(remaining, 1), 1024)
            ids = pa.array(self.next_session + np.arange(count, dtype=np.int64), pa.int64())
            self.next_session += count
            self._pool = self.store.slots_for([ids]).tolist()[::-1]
        return self._pool.pop()

    def _flush(self, arguments: list[list[pa.Array]]) -> None:
        """Apply the records placed since the last flush (vectorized, in order)."""
        if not self._pending_rows:
            return
        rows = pa.array(self._pending_rows, pa.int64())
        grouping = Grouping(np.asarray(self._pending_slots, dtype=np.int64))
        for accumulator, args in zip(self.store.accumulators, arguments):
            accumulator.update(grouping, [a.take(rows) for a in args], None)
        self._pending_rows, self._pending_slots = [], []

    def _closed_sessions(self, lower: int, upper: int) -> np.ndarray:
        """Live sessions whose end is in ``[lower, upper]``, by end then key."""
        chosen = [
            (end, group, slot) for slot, (group, _, end) in self.sessions.window.items() if lower <= end <= upper
        ]
        chosen.sort()
        return np.asarray([slot for _, _, slot in chosen], dtype=np.int64)

    # -- output -------------------------------------------------------------------------------------------
    def _rows(
        self, slots: np.ndarray, groups: np.ndarray, starts: np.ndarray, ends: np.ndarray,
        deleted: np.ndarray, batch: pa.RecordBatch, source_rows: np.ndarray, values: list[pa.Array] | None = None,
    ) -> pa.RecordBatch:
        keys = self.groups.keys(groups)
        partition, offset, headers = system_columns(batch, source_rows)
        results = values if values is not None else self.store.results(slots)
        return changelog_batch(
            [key.name for key in self.keys] + [WINDOWSTART, WINDOWEND],
            [*keys, pa.array(starts, pa.int64()), pa.array(ends, pa.int64())],
            [call.name for call in self.calls],
            results,
            pa.array(ends, pa.int64()),
            partition,
            offset,
            headers,
            deleted,
        )

    def _changes_output(self, events: list[_Event], batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        if not events:
            return []
        last_touch: dict[tuple[int, int, int], int] = {}
        for event in events:
            last_touch[(event.group, event.start, event.end)] = event.row
        kept = [e for e in events if last_touch[(e.group, e.start, e.end)] == e.row]
        # a tombstone only for a window whose last output was a row
        kept = [e for e in kept if not e.deleted or bool(self.store.emitted.data[e.slot])]
        if not kept:
            return []
        slots = np.asarray([e.slot for e in kept], dtype=np.int64)
        deleted = np.asarray([e.deleted for e in kept], dtype=bool)
        out = self._rows(
            slots,
            np.asarray([e.group for e in kept], dtype=np.int64),
            np.asarray([e.start for e in kept], dtype=np.int64),
            np.asarray([e.end for e in kept], dtype=np.int64),
            deleted,
            batch,
            np.asarray([e.row for e in kept], dtype=np.int64),
        )
        upserts = np.flatnonzero(~deleted)
        if self.having is None:
            self.store.emitted.scatter_numpy(slots[upserts], np.ones(len(upserts), dtype=bool), True)
            return [out]
        tombstones_part = out.filter(pa.array(deleted))
        updated = apply_having(
            self.store, slots[upserts], out.filter(pa.array(~deleted)), self.having, [c.name for c in self.calls]
        )
        parts = [p for p in (tombstones_part, updated) if p is not None and p.num_rows]
        return parts

    def _final_output(
        self,
        finals: list[tuple[int, np.ndarray, list[tuple[int, int, int]], list[pa.Array]]],
        batch: pa.RecordBatch,
    ) -> list[pa.RecordBatch]:
        outputs = []
        for row, slots, windows, values in finals:
            groups = np.asarray([w[0] for w in windows], dtype=np.int64)
            out = self._rows(
                slots,
                groups,
                np.asarray([w[1] for w in windows], dtype=np.int64),
                np.asarray([w[2] for w in windows], dtype=np.int64),
                np.zeros(len(slots), dtype=bool),
                batch,
                np.full(len(slots), row, dtype=np.int64),
                values=values,
            )
            result = apply_having(self.store, slots, out, self.having, [c.name for c in self.calls])
            if result is not None:
                outputs.append(result)
        return outputs

    def _expire(self) -> None:
        """Drop sessions the store has expired (and, under EMIT FINAL, already emitted). Scans the
        sessions only when the horizon moved by an eighth of the retention since the last scan."""
        if self.store_time is None:
            return
        horizon = self.store_time - self.windows.retention
        if self._expired_up_to is not None and horizon - self._expired_up_to < max(1, self.windows.retention // 8):
            self._compact()
            return
        self._expired_up_to = horizon
        closed = -(1 << 62) if self.closer.last_close is None else self.closer.last_close
        expired = [
            slot
            for slot, (_, _, end) in self.sessions.window.items()
            if end <= horizon and (not self.emit_final or end < closed)
        ]
        for slot in expired:
            self.sessions.remove(slot)
        self.store.remove(np.asarray(expired, dtype=np.int64))
        self._compact()

    def _compact(self) -> None:
        """Renumber session slots when most are dead (merged, expired, or allocated and unused)."""
        kept = self.store.maybe_compact()
        if kept is None:
            return
        renumbered = {int(old): new for new, old in enumerate(kept.tolist())}
        sessions = _Sessions()
        for slot, (group, start, end) in self.sessions.window.items():
            sessions.add(renumbered[slot], group, start, end)
        self.sessions = sessions

    # -- state ---------------------------------------------------------------------------------------------
    def snapshot(self) -> bytes | None:
        sections = self.store.sections()
        sections["groups"] = self.groups.to_arrow()
        sections["sessions"] = self.sessions.to_arrow()
        sections["clock"] = scalars(
            stream_time=self.stream_time,
            store_time=self.store_time,
            next_session=self.next_session,
            last_close=self.closer.last_close,
        )
        return pack(sections)

    def restore(self, state: bytes) -> None:
        sections = unpack(state)
        self.store.load_sections(sections)
        self.groups = KeyIndex.from_arrow(sections["groups"])
        self.sessions = _Sessions.from_arrow(sections["sessions"])
        clock = sections["clock"]
        self.stream_time = scalar(clock, "stream_time")
        self.store_time = scalar(clock, "store_time")
        self.next_session = int(scalar(clock, "next_session", 0))
        self.closer.last_close = scalar(clock, "last_close")

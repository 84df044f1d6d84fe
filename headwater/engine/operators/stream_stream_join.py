"""Stream-stream join (INNER, LEFT, RIGHT, FULL OUTER) within a time window, Kafka Streams' semantics.

A record of one side joins every record of the other side with the same key whose timestamp lies in the
join window: for a left record at ``t``, right records in ``[t - before, t + after]``; for a right record,
left records in ``[t - after, t + before]`` (``WITHIN n`` is ``before = after = n``). Each side keeps its
records in a window store (:class:`~headwater.engine.state.window_store.TimestampedRows`) for
``before + after + grace``; the join's stream time is the largest timestamp either side has seen. A joined
row is stamped with the larger of the two timestamps. Records with a null value are ignored; a record
with a NULL key joins nothing (an outer side still emits it with NULLs).

Outer rows (a record with no match, on an outer side: the left side of LEFT, the right side of RIGHT,
both of FULL) follow ksqlDB's two modes:

* **without GRACE PERIOD** (Kafka's legacy ``JoinWindows.of``, grace 24 h minus twice the window): the
  unmatched record is emitted at once with NULLs for the other side, even if a match arrives later;
* **with GRACE PERIOD** (``JoinWindows.ofTimeDifferenceAndGrace``, the spurious-result fix): the unmatched
  record waits in an outer store and is emitted only when its window has closed without a match
  (``t + after + grace < stream time``, checked when a record advances stream time); a record that is
  already past its window when it arrives is emitted at once; a match removes the waiting record.
  ksqlDB throttles that check to once a second of wall-clock time; Headwater checks on every record.

Records of a batch are processed in order (matching is vectorized against the other side's store, which
a batch of this side does not change; the outer store, when there is one, is handled record by record).

The operator has two inputs: :attr:`left_input` and :attr:`right_input` are operators to put at the end
of each input's pipeline; both return the join's output. The join itself holds the state
(:meth:`snapshot` / :meth:`restore`).

Example:
    >>> import pyarrow as pa
    >>> schema = pa.schema([("K", pa.string()), ("V", pa.int64())])
    >>> join = StreamStreamJoinOperator(
    ...     JoinSide(("K",), (("V", "L_V"),), schema), JoinSide(("K",), (("V", "R_V"),), schema),
    ...     ("K",), JoinType.LEFT, before_ms=10, after_ms=10)
    >>> def rows(k, v, ts): return pa.record_batch({"K": [k], "V": [v], "ROWTIME": pa.array([ts], pa.int64())})
    >>> [r["R_V"] for r in join.left_input.process(rows("a", 1, 0))[0].to_pylist()]
    [None]
    >>> [(r["L_V"], r["R_V"], r["ROWTIME"]) for r in join.right_input.process(rows("a", 2, 5))[0].to_pylist()]
    [(1, 2, 5)]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from headwater.engine.operators.base import Operator
from headwater.engine.operators.join_output import (
    JoinSide,
    JoinType,
    event_columns,
    join_batch,
    nulls_for,
    ordered,
)
from headwater.engine.operators.window_assign import legacy_grace
from headwater.engine.schema import ROWTIME
from headwater.engine.state.changelog import tombstones
from headwater.engine.state.ipc import pack, scalar, scalars, unpack
from headwater.engine.state.key_index import KeyIndex
from headwater.engine.state.window_store import TimestampedRows

__all__ = ["StreamStreamJoinOperator"]

_NO_TIME = -(1 << 62)
_SUB = 1 << 22  # order keys: row * _SUB + position; closed-window rows first, then joins, then the outer row
_JOINED = 1 << 21


@dataclass
class _Waiting:
    """Outer-join records waiting for their window to close (the outer store of one side)."""

    slots: np.ndarray
    timestamps: np.ndarray
    values: pa.Table

    @classmethod
    def empty(cls, schema: pa.Schema) -> _Waiting:
        return cls(np.zeros(0, np.int64), np.zeros(0, np.int64), schema.empty_table())


class _Port(Operator):
    """One input of the join."""

    kind = "join_input"

    def __init__(self, join: StreamStreamJoinOperator, left: bool) -> None:
        self.join = join
        self.left = left

    def process(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        return self.join.process_side(self.left, batch)


class StreamStreamJoinOperator(Operator):
    """A windowed join of two streams (see the module docstring).

    Args:
        left: the left input.
        right: the right input.
        key_names: output names of the join key columns.
        join_type: one of :class:`JoinType`.
        before_ms: how far before a left record right records may be.
        after_ms: how far after a left record right records may be.
        grace_ms: the GRACE PERIOD, None when the statement gave none.
    """

    kind = "stream_stream_join"

    def __init__(
        self,
        left: JoinSide,
        right: JoinSide,
        key_names: Sequence[str],
        join_type: str,
        *,
        before_ms: int,
        after_ms: int,
        grace_ms: int | None = None,
    ) -> None:
        if join_type not in JoinType.ALL:
            raise ValueError(f"unknown join type {join_type}")
        if before_ms < 0 or after_ms < 0:
            raise ValueError("join window bounds must not be negative")
        self.left, self.right = left, right
        self.key_names = list(key_names)
        self.join_type = join_type
        self.before, self.after = before_ms, after_ms
        self.spurious_fix = grace_ms is not None
        self.grace = grace_ms if grace_ms is not None else legacy_grace(2 * before_ms)
        self.retention = before_ms + after_ms + self.grace
        self.outer = {True: join_type in (JoinType.LEFT, JoinType.FULL), False: join_type in (JoinType.RIGHT, JoinType.FULL)}
        self.keys = KeyIndex(left.key_fields)
        self.stores = {True: TimestampedRows(left.value_schema), False: TimestampedRows(right.value_schema)}
        self.store_times: dict[bool, int] = {True: _NO_TIME, False: _NO_TIME}
        self.stream_time = _NO_TIME
        self.waiting = {True: _Waiting.empty(left.value_schema), False: _Waiting.empty(right.value_schema)}
        self.min_waiting = np.iinfo(np.int64).max
        self.left_input: Operator = _Port(self, True)
        self.right_input: Operator = _Port(self, False)

    def process(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        raise TypeError("a join has two inputs: feed left_input and right_input")

    # -- one batch of one side ---------------------------------------------------------------------------
    def process_side(self, is_left: bool, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        nulls = tombstones(batch)
        if nulls.any():
            batch = batch.filter(pa.array(~nulls))
        rows = batch.num_rows
        if rows == 0:
            return []
        side = self.left if is_left else self.right
        key_columns = [batch.column(name) for name in side.key_columns]
        keyed = np.ones(rows, dtype=bool)
        for column in key_columns:
            if column.null_count:
                keyed &= np.asarray(column.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        slots = np.full(rows, -1, dtype=np.int64)
        if keyed.any():
            mask = pa.array(keyed)
            slots[keyed] = self.keys.slots_for([c.filter(mask) for c in key_columns])
        timestamps = np.asarray(batch.column(ROWTIME).to_numpy(zero_copy_only=False), dtype=np.int64)
        times = np.maximum.accumulate(np.maximum(timestamps, self.stream_time))
        before, after = (self.before, self.after) if is_left else (self.after, self.before)
        other = not is_left
        other_store = self.stores[other]
        other_time = self.store_times[other]
        live_after = other_time - self.retention
        low = np.maximum(np.maximum(0, timestamps - before), live_after + 1)
        high = np.maximum(0, timestamps + after)
        probes, found = other_store.match(slots, low, high)
        values = side.values(batch)
        parts: list[tuple[np.ndarray, pa.RecordBatch]] = []
        if len(probes):
            other_ts = other_store.timestamps[found]
            this_part = values.take(pa.array(probes, pa.int64()))
            other_part = other_store.rows(found)
            per_probe = np.bincount(probes, minlength=rows)
            within = np.arange(len(probes), dtype=np.int64) - np.repeat(np.cumsum(per_probe) - per_probe, per_probe)
            parts.append((probes * _SUB + _JOINED + within, self._rows(is_left, batch, probes, this_part, other_part, np.maximum(timestamps[probes], other_ts))))
        matched = np.zeros(rows, dtype=bool)
        matched[probes] = True
        if self.outer[is_left]:
            parts.extend(self._outer(is_left, batch, values, slots, timestamps, times, matched, after, probes, found))
        elif self.spurious_fix:
            parts.extend(self._expire_waiting(is_left, batch, slots, timestamps, times, matched, after, probes, found))
        self._store(is_left, slots, timestamps, values, keyed)
        self.stream_time = int(times[-1])
        out = ordered(parts)
        return [out] if out is not None else []

    def _rows(
        self, is_left: bool, batch: pa.RecordBatch, source_rows: np.ndarray,
        this_values: pa.Table, other_values: pa.Table | None, rowtime: np.ndarray,
        key_values: list[pa.Array] | None = None,
    ) -> pa.RecordBatch:
        side, other_side = (self.left, self.right) if is_left else (self.right, self.left)
        count = len(rowtime)
        if other_values is None:
            other_values = nulls_for(other_side.value_schema, count)
        if key_values is None:
            take = pa.array(source_rows, pa.int64())
            key_values = [batch.column(name).take(take) for name in side.key_columns]
        left_values, right_values = (this_values, other_values) if is_left else (other_values, this_values)
        partition, offset, headers = event_columns(batch, source_rows)
        return join_batch(self.key_names, key_values, left_values, self.left, right_values, self.right, rowtime, partition, offset, headers)

    def _store(self, is_left: bool, slots: np.ndarray, timestamps: np.ndarray, values: pa.Table, keyed: np.ndarray) -> None:
        """Put keyed records into this side's window store; records already older than the retention
        behind the store's newest record are not kept; then purge what the retention dropped."""
        rows = np.flatnonzero(keyed)
        if len(rows) == 0:
            return
        newest = np.maximum.accumulate(np.maximum(timestamps[rows], self.store_times[is_left]))
        keep = timestamps[rows] > newest - self.retention
        kept = rows[keep]
        store = self.stores[is_left]
        store.append(slots[kept], timestamps[kept], values.take(pa.array(kept, pa.int64())))
        self.store_times[is_left] = int(newest[-1])
        store.purge(self.store_times[is_left] - self.retention)

    # -- outer rows ---------------------------------------------------------------------------------------
    def _outer(
        self, is_left: bool, batch: pa.RecordBatch, values: pa.Table, slots: np.ndarray, timestamps: np.ndarray,
        times: np.ndarray, matched: np.ndarray, after: int, probes: np.ndarray, found: np.ndarray,
    ) -> list[tuple[np.ndarray, pa.RecordBatch]]:
        unmatched = np.flatnonzero(~matched)
        if not self.spurious_fix:
            if len(unmatched) == 0:
                return []
            part = self._rows(is_left, batch, unmatched, values.take(pa.array(unmatched, pa.int64())), None, timestamps[unmatched])
            return [(unmatched * _SUB + _SUB - 1, part)]
        return self._expire_waiting(is_left, batch, slots, timestamps, times, matched, after, probes, found, outer=True, values=values)

    def _expire_waiting(
        self, is_left: bool, batch: pa.RecordBatch, slots: np.ndarray, timestamps: np.ndarray,
        times: np.ndarray, matched: np.ndarray, after: int, probes: np.ndarray, found: np.ndarray,
        *, outer: bool = False, values: pa.Table | None = None,
    ) -> list[tuple[np.ndarray, pa.RecordBatch]]:
        """The spurious-result fix, record by record: emit waiting records whose window closed, drop the
        waiting records a match joined, and emit or park this side's unmatched records."""
        lookback = self.before if is_left else self.after
        other = not is_left
        other_store = self.stores[other]
        matched_other: dict[int, list[int]] = {}
        for probe, position in zip(probes.tolist(), found.tolist()):
            matched_other.setdefault(probe, []).append(position)
        immediate: list[int] = []
        expired_parts: list[tuple[np.ndarray, pa.RecordBatch]] = []
        for row in range(len(timestamps)):
            ts, now = int(timestamps[row]), int(times[row])
            if ts == now and self.min_waiting < now - lookback - self.grace:
                expired_parts.extend(self._emit_closed(batch, row, now, after))
            for position in matched_other.get(row, ()):
                self._unpark(other, int(other_store.slots[position]), int(other_store.timestamps[position]))
            if outer and not matched[row]:
                if slots[row] < 0 or max(0, ts + after) < now:
                    immediate.append(row)
                else:
                    assert values is not None
                    self._park(is_left, int(slots[row]), ts, values.slice(row, 1))
        parts = expired_parts
        if immediate:
            rows = np.asarray(immediate, dtype=np.int64)
            assert values is not None
            parts.append((rows * _SUB + _SUB - 1, self._rows(is_left, batch, rows, values.take(pa.array(rows)), None, timestamps[rows])))
        return parts

    def _park(self, is_left: bool, slot: int, ts: int, row: pa.Table) -> None:
        waiting = self.waiting[is_left]
        waiting.slots = np.append(waiting.slots, slot)
        waiting.timestamps = np.append(waiting.timestamps, ts)
        waiting.values = pa.concat_tables([waiting.values, row.cast(waiting.values.schema)])
        self.min_waiting = min(self.min_waiting, ts)

    def _unpark(self, is_left: bool, slot: int, ts: int) -> None:
        waiting = self.waiting[is_left]
        drop = (waiting.slots == slot) & (waiting.timestamps == ts)
        if drop.any():
            keep = ~drop
            waiting.slots, waiting.timestamps = waiting.slots[keep], waiting.timestamps[keep]
            waiting.values = waiting.values.filter(pa.array(keep))

    def _emit_closed(self, batch: pa.RecordBatch, row: int, now: int, after: int) -> list[tuple[np.ndarray, pa.RecordBatch]]:
        """Waiting records whose window closed (``ts + after + grace < now``), oldest first (right side
        before left at equal times, as Kafka's outer store orders them)."""
        entries = []
        for side_is_left in (False, True):
            waiting = self.waiting[side_is_left]
            for index in range(len(waiting.slots)):
                entries.append((int(waiting.timestamps[index]), 1 if side_is_left else 0, side_is_left, index))
        entries.sort()
        emitted: dict[bool, list[int]] = {True: [], False: []}
        order: list[tuple[bool, int]] = []
        self.min_waiting = np.iinfo(np.int64).max
        for ts, _, side_is_left, index in entries:
            if ts + after + self.grace >= now:
                self.min_waiting = ts
                break
            emitted[side_is_left].append(index)
            order.append((side_is_left, index))
        parts: list[tuple[np.ndarray, pa.RecordBatch]] = []
        for position, (side_is_left, index) in enumerate(order):
            waiting = self.waiting[side_is_left]
            key_values = self.keys.keys(np.array([waiting.slots[index]]))
            part = self._rows(
                side_is_left, batch, np.array([row]), waiting.values.slice(index, 1), None,
                np.array([waiting.timestamps[index]]), key_values=key_values,
            )
            parts.append((np.array([row * _SUB + position]), part))
        for side_is_left, indexes in emitted.items():
            if indexes:
                waiting = self.waiting[side_is_left]
                keep = np.ones(len(waiting.slots), dtype=bool)
                keep[indexes] = False
                waiting.slots, waiting.timestamps = waiting.slots[keep], waiting.timestamps[keep]
                waiting.values = waiting.values.filter(pa.array(keep))
        return parts

    # -- state --------------------------------------------------------------------------------------------
    def snapshot(self) -> bytes | None:
        sections = {
            "keys": self.keys.to_arrow(),
            "left": self.stores[True].to_arrow(),
            "right": self.stores[False].to_arrow(),
            "clock": scalars(
                stream_time=self.stream_time,
                left_time=self.store_times[True],
                right_time=self.store_times[False],
                min_waiting=int(self.min_waiting),
            ),
        }
        for side_is_left, name in ((True, "waiting_left"), (False, "waiting_right")):
            waiting = self.waiting[side_is_left]
            table = waiting.values.append_column("__slot", pa.array(waiting.slots, pa.int64()))
            sections[name] = table.append_column("__timestamp", pa.array(waiting.timestamps, pa.int64()))
        return pack(sections)

    def restore(self, state: bytes) -> None:
        sections = unpack(state)
        self.keys = KeyIndex.from_arrow(sections["keys"])
        self.stores[True] = TimestampedRows.from_arrow(sections["left"], self.left.value_schema)
        self.stores[False] = TimestampedRows.from_arrow(sections["right"], self.right.value_schema)
        clock = sections["clock"]
        self.stream_time = int(scalar(clock, "stream_time"))
        self.store_times[True] = int(scalar(clock, "left_time"))
        self.store_times[False] = int(scalar(clock, "right_time"))
        self.min_waiting = int(scalar(clock, "min_waiting"))
        for side_is_left, name, side in ((True, "waiting_left", self.left), (False, "waiting_right", self.right)):
            table = sections[name]
            self.waiting[side_is_left] = _Waiting(
                np.asarray(table.column("__slot").to_numpy(), dtype=np.int64),
                np.asarray(table.column("__timestamp").to_numpy(), dtype=np.int64),
                table.select(side.value_schema.names).cast(side.value_schema),
            )

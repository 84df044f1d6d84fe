"""Windowed GROUP BY over TUMBLING or HOPPING windows, EMIT CHANGES or EMIT FINAL.

Each row is assigned to its windows (:mod:`headwater.engine.operators.window_assign`, vectorized); the
group of a (row, window) pair is the GROUP BY key plus the window start, so the aggregation itself is the
plain one (:mod:`headwater.engine.operators.aggregate`) over the expanded rows.

Time is the query's **stream time**, the largest ROWTIME seen so far, tracked row by row within a batch.
A (row, window) pair is dropped when the window has closed at that row, i.e. ``window end <= stream time
- grace`` (Kafka Streams' rule; the grace defaults to 24 hours minus the size). Rows with a null value or
a NULL key are ignored and do not advance stream time.

* **EMIT CHANGES**: one output row per touched window of a group per batch, in order of first appearance
  (windows of one row by ascending start), with the window's aggregate timestamp as ROWTIME.
* **EMIT FINAL**: no updates; each window is emitted once when it closes (rules in
  :mod:`headwater.engine.operators.suppress`), carrying the headers of the record that closed it.

Output rows carry the key columns, ``WINDOWSTART`` and ``WINDOWEND`` (BIGINT ms), the aggregate columns,
ROWTIME, ROWPARTITION, ROWOFFSET, headers and ``__null_value`` (HAVING tombstones). Windows older than the
retention behind the newest window are dropped from state.

Example:
    >>> import pyarrow as pa
    >>> from headwater.engine.aggregates import build_aggregates
    >>> from headwater.engine.operators.aggregate import AggregateCall, GroupKey
    >>> from headwater.parser import types as t
    >>> class Col:
    ...     def __init__(self, name): self.name = name
    ...     def evaluate(self, batch): return batch.column(self.name)
    >>> op = WindowedAggregateOperator(
    ...     [GroupKey("K", Col("K"), t.STRING)],
    ...     [AggregateCall("N", build_aggregates()["COUNT"].resolve((t.BIGINT,)), (Col("ROWTIME"),))],
    ...     TimeWindows.tumbling(10, grace_ms=0))
    >>> out = op.process(pa.record_batch({"K": ["a", "a", "a"], "ROWTIME": pa.array([1, 12, 3], pa.int64())}))[0]
    >>> out.column("WINDOWSTART").to_pylist(), out.column("N").to_pylist()   # the row at 3 was too late
    ([0, 10], [1, 1])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from headwater.engine.aggregates.grouping import last_in_group
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
from headwater.engine.operators.suppress import TimeWindowCloser
from headwater.engine.operators.window_assign import TimeWindows, assign_time_windows
from headwater.engine.operators.window_pairs import group_window_pairs
from headwater.engine.schema import ROWTIME, WINDOWEND, WINDOWSTART
from headwater.engine.state.ipc import pack, scalar, scalars, unpack
from headwater.engine.state.window_keys import WindowKeyIndex
from headwater.engine.types import to_arrow

__all__ = ["WindowedAggregateOperator", "stream_times"]


def stream_times(previous: int | None, timestamps: np.ndarray) -> np.ndarray:
    """The stream time after each row: the largest timestamp seen up to and including it."""
    running = np.maximum.accumulate(timestamps) if len(timestamps) else timestamps
    if previous is not None:
        running = np.maximum(running, previous)
    return running


class WindowedAggregateOperator(Operator):
    """GROUP BY with TUMBLING or HOPPING windows (see the module docstring).

    Args:
        keys: the GROUP BY expressions.
        calls: the aggregate calls.
        windows: the window definition.
        emit_final: EMIT FINAL instead of EMIT CHANGES.
        having: the HAVING predicate over the output row (keys, window bounds, aggregate columns).
        config: the query configuration.
    """

    kind = "windowed_aggregate"

    def __init__(
        self,
        keys: Sequence[GroupKey],
        calls: Sequence[AggregateCall],
        windows: TimeWindows,
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
        fields = [pa.field(key.name, to_arrow(key.type)) for key in self.keys]
        fields.append(pa.field(WINDOWSTART, pa.int64()))
        self.store = AggregationStore(fields, build_accumulators(self.calls, self.config), windowed=True)
        self.stream_time: int | None = None
        self.newest_start: int | None = None
        self.oldest_start: int | None = None
        self.closer = TimeWindowCloser(windows.size_ms, windows.retention)

    def process(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        rows = prepare(batch, self.keys)
        if rows is None:
            return []
        if rows.signs is not None:
            raise ValueError("windowed aggregation of a table is not supported")
        batch = rows.batch
        timestamps = np.asarray(batch.column(ROWTIME).to_numpy(zero_copy_only=False), dtype=np.int64)
        times = stream_times(self.stream_time, timestamps)
        self.stream_time = int(times[-1])
        closes = times - self.windows.grace
        pair_rows, starts = assign_time_windows(timestamps, self.windows)
        accepted = starts + self.windows.size_ms > closes[pair_rows]
        if not accepted.all():
            pair_rows, starts = pair_rows[accepted], starts[accepted]
        stored = self._stored_starts(pair_rows, starts, batch.num_rows)
        outputs: list[pa.RecordBatch] = []
        if len(pair_rows):
            earliest = int(starts.min())
            if self.oldest_start is not None and earliest < self.oldest_start:
                self.oldest_start = earliest
            pairs = group_window_pairs(self.store, rows.keys, pair_rows, starts, self.windows.advance_ms)
            grouping = pairs.grouping
            take = pa.array(pair_rows, pa.int64())
            for call, accumulator in zip(self.calls, self.store.accumulators):
                arguments = [argument.take(take) for argument in evaluate_arguments(call, batch)]
                accumulator.update(grouping, arguments, None)
            self.store.stamp(grouping, timestamps[pair_rows])
            if not self.emit_final:
                order = pairs.appearance
                out_slots = grouping.group_slots[order]
                last_pairs = last_in_group(grouping)[order]
                out = self._output(out_slots, batch, pair_rows[last_pairs])
                result = apply_having(self.store, out_slots, out, self.having, [c.name for c in self.calls])
                if result is not None and result.num_rows:
                    outputs.append(result)
        if self.emit_final:
            final = self._final(closes, stored, batch)
            if final is not None:
                outputs.append(final)
        self._expire()
        return outputs

    def _stored_starts(self, pair_rows: np.ndarray, starts: np.ndarray, rows: int) -> np.ndarray:
        """The newest window start stored after each row of the batch."""
        newest = np.full(rows, np.iinfo(np.int64).min, dtype=np.int64)
        if len(pair_rows):
            # a row's windows come by ascending start, so its newest is its last pair's
            last = np.flatnonzero(np.append(pair_rows[1:] != pair_rows[:-1], True))
            newest[pair_rows[last]] = starts[last]
        if self.newest_start is not None:
            newest[0] = max(newest[0], self.newest_start)
        newest = np.maximum.accumulate(newest)
        if rows and newest[-1] != np.iinfo(np.int64).min:
            self.newest_start = int(newest[-1])
        return newest

    def _window_starts(self, slots: np.ndarray) -> np.ndarray:
        index = self.store.index
        if isinstance(index, WindowKeyIndex):
            return index.window_starts(slots)
        return np.asarray(index.keys(slots)[-1].to_numpy(zero_copy_only=False), dtype=np.int64)

    def _output(
        self, slots: np.ndarray, rows: pa.RecordBatch, source_rows: np.ndarray, deleted: np.ndarray | None = None
    ) -> pa.RecordBatch:
        keys = self.store.index.keys(slots)
        starts = keys[-1]
        ends = pa.array(np.asarray(starts.to_numpy(zero_copy_only=False), dtype=np.int64) + self.windows.size_ms, pa.int64())
        partition, offset, headers = system_columns(rows, source_rows)
        return changelog_batch(
            [key.name for key in self.keys] + [WINDOWSTART, WINDOWEND],
            [*keys[:-1], starts, ends],
            [call.name for call in self.calls],
            self.store.results(slots),
            self.store.timestamps.gather(slots),
            partition,
            offset,
            headers,
            np.zeros(len(slots), dtype=bool) if deleted is None else deleted,
        )

    def _final(self, closes: np.ndarray, stored: np.ndarray, batch: pa.RecordBatch) -> pa.RecordBatch | None:
        live = np.flatnonzero(self.store.index.live)
        if len(live) == 0:
            self.closer.due(closes, stored, np.zeros(0, dtype=np.int64))
            return None
        starts = self._window_starts(live)
        chosen, triggers = self.closer.due(closes, stored, starts)
        if len(chosen) == 0:
            return None
        slots = live[chosen]
        # ties (same start, same trigger) in key order
        keys = self.store.index.keys(slots)
        table = pa.table({f"k{i}": k for i, k in enumerate(keys[:-1])})
        table = table.append_column("__start", pa.array(starts[chosen], pa.int64()))
        table = table.append_column("__position", pa.array(np.arange(len(slots)), pa.int64()))
        sort_keys = [("__start", "ascending")] + [(f"k{i}", "ascending") for i in range(len(keys) - 1)]
        ordered = np.asarray(table.sort_by(sort_keys).column("__position").to_numpy(), dtype=np.int64)
        trigger_rank = np.argsort(triggers[ordered], kind="stable")
        ordered = ordered[trigger_rank]
        out = self._output(slots[ordered], batch, triggers[ordered])
        result = apply_having(self.store, slots[ordered], out, self.having, [c.name for c in self.calls])
        return result if result is not None and result.num_rows else None

    def _expire(self) -> None:
        """Drop windows older than the retention behind the newest window. :attr:`oldest_start` (no
        later than every stored window's start) lets a batch skip the scan of the stored windows when
        none can have expired, which with the default retention of a day is nearly always."""
        if self.newest_start is None:
            return
        horizon = self.newest_start - self.windows.retention
        if self.oldest_start is not None and self.oldest_start >= horizon:
            return
        live = np.flatnonzero(self.store.index.live)
        if len(live) == 0:
            self.oldest_start = None
            return
        starts = self._window_starts(live)
        expired = starts < horizon
        kept_starts = starts[~expired]
        self.oldest_start = int(kept_starts.min()) if len(kept_starts) else None
        self.store.remove(live[expired])
        self.store.maybe_compact()

    def snapshot(self) -> bytes | None:
        sections = self.store.sections()
        sections["clock"] = scalars(
            stream_time=self.stream_time, newest_start=self.newest_start, last_close=self.closer.last_close
        )
        return pack(sections)

    def restore(self, state: bytes) -> None:
        sections = unpack(state)
        self.store.load_sections(sections)
        clock = sections["clock"]
        self.stream_time = scalar(clock, "stream_time")
        self.newest_start = scalar(clock, "newest_start")
        self.closer.last_close = scalar(clock, "last_close")
        self.oldest_start = None  # worked out again by the next expiry scan

"""Persistent queries: read sources from committed offsets, run the operators, append, commit.

**One step** of a query consumes the next records of one source topic-partition:

1. read up to ``max_records`` records from the query's committed offset (a tail read waits for data in
   background mode);
2. run them through the operators (the sink operator appends to the sink topic);
3. commit a checkpoint holding the new source offsets and the sink's end offsets.

Steps 2 and 3 run under the sink topic's writer lock, shared by every writer of that topic, so at any
moment a sink has at most one uncommitted tail, written by the writer holding the lock. **Recovery** (on
engine start, before any query runs) truncates every sink partition to the largest end offset any writer
committed for it: that removes exactly an uncommitted tail, whose input the query then reads again from
its committed offsets. Output is therefore neither lost nor repeated, whenever a crash happens.

A query with several source partitions (a join's two topics, a multi-partition topic) is driven in
event-time order by :meth:`PersistentQuery.process_in_time_order`: a chunk of each partition is read
and consumed in the order Kafka Streams interleaves partitions (:mod:`headwater.engine.runtime.merge`),
then one commit covers every partition it advanced.

With ``background=True`` each query runs :meth:`PersistentQuery.run` on its own thread; with
``background=False`` the caller drives it through :meth:`PersistentQuery.process` and
:meth:`PersistentQuery.process_available`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from headwater.engine.catalog import DataSource
from headwater.engine.operators.base import Operator
from headwater.engine.operators.sink import SinkOperator
from headwater.engine.operators.source_scan import PARTITION_COLUMN
from headwater.engine.planner.graph import OperatorGraph
from headwater.engine.planner.logical import PlanNode
from headwater.engine.runtime.checkpoint import Checkpoint, CheckpointStore
from headwater.engine.runtime.merge import join_shape, merge_by_time, push_in_order
from headwater.errors import ExecutionError, HeadwaterError

__all__ = ["STOP_CHECK_S", "PersistentQuery", "QueryState", "SinkLocks"]

STOP_CHECK_S = 0.02
"""How often a background query waiting for records checks whether it was stopped (seconds)."""


class QueryState:
    RUNNING = "RUNNING"
    ERROR = "ERROR"
    TERMINATED = "TERMINATED"
    PAUSED = "PAUSED"


class SinkLocks:
    """One re-entrant lock per sink topic, shared by every writer of the topic in the engine."""

    def __init__(self) -> None:
        self._locks: dict[str, threading.RLock] = {}
        self._guard = threading.Lock()

    def lock(self, topic: str) -> threading.RLock:
        with self._guard:
            return self._locks.setdefault(topic, threading.RLock())


@dataclass
class PersistentQuery:
    """A running CSAS / CTAS / INSERT INTO ... SELECT.

    Attributes:
        query_id: ksqlDB's id (CSAS_<SINK>_<n>, INSERTQUERY_<n>...).
        statement_text: the statement that created it.
        plan: its logical plan (for EXPLAIN).
        sources: the sources it reads.
        sink: the source it writes.
        graph: the physical operators, wired from each source topic to the sink.
        log: the event log.
        checkpoints: where its checkpoint lives.
        sink_lock: the sink topic's writer lock.
        start_at_end: with no checkpoint yet, start from the end of the sources (auto.offset.reset=latest)
            instead of the beginning.
    """

    query_id: str
    statement_text: str
    plan: PlanNode
    sources: tuple[DataSource, ...]
    sink: DataSource
    graph: OperatorGraph
    log: Any
    checkpoints: CheckpointStore
    sink_lock: threading.RLock
    start_at_end: bool = False
    on_failure: Callable[[PersistentQuery, BaseException], None] | None = None
    state: str = QueryState.RUNNING
    error: str | None = None
    records_consumed: int = 0
    _offsets: dict[tuple[str, int], int] = field(default_factory=dict)
    _epoch: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _sink_operators: list[SinkOperator] | None = None
    _partition_columns: dict[int, pa.Array] = field(default_factory=dict)

    # -- identity --------------------------------------------------------------------------------------------
    @property
    def source_topics(self) -> list[str]:
        return list(dict.fromkeys(s.topic for s in self.sources))

    @property
    def operators(self) -> list[Operator]:
        """Every operator of the query, in plan order (join objects, not their ports)."""
        return self.graph.operators

    @property
    def sink_topic(self) -> str:
        return self.sink.topic

    @property
    def sink_name(self) -> str:
        return self.sink.name

    def committed_offsets(self) -> dict[tuple[str, int], int]:
        return dict(self._offsets)

    # -- start -----------------------------------------------------------------------------------------------
    def initialise(self) -> None:
        """Load the checkpoint, or write the first one (start positions, current sink ends)."""
        checkpoint = self.checkpoints.load()
        positions: dict[tuple[str, int], int] = {}
        for topic_name in self.source_topics:
            topic = self.log.topic(topic_name)
            ends = topic.end_offsets()
            for partition in range(len(ends)):
                tp = (topic_name, partition)
                if checkpoint is not None and tp in checkpoint.sources:
                    positions[tp] = checkpoint.sources[tp]
                elif self.start_at_end:
                    positions[tp] = int(ends[partition])
                else:
                    positions[tp] = int(topic.partition(partition).start_offset)
        self._offsets = positions
        if checkpoint is not None:
            self._epoch = checkpoint.epoch
            # a checkpoint written before state ids were "kind-rank" names states "position-kind"
            legacy = bool(checkpoint.state) and all(k[:1].isdigit() for k in checkpoint.state)
            ids = self.graph.legacy_checkpoint_ids() if legacy else [k for k, _ in self.graph.checkpoint_ids()]
            for key, operator in zip(ids, self.graph.operators):
                state = checkpoint.state.get(key)
                if state is not None:
                    operator.restore(state)
        if checkpoint is None or set(checkpoint.sources) != set(positions):
            with self.sink_lock:
                self._commit()

    def _commit(self) -> None:
        sink_topic = self.log.topic(self.sink.topic)
        ends = sink_topic.end_offsets()
        self._epoch += 1
        state = {}
        for key, operator in self.graph.checkpoint_ids():
            snapshot = operator.snapshot()
            if snapshot is not None:
                state[key] = snapshot
        self.checkpoints.commit(
            Checkpoint(
                epoch=self._epoch,
                sources=dict(self._offsets),
                sinks={(self.sink.topic, p): int(end) for p, end in ends.items()},
                state=state,
            )
        )

    # -- processing ------------------------------------------------------------------------------------------
    def process(self, topic: str, partition: int, max_records: int | None = 1) -> int:
        """Consume the next records (at most ``max_records``) of ``topic``'s ``partition``, process them,
        append the output and commit. Returns the number of records consumed (0 when none are waiting).

        Raises:
            ExecutionError: the query failed (it is then in the ERROR state and consumes nothing more).
        """
        if self.state == QueryState.ERROR:
            raise ExecutionError(f"Query {self.query_id} has failed: {self.error}")
        if self.state != QueryState.RUNNING:
            return 0
        tp = (topic, partition)
        if tp not in self._offsets:
            if topic not in self.source_topics:
                raise ExecutionError(f"Query {self.query_id} does not read topic {topic}")
            self._offsets[tp] = 0
        result = self.log.topic(topic).partition(partition).read(self._offsets[tp], max_records=max_records)
        return self._run_step(tp, result.batches, int(result.next_offset))

    def _run_step(self, tp: tuple[str, int], batches: Sequence[pa.RecordBatch], next_offset: int) -> int:
        return self._run_segments([(tp, list(batches), next_offset)])

    def _run_segments(
        self,
        segments: Sequence[tuple[tuple[str, int], list[pa.RecordBatch], int]],
        push: Callable[[], object] | None = None,
    ) -> int:
        """Push each segment's batches (records of one source partition, up to its ``next_offset``) in
        order, then commit once: the sources' new offsets, the sink's ends and the operators' state.
        ``push``, when given, pushes all of the segments itself (the same output, computed otherwise)."""
        previous = dict(self._offsets)
        consumed = 0
        reached = dict(self._offsets)
        for tp, _, next_offset in segments:
            consumed += max(0, next_offset - reached.get(tp, next_offset))
            reached[tp] = max(next_offset, reached.get(tp, next_offset))
        if consumed <= 0:
            return 0
        with self.sink_lock:
            sink_topic = self.log.topic(self.sink.topic)
            before = {int(p): int(end) for p, end in sink_topic.end_offsets().items()}
            sinks = self._sinks()
            try:
                for sink in sinks:
                    sink.begin_step()
                if push is not None:
                    push()
                for tp, batches, next_offset in segments:
                    for batch in batches if push is None else ():
                        if batch.num_rows == 0:
                            continue
                        stored = batch.append_column(PARTITION_COLUMN, self._partition_column(tp[1], batch.num_rows))
                        self.graph.push(tp[0], stored)
                    self._offsets[tp] = next_offset
                for sink in sinks:
                    sink.end_step()
                self._commit()
            except HeadwaterError as error:
                for sink in sinks:
                    sink.abandon_step()
                self._offsets = previous
                self._discard_step_output(sink_topic, before)
                self._fail(error)
                raise
            except Exception as error:  # a bug or an unexpected kernel failure: the query stops, loudly
                for sink in sinks:
                    sink.abandon_step()
                self._offsets = previous
                self._discard_step_output(sink_topic, before)
                self._fail(error)
                raise ExecutionError(
                    f"Query {self.query_id} failed: {type(error).__name__}: {error}"
                ) from error
        self.records_consumed += consumed
        return consumed

    def _partition_column(self, partition: int, rows: int) -> pa.Array:
        """``rows`` copies of ``partition`` (int32) for the ``__partition`` column: a slice of one array
        kept per partition, so a step of many stored batches builds it once, not once per batch."""
        column = self._partition_columns.get(partition)
        if column is None or len(column) < rows:
            column = pa.repeat(pa.scalar(partition, pa.int32()), max(rows, 65_536))
            self._partition_columns[partition] = column
        return column.slice(0, rows)

    def _sinks(self) -> list[SinkOperator]:
        """The query's sink operators, which gather a step's small outputs into one append."""
        if self._sink_operators is None:
            self._sink_operators = [op for op in self.graph.operators if isinstance(op, SinkOperator)]
        return self._sink_operators

    def process_in_time_order(self, max_records: int = 10_000) -> int:
        """One step over every source partition at once, in event-time order
        (:mod:`headwater.engine.runtime.merge`): up to ``max_records`` records are read from each
        partition and consumed as Kafka Streams would interleave them, then one commit. Returns the
        records consumed."""
        if self.state == QueryState.ERROR:
            raise ExecutionError(f"Query {self.query_id} has failed: {self.error}")
        if self.state != QueryState.RUNNING:
            return 0
        chunks: dict[tuple[str, int], tuple[pa.Table, int]] = {}
        open_ended: set[tuple[str, int]] = set()
        for tp in sorted(self._offsets):
            result = self.log.topic(tp[0]).partition(tp[1]).read(self._offsets[tp], max_records=max_records)
            batches = [b for b in result.batches if b.num_rows]
            if not batches:
                continue
            if len({b.schema for b in batches}) > 1:  # a schema change inside the chunk: one partition at a time
                return self._run_step(tp, batches, int(result.next_offset))
            table = pa.Table.from_batches(batches)
            chunks[tp] = (table, int(result.next_offset))
            if table.num_rows >= max_records:
                open_ended.add(tp)
        if not chunks:
            return 0
        times = {tp: np.asarray(t.column("__timestamp").to_numpy(), dtype=np.int64) for tp, (t, _) in chunks.items()}
        runs = merge_by_time(times, open_ended)
        shape = join_shape(self.graph)
        offsets = {tp: np.asarray(t.column("__offset").to_numpy(), dtype=np.int64) for tp, (t, _) in chunks.items()}
        segments = []
        for tp, start, stop in runs:
            table, next_offset = chunks[tp]
            end = next_offset if stop == table.num_rows else int(offsets[tp][stop - 1]) + 1
            # a two-table join pushes every run in one pass (runtime.merge.push_in_order), the same output
            segments.append((tp, table.slice(start, stop - start).to_batches() if shape is None else [], end))
        if shape is None:
            return self._run_segments(segments)
        tables = {tp: table for tp, (table, _) in chunks.items()}
        return self._run_segments(segments, push=lambda: push_in_order(shape, tables, runs))

    @staticmethod
    def _discard_step_output(sink_topic: Any, before: dict[int, int]) -> None:
        """A step that failed leaves no output behind: its inputs stay uncommitted, so a resumed query
        reads them again (the sink lock is held, so only this step appended since ``before``)."""
        for partition, end in before.items():
            part = sink_topic.partition(partition)
            if int(part.end_offset) > end:
                part.truncate_to(end)

    def _fail(self, error: BaseException) -> None:
        self.state = QueryState.ERROR
        self.error = str(error)
        if self.on_failure is not None:
            self.on_failure(self, error)

    def process_available(self) -> int:
        """Drain every source partition up to its current end (several partitions in event-time order).
        Returns the records consumed."""
        total = 0
        if len(self._offsets) > 1:
            while True:
                step = self.process_in_time_order()
                total += step
                if step == 0:
                    return total
        while True:
            step = 0
            for topic, partition in sorted(self._offsets):
                step += self.process(topic, partition, max_records=None)
            total += step
            if step == 0:
                return total

    # -- background ------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Run on a thread until :meth:`stop`."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self.run, name=f"query-{self.query_id}", daemon=True)
        self._thread.start()

    def run(
        self, poll_timeout_s: float = 0.2, batch_records: int = 10_000, max_batch_records: int = 1_000_000
    ) -> None:
        """The background loop: tail each source partition and process what arrives.

        Steps start at ``batch_records`` records and grow (up to ``max_batch_records``) while every step
        finds a full batch waiting, so a backlog is consumed with few checkpoint commits (each is an
        fsync); they shrink back when the query has caught up, keeping latency low.
        """
        step_size = batch_records
        while not self._stop.is_set() and self.state == QueryState.RUNNING:
            progressed = 0
            partitions = sorted(self._offsets)
            try:
                if len(partitions) > 1:
                    progressed = self.process_in_time_order(step_size)
                else:
                    for topic, partition in partitions:
                        progressed += self.process(topic, partition, max_records=step_size)
            except HeadwaterError:
                return
            if progressed >= step_size:
                step_size = min(max_batch_records, step_size * 4)
            elif progressed < step_size // 4:
                step_size = max(batch_records, step_size // 4)
            if progressed == 0 and partitions:
                topic, partition = partitions[0]
                wait_timeout = poll_timeout_s / max(1, len(partitions))
                for topic, partition in partitions:
                    if self._stop.is_set():
                        return
                    self._wait_for_records(topic, partition, wait_timeout)
            elif not partitions:
                self._stop.wait(poll_timeout_s)

    def _wait_for_records(self, topic: str, partition: int, timeout_s: float) -> None:
        """Wait up to ``timeout_s`` for a record past the committed offset of ``topic``'s ``partition``.

        An append wakes the wait at once; :meth:`stop` cannot (the partition's condition is the log's),
        so the wait is cut into slices of :data:`STOP_CHECK_S` and ends at the first slice after a stop.
        A stop (a TERMINATE, a PAUSE, closing the engine) then returns within one slice instead of a
        whole poll timeout per partition."""
        source = self.log.topic(topic).partition(partition)
        offset = self._offsets[(topic, partition)]
        remaining = timeout_s
        while remaining > 0 and not self._stop.is_set():
            wait = min(remaining, STOP_CHECK_S)
            result = source.read_wait(offset, 1, wait)
            if result.batches or int(result.next_offset) != offset:
                return
            remaining -= wait

    def stop(self, *, state: str | None = None) -> bool:
        """Stop the background thread (if any) after its current step; False if it did not stop in
        time (its step may still be running)."""
        self._stop.set()
        thread = self._thread
        stopped = True
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=30)
            stopped = not thread.is_alive()
        self._thread = None
        if state is not None:
            self.state = state
        return stopped

    def pause(self) -> None:
        """PAUSE: stop consuming, keep the committed position (a paused query is still listed)."""
        if self.state != QueryState.RUNNING:
            return
        self.stop(state=QueryState.PAUSED)

    def resume(self, *, background: bool) -> None:
        """RESUME: consume again from the committed position (on a thread when ``background``)."""
        if self.state != QueryState.PAUSED:
            return
        self.state = QueryState.RUNNING
        self._stop.clear()
        if background:
            self.start()

    def close(self) -> bool:
        """Stop and release the operators; False if the background step did not stop in time."""
        stopped = self.stop()
        for operator in self.operators:
            operator.close()
        return stopped

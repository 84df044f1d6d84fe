"""Persistent queries: read sources from committed offsets, run the operators, append, commit.

**One step** of a query consumes the next records of one source topic-partition:

1. read up to ``max_records`` records from the query's position (a tail read waits for data in
   background mode);
2. run them through the operators (the sink operator appends to the sink topic);
3. when a commit is due, commit a checkpoint holding the new source offsets, the sink's end offsets and
   the operators' state.

A commit is due, as in ksqlDB, once ``commit.interval.ms`` has passed since the last one (0: after every
step); a query also commits when it finds nothing more to read (it has caught up, so the commit costs
nothing while a backlog is being consumed), when it stops (TERMINATE, PAUSE, closing the engine), and
when another writer of its sink or a query reading its sink needs its output committed (below). Between
commits the query's output is its *uncommitted tail*: state is snapshotted once per commit, not once per
step, which is what made commits cost in proportion to state size times steps.

Steps 2 and 3 run under the sink topic's writer lock (:class:`SinkLock`), shared by every writer of that
topic. The lock remembers the writer whose tail is uncommitted, and any other writer taking it (another
query, INSERT VALUES) first has that tail committed, so at any moment a sink has at most one uncommitted
tail, written by one writer. **Recovery** (on engine start after a crash, before any query runs)
truncates every sink partition to the largest end offset any writer committed for it: that removes
exactly an uncommitted tail, whose input the query then reads again from its committed offsets. A query
that reads another query's sink has that writer commit what it read before it goes on (the reader could
otherwise commit offsets past output a crash would remove). Output is therefore neither lost nor
repeated, whenever a crash happens.

A query with several source partitions (a join's two topics, a multi-partition topic) is driven in
event-time order by :meth:`PersistentQuery.process_in_time_order`: a chunk of each partition is read
and consumed in the order Kafka Streams interleaves partitions (:mod:`headwater.engine.runtime.merge`).

With ``background=True`` each query runs :meth:`PersistentQuery.run` on its own thread; with
``background=False`` the caller drives it through :meth:`PersistentQuery.process` and
:meth:`PersistentQuery.process_available`.
"""

from __future__ import annotations

import _thread
import functools
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
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
from headwater.engine.runtime.merge import join_shape, push_in_order, time_order_runs
from headwater.errors import ExecutionError, HeadwaterError

__all__ = ["DEFAULT_COMMIT_INTERVAL_MS", "STOP_CHECK_S", "PersistentQuery", "QueryState", "SinkLock", "SinkLocks"]

STOP_CHECK_S = 0.02
"""How often a background query waiting for records checks whether it was stopped (seconds)."""

DEFAULT_COMMIT_INTERVAL_MS = 2000
"""ksqlDB's ``commit.interval.ms``: how long a query may run steps before it commits a checkpoint."""


COALESCED_ROWS = 65_536
"""A step's consecutive small stored batches of one partition are pushed as one batch of up to this many
rows (see :func:`coalesce_batches`)."""

BACKLOG_BATCHES = 16
"""A step is joined into fewer batches only when it holds at least this many stored batches: a backlog,
where per-batch costs add up. A live query reading a few appends per step (INSERTs typed one after
another) keeps them apart, and so emits an update per append, like a record cache flushed often."""

SMALL_BATCH_ROWS = 4_096
"""Stored batches shorter than this are joined with their neighbours; longer ones already spread the
operators' per-batch costs over enough rows, and copying them would cost more than it saves (a
pass-through query over 9,200-row batches ran at a quarter of its speed when they were joined)."""


def coalesce_batches(
    batches: Sequence[pa.RecordBatch],
    max_rows: int = COALESCED_ROWS,
    small_rows: int = SMALL_BATCH_ROWS,
    min_batches: int = BACKLOG_BATCHES,
) -> list[pa.RecordBatch]:
    """Runs of consecutive small batches of one source partition joined into batches of up to
    ``max_rows`` rows.

    A stored batch is however many records a producer appended at once: a topic written 200 records at
    a time gives a step of 50 batches, and every operator pays its fixed per-batch cost 50 times. The
    records, their order and their per-record semantics (stream time, grace, as-of lookups) are the same
    in one batch; what changes is that an aggregation emits one update per key per batch instead of
    per stored batch, which is ksqlDB's record cache at work (``cache.max.bytes.buffering`` > 0 collapses
    a key's updates until the cache flushes at commit). With the cache off (``record_at_a_time``) the
    caller does not coalesce: records then go through one at a time anyway. Batches of at least
    ``small_rows`` rows, batches whose schema differs from their neighbour's, and the batches of a step
    holding fewer than ``min_batches`` (no backlog) are left as they are.
    """
    if len(batches) < max(2, min_batches):
        return list(batches)
    out: list[pa.RecordBatch] = []
    group: list[pa.RecordBatch] = []
    rows = 0

    def flush() -> None:
        if len(group) == 1:
            out.append(group[0])
        elif group:
            out.extend(pa.Table.from_batches(group).combine_chunks().to_batches())
        group.clear()

    for batch in batches:
        if batch.num_rows == 0:
            continue
        if batch.num_rows >= small_rows:
            flush()
            out.append(batch)
            rows = 0
            continue
        if group and (rows + batch.num_rows > max_rows or batch.schema != group[0].schema):
            flush()
            rows = 0
        group.append(batch)
        rows += batch.num_rows
    flush()
    return out


class QueryState:
    RUNNING = "RUNNING"
    ERROR = "ERROR"
    TERMINATED = "TERMINATED"
    PAUSED = "PAUSED"


class SinkLock(_thread.RLock):  # type: ignore[misc]  # final in the stubs only: engine code types it as an RLock
    """A sink topic's re-entrant writer lock, which also knows the writer whose output is uncommitted.

    ``with lock:`` (a writer other than a query: INSERT VALUES) has the uncommitted tail committed before
    the caller goes on, so the caller's append and commit never cover another writer's uncommitted
    output; a query takes it through :meth:`writing`, which does the same for every writer but itself.

    Attributes:
        registry: the engine's locks, through which a query reading this topic finds its writer.
        pending: the query whose output since its last commit is in the topic, if any.
    """

    registry: SinkLocks
    pending: PersistentQuery | None

    def __new__(cls, registry: SinkLocks) -> SinkLock:
        return super().__new__(cls)  # RLock's constructor takes no arguments

    def __init__(self, registry: SinkLocks) -> None:
        self.registry = registry
        self.pending = None

    def __enter__(self, blocking: bool = True, timeout: float = -1) -> bool:
        if not self.acquire(blocking, timeout):
            return False
        try:
            self.settle(None)
        except BaseException:
            self.release()
            raise
        return True

    @contextmanager
    def writing(self, writer: PersistentQuery) -> Iterator[None]:
        """Hold the lock for ``writer``'s step: another writer's uncommitted tail is committed first."""
        self.acquire()
        try:
            self.settle(writer)
            yield
        finally:
            self.release()

    def settle(self, writer: PersistentQuery | None) -> None:
        """Commit the uncommitted tail of any writer but ``writer`` (the lock is held)."""
        pending = self.pending
        if pending is not None and pending is not writer:
            pending.commit_pending()


class SinkLocks:
    """One :class:`SinkLock` per sink topic, shared by every writer of the topic in the engine."""

    def __init__(self) -> None:
        self._locks: dict[str, SinkLock] = {}
        self._guard = threading.Lock()

    def lock(self, topic: str) -> SinkLock:
        with self._guard:
            lock = self._locks.get(topic)
            if lock is None:
                lock = self._locks[topic] = SinkLock(self)
            return lock

    def settle_reads(self, topic: str, reader: PersistentQuery) -> None:
        """``reader`` has read records of ``topic``: the writer with an uncommitted tail there (not
        ``reader`` itself) commits it, so the reader never commits offsets past output a crash would
        remove. Cheap when nothing is pending: one dictionary look-up."""
        lock = self._locks.get(topic)
        if lock is None or lock.pending is None or lock.pending is reader:
            return
        with lock:
            pass  # entering settles


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
        commit_interval_ms: ``commit.interval.ms``: a commit is due once this long has passed since the
            last one (0: after every step); see the module docstring for the other moments it commits.
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
    commit_interval_ms: int = DEFAULT_COMMIT_INTERVAL_MS
    on_failure: Callable[[PersistentQuery, BaseException], None] | None = None
    state: str = QueryState.RUNNING
    error: str | None = None
    records_consumed: int = 0
    _offsets: dict[tuple[str, int], int] = field(default_factory=dict)
    _published: dict[tuple[str, int], int] = field(default_factory=dict)
    _epoch: int = 0
    _committed: dict[tuple[str, int], int] = field(default_factory=dict)
    _last_commit_s: float = 0.0
    _tail_start: dict[int, int] | None = None
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
        """The next offset to read per source partition: what the query has consumed, whose output is
        in its sink (durable in its checkpoint at its next commit, see :meth:`commit_pending`).

        Safe from any thread: a step advances its read positions record batch by record batch and its
        sinks append their gathered output only at its end, so the offsets shown here move on (one
        dictionary swapped in) only once that output is in the sink. A reader that sees a query at the
        end of its sources therefore also sees all the output of what it consumed."""
        return dict(self._published)

    @property
    def uncommitted(self) -> bool:
        """Whether steps ran since the last commit."""
        return self._tail_start is not None

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
        self._published = dict(positions)
        if checkpoint is not None:
            self._epoch = checkpoint.epoch
            # a checkpoint written before state ids were "kind-rank" names states "position-kind"
            legacy = bool(checkpoint.state) and all(k[:1].isdigit() for k in checkpoint.state)
            ids = self.graph.legacy_checkpoint_ids() if legacy else [k for k, _ in self.graph.checkpoint_ids()]
            for key, operator in zip(ids, self.graph.operators):
                state = checkpoint.state.get(key)
                if state is not None:
                    operator.restore(state)
        self._committed = dict(positions)
        self._last_commit_s = time.monotonic()
        if checkpoint is None or set(checkpoint.sources) != set(positions):
            with self._locked():
                self._commit()

    def _locked(self) -> Any:
        """The sink lock, held for this query's own step or commit (another writer's uncommitted tail
        is committed first)."""
        if isinstance(self.sink_lock, SinkLock):
            return self.sink_lock.writing(self)
        return self.sink_lock

    def commit_pending(self) -> None:
        """Commit now if steps ran since the last commit (a stop, another writer or a reader needs the
        output committed). A failed query's tail was already removed: nothing to commit."""
        if self._tail_start is None or self.state == QueryState.ERROR:
            return
        with self._locked():
            if self._tail_start is not None:
                self._commit()

    def _commit_due(self) -> bool:
        return (time.monotonic() - self._last_commit_s) * 1000.0 >= self.commit_interval_ms

    def _mark_uncommitted(self, sink_ends_before: dict[int, int]) -> None:
        """A step ran and was not committed: remember where the tail starts (to remove it if a later
        step fails) and tell the sink lock, so other writers and readers commit it when they need to."""
        if self._tail_start is None:
            self._tail_start = sink_ends_before
        if isinstance(self.sink_lock, SinkLock):
            self.sink_lock.pending = self

    def _commit(self) -> None:
        """Write the checkpoint of the query's current position (the sink lock is held)."""
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
        self._committed = dict(self._offsets)
        self._last_commit_s = time.monotonic()
        self._tail_start = None
        if isinstance(self.sink_lock, SinkLock) and self.sink_lock.pending is self:
            self.sink_lock.pending = None

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
            self._published = dict(self._offsets)
        result = self.log.topic(topic).partition(partition).read(self._offsets[tp], max_records=max_records)
        if int(result.next_offset) == self._offsets[tp]:
            self._caught_up()
            return 0
        self._settle_reads(topic)
        return self._run_step(tp, result.batches, int(result.next_offset))

    def _caught_up(self) -> None:
        """Nothing more to read: commit what is uncommitted now, while the query would only wait."""
        if self._tail_start is not None:
            self.commit_pending()

    def _settle_reads(self, topic: str) -> None:
        """Records of ``topic`` were read: if a query wrote them and has not committed them, it commits
        now (see :meth:`SinkLocks.settle_reads`)."""
        if isinstance(self.sink_lock, SinkLock):
            self.sink_lock.registry.settle_reads(topic, self)

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
        consumed = 0
        reached = dict(self._offsets)
        for tp, _, next_offset in segments:
            consumed += max(0, next_offset - reached.get(tp, next_offset))
            reached[tp] = max(next_offset, reached.get(tp, next_offset))
        if consumed <= 0:
            return 0
        with self._locked():
            sink_topic = self.log.topic(self.sink.topic)
            before = {int(p): int(end) for p, end in sink_topic.end_offsets().items()}
            sinks = self._sinks()
            try:
                for sink in sinks:
                    sink.begin_step()
                if push is not None:
                    push()
                for tp, batches, next_offset in segments:
                    if push is None and self._coalesce_below:
                        batches = coalesce_batches(batches, small_rows=self._coalesce_below)
                    for batch in batches if push is None else ():
                        if batch.num_rows == 0:
                            continue
                        stored = batch.append_column(PARTITION_COLUMN, self._partition_column(tp[1], batch.num_rows))
                        self.graph.push(tp[0], stored)
                    self._offsets[tp] = next_offset
                for sink in sinks:
                    sink.end_step()
                self._published = dict(self._offsets)  # the step's output is in the sink now
                if self._commit_due():
                    self._commit()
                else:
                    self._mark_uncommitted(before)
            except HeadwaterError as error:
                self._abandon(sinks, sink_topic, before)
                self._fail(error)
                raise
            except Exception as error:  # a bug or an unexpected kernel failure: the query stops, loudly
                self._abandon(sinks, sink_topic, before)
                self._fail(error)
                raise ExecutionError(
                    f"Query {self.query_id} failed: {type(error).__name__}: {error}"
                ) from error
        self.records_consumed += consumed
        return consumed

    def _abandon(self, sinks: list[SinkOperator], sink_topic: Any, before: dict[int, int]) -> None:
        """A step failed: its output is removed, and so is every uncommitted step's before it (the
        operators' state is part way through the failed step, so those steps cannot be committed). The
        query goes back to its committed offsets; a restart replays from there and produces that output
        once."""
        for sink in sinks:
            sink.abandon_step()
        self._discard_step_output(sink_topic, before if self._tail_start is None else self._tail_start)
        self._offsets = dict(self._committed)
        self._published = dict(self._committed)
        self._tail_start = None
        if isinstance(self.sink_lock, SinkLock) and self.sink_lock.pending is self:
            self.sink_lock.pending = None

    def _partition_column(self, partition: int, rows: int) -> pa.Array:
        """``rows`` copies of ``partition`` (int32) for the ``__partition`` column: a slice of one array
        kept per partition, so a step of many stored batches builds it once, not once per batch."""
        column = self._partition_columns.get(partition)
        if column is None or len(column) < rows:
            column = pa.repeat(pa.scalar(partition, pa.int32()), max(rows, 65_536))
            self._partition_columns[partition] = column
        return column.slice(0, rows)

    @functools.cached_property
    def _coalesce_below(self) -> int:
        """Stored batches shorter than this are joined with their neighbours (:func:`coalesce_batches`);
        0: none are. A stateful query joins every batch it can: besides the per-batch costs, its
        collapsed updates are fewer records for every stage downstream (q5's hopping counts over
        9,200-row batches emit a third fewer updates in 65,536-row ones). A stateless query joins only
        small batches, since copying long ones costs more than their per-batch costs. With the record
        cache off nothing is joined: the records go through one at a time."""
        if self.graph.record_at_a_time:
            return 0
        return COALESCED_ROWS if self.graph.keeps_state else SMALL_BATCH_ROWS

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
                self._settle_reads(tp[0])
                return self._run_step(tp, batches, int(result.next_offset))
            table = pa.Table.from_batches(batches)
            chunks[tp] = (table, int(result.next_offset))
            if table.num_rows >= max_records:
                open_ended.add(tp)
        if not chunks:
            self._caught_up()
            return 0
        for topic in dict.fromkeys(tp[0] for tp in chunks):
            self._settle_reads(topic)
        times = {tp: np.asarray(t.column("__timestamp").to_numpy(), dtype=np.int64) for tp, (t, _) in chunks.items()}
        runs = time_order_runs(times, open_ended)

        def end_offset(tp: tuple[str, int], stop: int) -> int:
            """The next offset to read of ``tp`` once its chunk's first ``stop`` rows are consumed."""
            table, next_offset = chunks[tp]
            return next_offset if stop == table.num_rows else int(table.column("__offset")[stop - 1].as_py()) + 1

        shape = join_shape(self.graph)
        if shape is None:
            segments = [
                (tp, chunks[tp][0].slice(start, stop - start).to_batches(), end_offset(tp, stop))
                for tp, start, stop in runs.as_tuples()
            ]
            return self._run_segments(segments)
        # a two-table join pushes every run in one pass (runtime.merge.push_in_order), the same output;
        # the step then ends at each partition's last run
        last: list[tuple[tuple[str, int], list[pa.RecordBatch], int]] = [
            (tp, [], end_offset(tp, stop)) for tp, stop in runs.last_stops().items()
        ]
        tables = {tp: table for tp, (table, _) in chunks.items()}
        return self._run_segments(last, push=lambda: push_in_order(shape, tables, runs))

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
        if stopped:
            self.commit_pending()
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

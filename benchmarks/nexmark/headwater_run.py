"""Headwater's measurements: persistent queries reading the event log and writing their result topic.

A measurement runs the query's statements (``CREATE STREAM <sink> AS SELECT ...``, or the pipeline of
:mod:`benchmarks.nexmark.queries`) with ``auto.offset.reset=earliest`` in an engine opened with
``background=False``. Then each persistent query in turn, in creation order, runs its own background loop
(:meth:`PersistentQuery.start`, the loop a background engine runs: steps that grow while a backlog waits,
each committing a checkpoint) until its committed source offsets reach the end of its sources, and stops;
the next query then reads what it wrote. The clock runs over all of them, so a measurement includes
everything the running queries do: log reads, the operators, the appends to every stage's topic, and a
durable checkpoint per step (written, fsynced and renamed). Each stage's own wall and CPU time is kept
too (:class:`~benchmarks.nexmark.measure.StageTime`).

Running the stages one after another is how the benchmark gives a pipeline its finite input: every stage
sees the whole output of the stages before it (for a table, its final state along with its history). The
stages could also run at the same time, each on its own thread; with Python's interpreter lock that
would not take less CPU, and the timing of each stage would depend on the others'.

**Discard sink.** The discard measurement runs the same statements with the last query's sink told to
discard its output (:meth:`SinkOperator.discard_output`, the engine's discard sink for measurements: it
converts and routes every batch as before, counts it, and appends nothing). Everything else runs unchanged, including the sink operator's conversion of each batch
to the stored layout, the checkpoint commits and, in a pipeline, the intermediate topics (the next stage
reads them); only the final append to the log is skipped. The difference between the two measurements is
the cost of writing the result topic.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from benchmarks.nexmark.measure import Measurement, Progress, StageTime, Timer, settle
from benchmarks.nexmark.queries import NexmarkQuery
from headwater.engine.operators.sink import SinkOperator
from headwater.engine.runtime.persistent import PersistentQuery, QueryState
from headwater.errors import ExecutionError

__all__ = ["drop_query", "read_result", "read_topic", "run_headwater"]

_POLL_S = 0.005


def _queries_of(engine: Any, names: set[str]) -> list[PersistentQuery]:
    """The persistent queries writing the streams / tables ``names``, in creation order."""
    return [q for q in engine.persistent_queries() if q.sink_name.upper() in names]


def _source_ends(engine: Any, running: PersistentQuery) -> dict[tuple[str, int], int]:
    return {(topic, p): int(end) for topic in running.source_topics
            for p, end in engine.log.topic(topic).end_offsets().items()}


def _drain(engine: Any, running: PersistentQuery, label: str) -> StageTime:
    """Run one query's background loop until it has committed everything its sources hold now."""
    ends = _source_ends(engine, running)
    total = sum(ends.values())
    progress = Progress(label, total)
    with Timer() as timer:
        running.start()
        while True:
            committed = running.committed_offsets()
            if all(committed.get(tp, 0) >= end for tp, end in ends.items()):
                break
            if running.state == QueryState.ERROR:
                running.stop()
                raise ExecutionError(f"{running.query_id} failed: {running.error}")
            progress.update(running.records_consumed)
            time.sleep(_POLL_S)
        running.stop()
    progress.update(total)
    return StageTime(running.query_id, total, timer.wall_s, timer.cpu_s)


def run_headwater(engine: Any, query: NexmarkQuery, sink: str, *, discard: bool, settle_first: bool = True,
                  events: int | None = None) -> Measurement:
    """Create ``query`` writing to ``sink``, run it over everything in its sources, measure.

    ``events`` is the query's input (its sources' records; default: what the first stages' source topics
    hold). ``settle_first`` writes back dirty pages before the clock starts (see :func:`settle`); tests
    skip it.

    Raises:
        ExecutionError: a query failed while running.
    """
    created = query.created(sink)
    engine.execute(query.headwater_statements(sink), properties={"auto.offset.reset": "earliest"})
    stages = _queries_of(engine, {c.name for c in created if c.derived})
    if not stages or stages[-1].sink_name.upper() != sink.upper():
        raise ExecutionError(f"{query.query_id}: no persistent query writes {sink}")
    sink_operator: SinkOperator | None = None
    if discard:
        last = stages[-1].operators[-1]
        if not isinstance(last, SinkOperator):
            raise ExecutionError(f"{stages[-1].query_id}: the last operator is {type(last).__name__}, "
                                 "not the sink; cannot discard its output")
        sink_operator = last
        sink_operator.discard_output()
    if events is None:
        events = sum(int(end) for topic in query.sources for end in engine.log.topic(topic).end_offsets().values())
    if settle_first:
        settle()
    label = f"headwater {query.query_id}{' (discard sink)' if discard else ''}"
    timings = []
    with Timer() as timer:
        for index, running in enumerate(stages):
            stage_label = label if len(stages) == 1 else f"{label}, {index + 1}/{len(stages)} {running.sink_name}"
            timings.append(_drain(engine, running, stage_label))
    if sink_operator is not None:
        output_rows = sink_operator.appended
    else:
        output_rows = sum(engine.log.topic(stages[-1].sink_topic).end_offsets().values())
    system = "headwater-discard" if discard else "headwater"
    return Measurement(query.query_id, system, events, output_rows, timer.wall_s, timer.cpu_s,
                       stages=tuple(timings) if len(timings) > 1 else ())


def read_topic(log: Any, topic: str, *, system_columns: bool = False) -> pa.Table:
    """Every record of a typed topic as one table of its user columns (and, if asked, the system columns
    ``__offset`` and ``__tombstone``), partition after partition."""
    handle = log.topic(topic)
    batches: list[pa.RecordBatch] = []
    for partition in handle.partitions():
        batches.extend(partition.read(partition.start_offset).batches)
    keep = [f for f in handle.stored_schema
            if not f.name.startswith("__") or (system_columns and f.name in ("__offset", "__tombstone"))]
    schema = pa.schema(keep)
    if not batches:
        return schema.empty_table()
    return pa.Table.from_batches(batches).select([f.name for f in keep])


def read_result(log: Any, query: NexmarkQuery, sink: str) -> pa.Table:
    """The query's answer from its sink topic: every row of a stream, or a table's final state (the
    latest row per key, deleted keys left out), as :class:`~benchmarks.nexmark.queries.Result` says.

    A key's rows are all in one partition (the sink partitions by key), so the latest is the last in the
    order :func:`read_topic` returns them.
    """
    result = query.result
    changes = read_topic(log, sink, system_columns=result.is_table)
    if result.is_table:
        changes = _latest_per_key(changes, list(result.key))
    columns = list(result.columns) or [n for n in changes.column_names if not n.startswith("__")]
    return changes.select(columns)


def _latest_per_key(changes: pa.Table, key: list[str]) -> pa.Table:
    """The last row of every key, without the keys whose last row is a deletion (vectorized: a group-by
    over the row positions)."""
    if changes.num_rows == 0:
        return changes
    positions = pa.array(np.arange(changes.num_rows, dtype=np.int64))
    numbered = changes.select(key).append_column("__position", positions)
    last = numbered.group_by(key, use_threads=False).aggregate([("__position", "max")])
    latest = changes.take(last.column("__position_max"))
    return latest.filter(pc.invert(latest.column("__tombstone")))


def drop_query(engine: Any, query: NexmarkQuery, sink: str) -> None:
    """Terminate the queries of one run of ``query`` and drop what they created, the derived ones with their
    topics (frees the disk), last created first: a source made from another blocks the other's drop until
    it is dropped itself (ksqlDB's rule), and a stream declared over a table's topic is dropped before
    that table deletes the topic."""
    created = query.created(sink)
    for running in _queries_of(engine, {c.name for c in created if c.derived}):
        engine.execute(f"TERMINATE {running.query_id};")
    for item in reversed(created):
        engine.execute(f"DROP {item.kind} {item.name}{' DELETE TOPIC' if item.derived else ''};")

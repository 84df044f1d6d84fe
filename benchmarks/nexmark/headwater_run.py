"""Headwater's measurements: a persistent query reading the event log and writing its result topic.

Each measurement creates the query's ``CREATE STREAM <sink> AS SELECT ...`` with
``auto.offset.reset=earliest`` in an engine opened with ``background=False``, then starts the query's own
background loop (:meth:`PersistentQuery.start`, the loop a background engine runs: steps of up to 10,000
records, each committing a checkpoint) and stops the clock when the committed source offsets reach the
end of the sources. So a measurement includes everything a running query does: log reads, the
operators, the sink append, and a durable checkpoint per step (written, fsynced and renamed).

**Discard sink.** The engine has no discard sink, so the discard measurement runs the same query with the
sink operator's topic replaced by :class:`DiscardTarget`, an object that accepts appends and keeps
nothing. Everything else runs unchanged, including the sink operator's conversion of each batch to the
stored layout and the checkpoint commits; only the append to the log is skipped. The difference between
the two measurements is the cost of writing the result topic.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from benchmarks.nexmark.measure import Measurement, Progress, Timer, settle
from benchmarks.nexmark.queries import NexmarkQuery
from headwater.engine.operators.sink import SinkOperator
from headwater.engine.runtime.persistent import PersistentQuery, QueryState
from headwater.errors import ExecutionError

__all__ = ["DiscardTarget", "drop_query", "read_topic", "run_headwater"]

_POLL_S = 0.005


class DiscardTarget:
    """Takes the place of a sink's topic: counts what it is given and keeps none of it."""

    def __init__(self) -> None:
        self.appended = 0

    def append(self, batch: pa.RecordBatch, partition: int | None = None,
               partitions: np.ndarray | Sequence[int] | None = None,
               key_bytes: pa.Array | None = None) -> list[Any]:
        self.appended += batch.num_rows
        return []


def _query_for_sink(engine: Any, sink: str) -> PersistentQuery:
    for candidate in engine.persistent_queries():
        if candidate.sink_name.upper() == sink.upper():
            return candidate
    raise ExecutionError(f"no persistent query writes {sink}")


def run_headwater(engine: Any, query: NexmarkQuery, sink: str, *, discard: bool, settle_first: bool = True
                  ) -> Measurement:
    """Create ``query`` writing to the stream ``sink``, run it over everything in its sources, measure.

    ``settle_first`` writes back dirty pages before the clock starts (see :func:`settle`); tests skip it.

    Raises:
        ExecutionError: the query failed while running.
    """
    engine.execute(query.headwater_statement(sink), properties={"auto.offset.reset": "earliest"})
    running = _query_for_sink(engine, sink)
    target = None
    if discard:
        sink_operator = running.operators[-1]
        if not isinstance(sink_operator, SinkOperator):
            raise ExecutionError(f"{running.query_id}: the last operator is {type(sink_operator).__name__}, "
                                 "not the sink; cannot discard its output")
        target = DiscardTarget()
        sink_operator.topic = target
    ends = {(topic, p): int(end) for topic in running.source_topics
            for p, end in engine.log.topic(topic).end_offsets().items()}
    total = sum(ends.values())
    label = f"headwater {query.query_id}{' (discard sink)' if discard else ''}"
    progress = Progress(label, total)
    if settle_first:
        settle()
    with Timer() as timer:
        running.start()
        while True:
            committed = running.committed_offsets()
            if all(committed.get(tp, 0) >= end for tp, end in ends.items()):
                break
            if running.state == QueryState.ERROR:
                raise ExecutionError(f"{running.query_id} failed: {running.error}")
            progress.update(running.records_consumed)
            time.sleep(_POLL_S)
    running.stop()
    progress.update(total)
    if target is not None:
        output_rows = target.appended
    else:
        output_rows = sum(engine.log.topic(running.sink_topic).end_offsets().values())
    system = "headwater-discard" if discard else "headwater"
    return Measurement(query.query_id, system, total, output_rows, timer.wall_s, timer.cpu_s)


def read_topic(log: Any, topic: str) -> pa.Table:
    """Every record of a typed topic as one table of its user columns (system columns dropped)."""
    handle = log.topic(topic)
    batches: list[pa.RecordBatch] = []
    for partition in handle.partitions():
        batches.extend(partition.read(partition.start_offset).batches)
    user = [f for f in handle.stored_schema if not f.name.startswith("__")]
    schema = pa.schema(user)
    if not batches:
        return schema.empty_table()
    table = pa.Table.from_batches(batches)
    return table.select([f.name for f in user])


def drop_query(engine: Any, sink: str) -> None:
    """Terminate the query writing ``sink`` and drop the stream with its topic (frees the disk)."""
    running = _query_for_sink(engine, sink)
    engine.execute(f"TERMINATE {running.query_id};")
    engine.execute(f"DROP STREAM {sink} DELETE TOPIC;")

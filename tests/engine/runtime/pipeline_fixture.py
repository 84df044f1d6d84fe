"""A persistent query over real storage for runtime tests: typed topic ``in`` -> filter -> project ->
typed topic ``out``. Run as a script it drains the query in small steps forever (the crash test kills it).

The filter and projection evaluators are pyarrow.compute functions standing where compiled expressions
plug in; everything else (log, scan, sink, checkpoints, recovery) is the engine's own code.
"""

from __future__ import annotations

import random
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.catalog import DataSource, FormatSpec, SourceType
from headwater.engine.operators.base import Operator
from headwater.engine.operators.filter import FilterOperator
from headwater.engine.operators.project import ProjectOperator
from headwater.engine.operators.sink import SinkOperator, stored_schema
from headwater.engine.operators.source_scan import SourceScanOperator
from headwater.engine.planner.graph import OperatorGraph, Stage
from headwater.engine.planner.logical import RowColumn, ScanNode
from headwater.engine.runtime.checkpoint import CheckpointStore
from headwater.engine.runtime.persistent import PersistentQuery
from headwater.engine.runtime.recovery import recover_sinks
from headwater.engine.schema import Column, LogicalSchema, Namespace
from headwater.errors import ExecutionError
from headwater.parser import types as t
from headwater.storage import EventLog, TopicConfig

SOURCE = DataSource(
    "S",
    SourceType.STREAM,
    LogicalSchema((Column("ID", t.BIGINT, Namespace.KEY), Column("V", t.BIGINT))),
    "in",
    FormatSpec("KAFKA"),
    FormatSpec("JSON"),
)
SINK = DataSource(
    "O",
    SourceType.STREAM,
    LogicalSchema((Column("ID", t.BIGINT, Namespace.KEY), Column("TRIPLE", t.BIGINT))),
    "out",
    FormatSpec("KAFKA"),
    FormatSpec("JSON"),
    is_sink=True,
)


class Compute:
    def __init__(self, fn: Callable[[pa.RecordBatch], pa.Array]) -> None:
        self.fn = fn

    def evaluate(self, batch: pa.RecordBatch) -> pa.Array:
        return self.fn(batch)


def open_log(data_dir: Path) -> EventLog:
    log = EventLog.open(data_dir / "log")
    if not log.has_topic("in"):
        log.create_topic("in", TopicConfig(partitions=2), schema=stored_schema(SOURCE))
    if not log.has_topic("out"):
        log.create_topic("out", TopicConfig(partitions=1), schema=stored_schema(SINK))
    return log


def produce(log: EventLog, count: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    ids = [rng.randrange(1000) for _ in range(count)]
    batch = pa.record_batch(
        {
            "ID": pa.array(ids, pa.int64()),
            "V": pa.array(range(count), pa.int64()),
            "__timestamp": pa.array(range(1000, 1000 + count), pa.int64()),
        }
    )
    topic = log.topic("in")
    topic.append(batch, partitions=[i % 2 for i in ids])


def chain(operators: list[Operator]) -> Stage:
    """The operators as one chain of stages, first to last."""
    stage: Stage | None = None
    for operator in reversed(operators):
        stage = Stage(operator, stage)
    assert stage is not None
    return stage


def _triple(fail_at: int | None) -> Callable[[pa.RecordBatch], pa.Array]:
    def triple(batch: pa.RecordBatch) -> pa.Array:
        if fail_at is not None and pc.any(pc.equal(batch.column("V"), fail_at)).as_py():
            raise ExecutionError(f"V = {fail_at} cannot be tripled")
        return pc.multiply(batch.column("V"), 3)

    return triple


def make_query(
    log: EventLog, data_dir: Path, *, sink_lock: threading.RLock | None = None, fail_at: int | None = None
) -> PersistentQuery:
    """The query; ``sink_lock`` (default: a lock of its own) is its sink's writer lock; with ``fail_at``
    the projection fails on the record whose V is that value (the query then stops in ERROR)."""
    operators = [
        SourceScanOperator(SOURCE, raw=False),
        FilterOperator(Compute(lambda b: pc.not_equal(pc.bit_wise_and(b.column("V"), 3), 0))),
        ProjectOperator(
            [
                ("ID", Compute(lambda b: b.column("ID")), pa.int64()),
                ("TRIPLE", Compute(_triple(fail_at)), pa.int64()),
            ]
        ),
        SinkOperator(SINK, log.topic("out"), 1),
    ]
    plan = ScanNode(SOURCE, tuple(RowColumn(c.name, c.type, c.namespace) for c in SOURCE.schema))
    query = PersistentQuery(
        query_id="CSAS_O_0",
        statement_text="CREATE STREAM O AS SELECT ID, V * 3 AS TRIPLE FROM S WHERE V % 4 <> 0;",
        plan=plan,
        sources=(SOURCE,),
        sink=SINK,
        graph=OperatorGraph([("in", chain(operators))], operators),
        log=log,
        checkpoints=CheckpointStore(data_dir / "queries" / "CSAS_O_0"),
        sink_lock=threading.RLock() if sink_lock is None else sink_lock,
    )
    return query


def start(data_dir: Path) -> tuple[EventLog, PersistentQuery, dict[tuple[str, int], int]]:
    """Open the log, recover the sink, and initialise the query, as the engine does on start."""
    log = open_log(data_dir)
    query = make_query(log, data_dir)
    dropped = recover_sinks(log, [query.checkpoints])
    query.initialise()
    return log, query, dropped


def sink_rows(log: EventLog) -> list[tuple[int, int, int]]:
    part = log.topic("out").partition(0)
    result = part.read(part.start_offset)
    out: list[tuple[int, int, int]] = []
    for batch in result.batches:
        out.extend(
            zip(
                batch.column("ID").to_pylist(),
                batch.column("TRIPLE").to_pylist(),
                batch.column("__timestamp").to_pylist(),
            )
        )
    return out


if __name__ == "__main__":  # the process the crash test kills
    directory = Path(sys.argv[1])
    seed = int(sys.argv[2])
    _log, running, _dropped = start(directory)
    running.commit_interval_ms = 20  # several steps between two commits: kills land between commits too
    rng = random.Random(seed)
    while True:
        for partition in (0, 1):
            running.process("in", partition, max_records=rng.randint(1, 9))

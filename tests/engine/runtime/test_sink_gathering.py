"""A step's small sink outputs reach the log in one append: same rows, same order, nothing on failure."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pyarrow as pa
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import pipeline_fixture as fx

from headwater.engine.operators.base import Operator
from headwater.engine.operators.sink import SMALL_APPEND_ROWS, SinkOperator
from headwater.errors import ExecutionError


def _produce_in_small_appends(log: fx.EventLog, appends: int, rows: int) -> None:
    """``appends`` separate appends of ``rows`` records each to partition 0 of ``in``: as many stored
    batches, so one step pushes each through the operators separately."""
    topic = log.topic("in")
    for index in range(appends):
        first = index * rows
        topic.append(
            pa.record_batch(
                {
                    "ID": pa.array([v % 1000 for v in range(first, first + rows)], pa.int64()),
                    "V": pa.array(range(first, first + rows), pa.int64()),
                    "__timestamp": pa.array(range(1000 + first, 1000 + first + rows), pa.int64()),
                }
            ),
            partition=0,
        )


def _stored_batches(log: fx.EventLog) -> int:
    part = log.topic("out").partition(0)
    return len([b for b in part.read(part.start_offset).batches if b.num_rows])


def test_one_step_appends_its_small_outputs_together_in_order(tmp_path: Path) -> None:
    log = fx.open_log(tmp_path)
    _produce_in_small_appends(log, appends=40, rows=8)
    log.close()
    log, query, _ = fx.start(tmp_path)
    assert query.process("in", 0, max_records=None) == 320
    rows = fx.sink_rows(log)
    expected = [(v % 1000, v * 3, 1000 + v) for v in range(320) if v % 4 != 0]
    assert rows == expected
    assert _stored_batches(log) == 1
    assert query.process("in", 0, max_records=None) == 0  # caught up: the commit
    committed = query.checkpoints.load()
    assert committed is not None and committed.sinks[("out", 0)] == len(expected)
    log.close()


class _FailOnValue(Operator):
    """Passes batches through until one holds V == ``value``, then fails the step."""

    kind = "fail_on_value"

    def __init__(self, value: int) -> None:
        self.value = value

    def process(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        if self.value in batch.column("V").to_pylist():
            raise RuntimeError(f"V reached {self.value}")
        return [batch]


def test_a_failed_step_appends_none_of_its_gathered_output(tmp_path: Path) -> None:
    log = fx.open_log(tmp_path)
    _produce_in_small_appends(log, appends=10, rows=8)
    log.close()
    log, query, _ = fx.start(tmp_path)
    stage = query.graph.entries[0][1]
    stage.downstream = fx.Stage(_FailOnValue(60), stage.downstream)  # after the scan: batches 0-6 pass
    with pytest.raises(ExecutionError, match="V reached 60"):
        query.process("in", 0, max_records=None)
    assert fx.sink_rows(log) == []
    committed = query.checkpoints.load()
    assert committed is not None and committed.sources[("in", 0)] == 0
    log.close()


def test_large_outputs_go_straight_through_and_keep_their_place(tmp_path: Path) -> None:
    log = fx.open_log(tmp_path)
    sink = SinkOperator(fx.SINK, log.topic("out"), 1)
    sizes = [3, 5, SMALL_APPEND_ROWS, 2, SMALL_APPEND_ROWS + 1, 7]
    first = 0
    sink.begin_step()
    for size in sizes:
        values = range(first, first + size)
        sink.process(
            pa.record_batch(
                {
                    "ID": pa.array(values, pa.int64()),
                    "TRIPLE": pa.array([v * 3 for v in values], pa.int64()),
                    "ROWTIME": pa.array(values, pa.int64()),
                }
            )
        )
        first += size
    sink.end_step()
    rows = fx.sink_rows(log)
    assert rows == [(v, v * 3, v) for v in range(first)]
    # the small outputs before each large one were appended together: 8 and 2 rows, then the 7 at the end
    assert _stored_batches(log) == 5
    assert sink.appended == first
    log.close()


def test_an_idle_background_query_stops_without_waiting_out_its_poll(tmp_path: Path) -> None:
    """A query waiting for records notices a stop within a slice, not after its whole poll timeout."""
    log = fx.open_log(tmp_path)
    _produce_in_small_appends(log, appends=2, rows=8)
    log.close()
    log, query, _ = fx.start(tmp_path)
    thread = threading.Thread(target=query.run, kwargs={"poll_timeout_s": 30.0}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while query.committed_offsets()[("in", 0)] < 16 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert query.committed_offsets()[("in", 0)] == 16
    time.sleep(0.1)  # now waiting for records that never come
    query._stop.set()
    thread.join(timeout=5)  # a whole poll would be 15 s per partition
    assert not thread.is_alive()
    log.close()


def test_offsets_seen_from_another_thread_never_run_ahead_of_the_sink(tmp_path: Path) -> None:
    """While a step's gathered output is not yet appended, another thread still sees the offsets from
    before the step: a query shown at the end of its input has all of that input's output in its sink
    (what a reader waiting for the query to catch up relies on)."""
    log = fx.open_log(tmp_path)
    _produce_in_small_appends(log, appends=4, rows=8)
    log.close()
    log, query, _ = fx.start(tmp_path)
    (sink,) = [op for op in query.graph.operators if isinstance(op, SinkOperator)]
    at_end_of_step = threading.Event()
    go_on = threading.Event()
    end_step = sink.end_step

    def held_end_step() -> None:
        at_end_of_step.set()
        go_on.wait(10)
        end_step()

    sink.end_step = held_end_step  # type: ignore[method-assign]
    stepping = threading.Thread(target=query.process, args=("in", 0), kwargs={"max_records": None}, daemon=True)
    stepping.start()
    assert at_end_of_step.wait(10)
    # the operators have seen all 32 records, but their output is still gathered in the sink operator
    assert fx.sink_rows(log) == []
    assert query.committed_offsets()[("in", 0)] == 0
    go_on.set()
    stepping.join(10)
    assert query.committed_offsets()[("in", 0)] == 32
    assert len(fx.sink_rows(log)) == 24
    log.close()

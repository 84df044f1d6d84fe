"""Commits follow ``commit.interval.ms``: steps inside one interval share one checkpoint; a query commits
when the interval has passed, when it catches up, when it stops, and when another writer of its sink or a
query reading its sink needs its output committed; a crash between commits loses and repeats nothing; a
step that fails removes the whole uncommitted tail."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import orjson
import pyarrow as pa
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import pipeline_fixture as fx

from headwater.engine import Engine
from headwater.engine.runtime.checkpoint import Checkpoint, CheckpointStore
from headwater.engine.runtime.persistent import PersistentQuery, SinkLocks
from headwater.engine.runtime.recovery import recover_sinks
from headwater.errors import ExecutionError, PlanError
from headwater.storage import EventLog


class CountingStore(CheckpointStore):
    """The real store, counting its commits."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.commits = 0

    def commit(self, checkpoint: Checkpoint) -> None:
        super().commit(checkpoint)
        self.commits += 1


def _started(data_dir: Path, records: int, interval_ms: int, **options: object) -> tuple[EventLog, PersistentQuery]:
    log = fx.open_log(data_dir)
    if records:
        fx.produce(log, records)
    query = fx.make_query(log, data_dir, **options)  # type: ignore[arg-type]
    query.checkpoints = CountingStore(query.checkpoints.directory)
    query.commit_interval_ms = interval_ms
    recover_sinks(log, [query.checkpoints])
    query.initialise()
    return log, query


def _commits(query: PersistentQuery) -> int:
    store = query.checkpoints
    assert isinstance(store, CountingStore)
    return store.commits


def _on_disk(data_dir: Path) -> Checkpoint:
    checkpoint = CheckpointStore(data_dir / "queries" / "CSAS_O_0").load()
    assert checkpoint is not None
    return checkpoint


def _source_ends(log: EventLog) -> dict[tuple[str, int], int]:
    return {("in", p): int(end) for p, end in log.topic("in").end_offsets().items()}


def _values(log: EventLog, partition: int) -> list[int]:
    part = log.topic("in").partition(partition)
    return [v for batch in part.read(part.start_offset).batches for v in batch.column("V").to_pylist()]


def _sink_end(log: EventLog) -> int:
    return int(log.topic("out").partition(0).end_offset)


def test_steps_inside_one_interval_share_one_checkpoint_written_when_the_query_catches_up(tmp_path: Path) -> None:
    log, query = _started(tmp_path, 40, interval_ms=60_000)
    first = _commits(query)  # the start positions
    for _ in range(6):
        assert query.process("in", 0, max_records=3) == 3
    assert _commits(query) == first, "no commit inside the interval"
    assert _on_disk(tmp_path).sources[("in", 0)] == 0 and _sink_end(log) > 0  # output is in, uncommitted
    assert query.uncommitted and query.committed_offsets()[("in", 0)] == 18
    rest = _source_ends(log)[("in", 0)] - 18
    assert rest > 0 and query.process("in", 0, max_records=None) == rest  # the rest of partition 0
    assert query.process("in", 0, max_records=None) == 0  # caught up: the commit
    assert _commits(query) == first + 1 and not query.uncommitted
    committed = _on_disk(tmp_path)
    assert committed.sources[("in", 0)] == 18 + rest and committed.sinks[("out", 0)] == _sink_end(log)
    assert query.process("in", 0, max_records=None) == 0 and _commits(query) == first + 1  # idle: no more
    log.close()


def test_a_commit_is_due_once_the_interval_has_passed(tmp_path: Path) -> None:
    log, query = _started(tmp_path, 40, interval_ms=150)
    first = _commits(query)
    query.process("in", 0, max_records=2)  # right after the start's commit: not due
    assert _commits(query) == first
    time.sleep(0.2)
    query.process("in", 0, max_records=2)
    assert _commits(query) == first + 1 and _on_disk(tmp_path).sources[("in", 0)] == 4
    log.close()


def test_interval_zero_commits_every_step(tmp_path: Path) -> None:
    log, query = _started(tmp_path, 20, interval_ms=0)
    first = _commits(query)
    for step in range(1, 5):
        query.process("in", 1, max_records=1)
        assert _commits(query) == first + step and _on_disk(tmp_path).sources[("in", 1)] == step
    log.close()


def test_stopping_commits_the_uncommitted_steps(tmp_path: Path) -> None:
    log, query = _started(tmp_path, 40, interval_ms=60_000)
    query.process("in", 0, max_records=5)
    query.process("in", 1, max_records=7)
    assert _on_disk(tmp_path).sources == {("in", 0): 0, ("in", 1): 0}
    assert query.stop()
    assert _on_disk(tmp_path).sources == {("in", 0): 5, ("in", 1): 7}
    assert _on_disk(tmp_path).sinks[("out", 0)] == _sink_end(log)
    log.close()


def test_a_background_query_commits_when_it_catches_up_and_when_it_stops(tmp_path: Path) -> None:
    log, query = _started(tmp_path, 30, interval_ms=60_000)
    query.start()
    deadline = time.monotonic() + 20
    ends = _source_ends(log)
    while _on_disk(tmp_path).sources != ends and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _on_disk(tmp_path).sources == ends  # caught up: committed, not waiting
    fx.produce(log, 4, seed=9)
    ends = _source_ends(log)
    while query.committed_offsets() != ends and time.monotonic() < deadline:
        time.sleep(0.01)
    assert query.stop()
    assert _on_disk(tmp_path).sources == ends
    log.close()


def test_a_crash_between_commits_truncates_the_tail_and_the_replay_repeats_nothing(tmp_path: Path) -> None:
    reference = tmp_path / "reference"
    log, query = _started(reference, 60, interval_ms=0)
    query.process_available()
    expected = fx.sink_rows(log)
    log.close()
    crashed = tmp_path / "crashed"
    log, query = _started(crashed, 60, interval_ms=60_000)
    for _ in range(3):
        query.process("in", 0, max_records=4)
    assert query.stop()  # a commit at 12 records of partition 0
    for _ in range(4):
        query.process("in", 0, max_records=3)
        query.process("in", 1, max_records=5)
    tail = _sink_end(log) - _on_disk(crashed).sinks[("out", 0)]
    assert tail > 0
    log.close()  # the crash: no stop, no commit
    log, query = _started(crashed, 0, interval_ms=60_000)
    assert query.committed_offsets() == {("in", 0): 12, ("in", 1): 0}
    query.process_available()
    assert sorted(fx.sink_rows(log)) == sorted(expected)
    assert len(fx.sink_rows(log)) == len(expected)
    log.close()


def test_a_failed_step_removes_the_whole_uncommitted_tail_and_the_restart_replays_it(tmp_path: Path) -> None:
    log = fx.open_log(tmp_path)
    fx.produce(log, 60)
    fail_at = _values(log, 0)[19]
    log.close()
    log, query = _started(tmp_path, 0, interval_ms=60_000, fail_at=fail_at)
    query.process("in", 0, max_records=6)
    assert query.stop()  # committed: 6 records of partition 0
    query.state = "RUNNING"
    query._stop.clear()
    committed_end = _sink_end(log)
    for _ in range(4):
        query.process("in", 0, max_records=3)  # records 6 to 17, uncommitted
    assert _sink_end(log) > committed_end
    with pytest.raises(ExecutionError, match="cannot be tripled"):
        query.process("in", 0, max_records=3)  # records 18 to 20: the 20th fails
    assert query.state == "ERROR" and _sink_end(log) == committed_end
    assert query.committed_offsets()[("in", 0)] == 6
    assert query.stop() and _on_disk(tmp_path).sources[("in", 0)] == 6  # nothing to commit after a failure
    log.close()
    log, query = _started(tmp_path, 0, interval_ms=60_000)  # restarted without the failure
    query.process_available()
    rows = fx.sink_rows(log)
    assert len(rows) == len(set(rows)) == 45  # 60 records, V % 4 == 0 filtered: each once
    log.close()


def test_another_writer_of_the_sink_has_the_uncommitted_tail_committed_first(tmp_path: Path) -> None:
    locks = SinkLocks()
    log, query = _started(tmp_path, 40, interval_ms=60_000, sink_lock=locks.lock("out"))
    query.process("in", 0, max_records=8)
    tail_end = _sink_end(log)
    assert _on_disk(tmp_path).sinks[("out", 0)] < tail_end
    with locks.lock("out"):  # INSERT VALUES into the sink
        assert _on_disk(tmp_path).sinks[("out", 0)] == tail_end
        assert _on_disk(tmp_path).sources[("in", 0)] == 8
        log.topic("out").append(
            pa.record_batch({"ID": pa.array([1], pa.int64()), "TRIPLE": pa.array([0], pa.int64())}), partition=0
        )
    assert not query.uncommitted and locks.lock("out").pending is None
    log.close()


def test_a_query_reading_an_uncommitted_sink_has_its_writer_commit_first(tmp_path: Path) -> None:
    locks = SinkLocks()
    log, writer = _started(tmp_path, 40, interval_ms=60_000, sink_lock=locks.lock("out"))
    writer.process("in", 0, max_records=10)
    assert locks.lock("out").pending is writer
    # a query that reads "out" (its own sink's lock comes from the same registry)
    reader = fx.make_query(log, tmp_path / "reader", sink_lock=locks.lock("other"))
    reader.sources = (fx.SINK,)
    reader.graph.entries = [("out", reader.graph.entries[0][1])]
    reader._offsets = {("out", 0): 0}
    reader._settle_reads("out")
    assert not writer.uncommitted and _on_disk(tmp_path).sinks[("out", 0)] == _sink_end(log)
    assert _on_disk(tmp_path).sources[("in", 0)] == 10
    log.close()


def test_concurrent_writers_of_one_sink_keep_one_uncommitted_tail(tmp_path: Path) -> None:
    """Two queries writing one sink on two threads: whenever either holds the lock, the other's
    tail is committed, so the checkpoints together cover the whole sink when both stop."""
    locks = SinkLocks()
    log, first = _started(tmp_path / "a", 400, interval_ms=60_000, sink_lock=locks.lock("out"))
    second = fx.make_query(log, tmp_path / "b", sink_lock=locks.lock("out"))
    second.commit_interval_ms = 60_000
    second.initialise()
    threads = [
        threading.Thread(target=lambda q=q: [q.process("in", p, max_records=7) for _ in range(20) for p in (0, 1)])
        for q in (first, second)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not (first.uncommitted and second.uncommitted)
    first.stop()
    second.stop()
    ends = [CheckpointStore(d / "queries" / "CSAS_O_0").load() for d in (tmp_path / "a", tmp_path / "b")]
    assert max(c.sinks[("out", 0)] for c in ends if c is not None) == _sink_end(log)
    log.close()


def test_a_downstream_query_never_commits_past_its_upstream_commits(tmp_path: Path) -> None:
    """A pipeline of two background queries (B reads A's sink) while records keep arriving: at every
    moment, B's committed offset of A's sink is within A's committed end of it, so a crash cannot
    remove output B has already consumed."""
    engine = Engine(tmp_path, config={"auto.offset.reset": "earliest"}, background=True)
    engine.execute(
        "CREATE STREAM S (ID BIGINT KEY, V BIGINT) WITH (KAFKA_TOPIC='s', PARTITIONS=1, VALUE_FORMAT='JSON');\n"
        "CREATE STREAM A AS SELECT ID, V * 2 AS W FROM S WHERE V % 3 <> 0;\n"
        "CREATE STREAM B AS SELECT ID, W + 1 AS X FROM A;"
    )
    queries = {q.sink_name: q for q in engine.persistent_queries()}
    for query in queries.values():
        query.commit_interval_ms = 60_000  # only the pipeline's own needs make them commit
    stores = {name: CheckpointStore(tmp_path / "queries" / q.query_id) for name, q in queries.items()}
    sink_a = queries["A"].sink_topic
    topic = engine.log.topic("s")
    samples = 0
    for round_ in range(30):
        values = [orjson.dumps({"V": round_ * 50 + i}) for i in range(50)]
        topic.append(
            pa.record_batch(
                {
                    "__key": pa.array([(i % 7).to_bytes(8, "big") for i in range(50)], pa.binary()),
                    "__value": pa.array(values, pa.binary()),
                }
            ),
            partition=0,
        )
        for _ in range(3):
            # B first: A's committed end only grows, so whatever B had committed when it was read is
            # within what A has committed by the time A is read (the other order races A's commit).
            b = stores["B"].load()
            a = stores["A"].load()
            if a is not None and b is not None:
                assert b.sources.get((sink_a, 0), 0) <= a.sinks.get((sink_a, 0), 0)
                samples += 1
            time.sleep(0.003)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        b = stores["B"].load()
        if b is not None and b.sources.get((sink_a, 0), 0) == 1000:  # 1500 records, V % 3 == 0 dropped
            break
        time.sleep(0.01)
    engine.close()
    a, b = stores["A"].load(), stores["B"].load()
    assert a is not None and b is not None and samples > 0
    assert a.sources == {("s", 0): 1500} and a.sinks[(sink_a, 0)] == 1000
    assert b.sources == {(sink_a, 0): 1000}


def test_the_configured_commit_interval_reaches_each_query_and_survives_a_restart(tmp_path: Path) -> None:
    create = "CREATE STREAM S (K STRING KEY, V INT) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON', PARTITIONS=1);"
    with Engine(tmp_path, background=False, config={"ksql.streams.commit.interval.ms": "90"}) as engine:
        engine.execute(create)
        engine.execute("CREATE TABLE A AS SELECT K, COUNT(*) AS N FROM S GROUP BY K;")
        engine.execute("CREATE TABLE B AS SELECT K, SUM(V) AS T FROM S GROUP BY K;", {"commit.interval.ms": "0"})
        with pytest.raises(PlanError, match=r"Invalid value x for configuration commit\.interval\.ms"):
            engine.execute("CREATE TABLE C AS SELECT K, MAX(V) AS M FROM S GROUP BY K;", {"commit.interval.ms": "x"})
        intervals = {q.query_id: q.commit_interval_ms for q in engine.persistent_queries()}
    assert intervals == {"CTAS_A_0": 90, "CTAS_B_1": 0}
    # replayed with the configuration each statement ran with (the command topic keeps it, as ksqlDB's does)
    with Engine(tmp_path, background=False) as engine:
        assert {q.query_id: q.commit_interval_ms for q in engine.persistent_queries()} == intervals

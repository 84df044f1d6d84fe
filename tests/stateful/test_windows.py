"""TUMBLING, HOPPING and SESSION aggregation: final tables against DuckDB when every record is accepted,
ksqlDB's late-record drops, grace defaults, session merges with tombstones and EMIT FINAL, batch sizes
and checkpoints leaving the table unchanged."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from headwater.engine.aggregates import build_aggregates
from headwater.engine.operators.aggregate import AggregateCall, GroupKey
from headwater.engine.operators.session_aggregate import SessionAggregateOperator
from headwater.engine.operators.suppress import SessionCloser
from headwater.engine.operators.window_assign import SessionWindows, TimeWindows
from headwater.engine.operators.windowed_aggregate import WindowedAggregateOperator
from headwater.parser import types as t

A = build_aggregates()
DAY = 86_400_000


def _events(rows: int = 500, seed: int = 4, spread: int = 200_000) -> pa.RecordBatch:
    rng = np.random.default_rng(seed)
    return pa.record_batch(
        {
            "K": pa.array(rng.integers(0, 5, rows), pa.int64()),
            "V": pa.array(rng.integers(-100, 100, rows), pa.int64()),
            "ROWTIME": pa.array(rng.integers(0, spread, rows), pa.int64()),
        }
    )


def _calls(col):
    return [
        AggregateCall("N", A["COUNT"].resolve((t.BIGINT,)), (col("ROWTIME"),)),
        AggregateCall("S", A["SUM"].resolve((t.BIGINT,)), (col("V"),)),
        AggregateCall("FIRST", A["EARLIEST_BY_OFFSET"].resolve((t.BIGINT,)), (col("V"),)),
    ]


def _windowed(col, windows, final=False):
    return WindowedAggregateOperator([GroupKey("K", col("K"), t.BIGINT)], _calls(col), windows, emit_final=final)


def _session(col, windows, final=False):
    return SessionAggregateOperator([GroupKey("K", col("K"), t.BIGINT)], _calls(col), windows, emit_final=final)


@pytest.mark.parametrize("size, advance", [(30_000, 30_000), (30_000, 10_000), (7_000, 3_000)])
def test_time_windows_match_duckdb_when_nothing_is_late(col, helpers, size, advance):
    batch = _events()
    windows = TimeWindows.hopping(size, advance, grace_ms=DAY)
    rows = helpers.feed(_windowed(col, windows).process, helpers.split(batch, seed=1))
    table = helpers.final_table(rows, ["K", "WINDOWSTART"], ["WINDOWEND", "N", "S", "FIRST", "ROWTIME"])
    connection = duckdb.connect()
    connection.register("e", pa.Table.from_batches([batch]).append_column("RN", pa.array(np.arange(batch.num_rows))))
    expected = connection.execute(
        f"""WITH w AS (
              SELECT k, v, rowtime, rn,
                     unnest(range((greatest(0, rowtime - {size} + {advance}) // {advance}) * {advance},
                                  rowtime + 1, {advance})) AS ws
              FROM e)
            SELECT k, ws, ws + {size}, count(*), sum(v), arg_min(v, rn), max(rowtime) FROM w GROUP BY k, ws"""
    ).fetchall()
    assert {(r[0], r[1]): tuple(r[2:]) for r in expected} == table


def test_tumbling_late_records_and_default_grace(col, helpers):
    """ksqlDB's tumbling-windows cases: without GRACE the 24 h legacy default accepts very late
    records; with GRACE PERIOD 1 MINUTE a window closes at end + 1 minute of stream time."""
    records = [(0, 0, 0), (0, 1, 89999), (0, 5, 10009), (0, 0, 90000), (0, 6, 10010), (1, 100, 10009), (1, 101, 30000), (1, 200, 86412022), (1, 200, 60000)]

    def run(windows):
        op = WindowedAggregateOperator([GroupKey("K", col("K"), t.BIGINT)], [AggregateCall("M", A["MAX"].resolve((t.BIGINT,)), (col("V"),))], windows)
        batches = [pa.record_batch({"K": pa.array([k], pa.int64()), "V": pa.array([v], pa.int64()), "ROWTIME": pa.array([ts], pa.int64())}) for k, v, ts in records]
        return [(r["K"], r["M"], r["ROWTIME"], r["WINDOWSTART"], r["WINDOWEND"]) for r in helpers.feed(op.process, batches)]

    assert TimeWindows.tumbling(30_000).grace == DAY - 30_000
    default = run(TimeWindows.tumbling(30_000))
    assert len(default) == 9 and default[2] == (0, 5, 10009, 0, 30000) and default[-1] == (1, 200, 60000, 60000, 90000)
    assert run(TimeWindows.tumbling(30_000, grace_ms=60_000)) == [
        (0, 0, 0, 0, 30000),
        (0, 1, 89999, 60000, 90000),
        (0, 5, 10009, 0, 30000),
        (0, 0, 90000, 90000, 120000),
        (1, 101, 30000, 30000, 60000),
        (1, 200, 86412022, 86400000, 86430000),
    ]
    hopping = run(TimeWindows.hopping(30_000, 15_000, grace_ms=60_000))
    assert hopping[1:3] == [(0, 1, 89999, 60000, 90000), (0, 1, 89999, 75000, 105000)]
    assert (0, 6, 10010, 0, 30000) not in hopping


@pytest.mark.parametrize(
    "windows, times, expected",
    [
        (TimeWindows.tumbling(2, grace_ms=1), [0, 1, 2, 1, 0, 5], [(1, 2, 2, 4)]),
        (TimeWindows.hopping(5, 2, grace_ms=1), [0, 1, 2, 1, 6, 5, 10], [(4, 2, 0, 5), (2, 6, 4, 9)]),
        (TimeWindows.tumbling(2, grace_ms=0), [0, 1], []),
    ],
)
def test_emit_final_emits_each_closed_window_once(col, helpers, windows, times, expected):
    op = WindowedAggregateOperator(
        [GroupKey("K", col("K"), t.STRING)], [AggregateCall("N", A["COUNT"].resolve((t.BIGINT,)), (col("ROWTIME"),))], windows, emit_final=True
    )
    batches = [pa.record_batch({"K": ["k1"], "ROWTIME": pa.array([ts], pa.int64())}) for ts in times]
    got = [(r["N"], r["ROWTIME"], r["WINDOWSTART"], r["WINDOWEND"]) for r in helpers.feed(op.process, batches)]
    assert got == expected
    whole = [(r["N"], r["ROWTIME"], r["WINDOWSTART"], r["WINDOWEND"]) for r in helpers.feed(op.__class__(op.keys, op.calls, windows, emit_final=True).process, [pa.concat_batches(batches)])]
    assert whole == expected


def test_time_window_batches_and_checkpoints(col, helpers):
    batch = _events(300, seed=8, spread=100_000)
    windows = TimeWindows.hopping(20_000, 5_000, grace_ms=15_000)
    one = helpers.split(batch, [1] * batch.num_rows)
    straight = helpers.feed(_windowed(col, windows).process, one)
    assert helpers.checkpointed(lambda: _windowed(col, windows), one, every=13) == straight
    reference = helpers.final_table(straight, ["K", "WINDOWSTART"], ["N", "S", "FIRST"])
    for seed in (0, 1):
        split_run = helpers.feed(_windowed(col, windows).process, helpers.split(batch, seed=seed))
        assert helpers.final_table(split_run, ["K", "WINDOWSTART"], ["N", "S", "FIRST"]) == reference
    final_one = helpers.feed(_windowed(col, windows, True).process, one)
    final_split = helpers.feed(_windowed(col, windows, True).process, helpers.split(batch, seed=4))
    assert [r["WINDOWSTART"] for r in final_one] == [r["WINDOWSTART"] for r in final_split]
    assert helpers.checkpointed(lambda: _windowed(col, windows, True), one, every=11) == final_one


def test_sessions_match_duckdb_islands_when_nothing_is_late(col, helpers):
    batch = _events(400, seed=5, spread=300_000)
    gap = 5_000
    rows = helpers.feed(_session(col, SessionWindows(gap, grace_ms=DAY)).process, helpers.split(batch, seed=2))
    table = helpers.final_table(rows, ["K", "WINDOWSTART"], ["WINDOWEND", "N", "S"])
    connection = duckdb.connect()
    connection.register("e", pa.Table.from_batches([batch]))
    expected = connection.execute(
        f"""WITH gaps AS (
              SELECT k, v, rowtime,
                     CASE WHEN rowtime - lag(rowtime) OVER (PARTITION BY k ORDER BY rowtime) > {gap} THEN 1 ELSE 0 END AS new_session
              FROM e),
            islands AS (
              SELECT k, v, rowtime,
                     sum(new_session) OVER (PARTITION BY k ORDER BY rowtime ROWS UNBOUNDED PRECEDING) AS island
              FROM gaps)
            SELECT k, min(rowtime), max(rowtime), count(*), sum(v) FROM islands GROUP BY k, island"""
    ).fetchall()
    assert {(r[0], r[1]): tuple(r[2:]) for r in expected} == table


def test_session_merges_emit_tombstones_for_the_merged_windows(col, helpers):
    op = SessionAggregateOperator(
        [GroupKey("K", col("K"), t.BIGINT)],
        [AggregateCall("L0", A["EARLIEST_BY_OFFSET"].resolve((t.BIGINT, t.INT, t.BOOLEAN)), (col("V"),), (2, False))],
        SessionWindows(1000),
    )
    batches = [pa.record_batch({"K": pa.array([0], pa.int64()), "V": pa.array([v], pa.int64()), "ROWTIME": pa.array([ts], pa.int64())}) for v, ts in [(None, 0), (1, 1500), (None, 700)]]
    rows = helpers.feed(op.process, batches)
    assert [(r["L0"], r["ROWTIME"], r["WINDOWSTART"], r["WINDOWEND"], r["__null_value"]) for r in rows] == [
        ([None], 0, 0, 0, False),
        ([1], 1500, 1500, 1500, False),
        (None, 0, 0, 0, True),
        (None, 1500, 1500, 1500, True),
        ([None, 1], 1500, 0, 1500, False),
    ]


def test_session_grace_and_store_expiry(col, helpers):
    """ksqlDB's 'out of order - explicit grace period' session case: a record is late when its session
    would end before stream time - gap - grace; sessions past the retention are no longer merged."""
    op = SessionAggregateOperator([GroupKey("K", col("K"), t.BIGINT)], [AggregateCall("M", A["MAX"].resolve((t.BIGINT,)), (col("V"),))], SessionWindows(30_000, grace_ms=60_000))
    records = [(0, 0, 0), (0, 1, 100010), (0, 5, 10009), (0, 6, 10010), (1, 100, 10009), (1, 101, 10010), (1, 200, 86412022), (1, 200, 60000)]
    batches = [pa.record_batch({"K": pa.array([k], pa.int64()), "V": pa.array([v], pa.int64()), "ROWTIME": pa.array([ts], pa.int64())}) for k, v, ts in records]
    rows = [(r["K"], r["M"], r["WINDOWSTART"], r["WINDOWEND"]) for r in helpers.feed(op.process, batches)]
    assert rows == [(0, 0, 0, 0), (0, 1, 100010, 100010), (0, 6, 10010, 10010), (1, 101, 10010, 10010), (1, 200, 86412022, 86412022)]


def test_session_emit_final(col, helpers):
    op = SessionAggregateOperator(
        [GroupKey("K", col("K"), t.STRING)], [AggregateCall("N", A["COUNT"].resolve((t.BIGINT,)), (col("ROWTIME"),))], SessionWindows(5, grace_ms=6), emit_final=True
    )
    batches = [pa.record_batch({"K": ["k1"], "ROWTIME": pa.array([ts], pa.int64())}) for ts in [0, 4, 8, 12, 14, 30, 29, 17, 42]]
    rows = [(r["N"], r["ROWTIME"], r["WINDOWSTART"], r["WINDOWEND"]) for r in helpers.feed(op.process, batches)]
    assert rows == [(5, 14, 0, 14), (2, 30, 29, 30)]


def test_session_batches_and_checkpoints(col, helpers):
    batch = _events(300, seed=6, spread=120_000)
    windows = SessionWindows(3_000, grace_ms=20_000)
    one = helpers.split(batch, [1] * batch.num_rows)
    straight = helpers.feed(_session(col, windows).process, one)
    assert helpers.checkpointed(lambda: _session(col, windows), one, every=17) == straight
    reference = helpers.final_table(straight, ["K", "WINDOWSTART"], ["WINDOWEND", "N", "S", "FIRST"])
    for seed in (0, 3):
        split_run = helpers.feed(_session(col, windows).process, helpers.split(batch, seed=seed))
        assert helpers.final_table(split_run, ["K", "WINDOWSTART"], ["WINDOWEND", "N", "S", "FIRST"]) == reference
    final_one = helpers.feed(_session(col, windows, True).process, one)
    assert helpers.checkpointed(lambda: _session(col, windows, True), one, every=9) == final_one


def test_session_closer_ranges():
    closer = SessionCloser()
    assert closer.on_record(-3) is None
    assert closer.on_record(1) == (0, 0)
    assert closer.on_record(1) is None
    assert closer.on_record(19) == (1, 18)


@pytest.mark.parametrize("key_type", [t.BIGINT, t.STRING])
def test_windows_past_the_retention_leave_state_and_a_restore_keeps_expiring(col, helpers, key_type):
    """Stream time moving on drops the windows older than the retention (the expiry scan runs only when
    some window can have expired, also right after a restore), so state stays bounded; a record late
    for every window it falls in is dropped."""
    windows = TimeWindows.hopping(10_000, 5_000, grace_ms=0, retention_ms=20_000)
    rng = np.random.default_rng(11)

    def batch(start):
        keys = rng.integers(0, 4, 50)
        return pa.record_batch({
            "K": pa.array(keys, pa.int64()) if key_type == t.BIGINT else pa.array([f"k{k}" for k in keys]),
            "V": pa.array(rng.integers(0, 10, 50), pa.int64()),
            "ROWTIME": pa.array(np.sort(rng.integers(start, start + 5_000, 50)), pa.int64()),
        })

    op = WindowedAggregateOperator([GroupKey("K", col("K"), key_type)], _calls(col), windows)
    for step in range(60):
        if step == 30:
            state = op.snapshot()
            assert state is not None
            op = WindowedAggregateOperator([GroupKey("K", col("K"), key_type)], _calls(col), windows)
            op.restore(state)
        helpers.feed(op.process, [batch(step * 5_000)])
        live = np.flatnonzero(op.store.index.live)
        starts = op._window_starts(live)
        assert starts.min() >= op.newest_start - windows.retention  # nothing past the retention is kept
        assert len(live) <= 4 * (windows.retention // windows.advance_ms + 2)
    late = helpers.feed(op.process, [batch(0)])
    assert late == []  # every window of the late rows closed long ago

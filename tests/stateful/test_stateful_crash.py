"""Exactly-once output of stateful queries: SIGKILL an engine running a windowed aggregation and a
stream-table join at seeded random moments, restart it each time, drain, and compare both sinks with a
crash-free run record for record (keys, values, windows, tombstones, timestamps, order).

Each kill lands anywhere: while records are decoded, aggregated, joined, appended, or while the
checkpoint (source offsets, sink ends and the operators' Arrow snapshots) is written. A restart
truncates the sinks to the committed ends and restores the operators' state from the same checkpoint,
so the output neither loses nor repeats anything.
"""

from __future__ import annotations

import sys
from pathlib import Path

import orjson
import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))
import crash_fixture as fx
from crash_loop import crash_loop

from headwater.engine.runtime.checkpoint import CheckpointStore

RECORDS = 400


def _committed(data_dir: Path) -> int:
    total = 0
    for query_id in (fx.AGG_QUERY, fx.JOIN_QUERY):
        checkpoint = CheckpointStore(data_dir / "queries" / query_id).load()
        total += 0 if checkpoint is None else sum(checkpoint.sources.values())
    return total


def _crash_loop(data_dir: Path, seed: int, kills: int) -> list[int]:
    """The shared kill loop (tests/fixtures/crash_loop.py) over this test's driver and commits."""
    return crash_loop(Path(fx.__file__), data_dir, seed, kills, _committed, max_pause=0.08)


def _run(tmp_path: Path, seed: int, kills: int) -> None:
    reference = tmp_path / "reference"
    fx.setup(reference, RECORDS)
    expected = fx.drain(reference)
    assert len(expected["AGG"]) > RECORDS // 2 and len(expected["JOINED"]) == RECORDS
    crashed = tmp_path / "crashed"
    fx.setup(crashed, RECORDS)
    # the aggregation reads every stream record, the join every stream and table record
    total = RECORDS + len(orjson.loads((crashed / "order.json").read_bytes()))
    progress = _crash_loop(crashed, seed, kills)
    assert any(0 < p < total for p in progress), f"the kills should land while the queries run: {progress}"
    actual = fx.drain(crashed)
    for sink in fx.SINKS:
        assert actual[sink] == expected[sink], f"sink {sink} differs from the crash-free run"


def test_reference_run_aggregates_windows_and_joins(tmp_path: Path) -> None:
    fx.setup(tmp_path, 120)
    sinks = fx.drain(tmp_path)
    agg, joined = sinks["AGG"], sinks["JOINED"]
    assert joined and agg
    # every stream record joins once (a LEFT JOIN), in stream order
    assert len(joined) == 120


@pytest.mark.parametrize("seed", [3])
def test_sigkill_of_stateful_queries_neither_loses_nor_repeats_output(tmp_path: Path, seed: int) -> None:
    _run(tmp_path, seed, kills=3)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [41])
def test_twenty_sigkills_of_stateful_queries_neither_lose_nor_repeat_output(tmp_path: Path, seed: int) -> None:
    _run(tmp_path, seed, kills=24)

"""Exactly-once output through the whole engine over a raw JSON topic: SIGKILL at random moments, restart,
drain, and the sink equals a crash-free run's, record for record.

The engine process is killed while it decodes, evaluates, re-keys (PARTITION BY), appends and commits;
each restart replays the command topic, truncates the sink to the committed ends and resumes from the
committed offsets. Malformed records must be skipped (logged), never stop the query.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fixtures"))
import engine_crash_fixture as fx
from crash_loop import crash_loop

from headwater.engine import Engine
from headwater.engine.runtime.checkpoint import CheckpointStore

RECORDS = 1200


def _committed(data_dir: Path) -> int:
    checkpoint = CheckpointStore(data_dir / "queries" / "CSAS_OUT_0").load()
    return 0 if checkpoint is None else sum(checkpoint.sources.values())


def _crash_loop(data_dir: Path, seed: int, kills: int) -> list[int]:
    """The shared kill loop (tests/fixtures/crash_loop.py) over this test's driver and commits."""
    return crash_loop(Path(fx.__file__), data_dir, seed, kills, _committed, max_pause=0.05)


def _reference(tmp_path: Path) -> dict[int, list[tuple[Any, ...]]]:
    reference = tmp_path / "reference"
    fx.setup(reference, RECORDS)
    return fx.drain(reference)


def _check(actual: dict[int, list[tuple[Any, ...]]], expected: dict[int, list[tuple[Any, ...]]]) -> None:
    assert set(actual) == set(expected)
    for partition in expected:
        # Within a sink partition, the rows of each source partition come in source order; how rows of
        # the two source partitions interleave depends on the step sizes.
        assert sorted(actual[partition]) == sorted(expected[partition])
        for source_partition in (0, 1):
            assert [r for r in actual[partition] if r[4] == source_partition] == [
                r for r in expected[partition] if r[4] == source_partition
            ]


def test_reference_run_decodes_filters_rekeys_and_logs_bad_records(tmp_path: Path) -> None:
    fx.setup(tmp_path, 200)
    engine = Engine(tmp_path, config=fx.CONFIG, background=False)
    (query,) = engine.persistent_queries()
    assert query.process_available() == 200
    rows = fx.sink_rows(engine)
    flat = [r for part in rows.values() for r in part]
    # 200 records, 4 malformed (offsets 49, 99, ... of the producer's numbering), V % 4 == 0 filtered.
    kept = [i for i in range(200) if i % 50 != 49 and i % 4 != 0]
    assert sorted(r[3] for r in flat) == sorted(3 * i for i in kept)
    assert all(r[0] == (r[3] // 3) % 7 for r in flat)  # the PARTITION BY key
    assert all(r[2] == f"N{r[3] // 3}" for r in flat)
    errors = [e for e in engine.processing_log.recent if e.query_id == "CSAS_OUT_0"]
    assert len(errors) == 4 and all(e.topic == "in" and e.target == "value" for e in errors)
    assert all(e.record == b'{"NAME": "broken", "V": ' for e in errors)
    engine.close()


@pytest.mark.parametrize("seed", [5])
def test_sigkill_of_the_engine_neither_loses_nor_repeats_output(tmp_path: Path, seed: int) -> None:
    expected = _reference(tmp_path)
    crashed = tmp_path / "crashed"
    fx.setup(crashed, RECORDS)
    progress = _crash_loop(crashed, seed, kills=2)
    assert any(0 < p < RECORDS for p in progress), f"the kills should land while the query runs: {progress}"
    _check(fx.drain(crashed), expected)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [17, 29])
def test_many_sigkills_of_the_engine_neither_lose_nor_repeat_output(tmp_path: Path, seed: int) -> None:
    expected = _reference(tmp_path)
    crashed = tmp_path / "crashed"
    fx.setup(crashed, RECORDS)
    progress = _crash_loop(crashed, seed, kills=12)
    assert len([p for p in progress if 0 < p < RECORDS]) >= 4, progress
    _check(fx.drain(crashed), expected)

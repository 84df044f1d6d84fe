"""kill -9 a writer mid-append, again and again; after each reopen nothing acknowledged is lost.

Each round starts a writer process that appends random-size batches as fast as it can and prints an
acknowledgement after every append returns; the test kills it with SIGKILL at a random moment
(seeded), reopens the log (which recovers), and checks that:

* every acknowledged record is there, in order, with ``id == offset``;
* only whole batches are visible (``batch_pos`` runs 0..batch_size-1 for every batch);
* appending continues at the next offset (the next round's writer checks it, and so does the test).

The quick variant runs in the default test run; the slow one does at least 50 kills.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from headwater.storage import EventLog, TopicConfig

SCRIPT = Path(__file__).with_name("log_process.py")
SCHEMA = pa.schema([pa.field("id", pa.int64()), pa.field("batch_size", pa.int32()),
                    pa.field("batch_pos", pa.int32()), pa.field("payload", pa.string())])


def _check_log(log_dir: Path, acknowledged_end: int) -> tuple[int, int]:
    """Reopen, verify, append one batch; return (end offset before our append, bytes recovery dropped)."""
    log = EventLog.open(log_dir)
    dropped = log.last_recovery.bytes_dropped
    topic = log.topic("crash")
    partition = topic.partition(0)
    end = partition.end_offset
    assert end >= acknowledged_end, f"acknowledged up to {acknowledged_end} but the log ends at {end}"
    table = partition.read(0).to_table(topic.stored_schema)
    offsets = table.column("__offset").to_numpy()
    assert np.array_equal(offsets, np.arange(end))
    assert np.array_equal(table.column("id").to_numpy(), offsets)
    sizes = table.column("batch_size").to_numpy()
    positions = table.column("batch_pos").to_numpy()
    starts = np.flatnonzero(positions == 0)
    assert int(sizes[starts].sum()) == end, "a batch is only partly visible"
    expected_positions = np.arange(end) - np.repeat(starts, sizes[starts])
    assert np.array_equal(positions, expected_positions)
    ids = np.arange(end, end + 3, dtype=np.int64)
    result = topic.append(pa.record_batch({"id": ids, "batch_size": np.full(3, 3, np.int32),
                                           "batch_pos": np.arange(3, dtype=np.int32),
                                           "payload": ["x", "y", "z"]}), partition=0)
    assert result[0].base_offset == end
    log.close()
    return end, dropped


def _crash_rounds(log_dir: Path, rounds: int, seed: int) -> list[int]:
    rng = random.Random(seed)
    log = EventLog.open(log_dir)
    log.create_topic("crash", TopicConfig(segment_bytes=4 * 1024 * 1024), schema=SCHEMA)
    log.close()
    dropped_per_round = []
    for round_number in range(rounds):
        proc = subprocess.Popen([sys.executable, str(SCRIPT), "crash", str(log_dir), "crash",
                                 str(seed * 1000 + round_number)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        assert proc.stdout is not None
        ready = proc.stdout.readline().split()
        assert ready and ready[0] == "ready", proc.stderr.read() if proc.stderr else ""
        time.sleep(rng.uniform(0.002, 0.05))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        # read through the same buffered reader readline used (communicate() would skip its buffer)
        out = proc.stdout.read()
        err = proc.stderr.read() if proc.stderr else ""
        assert proc.returncode == -signal.SIGKILL, f"writer ended by itself: {out[-300:]} {err[-2000:]}"
        acknowledged = int(ready[1])
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[0] == "ack":
                assert int(parts[1]) == acknowledged, "acknowledgements must be contiguous"
                acknowledged = int(parts[1]) + int(parts[2])
            elif parts and parts[0] == "error":
                pytest.fail(line)
        _, dropped = _check_log(log_dir, acknowledged)
        dropped_per_round.append(dropped)
    return dropped_per_round


def test_kill_minus_9_quick(tmp_path: Path) -> None:
    dropped = _crash_rounds(tmp_path / "log", rounds=6, seed=1)
    assert len(dropped) == 6


@pytest.mark.slow
def test_kill_minus_9_many_times(tmp_path: Path) -> None:
    dropped = _crash_rounds(tmp_path / "log", rounds=60, seed=2)
    torn = sum(1 for d in dropped if d)
    print(f"60 kills, {torn} left a torn tail that recovery removed ({sum(dropped)} bytes)")

"""A separate process for the storage tests: a writer, a crash-loop writer, a lock holder or a reader.

Usage: ``python log_process.py MODE LOG_DIR TOPIC [ARGS...]``. Each mode prints one line per event,
flushed, so the parent can follow along (and knows what was acknowledged before it kills us).

Records have ``id`` equal to their offset, plus ``batch_size``/``batch_pos`` so a reader can tell a
whole batch from part of one.
"""

from __future__ import annotations

import random
import sys
import time

import numpy as np
import pyarrow as pa

from headwater.storage import EventLog

SCHEMA = pa.schema([
    pa.field("id", pa.int64()),
    pa.field("batch_size", pa.int32()),
    pa.field("batch_pos", pa.int32()),
    pa.field("payload", pa.string()),
])


MAX_BATCH = 40_000
PAYLOADS = pa.array([f"payload-{i:024d}" for i in range(MAX_BATCH)])


def make_batch(first_id: int, size: int) -> pa.RecordBatch:
    """``size`` records with ids from ``first_id``, each knowing its batch's size and its position.

    Payloads are slices of one prebuilt column, so the writer spends its time appending, which is
    where a kill should land.
    """
    ids = np.arange(first_id, first_id + size, dtype=np.int64)
    return pa.record_batch({
        "id": pa.array(ids),
        "batch_size": pa.array(np.full(size, size, dtype=np.int32)),
        "batch_pos": pa.array(np.arange(size, dtype=np.int32)),
        "payload": PAYLOADS.slice(0, size),
    })


def say(*parts: object) -> None:
    print(*parts, flush=True)


def append(log_dir: str, topic_name: str, batches: int, rows: int, pause_ms: float) -> None:
    log = EventLog.open(log_dir, recover=False)
    topic = log.topic(topic_name)
    partition = topic.partition(0)
    for _ in range(batches):
        result = topic.append(make_batch(partition.end_offset, rows), partition=0)[0]
        say("ack", result.base_offset, result.count)
        time.sleep(pause_ms / 1000.0)
    log.close()
    say("done")


def crash_loop(log_dir: str, topic_name: str, seed: int) -> None:
    """Append random-size batches forever; the parent kills us with SIGKILL at a random moment."""
    rng = random.Random(seed)
    log = EventLog.open(log_dir, recover=False)
    topic = log.topic(topic_name)
    partition = topic.partition(0)
    partition.acquire_writer()
    next_id = partition.end_offset
    say("ready", next_id)
    while True:
        size = rng.choice((1, 7, 100, rng.randint(1, 3000), rng.randint(10_000, MAX_BATCH)))
        result = topic.append(make_batch(next_id, size), partition=0)[0]
        if result.base_offset != next_id:
            say("error", "expected base", next_id, "got", result.base_offset)
            sys.exit(3)
        next_id += size
        say("ack", result.base_offset, result.count)


def hold(log_dir: str, topic_name: str) -> None:
    """Take the write lock of partition 0 and keep it until stdin closes."""
    log = EventLog.open(log_dir, recover=False)
    topic = log.topic(topic_name)
    topic.append(make_batch(topic.partition(0).end_offset, 1), partition=0)
    say("locked")
    sys.stdin.read()
    log.close()


def read(log_dir: str, topic_name: str, target: int, timeout_s: float) -> None:
    """Follow partition 0 with read_wait until ``target`` records were read; report each step."""
    log = EventLog.open(log_dir, recover=False)
    partition = log.topic(topic_name).partition(0)
    next_offset = 0
    say("ready")
    deadline = time.monotonic() + timeout_s
    while next_offset < target and time.monotonic() < deadline:
        result = partition.read_wait(next_offset, None, timeout_s=1.0)
        for batch in result.batches:
            ids = batch.column("id").to_numpy()
            offsets = batch.column("__offset").to_numpy()
            if not (np.array_equal(ids, offsets) and offsets[0] == next_offset):
                say("error", "gap or mismatch at", next_offset)
                sys.exit(3)
            next_offset = int(offsets[-1]) + 1
        if result.batches:
            say("got", next_offset)
    say("end", next_offset)
    log.close()


if __name__ == "__main__":
    mode, directory, name, *rest = sys.argv[1:]
    if mode == "append":
        append(directory, name, int(rest[0]), int(rest[1]), float(rest[2]))
    elif mode == "crash":
        crash_loop(directory, name, int(rest[0]))
    elif mode == "hold":
        hold(directory, name)
    elif mode == "read":
        read(directory, name, int(rest[0]), float(rest[1]))
    else:
        raise SystemExit(f"unknown mode {mode}")

"""One writer per partition, many readers: threads and real processes, tail reads without spinning."""

from __future__ import annotations

import fcntl
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from headwater.storage import EventLog, PartitionLockedError, PartitionLog, Topic, TopicConfig

SCRIPT = Path(__file__).with_name("log_process.py")
SCHEMA = pa.schema([pa.field("id", pa.int64()), pa.field("batch_size", pa.int32()),
                    pa.field("batch_pos", pa.int32()), pa.field("payload", pa.string())])


def _batch(first: int, size: int) -> pa.RecordBatch:
    ids = np.arange(first, first + size, dtype=np.int64)
    return pa.record_batch({"id": ids, "batch_size": np.full(size, size, np.int32),
                            "batch_pos": np.arange(size, dtype=np.int32), "payload": [f"p{i}" for i in ids]})


def _spawn(*args: object) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, str(SCRIPT), *map(str, args)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_second_writer_in_the_same_process_is_refused(log_dir: Path) -> None:
    first = EventLog.open(log_dir)
    topic = first.create_topic("t", schema=SCHEMA)
    topic.append(_batch(0, 3))
    second = EventLog.open(log_dir)
    other = second.topic("t")
    errors: list[BaseException] = []

    def try_append() -> None:
        try:
            other.append(_batch(3, 1))
        except PartitionLockedError as exc:
            errors.append(exc)

    thread = threading.Thread(target=try_append, name="second-writer")
    thread.start()
    thread.join()
    assert len(errors) == 1
    message = str(errors[0])
    assert "t/0" in message and f'"pid": {os.getpid()}' in message and "MainThread" in message
    assert other.partition(0).read(0).record_count == 3, "the refused writer can still read"
    assert last_recovery_skipped(second) == [("t", 0)]
    first.close()
    assert other.append(_batch(3, 1))[0].base_offset == 3, "the lock is free once the first writer closes"
    second.close()


def last_recovery_skipped(log: EventLog) -> list[tuple[str, int]]:
    return list(log.last_recovery.skipped_locked)


def test_second_writer_process_is_refused_and_named(log_dir: Path) -> None:
    log = EventLog.open(log_dir)
    log.create_topic("t", schema=SCHEMA)
    holder = _spawn("hold", log_dir, "t")
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(PartitionLockedError) as info:
            log.topic("t").append(_batch(1, 1))
        assert f'"pid": {holder.pid}' in str(info.value)
    finally:
        holder.communicate("", timeout=30)
    assert log.topic("t").append(_batch(1, 1))[0].base_offset == 1
    log.close()


def _hold_lock_file_briefly(lock_file: Path, record: bytes | None, hold_s: float) -> threading.Thread:
    """Take the partition's flock with ``record`` in the file (None: the file as it is), as a holder does
    in the instant between taking the lock and writing its own record, and let go after ``hold_s``."""
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    if record is not None:
        os.ftruncate(fd, 0)
        os.pwrite(fd, record, 0)

    def release() -> None:
        time.sleep(hold_s)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    thread = threading.Thread(target=release)
    thread.start()
    return thread


@pytest.mark.parametrize("record", [
    b"",  # the holder has the lock and has not written its record yet
    b'{"pid": 4',  # half-written
    b'{"pid": 999999999, "host": "%s", "thread": "MainThread", "purpose": "append", "since_ms": 0}'
    % socket.gethostname().encode(),  # the previous, finished writer's record, not yet overwritten
    b'{"pid": 1, "host": "h", "thread": "MainThread", "purpose": "recovery", "since_ms": 0}',
], ids=["empty", "half-written", "finished-writer", "recovery"])
def test_a_writer_waits_out_a_brief_holder(log_dir: Path, record: bytes) -> None:
    """Every ``EventLog.open`` takes each idle partition's lock for a moment; a writer meeting such a
    holder, or one that has not yet said who it is, must wait for it instead of failing."""
    log = EventLog.open(log_dir)
    log.create_topic("t", schema=SCHEMA)
    release = _hold_lock_file_briefly(log_dir / "topics" / "t" / "0" / "writer.lock", record, 0.5)
    assert log.topic("t").append(_batch(0, 2))[0].base_offset == 0
    release.join()
    log.close()


def test_a_finished_writer_in_a_live_process_leaves_no_record_that_refuses(log_dir: Path) -> None:
    """A writer that closed (its process lives on: a REPL, a server) must not be taken for the holder of
    the lock someone else has just taken."""
    lock_file = log_dir / "topics" / "t" / "0" / "writer.lock"
    with EventLog.open(log_dir) as first:
        first.create_topic("t", schema=SCHEMA).append(_batch(0, 1))
        assert '"purpose": "append"' in lock_file.read_text()
    assert lock_file.read_text() == ""
    release = _hold_lock_file_briefly(lock_file, None, 0.5)  # a new holder, record not yet written
    with EventLog.open(log_dir, recover=False) as second:
        assert second.topic("t").append(_batch(1, 1))[0].base_offset == 1
    release.join()


def test_writers_are_never_refused_by_logs_opening_beside_them(log_dir: Path) -> None:
    """``headwater topic list`` or a REPL starting while ``headwater produce`` runs: each open recovers
    the idle partitions under their locks, which must never make the writer's first append fail."""
    with EventLog.open(log_dir) as log:
        log.create_topic("t", TopicConfig(partitions=3))
    stop = threading.Event()

    def open_repeatedly() -> None:
        while not stop.is_set():
            EventLog.open(log_dir).close()

    openers = [threading.Thread(target=open_repeatedly) for _ in range(3)]
    for opener in openers:
        opener.start()
    try:
        for i in range(150):
            with EventLog.open(log_dir, recover=False) as log:
                log.topic("t").append_rows([{"__key": b"k%d" % i, "__value": b"v"}])
    finally:
        stop.set()
        for opener in openers:
            opener.join()
    with EventLog.open(log_dir) as log:
        topic = log.topic("t")
        assert sum(topic.partition(p).end_offset for p in range(3)) == 150


def test_readers_follow_a_writer_process(log_dir: Path) -> None:
    """A writer process appends; two reader processes and a reader thread see a growing prefix."""
    log = EventLog.open(log_dir)
    log.create_topic("t", TopicConfig(segment_bytes=16 * 1024), schema=SCHEMA)
    batches, rows = 60, 50
    total = batches * rows
    readers = [_spawn("read", log_dir, "t", total, 60) for _ in range(2)]
    for reader in readers:
        assert reader.stdout is not None and reader.stdout.readline().strip() == "ready"
    writer = _spawn("append", log_dir, "t", batches, rows, 20)
    partition = log.topic("t").partition(0)
    seen: list[int] = []
    next_offset = 0
    deadline = time.monotonic() + 60
    while next_offset < total and time.monotonic() < deadline:
        result = partition.read_wait(next_offset, 1000, timeout_s=2.0)
        for batch in result.batches:
            offsets = batch.column("__offset").to_numpy()
            assert offsets[0] == next_offset and np.array_equal(offsets, batch.column("id").to_numpy())
            next_offset = int(offsets[-1]) + 1
        if result.batches:
            seen.append(next_offset)
    writer_out, writer_err = writer.communicate(timeout=60)
    assert writer.returncode == 0, writer_err
    assert next_offset == total
    assert len(seen) >= 5, f"expected to see the log grow step by step, saw {seen}"
    assert len(partition.segments()) > 1
    for reader in readers:
        reader.wait(timeout=60)
        assert reader.stdout is not None and reader.stderr is not None
        out, err = reader.stdout.read(), reader.stderr.read()
        assert reader.returncode == 0, err
        lines = out.split()
        assert "error" not in lines
        assert out.strip().splitlines()[-1] == f"end {total}"
        assert len([line for line in out.splitlines() if line.startswith("got")]) >= 3
    assert writer_out.strip().endswith("done")
    log.close()


def _assert_tail_read_idles_then_wakes(reader: PartitionLog, topic: Topic, *, appended: int) -> None:
    """A read at the end (offset 1, one record written) waits out its timeout without burning CPU, and
    returns as soon as another thread appends ``appended`` records."""
    cpu, wall = time.process_time(), time.monotonic()
    result = reader.read_wait(1, None, timeout_s=0.5)
    assert result.batches == () and result.next_offset == 1
    assert time.monotonic() - wall >= 0.45
    assert time.process_time() - cpu < 0.1

    timer = threading.Timer(0.2, lambda: topic.append(_batch(1, appended)))
    timer.start()
    wall = time.monotonic()
    result = reader.read_wait(1, None, timeout_s=5)
    assert result.record_count == appended and time.monotonic() - wall < 4
    timer.join()


def test_tail_read_waits_without_spinning_for_its_own_writer(log: EventLog) -> None:
    topic = log.create_topic("t", schema=SCHEMA)
    partition = topic.partition(0)
    topic.append(_batch(0, 1))
    _assert_tail_read_idles_then_wakes(partition, topic, appended=2)


def test_tail_read_of_another_writer_blocks_on_inotify(log_dir: Path) -> None:
    writer_log = EventLog.open(log_dir)
    topic = writer_log.create_topic("t", schema=SCHEMA)
    topic.append(_batch(0, 1))
    reader_log = EventLog.open(log_dir, recover=False)
    follower = reader_log.topic("t").partition(0)
    _assert_tail_read_idles_then_wakes(follower, topic, appended=3)
    assert follower._watcher is not None and follower._watcher.uses_inotify
    reader_log.close()
    writer_log.close()


def test_threads_read_while_a_thread_appends(log: EventLog) -> None:
    topic = log.create_topic("t", TopicConfig(segment_bytes=8192), schema=SCHEMA)
    total = 3000
    failures: list[str] = []

    def follow() -> None:
        partition = topic.partition(0)
        next_offset = 0
        while next_offset < total:
            result = partition.read_wait(next_offset, 128, timeout_s=5)
            if not result.batches:
                failures.append(f"stalled at {next_offset}")
                return
            for batch in result.batches:
                if batch.column("__offset")[0].as_py() != next_offset:
                    failures.append(f"gap at {next_offset}")
                    return
                next_offset += batch.num_rows

    readers = [threading.Thread(target=follow) for _ in range(3)]
    for reader in readers:
        reader.start()
    for first in range(0, total, 30):
        topic.append(_batch(first, 30))
    for reader in readers:
        reader.join(timeout=30)
    assert failures == []

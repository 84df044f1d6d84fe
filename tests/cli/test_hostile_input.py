"""Careless and hostile input to the ``headwater`` command: a clear message, never a traceback or an
"Internal error", and nothing already written is lost."""

from __future__ import annotations

import fcntl
import os
import signal
import struct
import subprocess
import termios
import time
from pathlib import Path
from typing import IO

from headwater.repl.testing import HEADWATER_COMMAND as HEADWATER
from headwater.storage import EventLog


def record_count(data_dir: Path, topic_name: str) -> int:
    with EventLog.open(data_dir / "log") as log:
        topic = log.topic(topic_name)
        return sum(
            batch.num_rows for p in range(topic.num_partitions) for batch in topic.partition(p).read(0).batches
        )


def assert_clean_failure(run: object, *fragments: str) -> None:
    status, err = run.status, run.err  # type: ignore[attr-defined]
    assert status == 1, err
    assert "Traceback" not in err and "Internal error" not in err, err
    for fragment in fragments:
        assert fragment in err, err


def test_a_data_dir_that_is_a_file_is_named_for_every_command(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "data-file"
    not_a_dir.write_text("not a directory")
    for args in (["-e", "SHOW STREAMS;"], ["topic", "list"], ["print", "t", "--exit-at-end"]):
        result = subprocess.run(
            [str(HEADWATER), "--data-dir", str(not_a_dir), *args], capture_output=True, text=True, timeout=120,
            check=False,
        )
        assert result.returncode == 1, (args, result.stderr)
        assert "Traceback" not in result.stderr and "Internal error" not in result.stderr, (args, result.stderr)
        assert "is a file, not a directory" in result.stderr, (args, result.stderr)
        assert str(not_a_dir) in result.stderr
    assert not_a_dir.read_text() == "not a directory"


def test_a_data_dir_under_a_file_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    result = subprocess.run(
        [str(HEADWATER), "--data-dir", str(blocker / "data"), "topic", "list"], capture_output=True, text=True,
        timeout=120, check=False,
    )
    assert result.returncode == 1
    assert f"{str(blocker)!r} is a file" in result.stderr, result.stderr
    assert "Internal error" not in result.stderr


def test_csv_lines_that_are_not_utf8_are_bad_lines_with_their_numbers(headwater, data_dir: Path, make_topic) -> None:
    make_topic("t")
    data = b"a,b\n\xff\xfe,c\nd,e\n\x80x,y\n"
    rejected = headwater("produce", "t", "--format", "csv", stdin=data)
    assert_clean_failure(rejected, "line 2: not UTF-8 text", "line 4: not UTF-8 text", "Nothing written")
    assert record_count(data_dir, "t") == 0
    skipped = headwater("produce", "t", "--format", "csv", "--skip-bad-lines", stdin=data)
    assert skipped.status == 0, skipped.err
    assert "2 records written to topic t; 2 bad line(s) skipped." in skipped.err
    assert record_count(data_dir, "t") == 2


def test_binary_garbage_on_stdin_is_reported_line_by_line(headwater, data_dir: Path, make_topic) -> None:
    make_topic("t")
    garbage = bytes(range(256)) * 40  # every byte value, with newlines among them
    for input_format in ("csv", "json"):
        run = headwater("produce", "t", "--format", input_format, "--skip-bad-lines", stdin=b"x,y\n" + garbage)
        assert "Traceback" not in run.err and "Internal error" not in run.err, run.err
        assert "bad line(s) skipped" in run.err, run.err


def test_csv_input_whose_every_line_is_bad_is_reported(headwater, data_dir: Path, make_topic) -> None:
    make_topic("t")
    run = headwater("produce", "t", "--format", "csv", "--skip-bad-lines", stdin=b"a,b\n\xff,1\n\xfe,2\n")
    assert run.status == 0, run.err
    assert "Internal error" not in run.err
    assert "1 record written to topic t; 2 bad line(s) skipped." in run.err


def start_produce(data_dir: Path, tmp_path: Path, *args: str) -> subprocess.Popen[bytes]:
    environment = {k: v for k, v in os.environ.items() if k != "HEADWATER_DATA_DIR"}
    return subprocess.Popen(
        [str(HEADWATER), "--data-dir", str(data_dir), "produce", *args],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path, env=environment,
        # As from a terminal: a test run started in the background inherits SIGINT ignored, and Python
        # then never turns Ctrl-C into KeyboardInterrupt.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def wait_until_read(pipe: IO[bytes], timeout_s: float = 60) -> None:
    """Wait until the process on the other end of ``pipe`` has read everything written to it (the pipe
    holds no unread bytes): it is past its start-up and in its input loop, whatever the machine's load."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        unread = struct.unpack("i", fcntl.ioctl(pipe.fileno(), termios.FIONREAD, b"\0\0\0\0"))[0]
        if unread == 0:
            time.sleep(0.2)  # from read to the wait for more input
            return
        time.sleep(0.05)
    raise AssertionError(f"the process did not read its input within {timeout_s} s")


def wait_for_records(data_dir: Path, topic: str, expected: int, timeout_s: float = 60) -> int:
    deadline = time.monotonic() + timeout_s
    count = record_count(data_dir, topic)
    while count < expected and time.monotonic() < deadline:
        time.sleep(0.1)
        count = record_count(data_dir, topic)
    return count


def exited_early(process: subprocess.Popen[bytes]) -> str:
    """What a produce process that should still be running said, if it has ended."""
    if process.poll() is None:
        return "the process is still running"
    assert process.stderr is not None
    return f"the process ended with status {process.returncode}: {process.stderr.read().decode()}"


def test_lines_fed_slowly_through_a_pipe_are_written_as_they_come(data_dir: Path, tmp_path: Path, make_topic) -> None:
    make_topic("t", 3)
    process = start_produce(data_dir, tmp_path, "t", "--format", "json", "--skip-bad-lines")
    assert process.stdin is not None
    try:
        process.stdin.write(b'{"a": 1}\n{"a": 2}\n')
        process.stdin.flush()
        # The pipe stays open: the two lines must not wait for megabytes more input.
        assert wait_for_records(data_dir, "t", 2) == 2, exited_early(process)
    finally:
        process.stdin.close()
        process.wait(timeout=60)
    assert process.returncode == 0


def test_ctrl_c_mid_produce_keeps_what_was_written_and_says_so(data_dir: Path, tmp_path: Path, make_topic) -> None:
    make_topic("t", 3)
    process = start_produce(data_dir, tmp_path, "t", "--format", "json", "--skip-bad-lines")
    assert process.stdin is not None
    process.stdin.write(b"".join(b'{"a": %d}\n' % i for i in range(5000)))
    process.stdin.flush()
    assert wait_for_records(data_dir, "t", 5000) == 5000, exited_early(process)
    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)  # stdin stays open: only the interrupt can end the load
    assert process.stderr is not None
    err = process.stderr.read()
    process.stdin.close()
    assert process.returncode == 130, err
    text = err.decode()
    assert "Traceback" not in text
    assert "Interrupted: 5,000 records written to topic t (they stay)" in text, text
    assert record_count(data_dir, "t") == 5000


def test_ctrl_c_while_checking_a_rejecting_load_writes_nothing(data_dir: Path, tmp_path: Path, make_topic) -> None:
    make_topic("t")
    process = start_produce(data_dir, tmp_path, "t", "--format", "json")
    assert process.stdin is not None
    process.stdin.write(b'{"a": 1}\n')
    process.stdin.flush()
    wait_until_read(process.stdin)  # the line is read and checked; the load waits for the end of its input
    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)
    assert process.stderr is not None
    err = process.stderr.read()
    process.stdin.close()
    assert process.returncode == 130
    assert "Interrupted: nothing written to topic t." in err.decode()
    assert record_count(data_dir, "t") == 0


def test_topic_list_shows_a_damaged_topic_among_the_others(headwater, data_dir: Path, make_topic) -> None:
    make_topic("good")
    make_topic("broken")
    assert headwater("produce", "broken", "--format", "json", stdin=b'{"a": 1}\n').status == 0
    segment = next((data_dir / "log" / "topics" / "broken" / "0").glob("*.arrow"))
    segment.write_bytes(b"not an arrow file")
    run = headwater("topic", "list")
    assert run.status == 1
    assert "Traceback" not in run.err
    rows = {line.split("|")[0].strip(): line for line in run.out_lines if "|" in line}
    assert "damaged" in rows["broken"] and "raw" in rows["good"], run.out
    assert f"Topic broken: Segment {segment}" in run.err
    assert segment.read_bytes() == b"not an arrow file"
    printed = headwater("print", "broken", "--from-beginning", "--exit-at-end")
    assert printed.status == 1 and "Internal error" not in printed.err and segment.name in printed.err


def test_a_statement_nested_too_deeply_is_one_clear_line(headwater, tmp_path: Path) -> None:
    script = tmp_path / "deep.sql"
    script.write_text(
        "CREATE STREAM S (ID INT KEY, V INT) WITH (KAFKA_TOPIC='s', PARTITIONS=1, VALUE_FORMAT='JSON');\n"
        "SELECT " + "1+" * 3000 + "1 AS X FROM S;\n"
    )
    for args in (["-f", str(script)], ["export", "S", "--to", str(tmp_path / "o.parquet"), "--where", "1+" * 3000 + "1 = 2"]):
        run = headwater(*args)
        assert run.status == 1, run.err
        assert "nested too deeply" in run.err and "Internal error" not in run.err, run.err

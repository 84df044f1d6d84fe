"""``python -m headwater.server`` as a real process: it announces its address, persistent queries run
on regardless of clients, SIGTERM stops it cleanly, and a restart brings the queries back."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCE = "CREATE STREAM S (ID INT KEY, V STRING) WITH (KAFKA_TOPIC='s', PARTITIONS=2, VALUE_FORMAT='JSON');"
SINK = "CREATE STREAM BIG AS SELECT ID, V FROM S WHERE ID > 1;"


@contextmanager
def server_process(data_dir: Path, *extra: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """The server as a process; its stderr goes to ``<data_dir>-stderr.log`` (a file, not a pipe nobody
    reads while it runs, which would block the server once full)."""
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    stderr = (data_dir.parent / f"{data_dir.name}-stderr.log").open("a", encoding="utf-8")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "headwater.server",
            "--data-dir",
            str(data_dir),
            "--listen",
            "127.0.0.1:0",
            *extra,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    stderr.close()
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("Headwater server listening on http://127.0.0.1:"), line
        yield process, line.split()[4]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def stop(process: subprocess.Popen[str]) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(20)


def wait_for(fetch: Callable[[], object], expected: object, timeout: float = 20.0) -> object:
    deadline = time.monotonic() + timeout
    value = fetch()
    while value != expected and time.monotonic() < deadline:
        time.sleep(0.1)
        value = fetch()
    return value


def big_rows(url: str) -> list[list[object]]:
    response = httpx.post(f"{url}/query-stream", json={"sql": "SELECT ID, V FROM BIG;"}, timeout=20)
    return sorted(json.loads(line) for line in response.text.splitlines()[1:])


def insert(url: str, *rows: dict[str, object]) -> None:
    body = b"\n".join(json.dumps(r).encode() for r in ({"target": "S"}, *rows))
    acks = httpx.post(f"{url}/inserts-stream", content=body, timeout=20).text.splitlines()
    assert all(json.loads(a)["status"] == "ok" for a in acks) and len(acks) == len(rows)


def test_persistent_queries_outlive_clients_and_restarts(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with server_process(data_dir) as (process, url):
        created = httpx.post(
            f"{url}/ksql",
            json={"ksql": SOURCE + SINK, "streamsProperties": {"auto.offset.reset": "earliest"}},
        )
        assert created.status_code == 200, created.text
        query_id = created.json()[1]["commandStatus"]["queryId"]
        insert(url, {"ID": 1, "V": "a"}, {"ID": 2, "V": "b"})
        assert wait_for(lambda: big_rows(url), [[2, "b"]]) == [[2, "b"]]
        # A push-query client that vanishes mid-stream takes nothing else down.
        with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1]))) as sock:
            body = json.dumps({"ksql": "SELECT * FROM S EMIT CHANGES;"}).encode()
            sock.sendall(
                b"POST /query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            assert sock.recv(100).startswith(b"HTTP/1.1 200")
        insert(url, {"ID": 3, "V": "c"})
        assert wait_for(lambda: big_rows(url), [[2, "b"], [3, "c"]]) == [[2, "b"], [3, "c"]]
        assert stop(process) == 0
        assert "Traceback" not in (tmp_path / "data-stderr.log").read_text()

    with server_process(data_dir) as (process, url):
        queries = httpx.post(f"{url}/ksql", json={"ksql": "SHOW QUERIES;"}).json()[0]["queries"]
        assert [q["id"] for q in queries] == [query_id]
        assert queries[0]["state"] == "RUNNING"
        insert(url, {"ID": 4, "V": "d"}, {"ID": 0, "V": "skipped"})
        expected = [[2, "b"], [3, "c"], [4, "d"]]
        assert wait_for(lambda: big_rows(url), expected) == expected  # running again, nothing repeated
        assert stop(process) == 0


def test_address_in_use_is_one_clear_message(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "headwater.server",
                "--data-dir",
                str(tmp_path),
                "--listen",
                f"127.0.0.1:{port}",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert result.stderr.startswith(f"headwater server: error: Cannot listen on 127.0.0.1:{port}")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("listen", ["nonsense", "127.0.0.1:99999", "[::1"])
def test_bad_listen_address(tmp_path: Path, listen: str) -> None:
    from headwater.server.runner import main

    assert main(["--data-dir", str(tmp_path), "--listen", listen]) == 1

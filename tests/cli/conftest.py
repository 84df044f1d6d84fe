"""Running the real ``headwater`` command in a subprocess, on a data directory of the test's own."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import pyarrow as pa
import pytest

from headwater.storage import EventLog, TopicConfig

HEADWATER = Path(sys.executable).parent / "headwater"


@dataclass(frozen=True)
class Run:
    """A finished ``headwater`` process."""

    status: int
    out: str
    err: str

    @property
    def out_lines(self) -> list[str]:
        return self.out.splitlines()


Headwater = Callable[..., Run]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def headwater(data_dir: Path, tmp_path: Path) -> Headwater:
    """``headwater(*args, stdin=b"...")`` runs the command on the test's data directory."""

    def run(*args: str, stdin: bytes | str = b"", timeout: float = 120, env: dict[str, str] | None = None) -> Run:
        data = stdin.encode() if isinstance(stdin, str) else stdin
        environment = {k: v for k, v in os.environ.items() if k != "HEADWATER_DATA_DIR"}
        environment.update({"HOME": str(tmp_path), "NO_COLOR": "1"})
        environment.update(env or {})
        result = subprocess.run(
            [str(HEADWATER), "--data-dir", str(data_dir), *args],
            input=data,
            capture_output=True,
            timeout=timeout,
            cwd=tmp_path,
            env=environment,
            check=False,
        )
        return Run(result.returncode, result.stdout.decode(), result.stderr.decode())

    return run


@pytest.fixture
def make_topic(data_dir: Path) -> Callable[..., None]:
    """Create a raw topic directly in the event log (setup that is not what a test is about)."""

    def create(name: str, partitions: int = 1) -> None:
        with EventLog.open(data_dir / "log") as log:
            log.create_topic(name, TopicConfig(partitions=partitions))

    return create


@pytest.fixture
def append_json(data_dir: Path) -> Callable[..., None]:
    """Append JSON records to a raw topic, keyed by a field's text (partitioned as Kafka would)."""

    def append(name: str, records: list[dict[str, object]], key_field: str | None = None) -> None:
        keys = [None if key_field is None else str(record[key_field]).encode() for record in records]
        values = [orjson.dumps(record) for record in records]
        with EventLog.open(data_dir / "log") as log:
            log.topic(name).append(
                pa.RecordBatch.from_pydict({"__key": pa.array(keys, pa.binary()), "__value": pa.array(values, pa.binary())})
            )

    return append


@pytest.fixture
def run_sql(data_dir: Path) -> Callable[[str], None]:
    """Run statements on the test's data directory with an engine in this process (setup only)."""

    def run(sql: str) -> None:
        from headwater.engine import Engine

        with Engine(data_dir) as engine:
            engine.execute(sql)

    return run


@dataclass(frozen=True)
class Server:
    """A ``headwater server`` process on an ephemeral port."""

    url: str
    data_dir: Path


def _announced(output: str) -> str | None:
    """The URL of the server's whole "listening on URL" line in ``output``, if it is there."""
    for line in output.splitlines(keepends=True):
        if "listening on " in line and line.endswith("\n"):
            return line.split("listening on ", 1)[1].split()[0]
    return None


def start_server(data_dir: Path, cwd: Path, *extra: str) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``headwater server`` on 127.0.0.1, port 0; return the process and the URL it announced
    (polled with a timeout).

    The server's output goes to a file beside its data directory, not a pipe: nobody reads a pipe once
    the server runs, and a server whose pipe filled up (warnings on a busy machine) would block on its
    next log line, in the middle of a request. Lines before the announcement are skipped.
    """
    import time

    environment = {k: v for k, v in os.environ.items() if k != "HEADWATER_DATA_DIR"}
    log_path = data_dir.parent / f"{data_dir.name}-server.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(HEADWATER), "--data-dir", str(data_dir), "server", "--listen", "127.0.0.1:0", *extra],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=environment,
        )
    deadline = time.monotonic() + 60
    while True:
        output = log_path.read_text(errors="replace")
        url = _announced(output)
        if url is not None:
            return process, url
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait(timeout=30)
            raise AssertionError(f"the server did not start: {output}")
        time.sleep(0.05)


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, so the server closes its engine cleanly; SIGKILL if it does not stop in time."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """A real ``headwater server`` subprocess with a data directory of its own."""
    data = tmp_path / "server-data"
    process, url = start_server(data, tmp_path)
    try:
        yield Server(url, data)
    finally:
        stop_server(process)

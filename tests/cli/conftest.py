"""Running the real ``headwater`` command in a subprocess, on a data directory of the test's own."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import pyarrow as pa
import pytest

from headwater.repl.testing import HEADWATER_COMMAND as HEADWATER
from headwater.repl.testing import start_server, stop_server
from headwater.storage import EventLog, TopicConfig


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


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """A real ``headwater server`` subprocess with a data directory of its own."""
    data = tmp_path / "server-data"
    process, url = start_server(data, tmp_path)
    try:
        yield Server(url, data)
    finally:
        stop_server(process)

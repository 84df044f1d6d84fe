"""Running the real ``headwater`` command in a subprocess, on a data directory of the test's own."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

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

"""Flink's own Python environment: a virtual environment that holds ``apache-flink`` and nothing of ours.

Why a separate environment: ``pip install apache-flink`` pins old pyarrow and numpy (pyarrow 16, numpy 1.x)
and pulls in pandas, apache-beam and py4j. Installed into the project's ``.venv`` it downgraded the
pyarrow that Headwater is built on. So the Flink side of the benchmark lives in
``$XDG_CACHE_HOME/headwater-nexmark/flink-venv-<version>`` (``~/.cache`` by default, beside the compiled
source jar; ``HEADWATER_FLINK_VENV`` names another place), created on first use with ``python -m venv`` and
``pip install apache-flink==<FLINK_VERSION>``. It lives outside the repository so that no tool that walks
the source tree (ruff, mypy, pytest, git) ever sees its 400 MB. Only the Flink driver
process (:mod:`benchmarks.nexmark.flink_driver`, which needs nothing but the standard library, PyFlink
and the pyarrow PyFlink brings) runs on that interpreter; the runner, Headwater and DuckDB stay on the
project's.

This module never installs anything into the interpreter it runs on: :func:`ensure_flink_python`
refuses a target that is the running environment (the project's ``.venv`` when the benchmark runs), and
nothing else in the benchmark calls pip.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

__all__ = [
    "FLINK_VERSION",
    "FlinkEnvironment",
    "FlinkSetupError",
    "cache_directory",
    "ensure_flink_python",
    "flink_venv",
    "probe",
]

FLINK_VERSION = "2.3.0"
"""The apache-flink release the benchmark runs (Java 17 works with it)."""

_READY_MARKER = "headwater-flink-ready.json"
_PROBE = (
    "import importlib.metadata, json, pyflink; "
    "print(json.dumps({'home': next(iter(pyflink.__path__)), "
    "'version': importlib.metadata.version('apache-flink')}))"
)


class FlinkSetupError(RuntimeError):
    """Flink cannot run here (its environment cannot be made, a JDK is missing, the source does not
    compile); the message says what to do."""


class FlinkEnvironment:
    """Where Flink's interpreter is and what it holds.

    Attributes:
        python: the interpreter of the Flink environment.
        pyflink_home: the installed ``pyflink`` package directory (its ``lib`` and ``opt`` hold Flink's jars).
        version: the installed apache-flink version.
    """

    def __init__(self, python: Path, pyflink_home: Path, version: str) -> None:
        self.python = python
        self.pyflink_home = pyflink_home
        self.version = version

    def __repr__(self) -> str:
        return f"FlinkEnvironment(python={self.python}, version={self.version})"


def cache_directory() -> Path:
    """Where the benchmark keeps what it builds for Flink: ``$XDG_CACHE_HOME/headwater-nexmark``."""
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "headwater-nexmark"


def flink_venv() -> Path:
    """The Flink environment's directory: ``$HEADWATER_FLINK_VENV``, or ``flink-venv-<version>`` in the cache."""
    configured = os.environ.get("HEADWATER_FLINK_VENV")
    if configured:
        return Path(configured).expanduser().resolve()
    return cache_directory() / f"flink-venv-{FLINK_VERSION}"


def _python_of(venv: Path) -> Path:
    return venv / "bin" / "python"


def _is_running_environment(venv: Path) -> bool:
    """True when ``venv`` is the environment this process runs in (or its base interpreter's prefix)."""
    target = venv.resolve()
    return target in {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()}


def probe(python: Path) -> FlinkEnvironment | None:
    """The PyFlink installation ``python`` sees, or None when it has none (or cannot run)."""
    if not python.exists():
        return None
    try:
        result = subprocess.run([str(python), "-c", _PROBE], capture_output=True, text=True, timeout=120,
                                check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0:
        return None
    found = json.loads(result.stdout.strip().splitlines()[-1])
    return FlinkEnvironment(python, Path(found["home"]), found["version"])


def ensure_flink_python(*, create: bool = True, say: Callable[[str], None] | None = None) -> FlinkEnvironment:
    """Flink's environment, made first if it does not exist yet (and ``create``).

    Creating it takes a few minutes (about 400 MB from PyPI, once); a ready environment is recognised by a
    marker written after pip succeeded, so an interrupted install is redone.

    Raises:
        FlinkSetupError: the environment is missing and ``create`` is false, the target is the running
            environment, or venv / pip failed (with their output).
    """
    venv = flink_venv()
    python = _python_of(venv)
    if _is_running_environment(venv):
        raise FlinkSetupError(
            f"refusing to use {venv} for Flink: it is the environment the benchmark runs in, and "
            "apache-flink's pins (pyarrow, numpy) would replace the project's; set HEADWATER_FLINK_VENV to a "
            "directory of its own")
    if (venv / _READY_MARKER).exists():
        found = probe(python)
        if found is not None and found.version == FLINK_VERSION:
            return found
    if not create:
        raise FlinkSetupError(f"Flink's environment {venv} is not set up: `python -m benchmarks.nexmark.flink_env` "
                              "makes it (python -m venv + pip install apache-flink); or run with --no-flink")
    report = say or (lambda message: print(message, file=sys.stderr, flush=True))
    report(f"  flink: making its own environment in {venv} (apache-flink {FLINK_VERSION}; once, a few minutes)")
    base = Path(getattr(sys, "_base_executable", sys.executable))
    _run([str(base), "-m", "venv", "--clear", str(venv)], "python -m venv")
    _run([str(python), "-m", "pip", "install", "--disable-pip-version-check", "--quiet",
          f"apache-flink=={FLINK_VERSION}"], "pip install apache-flink")
    found = probe(python)
    if found is None:
        raise FlinkSetupError(f"apache-flink was installed into {venv}, but its python cannot import pyflink")
    (venv / _READY_MARKER).write_text(json.dumps({"apache-flink": found.version}) + "\n")
    return found


def _run(command: list[str], what: str) -> None:
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as error:
        raise FlinkSetupError(f"{what} could not start: {error}") from None
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise FlinkSetupError(f"{what} failed (exit {result.returncode}):\n{tail}")


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.nexmark.flink_env``: make Flink's environment (if needed) and say where it is."""
    del argv
    try:
        found = ensure_flink_python()
    except FlinkSetupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"apache-flink {found.version}: {found.python}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

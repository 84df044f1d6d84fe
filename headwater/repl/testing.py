"""The real ``headwater server`` in a subprocess, for tests of the shell and the command line against it.

The tests of the command line and of the shell both start servers the way a user would (the installed
``headwater`` command, port 0, SIGTERM to stop); keeping that here means both wait for the server in
the same way and stop it in the same way.

Example:
    >>> announced_url("starting\\nlistening on http://127.0.0.1:40213 (2 workers)\\n")
    'http://127.0.0.1:40213'
    >>> announced_url("listening on http://127.0.0.1:40213") is None  # the line is not finished yet
    True
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["HEADWATER_COMMAND", "announced_url", "start_server", "stop_server"]

HEADWATER_COMMAND = Path(sys.executable).parent / "headwater"
"""The ``headwater`` command installed beside the running interpreter."""

_START_TIMEOUT_S = 60.0
_STOP_TIMEOUT_S = 30.0
_POLL_INTERVAL_S = 0.05


def announced_url(output: str) -> str | None:
    """The URL of the server's whole "listening on URL" line in ``output``, if it is there (a line still
    being written may hold half a URL, so only finished lines count)."""
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

    Args:
        data_dir: the server's data directory (``HEADWATER_DATA_DIR`` of the caller is not passed on).
        cwd: the directory the server runs in.
        extra: further ``headwater server`` arguments, e.g. ``--auth-file PATH``.

    Raises:
        AssertionError: the server exited or did not announce itself in time (with its output).
    """
    environment = {k: v for k, v in os.environ.items() if k != "HEADWATER_DATA_DIR"}
    log_path = data_dir.parent / f"{data_dir.name}-server.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(HEADWATER_COMMAND), "--data-dir", str(data_dir), "server", "--listen", "127.0.0.1:0", *extra],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=environment,
        )
    deadline = time.monotonic() + _START_TIMEOUT_S
    while True:
        output = log_path.read_text(errors="replace")
        url = announced_url(output)
        if url is not None:
            return process, url
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait(timeout=_STOP_TIMEOUT_S)
            raise AssertionError(f"the server did not start: {output}")
        time.sleep(_POLL_INTERVAL_S)


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, so the server closes its engine cleanly; SIGKILL if it does not stop in time."""
    process.terminate()
    try:
        process.wait(timeout=_STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=_STOP_TIMEOUT_S)

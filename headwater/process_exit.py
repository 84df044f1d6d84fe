"""Ending the ``headwater`` process once its command has finished, without native library teardown.

Why: Arrow's and DuckDB's native thread pools are torn down by C++ static destructors while the
interpreter finalizes. On a loaded machine a pool worker can still be alive at that moment, and
``std::thread``'s destructor then calls ``std::terminate``: the process dies of SIGABRT (exit status
-6, "terminate called without an active exception" on stderr) *after* the command did its work and
printed its result. A script that checks the exit status sees a failure that never happened.

So the console entry points finish the way the interpreter would, minus that last step: wait for
non-daemon threads, run ``atexit`` hooks, flush stdout and stderr, then ``os._exit``. Everything
Headwater writes (segments, offsets, checkpoints, history) is closed before its command returns, so the
only buffers left are Python's stdio, flushed here.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading
from collections.abc import Callable
from typing import NoReturn

__all__ = ["exit_status", "run_and_exit"]


def exit_status(code: object) -> int:
    """The process status for a ``SystemExit`` code, as the interpreter maps it.

    >>> [exit_status(None), exit_status(3), exit_status(True)]
    [0, 3, 1]
    """
    if code is None:
        return 0
    if isinstance(code, int):
        return int(code)
    print(code, file=sys.stderr)
    return 1


def run_and_exit(main: Callable[[], int | None]) -> NoReturn:
    """Run ``main`` and end the process with its status, skipping native static destructors."""
    try:
        status = exit_status(main())
    except SystemExit as stop:  # argparse's usage errors, ``sys.exit`` anywhere below
        status = exit_status(stop.code)
    except KeyboardInterrupt:
        status = 130
    _finish_like_the_interpreter()
    os._exit(status & 0xFF)


def _finish_like_the_interpreter() -> None:
    current = threading.current_thread()
    for thread in threading.enumerate():
        if thread is not current and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        if stream is None:
            continue
        # The reader may have gone away (a broken pipe), or the command closed the stream itself.
        with contextlib.suppress(OSError, ValueError):
            stream.flush()

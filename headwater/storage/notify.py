"""Waiting for new data in a partition written by another process, without a hot loop.

In-process readers of a partition wait on the partition's condition variable, which the writer
notifies after each append. A reader whose writer lives elsewhere (another process, or another
``EventLog`` over the same directory) cannot be notified that way, so it watches the partition
directory:

* on Linux, with **inotify** (through ``ctypes``; no extra package): the reader blocks in ``poll`` on
  the inotify descriptor until a file in the directory is modified, created, renamed or deleted, or
  the timeout passes. The watch is registered before the reader's first read and events queue up in
  the kernel, so an append between "read found nothing" and "wait" is not missed;
* elsewhere, or when inotify is unavailable (e.g. the per-user instance limit is reached), with a
  **bounded backoff poll**: sleeps of 1 ms doubling up to 50 ms, re-reading in between.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import select
import time
from pathlib import Path

__all__ = ["DirectoryWatcher"]

_IN_NONBLOCK = os.O_NONBLOCK
_IN_CLOEXEC = 0o2000000
_IN_MODIFY = 0x00000002
_IN_CLOSE_WRITE = 0x00000008
_IN_MOVED_TO = 0x00000080
_IN_CREATE = 0x00000100
_IN_DELETE = 0x00000200
_WATCH_MASK = _IN_MODIFY | _IN_CLOSE_WRITE | _IN_MOVED_TO | _IN_CREATE | _IN_DELETE
_MIN_BACKOFF_S = 0.001
_MAX_BACKOFF_S = 0.05

_libc: ctypes.CDLL | None = None


def _load_libc() -> ctypes.CDLL | None:
    """libc with the inotify functions, or None when the platform has none."""
    global _libc
    if _libc is None:
        name = ctypes.util.find_library("c")
        try:
            lib = ctypes.CDLL(name, use_errno=True)
            lib.inotify_init1.argtypes = [ctypes.c_int]
            lib.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
        except (OSError, AttributeError):
            return None
        _libc = lib
    return _libc


class DirectoryWatcher:
    """Blocks until something changes in one directory, by inotify or by bounded backoff polling."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._fd: int | None = None
        self._backoff = _MIN_BACKOFF_S
        libc = _load_libc()
        if libc is not None:
            fd = libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
            if fd >= 0:
                if libc.inotify_add_watch(fd, os.fsencode(directory), _WATCH_MASK) >= 0:
                    self._fd = fd
                else:
                    os.close(fd)

    @property
    def uses_inotify(self) -> bool:
        """True when waits block on inotify rather than polling."""
        return self._fd is not None

    def drain(self) -> None:
        """Forget events that arrived so far (call before re-reading the directory's files)."""
        if self._fd is None:
            return
        while True:
            try:
                if not os.read(self._fd, 65536):
                    return
            except BlockingIOError:
                return

    def wait(self, timeout_s: float) -> None:
        """Return when the directory changed (inotify) or after a backoff step, at most ``timeout_s``."""
        if timeout_s <= 0:
            return
        if self._fd is not None:
            poller = select.poll()
            poller.register(self._fd, select.POLLIN)
            poller.poll(timeout_s * 1000.0)
            return
        time.sleep(min(self._backoff, timeout_s))
        self._backoff = min(self._backoff * 2, _MAX_BACKOFF_S)

    def reset_backoff(self) -> None:
        """Start polling fast again (after data arrived)."""
        self._backoff = _MIN_BACKOFF_S

    def close(self) -> None:
        """Release the inotify descriptor."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None

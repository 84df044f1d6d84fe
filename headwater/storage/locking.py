"""One writer per partition: an exclusive ``flock`` on the partition's ``writer.lock`` file; and
:func:`file_lock`, the blocking ``flock`` that serialises read-modify-write of small shared files.

``flock`` locks belong to an open file description, so a second writer is refused whether it is
another process or another :class:`PartitionLock` in the same process (another thread, another
``EventLog`` over the same directory). The kernel drops the lock when the holder's descriptor is
closed, including when the process dies, so a crashed writer never leaves a stale lock behind.

After taking the lock the holder writes who it is (pid, host, thread, purpose, time) into the file,
so a refused writer's :class:`PartitionLockedError` names the holder. Only a settled writer refuses at
once: a holder record that says ``append`` from a live process. A holder empties the file as it lets
go, so that record is always the current holder's. Anything else is a holder that keeps the lock
briefly, or one seen in the instant between taking the lock and writing its record (the file is then
empty, half-written, or names a holder that crashed), so the newcomer waits for it,
boundedly, instead of failing. The commonest brief holder is ``recovery``: every ``EventLog.open``
(``headwater topic list``, a REPL starting) takes each idle partition's lock to check its tail.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from headwater.storage.errors import PartitionLockedError, TopicNotFoundError
from headwater.storage.names import LOCK_FILE

__all__ = ["PartitionLock", "file_lock", "pid_alive"]

_BRIEF_HOLDER_WAIT_S = 10.0


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_settled_writer(holder: str) -> bool:
    """Whether the lock file's record names a live appending writer (one that keeps the lock)."""
    try:
        record = json.loads(holder)
    except ValueError:
        return False  # empty or half-written: its holder is writing it now
    if not isinstance(record, dict) or record.get("purpose") != "append":
        return False
    pid = record.get("pid")
    # A crashed writer's record on this host means the holder has not written its own yet.
    finished = record.get("host") == socket.gethostname() and isinstance(pid, int) and not pid_alive(pid)
    return not finished


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (created if missing) for the block, waiting for it.

    Used around read-modify-write of files other processes change too (topic.json, a consumer group's
    offsets); closing the descriptor releases the lock, also when the block raises.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


class PartitionLock:
    """The held write lock of one partition directory; release with :meth:`release`."""

    def __init__(self, directory: Path, fd: int, purpose: str) -> None:
        self.directory = directory
        self.purpose = purpose
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, directory: Path, purpose: str, description: str) -> PartitionLock:
        """Take the lock or raise :class:`PartitionLockedError` naming the current holder.

        Args:
            directory: the partition directory.
            purpose: ``append``, ``recovery`` or ``delete`` (recorded for whoever is refused).
            description: how to name the partition in messages, e.g. ``orders/3``.
        """
        path = directory / LOCK_FILE
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except FileNotFoundError:
            raise TopicNotFoundError(f"Partition {description} no longer exists (was its topic deleted?)") from None
        deadline = time.monotonic() + _BRIEF_HOLDER_WAIT_S
        delay = 0.002
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = cls._holder(path)
                if not _is_settled_writer(holder) and time.monotonic() < deadline:
                    time.sleep(delay)
                    delay = min(delay * 2, 0.05)
                    continue
                os.close(fd)
                raise PartitionLockedError(
                    f"Partition {description} already has a writer ({holder or 'holder unknown'}); "
                    "a partition takes one writer at a time",
                    partition_dir=str(directory), holder=holder,
                ) from None
        if not path.exists():  # the holder was deleting the topic, which is gone now
            os.close(fd)
            raise TopicNotFoundError(f"Partition {description} no longer exists (was its topic deleted?)")
        holder_record = json.dumps({
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "thread": threading.current_thread().name,
            "purpose": purpose,
            "since_ms": time.time_ns() // 1_000_000,
        })
        # Overwrite, then cut: whoever reads the file mid-way sees an empty file (a released holder's),
        # a crashed holder's record, or text that is not JSON, all of which mean "wait".
        encoded = holder_record.encode()
        os.pwrite(fd, encoded, 0)
        os.ftruncate(fd, len(encoded))
        return cls(directory, fd, purpose)

    @staticmethod
    def _holder(path: Path) -> str:
        """What the current holder wrote into the lock file ('' if nothing readable)."""
        try:
            return path.read_text(errors="replace").strip()
        except OSError:
            return ""

    @property
    def held(self) -> bool:
        """True until :meth:`release`."""
        return self._fd is not None

    def release(self) -> None:
        """Drop the lock (idempotent), emptying the record first: a writer that has finished but whose
        process lives on must not look like a settled writer to whoever meets the next holder."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

"""Low-level file writing: the IPC magic and markers, whole writes, atomic small files, and pyarrow sinks.

:class:`AppendSink` lets pyarrow's stream writer append a batch to a segment with one ``writev`` and
no intermediate copy; :class:`CaptureSink` lets pyarrow's file writer produce a footer for batches that
are already on disk (see :mod:`headwater.storage.segment`).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

__all__ = ["DISCARD_ALL", "EOS_MARKER", "IOV_MAX", "MAGIC", "TRAILER_MAGIC", "AppendSink", "CaptureSink",
           "fsync_directory", "write_all", "write_atomically"]

MAGIC = b"ARROW1\x00\x00"
EOS_MARKER = b"\xff\xff\xff\xff\x00\x00\x00\x00"
TRAILER_MAGIC = b"ARROW1"
IOV_MAX = 1024
DISCARD_ALL = 1 << 62  # an AppendSink skip that drops everything a writer still emits


def write_all(fd: int, data: Any) -> None:
    """Write every byte of ``data`` (a buffer) to ``fd``; ``os.write`` may write less than asked."""
    view = memoryview(data).cast("B")
    while view:
        written = os.write(fd, view)
        view = view[written:]


def fsync_directory(directory: Path) -> None:
    """fsync a directory so a file created or renamed in it survives a power loss."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write ``data`` to ``path`` through a temp file, fsync and rename: readers see old or new.

    The temp name carries the process and thread, so concurrent writers never share one; it ends in
    ``.tmp``, which recovery removes if a crash leaves it behind.
    """
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        if durable:
            os.fsync(f.fileno())
    os.replace(tmp, path)
    if durable:
        fsync_directory(path.parent)


class CaptureSink:
    """A write-only file object for ``pa.PythonFile`` that counts bytes and keeps them only when asked."""

    def __init__(self) -> None:
        self.position = 0
        self.capturing = False
        self.captured: list[bytes] = []
        self.closed = False

    def write(self, data: Any) -> int:
        size = memoryview(data).nbytes
        if self.capturing:
            self.captured.append(bytes(data))
        self.position += size
        return size

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        return None

    def close(self) -> None:
        self.closed = True


class AppendSink:
    """A write-only file object for ``pa.PythonFile`` that appends one batch per ``writev`` call.

    pyarrow's IPC writer hands it the pieces of each batch message: small ``bytes`` (framing,
    metadata, padding) and ``pa.Buffer`` objects that point straight at the batch's column buffers.
    The sink only keeps references; :meth:`commit` writes them with one ``os.writev``, so an append
    costs no intermediate copy and one system call.

    ``position`` is the file offset of the next byte to be committed, as the writer sees it. The next
    ``skip`` bytes are counted in ``position`` but dropped: the bytes the writer produces that the
    file already holds (its magic and schema message, or batches replayed to prime it). With
    ``capturing`` set, pieces are kept in ``captured`` instead of being queued for the file (the
    segment takes the footer that way).

    pyarrow calls ``write`` once per piece (a dozen or more per batch) and ignores what it returns;
    its ``PythonFile`` counts positions itself and never calls ``tell``. So in the common state
    (nothing to skip, not capturing) ``write`` *is* ``pending.append``, a builtin with no Python frame,
    which makes the callbacks several times cheaper; the other states install a method instead.
    """

    def __init__(self, fd: int, position: int, skip: int) -> None:
        self.fd = fd
        self.position = position
        self.pending: list[Any] = []
        self.captured: list[bytes] = []
        self.closed = False
        self._skip = skip
        self._capturing = False
        self.write: Any = None
        self._select_write()

    def _select_write(self) -> None:
        if self._skip:
            self.write = self._skipping_write
        elif self._capturing:
            self.write = self._capturing_write
        else:
            self.write = self.pending.append

    @property
    def skip(self) -> int:
        """Bytes still to be dropped."""
        return self._skip

    @skip.setter
    def skip(self, value: int) -> None:
        self._skip = value
        self._select_write()

    @property
    def capturing(self) -> bool:
        """True while pieces go to ``captured`` rather than to the file."""
        return self._capturing

    @capturing.setter
    def capturing(self, value: bool) -> None:
        self._capturing = value
        self._select_write()

    def _skipping_write(self, data: Any) -> None:
        size = len(data)
        if size <= self._skip:
            self._skip -= size
            self.position += size
            if not self._skip:
                self._select_write()
            return
        data = memoryview(data)[self._skip:]
        self.position += self._skip
        self.skip = 0
        self.write(data)

    def _capturing_write(self, data: Any) -> None:
        self.captured.append(bytes(data))
        self.position += len(data)

    @property
    def pending_bytes(self) -> int:
        """Bytes queued for the next :meth:`commit`."""
        return sum(map(len, self.pending))

    def commit(self) -> int:
        """Write the pending pieces (one ``writev`` unless the kernel takes less); return the byte count."""
        pieces = self.pending
        if not pieces:
            return 0
        total = sum(map(len, pieces))
        try:
            written = os.writev(self.fd, pieces) if len(pieces) <= IOV_MAX else 0
            if written != total:
                self._write_rest(list(pieces), written)
        finally:
            pieces.clear()
        self.position += total
        return total

    def _write_rest(self, pieces: list[Any], written: int) -> None:
        """Slow path: the kernel took fewer bytes than asked, or there are more pieces than one call takes."""
        views = [memoryview(piece).cast("B") for piece in pieces]
        while True:
            while views and written >= len(views[0]):
                written -= len(views[0])
                views.pop(0)
            if not views:
                return
            if written:
                views[0] = views[0][written:]
            written = os.writev(self.fd, views[:IOV_MAX])

    def discard(self) -> None:
        """Forget pending pieces (the append failed before its write)."""
        self.pending.clear()

    def tell(self) -> int:
        return self.position + self.pending_bytes

    def flush(self) -> None:
        return None

    def close(self) -> None:
        self.closed = True

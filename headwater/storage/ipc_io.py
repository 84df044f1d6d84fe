"""Low-level file writing for segments: the IPC magic and markers, whole writes, and pyarrow sinks.

:class:`AppendSink` lets pyarrow's stream writer append a batch to a segment with one ``writev`` and
no intermediate copy; :class:`CaptureSink` lets pyarrow's file writer produce a footer for batches that
are already on disk (see :mod:`headwater.storage.segment`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["DISCARD_ALL", "EOS_MARKER", "IOV_MAX", "MAGIC", "TRAILER_MAGIC", "AppendSink", "CaptureSink",
           "fsync_directory", "write_all"]

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

    ``position`` is the file offset of the next byte to be committed, as the writer sees it (its
    ``tell()`` adds what is pending). The next ``skip`` bytes are counted in ``position`` but dropped:
    the bytes the writer produces that the file already holds (its magic and schema message, or
    batches replayed to prime it). With ``capturing`` set, pieces are kept in ``captured`` instead of
    being queued for the file (the segment takes the footer that way).
    """

    def __init__(self, fd: int, position: int, skip: int) -> None:
        self.fd = fd
        self.position = position
        self.skip = skip
        self.pending: list[Any] = []
        self.pending_bytes = 0
        self.capturing = False
        self.captured: list[bytes] = []
        self.closed = False

    def write(self, data: Any) -> int:
        length = size = len(data)
        if self.skip:
            if size <= self.skip:
                self.skip -= size
                self.position += size
                return length
            data = memoryview(data)[self.skip:]
            self.position += self.skip
            size -= self.skip
            self.skip = 0
        if self.capturing:
            self.captured.append(bytes(data))
            self.position += size
            return length
        self.pending.append(data)
        self.pending_bytes += size
        return length

    def commit(self) -> int:
        """Write the pending pieces (one ``writev`` unless the kernel takes less); return the byte count."""
        pieces, total = self.pending, self.pending_bytes
        self.pending, self.pending_bytes = [], 0
        written = os.writev(self.fd, pieces[:IOV_MAX]) if pieces else 0
        if written != total:
            self._write_rest(pieces, written)
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
        self.pending, self.pending_bytes = [], 0

    def tell(self) -> int:
        return self.position + self.pending_bytes

    def flush(self) -> None:
        return None

    def close(self) -> None:
        self.closed = True

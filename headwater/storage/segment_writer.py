"""The append side of an active segment: pyarrow's IPC *file* writer over the end of the segment file.

Every append goes through one ``pyarrow.ipc.RecordBatchFileWriter`` per active segment, whose sink
(:class:`~headwater.storage.ipc_io.AppendSink`) turns each batch message into one ``writev`` at the end
of the file. Because it is a file writer, it keeps the list of batch blocks that an Arrow IPC footer
needs, so sealing the segment only asks it to ``close()``: the end-of-stream marker, the footer and the
trailing magic are captured in memory, completed and written with one ``write``. (Before, sealing
replayed every batch of the segment through a second writer to obtain the footer: one Python call per
message piece for the whole segment, tens of milliseconds per 100 MB at roll time.)

Two details make this work on a file that already exists:

* **The preamble.** The file writer emits the IPC magic and the schema message with its first batch;
  the segment file has had exactly these bytes since it was created (a test checks they are the
  same), so the sink drops them. Its position counts them, so the writer's view of byte positions is
  the file's, and the footer's blocks point at the right places.
* **Batches already in the file.** A writer opened on a segment that holds batches (a later process
  resuming the active segment after recovery) is *primed*: the existing batches are replayed through
  it, zero-copy from the memory map, into the same void. The replay must end exactly at the file's
  ``data_end``; if it does not, the caller rewrites the segment with pyarrow's own bytes first.

The footer's custom metadata (``headwater.*`` statistics) is fixed when the writer is created, before
the statistics are known. So the writer is created with a placeholder per statistic, a distinct
20-character token, and :meth:`SegmentWriter.footer` replaces each token in the captured footer with
the value right-aligned in 20 characters (spaces before the digits: ``int()`` reads them, and the
footer keeps its length and layout). A sealed file remains byte-identical to what
``pyarrow.ipc.new_file`` writes for the same batches and the same (padded) metadata.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import pyarrow as pa

from headwater.storage.errors import CorruptSegmentError
from headwater.storage.ipc_io import DISCARD_ALL, EOS_MARKER, TRAILER_MAGIC, AppendSink

__all__ = ["FOOTER_VALUE_WIDTH", "SegmentWriter", "padded_value"]

FOOTER_VALUE_WIDTH = 20


def padded_value(value: int | None) -> str:
    """A footer statistic as stored: right-aligned in 20 characters, or empty when unknown."""
    return "" if value is None else str(value).rjust(FOOTER_VALUE_WIDTH)


def _placeholder(index: int) -> str:
    """A token that stands for a statistic until the footer is written; never a valid number."""
    return f"?hw{index:02d}".ljust(FOOTER_VALUE_WIDTH, "?")


class SegmentWriter:
    """Appends to one active segment file and, at the end, produces its footer.

    Args:
        path: the segment file, whose first ``data_end`` bytes are the magic, the schema message and
            complete batch messages (recovery has removed anything after them).
        schema: the segment's schema.
        data_end: where the next batch message goes.
        existing: the batches already in the file, in order (replayed to prime the writer).
        fixed_metadata: footer metadata known now (format version, base offset), in footer order.
        later_metadata: names of the footer statistics known only at seal time, in footer order.

    Raises:
        CorruptSegmentError: the file is longer than ``data_end``, or replaying ``existing`` does not
            reproduce ``data_end`` bytes (:attr:`primed` is then False and nothing was written).
    """

    def __init__(self, path: Path, schema: pa.Schema, data_end: int, existing: Iterable[pa.RecordBatch],
                 fixed_metadata: Mapping[str, str], later_metadata: Iterable[str]) -> None:
        self.path = path
        self._tokens = {name: _placeholder(i) for i, name in enumerate(later_metadata)}
        metadata = dict(fixed_metadata) | self._tokens
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        try:
            size = os.fstat(fd).st_size
            if size != data_end:
                raise CorruptSegmentError(
                    f"Segment {path} has {size - data_end} bytes after its last batch; recover first",
                    path=str(path), position=data_end)
            self._sink = AppendSink(fd, 0, skip=data_end)
            self._writer = pa.ipc.new_file(pa.PythonFile(self._sink, mode="w"), schema, metadata=metadata)
            replayed = 0
            for batch in existing:
                self._writer.write_batch(batch)
                replayed += 1
        except BaseException:
            self._fd_close(fd)
            raise
        self._fd = fd
        self.batches = replayed
        self.primed = not replayed or (self._sink.skip == 0 and not self._sink.pending
                                       and self._sink.position == data_end)
        if not self.primed:
            self.close()
            raise CorruptSegmentError(f"Segment {path}: replaying its batches does not reproduce its bytes",
                                      path=str(path), position=data_end)

    @staticmethod
    def _fd_close(fd: int) -> None:
        with contextlib.suppress(OSError):
            os.close(fd)

    @property
    def fd(self) -> int:
        """The append descriptor (for fsync)."""
        return self._fd

    def append(self, batch: pa.RecordBatch, data_end: int) -> int:
        """Write ``batch`` as one message at ``data_end`` (one ``writev``); return its size in bytes.

        On any failure the writer must not be used again (its block list may hold the failed batch):
        the caller closes it and a new one is primed from the file.
        """
        sink = self._sink
        try:
            self._writer.write_batch(batch)
        except BaseException:
            sink.discard()
            raise
        if sink.skip or sink.position != data_end:
            sink.discard()
            raise CorruptSegmentError(
                f"Segment {self.path}: the IPC writer would place a batch at byte {sink.position}, not at "
                f"{data_end}", path=str(self.path), position=data_end)
        self.batches += 1
        return sink.commit()

    def footer(self, values: Mapping[str, int | None], data_end: int) -> bytes:
        """The bytes that seal the segment (end-of-stream, footer, trailing magic), metadata filled in.

        Closes the writer; nothing is written to the file. ``values`` gives every statistic named in
        ``later_metadata``.

        Raises:
            CorruptSegmentError: when the writer's position is not ``data_end`` or a placeholder is not
                found exactly once in the footer (the caller then replays the segment instead).
        """
        sink = self._sink
        if sink.skip or sink.position != data_end or not self.batches:
            raise CorruptSegmentError(f"Segment {self.path}: the writer is not at the end of the data",
                                      path=str(self.path), position=data_end)
        sink.capturing = True
        self._writer.close()
        footer = bytearray().join(sink.captured)
        sink.captured = []
        if not footer.startswith(EOS_MARKER) or not footer.endswith(TRAILER_MAGIC):
            raise CorruptSegmentError(f"Segment {self.path}: unexpected footer bytes", path=str(self.path))
        for name, token in self._tokens.items():
            raw = token.encode()
            at = footer.find(raw)
            if at < 0 or footer.find(raw, at + 1) >= 0:
                raise CorruptSegmentError(f"Segment {self.path}: footer placeholder {name} not found once",
                                          path=str(self.path))
            value = padded_value(values[name]) or " " * FOOTER_VALUE_WIDTH
            footer[at:at + FOOTER_VALUE_WIDTH] = value.encode()
        return bytes(footer)

    def close(self) -> None:
        """Drop the writer without letting anything it still emits reach the file; close the descriptor."""
        self._sink.skip = DISCARD_ALL
        self._sink.capturing = False
        with contextlib.suppress(pa.ArrowException, OSError):
            self._writer.close()
        if self._fd >= 0:
            self._fd_close(self._fd)
            self._fd = -1

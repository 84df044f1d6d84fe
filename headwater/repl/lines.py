"""Line-oriented input, read in large blocks and cut into Arrow arrays of lines without a loop per line.

``headwater produce`` treats every line of its input as one record, as kcat does. Input can be far larger
than memory should hold at once, and it can be a pipe, so it is read in blocks of a few megabytes; each
block is cut at its last newline (the rest waits for the next block) and the lines are found with one
numpy scan for ``\\n``. The line terminators (``\\n`` or ``\\r\\n``) are removed in the same pass, and the
lines become one Arrow binary array over a single compacted buffer, so the lines of a block cost two
copies of the block in total whatever their number.

A pipe is read as it fills: a block holds what has arrived (up to the block size), so lines fed slowly
(``tail -f app.log | headwater produce ...``) become records as they come, not once megabytes have
gathered, and an interrupt loses only lines that were never acknowledged. A regular file is read in
full-size blocks.

Every block knows the 1-based line number of its first line, so a bad record can be reported by the line
number the user sees in an editor.

Example:
    >>> import io
    >>> blocks = list(read_line_blocks(io.BytesIO(b'a\\r\\n\\nbc\\nlast'), block_size=4))
    >>> [(b.first_line, b.lines.to_pylist()) for b in blocks]
    [(1, [b'a', b'']), (3, [b'bc']), (4, [b'last'])]
"""

from __future__ import annotations

import os
import select
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
import pyarrow as pa

__all__ = ["DEFAULT_BLOCK_SIZE", "LineBlock", "read_line_blocks", "split_lines"]

DEFAULT_BLOCK_SIZE = 8 << 20

_NEWLINE = 0x0A
_CARRIAGE_RETURN = 0x0D


@dataclass(frozen=True, slots=True)
class LineBlock:
    """A run of consecutive input lines.

    Attributes:
        lines: the lines without their terminators (binary; blank lines are empty values).
        first_line: the 1-based input line number of ``lines[0]``.
        bytes_read: how many input bytes the block covers, terminators included (for progress).
    """

    lines: pa.BinaryArray
    first_line: int
    bytes_read: int

    def line_number(self, index: int) -> int:
        """The input line number of ``lines[index]``."""
        return self.first_line + index


def split_lines(data: bytes) -> pa.BinaryArray:
    """Every line of ``data``, terminators removed; a last line without a terminator is included.

    Example:
        >>> split_lines(b'x\\r\\ny\\n').to_pylist()
        [b'x', b'y']
    """
    if not data:
        return pa.array([], pa.binary())
    if data[-1] != _NEWLINE:
        data += b"\n"
    raw = np.frombuffer(data, dtype=np.uint8)
    line_ends = np.flatnonzero(raw == _NEWLINE)
    line_starts = np.empty_like(line_ends)
    line_starts[0] = 0
    line_starts[1:] = line_ends[:-1] + 1
    has_carriage_return = np.zeros(len(line_ends), dtype=bool)
    non_empty = line_ends > line_starts
    has_carriage_return[non_empty] = raw[line_ends[non_empty] - 1] == _CARRIAGE_RETURN
    content_ends = line_ends - has_carriage_return
    keep = np.ones(len(raw), dtype=bool)
    keep[line_ends] = False
    keep[content_ends[has_carriage_return]] = False
    compacted = raw[keep]
    offsets = np.zeros(len(line_ends) + 1, dtype=np.int64)
    np.cumsum(content_ends - line_starts, out=offsets[1:])
    if offsets[-1] < 2**31:
        return pa.Array.from_buffers(
            pa.binary(), len(line_ends), [None, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(compacted)]
        )
    large = pa.Array.from_buffers(
        pa.large_binary(), len(line_ends), [None, pa.py_buffer(offsets), pa.py_buffer(compacted)]
    )
    return large.cast(pa.binary())


def read_line_blocks(stream: BinaryIO, *, block_size: int = DEFAULT_BLOCK_SIZE) -> Iterator[LineBlock]:
    """Read ``stream`` to its end, yielding its lines a block at a time.

    A line longer than ``block_size`` is not split: reading continues until its end is found.
    """
    pending = b""
    next_line = 1
    read = _block_reader(stream)
    while True:
        chunk = read(block_size)
        if not chunk:
            break
        data = pending + chunk if pending else chunk
        cut = data.rfind(b"\n")
        if cut < 0:
            pending = data
            continue
        pending = data[cut + 1 :]
        lines = split_lines(data[: cut + 1])
        yield LineBlock(lines, next_line, cut + 1)
        next_line += len(lines)
    if pending:
        yield LineBlock(split_lines(pending), next_line, len(pending))


def _block_reader(stream: BinaryIO) -> Callable[[int], bytes]:
    """How to read the next block of ``stream``: ``read(n)`` for files and in-memory streams, else (pipes,
    terminals, sockets) :func:`_read_arrived`, which does not wait for a full block."""
    read1 = getattr(stream, "read1", None)
    try:
        descriptor = stream.fileno()
        regular = stat.S_ISREG(os.fstat(descriptor).st_mode)
    except (OSError, ValueError, AttributeError):
        return stream.read
    if read1 is None or regular:
        return stream.read

    def read(size: int) -> bytes:
        return _read_arrived(read1, descriptor, size)

    return read


def _read_arrived(read1: Callable[[int], bytes], descriptor: int, size: int) -> bytes:
    """Up to ``size`` bytes: wait for some, then take more only while more is ready at once; b'' at the
    end of the input."""
    first = read1(size)
    if not first:
        return b""
    parts = [first]
    taken = len(first)
    while taken < size:
        try:
            ready, _, _ = select.select([descriptor], [], [], 0)
        except (OSError, ValueError):
            break
        if not ready:
            break
        more = read1(size - taken)
        if not more:
            break  # the end: the next call's read1 returns b'' again
        parts.append(more)
        taken += len(more)
    return b"".join(parts)

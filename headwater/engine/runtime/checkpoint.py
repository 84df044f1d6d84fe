"""Checkpoints: what a persistent query has consumed and produced, committed atomically.

A checkpoint is one document per writer (a persistent query, or the INSERT VALUES writer of a topic),
kept in two alternating *slot* files, ``checkpoint.json`` and ``checkpoint.1.json`` (the names are kept
from the first, JSON-only format, so a data directory written before keeps its slots). A commit overwrites
the slot that does *not* hold the latest checkpoint (in place, then cut to length) and makes it durable
with one ``fdatasync`` (plus one of the directory when the slot file is new); each slot ends with a
trailer holding a commit sequence number and a CRC-32 of the document. Loading takes the valid slot
with the highest sequence, so a crash mid-commit (a torn slot: no trailer or a wrong checksum) leaves the
previous checkpoint in force, never a mix. Compared with write-temp, fsync, rename, fsync-directory
this is one flush per commit instead of two.

The document is binary (format 2): a small JSON header and the operators' snapshots as raw bytes (Arrow
IPC, see :mod:`headwater.engine.state.ipc`) after it. State is most of a checkpoint's bytes, and the first
format wrapped it in base64 inside one JSON document, which cost an encode, a decode and a third more
bytes to write at every commit::

    b"HWCKPT2\n"                                         # magic
    <header length: 4 bytes, unsigned little-endian>
    {"version": 2, "epoch": 42,                          # the header, JSON
     "sources": [["topic", partition, next_offset], ...],
     "sinks":   [["topic", partition, end_offset], ...],
     "state":   [["<operator id>", <snapshot length>], ...]}
    <snapshot bytes, in the header's order>
    \n#<sequence> <crc32 of everything before the trailer and the sequence, 8 hex digits>\n

A document of the first format (one JSON object: version 1, the same sources and sinks, ``"state":
{"<operator id>": "<base64 snapshot>"}``) still loads, with or without a trailer (a ``checkpoint.json``
without one was written before the slots and loads as the oldest checkpoint); the next commit writes
format 2 into the other slot.

The exactly-once protocol built on it (see :mod:`headwater.engine.runtime.persistent`): a query appends
its output step by step and, every ``commit.interval.ms`` (and whenever it stops, catches up, or another
writer or a reader needs its output committed), commits the sources' next offsets together with the sinks'
end offsets and its state, under the sink's writer lock; :meth:`CheckpointStore.commit` returns only once
the checkpoint is durable. On start after a crash, every sink partition is truncated to the largest end
offset any writer committed for it, which removes exactly the output of the steps that did not commit;
the query then reads again from its committed offsets and produces that output once more.

Example:
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> store = CheckpointStore(d)
    >>> store.commit(Checkpoint(epoch=1, sources={("in", 0): 5}, sinks={("out", 0): 3}, state={"a-0": b"xy"}))
    >>> loaded = store.load()
    >>> loaded.sources[("in", 0)], loaded.state["a-0"]
    (5, b'xy')
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from headwater.errors import ExecutionError

__all__ = ["Checkpoint", "CheckpointStore"]

TopicPartition = tuple[str, int]

_MAGIC = b"HWCKPT2\n"
_LENGTH = struct.Struct("<I")
_CORRUPT_ERRORS = (orjson.JSONDecodeError, KeyError, TypeError, ValueError, IndexError, struct.error)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """One committed position of a writer.

    Attributes:
        epoch: commit counter, for diagnostics.
        sources: next offset to read, per source topic-partition.
        sinks: end offset of each sink topic-partition right after this writer's last output.
        state: opaque snapshots of stateful operators by operator id.
    """

    epoch: int = 0
    sources: dict[TopicPartition, int] = field(default_factory=dict)
    sinks: dict[TopicPartition, int] = field(default_factory=dict)
    state: dict[str, bytes] = field(default_factory=dict)

    def to_parts(self) -> list[bytes]:
        """The document (format 2) as pieces to write one after the other: the magic and header, then
        each snapshot as it is (no copy of the state into one buffer)."""
        ids = sorted(self.state)
        header = orjson.dumps(
            {
                "version": 2,
                "epoch": self.epoch,
                "sources": [[tp[0], tp[1], off] for tp, off in sorted(self.sources.items())],
                "sinks": [[tp[0], tp[1], off] for tp, off in sorted(self.sinks.items())],
                "state": [[key, len(self.state[key])] for key in ids],
            }
        )
        return [_MAGIC + _LENGTH.pack(len(header)) + header, *(self.state[key] for key in ids)]

    def to_bytes(self) -> bytes:
        """The document (format 2) as one byte string."""
        return b"".join(self.to_parts())

    @staticmethod
    def from_bytes(data: bytes | memoryview, where: str = "checkpoint") -> Checkpoint:
        """The checkpoint of a document of either format (see the module docstring).

        Raises:
            ExecutionError: the bytes are not a checkpoint document.
        """
        view = memoryview(data)
        try:
            if view[: len(_MAGIC)] == _MAGIC:
                return Checkpoint._from_binary(view)
            return Checkpoint._from_json(orjson.loads(view))
        except _CORRUPT_ERRORS as e:
            raise ExecutionError(f"Corrupt {where}: {e}") from None

    @staticmethod
    def _from_binary(view: memoryview) -> Checkpoint:
        (length,) = _LENGTH.unpack_from(view, len(_MAGIC))
        start = len(_MAGIC) + _LENGTH.size
        header = orjson.loads(view[start : start + length])
        position = start + length
        state: dict[str, bytes] = {}
        for key, size in header["state"]:
            if size < 0 or position + size > len(view):
                raise ValueError(f"snapshot {key!r} runs past the end of the document")
            state[str(key)] = bytes(view[position : position + size])
            position += size
        if position != len(view):
            raise ValueError(f"{len(view) - position} bytes after the last snapshot")
        return Checkpoint(
            epoch=int(header["epoch"]),
            sources=_positions(header["sources"]),
            sinks=_positions(header["sinks"]),
            state=state,
        )

    @staticmethod
    def _from_json(doc: Any) -> Checkpoint:
        """A format-1 document: one JSON object with base64 snapshots."""
        return Checkpoint(
            epoch=int(doc["epoch"]),
            sources=_positions(doc["sources"]),
            sinks=_positions(doc["sinks"]),
            state={str(k): base64.b64decode(v) for k, v in doc.get("state", {}).items()},
        )


def _positions(rows: Sequence[Sequence[Any]]) -> dict[TopicPartition, int]:
    return {(str(x[0]), int(x[1])): int(x[2]) for x in rows}


_TRAILER = re.compile(rb"\n#(\d+) ([0-9a-f]{8})\n\Z")
_TRAILER_MAX = 40
"""A trailer's longest length in bytes (a 20-digit sequence): only the file's last bytes are searched."""


def _checksum(parts: Sequence[bytes | memoryview], sequence: int) -> int:
    crc = 0
    for part in parts:
        crc = zlib.crc32(part, crc)
    return zlib.crc32(b"%d" % sequence, crc)


def _trailer(parts: Sequence[bytes], sequence: int) -> bytes:
    """A slot's trailer for the document made of ``parts``."""
    return b"\n#%d %08x\n" % (sequence, _checksum(parts, sequence))


class CheckpointStore:
    """The checkpoint of one writer, in two slot files in its own directory (see the module docstring)."""

    FILE_NAME = "checkpoint.json"
    SLOT_NAMES = (FILE_NAME, "checkpoint.1.json")

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._latest: tuple[int, int] | None = None  # (sequence, slot) of the latest checkpoint, once known

    @property
    def path(self) -> Path:
        """The first slot (the only file of a checkpoint written before the slots)."""
        return self.directory / self.FILE_NAME

    def load(self) -> Checkpoint | None:
        """The last committed checkpoint, or None when the writer never committed.

        A first commit cut short (the first slot is the only file, and it is empty or a binary document
        without its trailer) is no commit: None, as before it started.

        Raises:
            ExecutionError: no slot holds a valid checkpoint, but one is there and unreadable.
        """
        best: tuple[int, int, Checkpoint] | None = None
        problem: ExecutionError | None = None
        files, first_commit_torn = 0, False
        for slot, name in enumerate(self.SLOT_NAMES):
            path = self.directory / name
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                continue
            files += 1
            try:
                sequence, checkpoint = self._read_slot(data, str(path))
            except ExecutionError as error:  # a torn slot (a commit cut short) or a damaged file
                problem = problem or error
                first_commit_torn = slot == 0 and _cut_short_before_its_trailer(data)
                continue
            if best is None or sequence > best[0]:
                best = (sequence, slot, checkpoint)
        if best is None:
            self._latest = None
            if problem is not None and not (files == 1 and first_commit_torn):
                raise problem
            return None
        self._latest = (best[0], best[1])
        return best[2]

    @staticmethod
    def _read_slot(data: bytes, where: str) -> tuple[int, Checkpoint]:
        """(sequence, checkpoint) of a slot's bytes; a file without a trailer is an old single-file
        checkpoint (sequence -1)."""
        tail_start = max(0, len(data) - _TRAILER_MAX)
        trailer = _TRAILER.search(data, tail_start)
        if trailer is None:
            if _cut_short_before_its_trailer(data):  # format 2 is always sealed: this one was cut short
                raise ExecutionError(f"Corrupt {where}: no trailer (a commit cut short)")
            return -1, Checkpoint.from_bytes(data, where=where)
        document, sequence = memoryview(data)[: trailer.start()], int(trailer.group(1))
        if _checksum([document], sequence) != int(trailer.group(2), 16):
            raise ExecutionError(f"Corrupt {where}: checksum mismatch (a commit cut short)")
        return sequence, Checkpoint.from_bytes(document, where=where)

    def commit(self, checkpoint: Checkpoint) -> None:
        """Make ``checkpoint`` the committed one, atomically and durably: written over the slot not
        holding the latest checkpoint, flushed before returning."""
        self.directory.mkdir(parents=True, exist_ok=True)
        if self._latest is None:
            with contextlib.suppress(ExecutionError):
                self.load()
        sequence, slot = (0, 0) if self._latest is None else (self._latest[0] + 1, 1 - self._latest[1])
        path = self.directory / self.SLOT_NAMES[slot]
        created = not path.exists()
        parts = checkpoint.to_parts()
        parts.append(_trailer(parts, sequence))
        # Overwritten in place, then cut to length: truncating first would free the file's blocks and
        # pages only to allocate them again (about half a large commit's write time). A write cut short
        # leaves new bytes before old ones; the old trailer then fails its checksum, so the slot is
        # torn, as with any commit cut short, and the other slot stays in force.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            _write_all(fd, parts)
            os.ftruncate(fd, sum(len(part) for part in parts))
            os.fdatasync(fd)
        finally:
            os.close(fd)
        if created:  # a new directory entry is durable only once the directory is flushed
            dir_fd = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        self._latest = (sequence, slot)

    def delete(self) -> None:
        """Forget the writer (TERMINATE / DROP): remove its checkpoint and directory."""
        for name in (*self.SLOT_NAMES, self.FILE_NAME + ".tmp"):
            with contextlib.suppress(FileNotFoundError):
                (self.directory / name).unlink()
        self._latest = None
        with contextlib.suppress(OSError):
            self.directory.rmdir()


def _cut_short_before_its_trailer(data: bytes) -> bool:
    """Whether a slot without a valid trailer is a binary document whose write was cut short: empty
    (created, nothing written yet) or starting with (a prefix of) the binary format's magic."""
    if _TRAILER.search(data, max(0, len(data) - _TRAILER_MAX)) is not None:
        return False
    return data.startswith(_MAGIC) or _MAGIC.startswith(data)


def _write_all(fd: int, parts: Sequence[bytes]) -> None:
    """Write ``parts`` in order with as few system calls as the kernel allows (``writev``)."""
    pending = [memoryview(part) for part in parts if len(part)]
    while pending:
        written = os.writev(fd, pending[:1024])
        while written and pending:
            if written >= len(pending[0]):
                written -= len(pending[0])
                pending.pop(0)
            else:
                pending[0] = pending[0][written:]
                written = 0

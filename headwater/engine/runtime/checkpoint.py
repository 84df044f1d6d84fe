"""Checkpoints: what a persistent query has consumed and produced, committed atomically.

A checkpoint is one small JSON document per writer (a persistent query, or the INSERT VALUES writer of a
topic), kept in two alternating *slot* files, ``checkpoint.json`` and ``checkpoint.1.json``. A commit
overwrites the slot that does *not* hold the latest checkpoint and makes it durable with one
``fdatasync`` (plus one of the directory when the slot file is new); each slot ends with a trailer
holding a commit sequence number and a CRC-32 of the document. Loading takes the valid slot with the
highest sequence, so a crash mid-commit (a torn slot: no trailer or a wrong checksum) leaves the previous
checkpoint in force, never a mix. Compared with write-temp, fsync, rename, fsync-directory this is one
flush per commit instead of two, which is most of a commit's cost under write-back from other processes.
A ``checkpoint.json`` without a trailer (written before the slots) loads as the oldest checkpoint.

Slot layout (``<data_dir>/queries/<writer id>/checkpoint.json`` and ``checkpoint.1.json``)::

    {"version": 1,
     "epoch": 42,                                       # increases by one per commit
     "sources": [["topic", partition, next_offset], ...],
     "sinks":   [["topic", partition, end_offset], ...],
     "state":   {"<operator id>": "<base64 snapshot>"}} # stateful operators (room for the stateful engine)
    #<sequence> <crc32 of the document and the sequence, 8 hex digits>

The exactly-once protocol built on it (see :mod:`headwater.engine.runtime.persistent`): a query appends
its output for a step and then commits the sources' next offsets together with the sinks' end offsets,
both under the sink's writer lock; :meth:`CheckpointStore.commit` returns only once the checkpoint is
durable. On start, every sink partition is truncated to the largest end offset any writer committed for
it, which removes exactly the output of a step that did not commit; the query then reads again from its
committed offsets and produces that output once more.

Example:
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> store = CheckpointStore(d)
    >>> store.commit(Checkpoint(epoch=1, sources={("in", 0): 5}, sinks={("out", 0): 3}))
    >>> store.load().sources[("in", 0)]
    5
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from headwater.errors import ExecutionError

__all__ = ["Checkpoint", "CheckpointStore"]

TopicPartition = tuple[str, int]


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

    def to_bytes(self) -> bytes:
        return orjson.dumps(
            {
                "version": 1,
                "epoch": self.epoch,
                "sources": [[tp[0], tp[1], off] for tp, off in sorted(self.sources.items())],
                "sinks": [[tp[0], tp[1], off] for tp, off in sorted(self.sinks.items())],
                "state": {k: base64.b64encode(v).decode("ascii") for k, v in sorted(self.state.items())},
            }
        )

    @staticmethod
    def from_bytes(data: bytes, where: str = "checkpoint") -> Checkpoint:
        try:
            doc = orjson.loads(data)
            return Checkpoint(
                epoch=int(doc["epoch"]),
                sources={(str(x[0]), int(x[1])): int(x[2]) for x in doc["sources"]},
                sinks={(str(x[0]), int(x[1])): int(x[2]) for x in doc["sinks"]},
                state={str(k): base64.b64decode(v) for k, v in doc.get("state", {}).items()},
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, IndexError) as e:
            raise ExecutionError(f"Corrupt {where}: {e}") from None


_TRAILER = re.compile(rb"\n#(\d+) ([0-9a-f]{8})\n\Z")


def _checksum(document: bytes, sequence: int) -> int:
    return zlib.crc32(b"%d" % sequence, zlib.crc32(document))


def _sealed(document: bytes, sequence: int) -> bytes:
    """A slot's bytes: the document and its trailer."""
    return document + b"\n#%d %08x\n" % (sequence, _checksum(document, sequence))


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

        Raises:
            ExecutionError: no slot holds a valid checkpoint, but one is there and unreadable.
        """
        best: tuple[int, int, Checkpoint] | None = None
        problem: ExecutionError | None = None
        for slot, name in enumerate(self.SLOT_NAMES):
            path = self.directory / name
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                continue
            try:
                sequence, checkpoint = self._read_slot(data, str(path))
            except ExecutionError as error:  # a torn slot (a commit cut short) or a damaged file
                problem = problem or error
                continue
            if best is None or sequence > best[0]:
                best = (sequence, slot, checkpoint)
        if best is None:
            self._latest = None
            if problem is not None:
                raise problem
            return None
        self._latest = (best[0], best[1])
        return best[2]

    @staticmethod
    def _read_slot(data: bytes, where: str) -> tuple[int, Checkpoint]:
        """(sequence, checkpoint) of a slot's bytes; a file without a trailer is an old single-file
        checkpoint (sequence -1)."""
        trailer = _TRAILER.search(data)
        if trailer is None:
            return -1, Checkpoint.from_bytes(data, where=where)
        document, sequence = data[: trailer.start()], int(trailer.group(1))
        if _checksum(document, sequence) != int(trailer.group(2), 16):
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
        data = memoryview(_sealed(checkpoint.to_bytes(), sequence))
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            while data:
                data = data[os.write(fd, data) :]
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

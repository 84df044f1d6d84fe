"""Checkpoints: what a persistent query has consumed and produced, committed atomically.

A checkpoint is one small JSON file per writer (a persistent query, or the INSERT VALUES writer of a
topic). Committing replaces the file with write-temp, fsync, rename, fsync-directory, so after a crash
the file holds either the previous checkpoint or the new one, never a mix.

File layout (``<data_dir>/queries/<writer id>/checkpoint.json``)::

    {"version": 1,
     "epoch": 42,                                       # increases by one per commit
     "sources": [["topic", partition, next_offset], ...],
     "sinks":   [["topic", partition, end_offset], ...],
     "state":   {"<operator id>": "<base64 snapshot>"}} # stateful operators (room for the stateful engine)

The exactly-once protocol built on it (see :mod:`headwater.engine.runtime.persistent`): a query appends
its output for a step and then commits the sources' next offsets together with the sinks' end offsets,
both under the sink's writer lock. On start, every sink partition is truncated to the largest end offset
any writer committed for it, which removes exactly the output of a step that did not commit; the query
then reads again from its committed offsets and produces that output once more.

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


class CheckpointStore:
    """The checkpoint file of one writer, in its own directory."""

    FILE_NAME = "checkpoint.json"

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    @property
    def path(self) -> Path:
        return self.directory / self.FILE_NAME

    def load(self) -> Checkpoint | None:
        """The last committed checkpoint, or None when the writer never committed."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        return Checkpoint.from_bytes(data, where=str(self.path))

    def commit(self, checkpoint: Checkpoint) -> None:
        """Make ``checkpoint`` the committed one, atomically and durably."""
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.directory / (self.FILE_NAME + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, checkpoint.to_bytes())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        dir_fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def delete(self) -> None:
        """Forget the writer (TERMINATE / DROP): remove its checkpoint and directory."""
        for name in (self.FILE_NAME, self.FILE_NAME + ".tmp"):
            with contextlib.suppress(FileNotFoundError):
                (self.directory / name).unlink()
        with contextlib.suppress(OSError):
            self.directory.rmdir()

"""Committed consumer-group offsets: per (group, topic, partition), committed atomically.

Each group has one file, ``<log>/offsets/<group>.json`` (name encoding in :mod:`names`)::

    {"format": 1, "group": "<name>", "offsets": [{"topic": "t", "partition": 0, "offset": 42}, ...]}

A commit reads the group's file, merges the new offsets and writes the whole file to a temp file,
fsyncs it, renames it over the old one and fsyncs the directory. A reader therefore sees either the
file before or after a commit, never a mix: a commit of several partitions is all-or-nothing, and it
survives a crash or power loss once ``commit`` returns. Commits are serialised across threads and
processes by an ``flock`` on ``offsets/.commit.lock`` (a fresh descriptor per commit, so threads
exclude each other too). The committed offset is, as in Kafka, the *next* offset to read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from headwater.storage.errors import InvalidConfigError, StorageError
from headwater.storage.ipc_io import write_atomically
from headwater.storage.locking import file_lock
from headwater.storage.names import group_file_name, validate_topic_name

__all__ = ["ConsumerOffsets"]

_LOCK_FILE = ".commit.lock"


class ConsumerOffsets:
    """The offset store of one log directory.

    Example:
        >>> log.offsets.commit("g", {("orders", 0): 10, ("orders", 1): 7})   # doctest: +SKIP
        >>> log.offsets.fetch("g", "orders", 1)                              # doctest: +SKIP
        7
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def _path(self, group: str) -> Path:
        return self.directory / group_file_name(group)

    def _read(self, group: str) -> dict[tuple[str, int], int]:
        path = self._path(group)
        try:
            document = json.loads(path.read_text())
        except FileNotFoundError:
            return {}
        except (ValueError, OSError) as exc:
            raise StorageError(f"Offsets of consumer group {group!r} are unreadable ({path}): {exc}") from None
        if not isinstance(document, dict):
            raise StorageError(
                f"Offsets of consumer group {group!r} are unreadable ({path}): expected a JSON object, "
                f"found {type(document).__name__}"
            )
        if document.get("group") != group:
            return {}
        try:
            return {(str(e["topic"]), int(e["partition"])): int(e["offset"]) for e in document.get("offsets", [])}
        except (KeyError, TypeError, ValueError) as exc:
            raise StorageError(
                f"Offsets of consumer group {group!r} are unreadable ({path}): an entry is not "
                f"{{'topic', 'partition', 'offset'}} ({type(exc).__name__}: {exc})"
            ) from None

    def commit(self, group: str, offsets: Mapping[tuple[str, int], int]) -> None:
        """Commit next-offsets for several (topic, partition) pairs at once: all or nothing."""
        checked: dict[tuple[str, int], int] = {}
        for key, offset in offsets.items():
            if not (isinstance(key, tuple) and len(key) == 2):
                raise InvalidConfigError(f"Offsets are keyed by (topic, partition); got {key!r}")
            topic, partition = key
            validate_topic_name(topic)
            if isinstance(partition, bool) or not isinstance(partition, int) or partition < 0:
                raise InvalidConfigError(f"Partition must be an int >= 0, got {partition!r} for topic {topic!r}")
            if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
                raise InvalidConfigError(f"Offset must be an int >= 0, got {offset!r} for {topic}/{partition}")
            checked[(topic, partition)] = offset
        path = self._path(group)
        with file_lock(self.directory / _LOCK_FILE):
            current = self._read(group)
            current.update(checked)
            document = {
                "format": 1,
                "group": group,
                "offsets": [{"topic": t, "partition": p, "offset": o} for (t, p), o in sorted(current.items())],
            }
            write_atomically(path, json.dumps(document).encode())

    def fetch(self, group: str, topic: str, partition: int) -> int | None:
        """The committed next-offset of ``group`` for ``topic``/``partition``, or None if never committed."""
        return self._read(group).get((topic, int(partition)))

    def fetch_all(self, group: str) -> dict[tuple[str, int], int]:
        """Every committed offset of ``group``."""
        return self._read(group)

    def delete_group(self, group: str) -> None:
        """Forget a group's offsets."""
        with file_lock(self.directory / _LOCK_FILE):
            self._path(group).unlink(missing_ok=True)

    def groups(self) -> list[str]:
        """Names of the groups with committed offsets."""
        names = []
        for path in sorted(self.directory.glob("*.json")):
            try:
                names.append(json.loads(path.read_text())["group"])
            except (ValueError, KeyError, TypeError, OSError):  # not a group's file: not a group
                continue
        return sorted(names)

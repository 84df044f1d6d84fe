"""A topic: N partitions sharing a configuration, a kind (typed or raw), a schema and metadata.

Persisted in the topic directory:

* ``topic.json``: ``{"format": 1, "name": ..., "kind": "typed" | "raw", "config": {Kafka-style
  properties}, "metadata": {free-form string pairs}}``, replaced atomically (temp + fsync + rename);
* ``schema.arrow`` (typed topics): the current user schema as one encapsulated IPC schema message.

A typed topic stores its declared columns as Arrow columns after the system columns; a raw topic
stores ``__key`` / ``__value`` bytes, whose formats the engine records in the metadata.

Partitioning of an append (:meth:`Topic.append`), in order of precedence:

1. ``partition=p``: every row to ``p``;
2. ``partitions=array``: row ``i`` to ``array[i]``;
3. ``key_bytes=array`` (or, for a raw topic, its ``__key`` column): Kafka's default partitioner,
   ``toPositive(murmur2(key)) % partitions`` (:mod:`headwater.storage.murmur2`);
4. rows without a key are *sticky*: all keyless rows of one append go to one partition, and the next
   append's go to the next partition (round robin over appends). This is Kafka's sticky partitioner
   with the append call as the producer batch: it keeps batches whole and still spreads evenly.

A multi-partition append sorts the rows by partition once (a stable argsort, then one ``take``) and
appends one slice per partition; rows keep their relative order within a partition. Appends to
different partitions are not atomic together, as in Kafka.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from headwater.storage.columns import (
    KEY,
    AppendPreparer,
    key_column_names,
    raw_stored_schema,
    rows_to_batch,
    typed_stored_schema,
    validate_user_schema,
)
from headwater.storage.config import TopicConfig
from headwater.storage.errors import InvalidConfigError, RecordBatchError, StorageError, TopicNotFoundError
from headwater.storage.ipc_io import write_atomically
from headwater.storage.locking import file_lock
from headwater.storage.murmur2 import assign_partitions
from headwater.storage.names import SCHEMA_FILE, TOPIC_CONFIG_FILE, partition_dir, validate_topic_name
from headwater.storage.partition import PartitionLog
from headwater.storage.values import AppendResult, CompactionReport, RetentionReport, SegmentInfo

__all__ = ["Topic"]

_FORMAT = 1
_TOPIC_LOCK_FILE = "topic.lock"


def _check_metadata(metadata: Mapping[str, Any]) -> dict[str, str]:
    out = {}
    for key, value in metadata.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise InvalidConfigError(f"Topic metadata must map strings to strings; got {key!r}: {value!r}")
        out[key] = value
    return out


class Topic:
    """One topic of an :class:`~headwater.storage.log.EventLog`; get it from the log, not directly."""

    def __init__(self, name: str, directory: Path, config: TopicConfig, user_schema: pa.Schema | None,
                 metadata: dict[str, str]) -> None:
        self.name = name
        self.directory = directory
        self._config = config
        self._user_schema = user_schema
        self._metadata = metadata
        self._stored = raw_stored_schema() if user_schema is None else typed_stored_schema(user_schema)
        self._preparer = AppendPreparer(self._stored, raw=user_schema is None)
        self._partitions: dict[int, PartitionLog] = {}
        self._lock = threading.RLock()
        self._next_sticky = 0
        self._closed = False

    # ----------------------------------------------------------------------------------------------
    # creation and loading

    @classmethod
    def build(cls, directory: Path, name: str, config: TopicConfig, schema: pa.Schema | None,
              metadata: Mapping[str, str]) -> None:
        """Write a complete topic directory at ``directory`` (the log renames it into place)."""
        validate_topic_name(name)
        if schema is not None:
            validate_user_schema(schema)
        meta = _check_metadata(metadata)
        directory.mkdir(parents=True)
        stored = raw_stored_schema() if schema is None else typed_stored_schema(schema)
        if schema is not None:
            write_atomically(directory / SCHEMA_FILE, schema.serialize().to_pybytes(), durable=False)
        cls._write_config(directory, name, config, schema is None, meta, durable=False)
        for p in range(config.partitions):
            PartitionLog.initialize(partition_dir(directory, p), stored, config)

    @staticmethod
    def _write_config(directory: Path, name: str, config: TopicConfig, raw: bool, metadata: dict[str, str], *,
                      durable: bool = True) -> None:
        document = {"format": _FORMAT, "name": name, "kind": "raw" if raw else "typed",
                    "config": config.to_properties(), "metadata": metadata}
        write_atomically(directory / TOPIC_CONFIG_FILE, json.dumps(document, indent=2, sort_keys=True).encode(),
                          durable=durable)

    @classmethod
    def load(cls, directory: Path, name: str) -> Topic:
        """Open the topic stored in ``directory``."""
        config, user_schema, metadata = cls._read_state(directory, name)
        return cls(name, directory, config, user_schema, metadata)

    @staticmethod
    def _read_state(directory: Path, name: str) -> tuple[TopicConfig, pa.Schema | None, dict[str, str]]:
        try:
            document = json.loads((directory / TOPIC_CONFIG_FILE).read_text())
        except FileNotFoundError:
            raise TopicNotFoundError(f"Topic {name!r} does not exist") from None
        except (ValueError, OSError) as exc:
            raise StorageError(f"Topic {name!r}: unreadable {TOPIC_CONFIG_FILE}: {exc}") from None
        if not isinstance(document, dict) or not isinstance(document.get("config", {}), dict) or not isinstance(
            document.get("metadata", {}), dict
        ):
            raise StorageError(
                f"Topic {name!r}: unreadable {TOPIC_CONFIG_FILE} in {str(directory)!r}: expected a JSON object "
                "with 'config' and 'metadata' objects"
            )
        config = TopicConfig.from_properties(document.get("config", {}))
        user_schema = None
        if document.get("kind") == "typed":
            try:
                user_schema = pa.ipc.read_schema(pa.py_buffer((directory / SCHEMA_FILE).read_bytes()))
            except (OSError, pa.ArrowInvalid) as exc:
                raise StorageError(f"Topic {name!r}: unreadable {SCHEMA_FILE}: {exc}") from None
        return config, user_schema, dict(document.get("metadata", {}))

    @contextlib.contextmanager
    def _state_lock(self) -> Iterator[None]:
        """Serialise read-modify-write of topic.json / schema.arrow across threads and processes."""
        with self._lock, file_lock(self.directory / _TOPIC_LOCK_FILE):
            yield

    def reload(self) -> None:
        """Re-read config, schema and metadata (another process may have changed them)."""
        with self._state_lock():
            config, user_schema, metadata = self._read_state(self.directory, self.name)
            self._apply_state(config, user_schema, metadata)

    def _apply_state(self, config: TopicConfig, user_schema: pa.Schema | None, metadata: dict[str, str]) -> None:
        self._config = config
        self._metadata = metadata
        if user_schema is not None and (self._user_schema is None or not user_schema.equals(self._user_schema, check_metadata=True)):
            self._user_schema = user_schema
            self._stored = typed_stored_schema(user_schema)
            self._preparer = AppendPreparer(self._stored, raw=False)
        for partition in self._partitions.values():
            partition.config = config

    # ----------------------------------------------------------------------------------------------
    # description

    @property
    def config(self) -> TopicConfig:
        """The topic's configuration."""
        return self._config

    @property
    def is_raw(self) -> bool:
        """True for a raw topic (key/value bytes), False for a typed one."""
        return self._user_schema is None

    @property
    def kind(self) -> str:
        """``"raw"`` or ``"typed"``."""
        return "raw" if self.is_raw else "typed"

    @property
    def schema(self) -> pa.Schema | None:
        """The user columns of a typed topic (key columns carry ``headwater.key``), None for raw."""
        return self._user_schema

    @property
    def stored_schema(self) -> pa.Schema:
        """The full stored schema of new segments: system columns, then user columns."""
        return self._stored

    @property
    def metadata(self) -> dict[str, str]:
        """A copy of the topic's free-form metadata."""
        return dict(self._metadata)

    @property
    def num_partitions(self) -> int:
        """Number of partitions."""
        return self._config.partitions

    def key_columns(self) -> list[str]:
        """Key column names of a typed topic (empty for raw topics)."""
        return key_column_names(self._user_schema) if self._user_schema is not None else []

    def _check_open(self) -> None:
        if self._closed:
            raise TopicNotFoundError(f"Topic {self.name!r} was closed or deleted")

    def partition(self, partition: int) -> PartitionLog:
        """The log of one partition (0-based)."""
        log = self._partitions.get(partition) if type(partition) is int else None
        if log is not None and not self._closed:
            return log
        self._check_open()
        if isinstance(partition, bool) or not isinstance(partition, (int, np.integer)):
            raise RecordBatchError(f"Partition must be an int, got {partition!r}")
        partition = int(partition)
        if not 0 <= partition < self._config.partitions:
            raise RecordBatchError(
                f"Topic {self.name!r} has partitions 0..{self._config.partitions - 1}; there is no partition {partition}")
        with self._lock:
            log = self._partitions.get(partition)
            if log is None:
                log = PartitionLog(self.name, partition, partition_dir(self.directory, partition), self._config,
                                   lambda: self._stored, self.key_columns, raw=self.is_raw)
                self._partitions[partition] = log
            return log

    def partitions(self) -> list[PartitionLog]:
        """Every partition, in order."""
        return [self.partition(p) for p in range(self._config.partitions)]

    def end_offsets(self) -> dict[int, int]:
        """``{partition: end offset}``."""
        return {p.partition: p.end_offset for p in self.partitions()}

    def start_offsets(self) -> dict[int, int]:
        """``{partition: start offset}``."""
        return {p.partition: p.start_offset for p in self.partitions()}

    def segments(self) -> list[SegmentInfo]:
        """Every segment of every partition (by partition, then offset)."""
        return [info for p in self.partitions() for info in p.segments()]

    def offset_for_timestamp(self, timestamp: int) -> dict[int, int | None]:
        """``{partition: first offset with a timestamp >= timestamp, or None}``."""
        return {p.partition: p.offset_for_timestamp(timestamp) for p in self.partitions()}

    # ----------------------------------------------------------------------------------------------
    # appending

    def append(self, batch: pa.RecordBatch | pa.Table, partition: int | None = None,
               partitions: np.ndarray | Sequence[int] | None = None,
               key_bytes: pa.Array | pa.ChunkedArray | None = None) -> list[AppendResult]:
        """Append records; return one :class:`AppendResult` per partition that received some.

        Args:
            batch: user columns (typed) or ``__key``/``__value`` (raw), plus optional ``__timestamp``
                (default: now), ``__headers`` (default: null) and ``__tombstone`` (default: false).
                ``__offset`` is always assigned by the log.
            partition: send every row to this partition.
            partitions: the partition of each row.
            key_bytes: serialised key of each row, for Kafka's default partitioner.

        See the module docstring for how rows without any of these are spread.
        """
        self._check_open()
        if isinstance(batch, pa.Table):
            if partitions is not None or key_bytes is not None:
                raise RecordBatchError("partitions= and key_bytes= need a RecordBatch, not a Table")
            results: list[AppendResult] = []
            for chunk in batch.to_batches():
                results.extend(self.append(chunk, partition))
            return results
        if (partition is not None) + (partitions is not None) + (key_bytes is not None) > 1:
            raise RecordBatchError("Give at most one of partition=, partitions= and key_bytes=")
        count = self._config.partitions
        if key_bytes is not None and count == 1:
            # every key hashes to the only partition: no murmur2 over the keys (a sink's every append)
            if len(key_bytes) != batch.num_rows:
                raise RecordBatchError(f"key_bytes has {len(key_bytes)} entries for {batch.num_rows} rows")
            key_bytes, partition = None, 0
        if partitions is None and key_bytes is None and (partition is not None or not self.is_raw):
            # One partition receives every row (the common case): no split, no second schema check.
            prepared, headerless, timestamp = self._preparer.prepare_stored(batch)
            if not prepared.num_rows:
                return []
            log = self.partition(self._sticky(count) if partition is None else partition)
            return [log.append_prepared(prepared, headerless=headerless, timestamp=timestamp)]
        prepared = self._preparer.prepare(batch)
        n = prepared.num_rows
        if n == 0:
            return []
        if partitions is not None:
            assignment = self._checked_assignment(partitions, n, count)
        elif key_bytes is not None:
            if len(key_bytes) != n:
                raise RecordBatchError(f"key_bytes has {len(key_bytes)} entries for {n} rows")
            assignment = assign_partitions(key_bytes, count, self._sticky(count))
        elif self.is_raw and prepared.column(KEY).null_count < n:
            assignment = assign_partitions(prepared.column(KEY), count, self._sticky(count))
        else:
            return [self.partition(self._sticky(count)).append(prepared)]
        return self._append_split(prepared, assignment, count)

    def _sticky(self, count: int) -> int:
        with self._lock:
            chosen = self._next_sticky % count
            self._next_sticky = chosen + 1
            return chosen

    def _checked_assignment(self, partitions: np.ndarray | Sequence[int], n: int, count: int) -> np.ndarray:
        assignment = np.asarray(partitions)
        if assignment.shape != (n,):
            raise RecordBatchError(f"partitions has shape {assignment.shape}; expected one entry per row ({n})")
        if not np.issubdtype(assignment.dtype, np.integer):
            raise RecordBatchError(f"partitions must hold integers, got {assignment.dtype}")
        low, high = int(assignment.min()), int(assignment.max())
        if low < 0 or high >= count:
            bad = low if low < 0 else high
            raise RecordBatchError(f"Partition {bad} is out of range: topic {self.name!r} has {count} partition(s)")
        return assignment.astype(np.int64, copy=False)

    def _append_split(self, prepared: pa.RecordBatch, assignment: np.ndarray, count: int) -> list[AppendResult]:
        """Sort rows by partition once (stable), then append one zero-copy slice per partition."""
        first = int(assignment[0])
        if count == 1 or bool(np.all(assignment == first)):
            return [self.partition(first).append(prepared)]
        order = np.argsort(assignment, kind="stable")
        counts = np.bincount(assignment, minlength=count)
        ordered = prepared.take(pa.array(order))
        results = []
        start = 0
        for p in range(count):
            size = int(counts[p])
            if size:
                results.append(self.partition(p).append(ordered.slice(start, size)))
                start += size
        return results

    def append_rows(self, rows: Sequence[Mapping[str, Any]], partition: int | None = None,
                    partitions: np.ndarray | Sequence[int] | None = None,
                    key_bytes: pa.Array | None = None) -> list[AppendResult]:
        """Append rows given as dicts (user columns and optional system columns); a convenience.

        Example:
            >>> topic.append_rows([{"id": 1, "__timestamp": 1000}])   # doctest: +SKIP
            [AppendResult(partition=0, base_offset=0, count=1)]
        """
        return self.append(rows_to_batch(rows, self._stored), partition, partitions, key_bytes)

    # ----------------------------------------------------------------------------------------------
    # changes

    def set_schema(self, new_schema: pa.Schema) -> None:
        """Change a typed topic's columns (ALTER STREAM ... ADD COLUMN); every segment keeps one schema.

        Takes every partition's write lock first (so the change applies to all or none), persists
        the schema, then rolls each partition's active segment so new records go to segments of the
        new schema. Existing segments keep theirs; reads return batches in each segment's schema.
        """
        self._check_open()
        if self.is_raw:
            raise RecordBatchError(f"Topic {self.name!r} is raw (key/value bytes); it has no column schema to change")
        validate_user_schema(new_schema)
        stored = typed_stored_schema(new_schema)
        partitions = self.partitions()
        for p in partitions:
            p.acquire_writer()
        with self._state_lock():
            write_atomically(self.directory / SCHEMA_FILE, new_schema.serialize().to_pybytes())
            self._user_schema = new_schema
            self._stored = stored
            self._preparer = AppendPreparer(stored, raw=False)
        for p in partitions:
            p.roll(stored)

    def update_metadata(self, updates: Mapping[str, str | None]) -> dict[str, str]:
        """Merge ``updates`` into the metadata (a None value removes the key); return the result."""
        self._check_open()
        with self._state_lock():
            config, user_schema, metadata = self._read_state(self.directory, self.name)
            for key, value in updates.items():
                if value is None:
                    metadata.pop(key, None)
                else:
                    metadata.update(_check_metadata({key: value}))
            self._write_config(self.directory, self.name, config, user_schema is None, metadata)
            self._apply_state(config, user_schema, metadata)
            return dict(metadata)

    def update_config(self, properties: Mapping[str, Any]) -> TopicConfig:
        """Change configuration properties; ``partitions`` may grow (never shrink). Returns the result."""
        self._check_open()
        with self._state_lock():
            current, user_schema, metadata = self._read_state(self.directory, self.name)
            config = TopicConfig.from_properties(properties, base=current)
            if config.partitions < current.partitions:
                raise InvalidConfigError(
                    f"Topic {self.name!r} has {current.partitions} partitions; the count can grow but not shrink")
            stored = raw_stored_schema() if user_schema is None else typed_stored_schema(user_schema)
            for p in range(current.partitions, config.partitions):
                directory = partition_dir(self.directory, p)
                if not directory.exists():
                    PartitionLog.initialize(directory, stored, config)
            self._write_config(self.directory, self.name, config, user_schema is None, metadata)
            self._apply_state(config, user_schema, metadata)
            return config

    def enforce_retention(self, now_ms: int | None = None) -> list[RetentionReport]:
        """Apply ``retention.ms`` / ``retention.bytes`` to every partition."""
        return [p.enforce_retention(now_ms) for p in self.partitions()]

    def compact(self, now_ms: int | None = None) -> list[CompactionReport]:
        """Compact every partition (only meaningful with ``cleanup.policy`` compact)."""
        return [p.compact(now_ms) for p in self.partitions()]

    def flush(self) -> None:
        """fsync every partition this object writes."""
        for p in list(self._partitions.values()):
            p.flush()

    def close(self) -> None:
        """Release every partition's write lock and descriptors."""
        with self._lock:
            self._closed = True
            for p in self._partitions.values():
                p.close()

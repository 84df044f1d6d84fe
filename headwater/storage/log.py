"""The event log: one directory of topics, plus the committed consumer offsets.

``EventLog.open(path)`` creates the directory if needed and, unless told otherwise, recovers every
partition no live writer holds (see :meth:`PartitionLog.recover`); the result is in
:attr:`EventLog.last_recovery`. Topic creation is atomic: the topic directory is built complete under
``<log>/tmp/`` and renamed into ``<log>/topics/``, so other processes see a topic whole or not at all.
Deletion renames the directory out of ``topics/`` first, then removes it.

Several processes may open the same log directory: any number read, and each partition accepts one
writer at a time (the others get :class:`PartitionLockedError`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import threading
import uuid
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

import pyarrow as pa

from headwater.storage.config import TopicConfig
from headwater.storage.directories import prepare_directory
from headwater.storage.errors import (
    CorruptSegmentError,
    PartitionLockedError,
    StorageError,
    TopicExistsError,
    TopicNotFoundError,
)
from headwater.storage.locking import PartitionLock, pid_alive
from headwater.storage.names import (
    OFFSETS_DIR,
    TMP_DIR,
    TOPIC_CONFIG_FILE,
    TOPICS_DIR,
    inside,
    partition_dir,
    topic_dir,
    validate_topic_name,
)
from headwater.storage.offsets import ConsumerOffsets
from headwater.storage.topic import Topic
from headwater.storage.values import CompactionReport, PartitionRecovery, RecoveryReport, RetentionReport

__all__ = ["EventLog"]

_LOGGER = logging.getLogger("headwater.storage")


def _warn_about_repairs(report: RecoveryReport) -> None:
    """Log a warning for every partition whose tail recovery cut off: the records in it are gone, and
    whoever opened the log (the shell, the server, a script) must hear of it rather than find fewer
    records later. Unsealed segments and rebuilt indexes lose nothing and are not worth a warning."""
    for topic, number, problem in report.damaged:
        _LOGGER.warning("Topic %r partition %d is damaged and was left as it is: %s", topic, number, problem)
    for partition in report.partitions:
        if partition.bytes_dropped or partition.batches_dropped:
            _LOGGER.warning(
                "Recovery of topic %r partition %d removed %d unreadable record batch(es) (%d bytes) from the end "
                "of its log: a write that never completed, or damage to the file. The records before them are kept.",
                partition.topic,
                partition.partition,
                partition.batches_dropped,
                partition.bytes_dropped,
            )


class EventLog:
    """A directory of topics.

    Example:
        >>> log = EventLog.open(tmp_path / "log")                                   # doctest: +SKIP
        >>> orders = log.create_topic("orders", TopicConfig(partitions=4))          # doctest: +SKIP
        >>> orders.append_rows([{"__key": b"k", "__value": b"v"}])                  # doctest: +SKIP
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._topics: dict[str, Topic] = {}
        self._lock = threading.RLock()
        self._closed = False
        self.last_recovery = RecoveryReport()
        for sub in (TOPICS_DIR, OFFSETS_DIR, TMP_DIR):
            prepare_directory(self.path / sub, "event log directory")
        self.offsets = ConsumerOffsets(self.path / OFFSETS_DIR)

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, recover: bool = True) -> EventLog:
        """Open (creating if needed) the log at ``path``; recover unlocked partitions unless told not to."""
        log = cls(Path(path))
        log._remove_stale_temp_dirs()
        if recover:
            log.last_recovery = log.recover()
            _warn_about_repairs(log.last_recovery)
        return log

    def _remove_stale_temp_dirs(self) -> None:
        """Remove topic directories left half-built or half-deleted by processes that died."""
        for entry in (self.path / TMP_DIR).iterdir():
            pid_text = entry.name.split("-", 1)[0]
            if pid_text.isdigit() and pid_alive(int(pid_text)):
                continue
            shutil.rmtree(entry, ignore_errors=True)

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError(f"Event log {self.path} is closed")

    # ----------------------------------------------------------------------------------------------
    # topics

    def create_topic(self, name: str, config: TopicConfig | None = None, schema: pa.Schema | None = None,
                     metadata: Mapping[str, str] | None = None) -> Topic:
        """Create a topic: typed when ``schema`` (user columns) is given, raw otherwise.

        Raises:
            TopicExistsError: the name is taken.
            InvalidTopicNameError: the name breaks Kafka's naming rule.
        """
        self._check_open()
        validate_topic_name(name)
        final = topic_dir(self.path, name)
        if final.exists():
            raise TopicExistsError(f"Topic {name!r} already exists")
        staging = inside(self.path, self.path / TMP_DIR / f"{os.getpid()}-{uuid.uuid4().hex}-{name}")
        try:
            Topic.build(staging, name, config or TopicConfig(), schema, metadata or {})
            try:
                os.rename(staging, final)
            except OSError:
                if final.exists():
                    raise TopicExistsError(f"Topic {name!r} already exists") from None
                raise
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
        return self.topic(name)

    def has_topic(self, name: str) -> bool:
        """True if the topic exists (possibly created by another process)."""
        self._check_open()
        directory = topic_dir(self.path, name)
        # A topic directory comes into topics/ whole (rename) and leaves whole, so one without its
        # configuration is damage: it counts as existing, and topic() says what is wrong with it.
        return (directory / TOPIC_CONFIG_FILE).exists() or directory.is_dir()

    def topic(self, name: str) -> Topic:
        """The topic called ``name``; :class:`TopicNotFoundError` if there is none."""
        self._check_open()
        with self._lock:
            topic = self._topics.get(name)
            if topic is not None:
                if (topic.directory / TOPIC_CONFIG_FILE).exists():
                    return topic
                topic.close()
                del self._topics[name]
            directory = topic_dir(self.path, name)
            if not (directory / TOPIC_CONFIG_FILE).exists():
                if directory.is_dir():
                    raise StorageError(
                        f"Topic {name!r} is damaged: {str(directory)!r} has no {TOPIC_CONFIG_FILE} (its "
                        "configuration), so its records cannot be read; they are left as they are. Restore the "
                        "file, or move the directory away to drop the topic."
                    )
                raise TopicNotFoundError(f"Topic {name!r} does not exist")
            topic = Topic.load(directory, name)
            self._topics[name] = topic
            return topic

    def list_topics(self) -> list[str]:
        """Names of all topics, sorted."""
        self._check_open()
        return sorted(entry.name for entry in (self.path / TOPICS_DIR).iterdir()
                      if (entry / TOPIC_CONFIG_FILE).exists())

    def delete_topic(self, name: str) -> None:
        """Delete a topic and its data. Refused while another process or log object writes to it."""
        self._check_open()
        with self._lock:
            topic = self.topic(name)
            topic.close()
            self._topics.pop(name, None)
            locks: list[PartitionLock] = []
            try:
                for p in range(topic.num_partitions):
                    directory = partition_dir(topic.directory, p)
                    if directory.exists():
                        locks.append(PartitionLock.acquire(directory, "delete", f"{name}/{p}"))
                trash = self.path / TMP_DIR / f"{os.getpid()}-{uuid.uuid4().hex}-deleted-{name}"
                os.rename(topic.directory, trash)
            finally:
                for lock in locks:
                    lock.release()
            shutil.rmtree(trash, ignore_errors=True)

    # ----------------------------------------------------------------------------------------------
    # maintenance

    def recover(self) -> RecoveryReport:
        """Recover every partition of every topic that no live writer holds."""
        self._check_open()
        recovered: list[PartitionRecovery] = []
        skipped: list[tuple[str, int]] = []
        damaged: list[tuple[str, int, str]] = []
        for name in self.list_topics():
            try:
                topic = self.topic(name)
            except TopicNotFoundError:
                continue
            for number in range(topic.num_partitions):
                # One damaged partition must not close the whole log: the others open, and the damaged
                # one is reported (and refuses reads with the same message) with its files untouched.
                try:
                    partition = topic.partition(number)
                    recovered.append(partition.recover())
                except PartitionLockedError:
                    skipped.append((name, number))
                except CorruptSegmentError as error:
                    damaged.append((name, number, str(error)))
        return RecoveryReport(tuple(recovered), tuple(skipped), tuple(damaged))

    def run_maintenance(self, now_ms: int | None = None) -> tuple[list[RetentionReport], list[CompactionReport]]:
        """Apply retention and compaction to every topic whose cleanup policy asks for them.

        Partitions another writer holds are skipped (their writer runs its own maintenance).
        """
        self._check_open()
        retention: list[RetentionReport] = []
        compaction: list[CompactionReport] = []
        for name in self.list_topics():
            topic = self.topic(name)
            for partition in topic.partitions():
                with contextlib.suppress(PartitionLockedError):
                    if topic.config.deletes:
                        retention.append(partition.enforce_retention(now_ms))
                    if topic.config.compacted:
                        compaction.append(partition.compact(now_ms))
        return retention, compaction

    def flush(self) -> None:
        """fsync every partition this log writes."""
        with self._lock:
            for topic in self._topics.values():
                topic.flush()

    def close(self) -> None:
        """Release every write lock and descriptor; the object is unusable afterwards."""
        with self._lock:
            if self._closed:
                return
            for topic in self._topics.values():
                topic.close()
            self._topics.clear()
            self._closed = True

    def __enter__(self) -> EventLog:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

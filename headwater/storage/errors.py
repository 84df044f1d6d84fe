"""The errors the event log raises, all under :class:`headwater.errors.StorageError`.

Each names the topic, partition, file or byte position involved, so a message shown to a user says what
was refused and where. Leaves also inherit the builtin they resemble (``ValueError`` for bad arguments,
``LookupError`` for things that are not there), so callers thinking in builtins keep working.
"""

from __future__ import annotations

from headwater.errors import StorageError

__all__ = [
    "CorruptSegmentError",
    "InvalidConfigError",
    "InvalidGroupNameError",
    "InvalidTopicNameError",
    "OffsetOutOfRangeError",
    "PartitionLockedError",
    "RecordBatchError",
    "StorageError",
    "TopicExistsError",
    "TopicNotFoundError",
]


class TopicNotFoundError(StorageError, LookupError):
    """The named topic does not exist (or was deleted while in use)."""


class TopicExistsError(StorageError):
    """``create_topic`` was asked for a name that is already taken."""


class InvalidTopicNameError(StorageError, ValueError):
    """A topic name breaks Kafka's rule ([a-zA-Z0-9._-], 1..249 characters, not "." or "..")."""


class InvalidGroupNameError(StorageError, ValueError):
    """A consumer group name that cannot be stored (empty, or not a string)."""


class InvalidConfigError(StorageError, ValueError):
    """A topic configuration value that is unknown or out of range."""


class RecordBatchError(StorageError, ValueError):
    """Records that do not fit the topic: a missing, extra or mistyped column, a null timestamp..."""


class OffsetOutOfRangeError(StorageError, ValueError):
    """An offset past the end of a partition, or below its start where that matters."""


class PartitionLockedError(StorageError):
    """Another writer (thread or process) holds the partition's write lock.

    Attributes:
        partition_dir: the partition directory whose lock is held.
        holder: what the holder wrote into the lock file (pid, host, thread, purpose), or "" if unknown.
    """

    def __init__(self, message: str, *, partition_dir: str = "", holder: str = "") -> None:
        self.partition_dir = partition_dir
        self.holder = holder
        super().__init__(message)


class CorruptSegmentError(StorageError):
    """A segment or index file whose bytes are not what the format promises.

    Attributes:
        path: the file.
        position: byte position of the first bad byte, or -1 when not known.
    """

    def __init__(self, message: str, *, path: str = "", position: int = -1) -> None:
        self.path = path
        self.position = position
        super().__init__(message)

"""The event log: topics of partitions of Arrow record batches in segment files (see docs/storage-format.md).

The engine codes against the names exported here (the contract is in docs/architecture.md):

>>> log = EventLog.open(data_dir / "log")                                       # doctest: +SKIP
>>> topic = log.create_topic("orders", TopicConfig(partitions=4), schema=None)  # doctest: +SKIP
>>> topic.append(batch)                                                         # doctest: +SKIP
[AppendResult(partition=0, base_offset=0, count=3)]
>>> topic.partition(0).read(0).next_offset                                      # doctest: +SKIP
3

This package imports pyarrow and numpy only, never the engine or the parser.
"""

from __future__ import annotations

from headwater.storage.columns import (
    HEADERS,
    HEADERS_TYPE,
    KEY,
    KEY_FIELD_METADATA,
    OFFSET,
    SYSTEM_COLUMNS,
    TIMESTAMP,
    TOMBSTONE,
    VALUE,
    key_column_names,
    raw_stored_schema,
    typed_stored_schema,
)
from headwater.storage.config import TopicConfig
from headwater.storage.errors import (
    CorruptSegmentError,
    InvalidConfigError,
    InvalidGroupNameError,
    InvalidTopicNameError,
    OffsetOutOfRangeError,
    PartitionLockedError,
    RecordBatchError,
    StorageError,
    TopicExistsError,
    TopicNotFoundError,
)
from headwater.storage.log import EventLog
from headwater.storage.murmur2 import assign_partitions, murmur2, murmur2_bytes
from headwater.storage.offsets import ConsumerOffsets
from headwater.storage.partition import PartitionLog
from headwater.storage.topic import Topic
from headwater.storage.values import (
    AppendResult,
    CompactionReport,
    OffsetPosition,
    PartitionRecovery,
    ReadResult,
    RecoveryReport,
    RetentionReport,
    RollParams,
    SegmentInfo,
    TimestampOffset,
)

__all__ = [
    "HEADERS",
    "HEADERS_TYPE",
    "KEY",
    "KEY_FIELD_METADATA",
    "OFFSET",
    "SYSTEM_COLUMNS",
    "TIMESTAMP",
    "TOMBSTONE",
    "VALUE",
    "AppendResult",
    "CompactionReport",
    "ConsumerOffsets",
    "CorruptSegmentError",
    "EventLog",
    "InvalidConfigError",
    "InvalidGroupNameError",
    "InvalidTopicNameError",
    "OffsetOutOfRangeError",
    "OffsetPosition",
    "PartitionLockedError",
    "PartitionLog",
    "PartitionRecovery",
    "ReadResult",
    "RecordBatchError",
    "RecoveryReport",
    "RetentionReport",
    "RollParams",
    "SegmentInfo",
    "StorageError",
    "TimestampOffset",
    "Topic",
    "TopicConfig",
    "TopicExistsError",
    "TopicNotFoundError",
    "assign_partitions",
    "key_column_names",
    "murmur2",
    "murmur2_bytes",
    "raw_stored_schema",
    "typed_stored_schema",
]

"""The processing log: records a query could not decode, evaluate or encode, with the reason.

ksqlDB writes such problems to its processing-log topic and goes on; so does Headwater. Entries go to
the typed topic :data:`PROCESSING_LOG_TOPIC` with the columns of ksqlDB's ``KSQL_PROCESSING_LOG`` stream
(a subset: the error kinds Headwater produces), so ``CREATE STREAM KSQL_PROCESSING_LOG`` over it, or the
stream the engine registers when ``ksql.logging.processing.stream.auto.create`` is true, reads them with
ksqlDB's queries::

    LOGGER STRING, LEVEL STRING, TIME BIGINT,
    MESSAGE STRUCT<TYPE INTEGER,
                   DESERIALIZATIONERROR STRUCT<TARGET STRING, ERRORMESSAGE STRING, RECORDB64 STRING,
                                               CAUSE ARRAY<STRING>, `topic` STRING>,
                   RECORDPROCESSINGERROR STRUCT<ERRORMESSAGE STRING, RECORD STRING, CAUSE ARRAY<STRING>>,
                   SERIALIZATIONERROR STRUCT<TARGET STRING, ERRORMESSAGE STRING, RECORD STRING,
                                             CAUSE ARRAY<STRING>, `topic` STRING>>

``TYPE`` is 0 for a deserialization error, 1 for a record processing error and 3 for a serialization
error, as in ksqlDB. Entries are built row by row: they are rare by nature (one per bad record), and
building them never sits on the path of good records.

Example:
    >>> e = ProcessingLogEntry.deserialization("CSAS_OUT_0", "in", 3, "value", "bad json", b"{")
    >>> e.message_type, e.error_message
    (0, 'bad json')
"""

from __future__ import annotations

import base64
import threading
import time
from dataclasses import dataclass

import pyarrow as pa

from headwater.engine.schema import Column, LogicalSchema
from headwater.parser import types as t

__all__ = [
    "PROCESSING_LOG_SCHEMA",
    "PROCESSING_LOG_STREAM",
    "PROCESSING_LOG_TOPIC",
    "ProcessingLog",
    "ProcessingLogEntry",
]

PROCESSING_LOG_TOPIC = "headwater_processing_log"
PROCESSING_LOG_STREAM = "KSQL_PROCESSING_LOG"

_CAUSE = t.Array(t.STRING)
_DESERIALIZATION = t.Struct(
    (
        ("TARGET", t.STRING),
        ("ERRORMESSAGE", t.STRING),
        ("RECORDB64", t.STRING),
        ("CAUSE", _CAUSE),
        ("topic", t.STRING),
    )
)
_PROCESSING = t.Struct((("ERRORMESSAGE", t.STRING), ("RECORD", t.STRING), ("CAUSE", _CAUSE)))
_SERIALIZATION = t.Struct(
    (
        ("TARGET", t.STRING),
        ("ERRORMESSAGE", t.STRING),
        ("RECORD", t.STRING),
        ("CAUSE", _CAUSE),
        ("topic", t.STRING),
    )
)
_MESSAGE = t.Struct(
    (
        ("TYPE", t.INT),
        ("DESERIALIZATIONERROR", _DESERIALIZATION),
        ("RECORDPROCESSINGERROR", _PROCESSING),
        ("SERIALIZATIONERROR", _SERIALIZATION),
    )
)

PROCESSING_LOG_SCHEMA = LogicalSchema(
    (
        Column("LOGGER", t.STRING),
        Column("LEVEL", t.STRING),
        Column("TIME", t.BIGINT),
        Column("MESSAGE", _MESSAGE),
    )
)


@dataclass(frozen=True, slots=True)
class ProcessingLogEntry:
    """One problem with one record.

    Attributes:
        query_id: the query that met it (ksqlDB's logger name ends with it).
        message_type: 0 deserialization, 1 record processing, 3 serialization (ksqlDB's numbering).
        error_message: ksqlDB's wording of the problem.
        topic: the topic the record came from (or was going to).
        target: "key" or "value" for (de)serialization errors.
        record: the record's bytes (deserialization) or its values as text (processing).
    """

    query_id: str
    message_type: int
    error_message: str
    topic: str = ""
    target: str = ""
    record: bytes | str | None = None
    partition: int = 0
    offset: int = -1

    @staticmethod
    def deserialization(
        query_id: str,
        topic: str,
        partition: int,
        target: str,
        message: str,
        data: bytes | None,
        offset: int = -1,
    ) -> ProcessingLogEntry:
        return ProcessingLogEntry(query_id, 0, message, topic, target, data, partition, offset)

    @staticmethod
    def processing(query_id: str, message: str, record: str | None) -> ProcessingLogEntry:
        return ProcessingLogEntry(query_id, 1, message, record=record)

    @staticmethod
    def serialization(
        query_id: str, topic: str, target: str, message: str, record: str | None
    ) -> ProcessingLogEntry:
        return ProcessingLogEntry(query_id, 3, message, topic, target, record)

    def message_struct(self) -> dict[str, object]:
        deser: dict[str, object] | None = None
        processing: dict[str, object] | None = None
        ser: dict[str, object] | None = None
        if self.message_type == 0:
            raw = self.record if isinstance(self.record, bytes) else None
            deser = {
                "TARGET": self.target,
                "ERRORMESSAGE": self.error_message,
                "RECORDB64": None if raw is None else base64.b64encode(raw).decode("ascii"),
                "CAUSE": [],
                "topic": self.topic,
            }
        elif self.message_type == 1:
            processing = {"ERRORMESSAGE": self.error_message, "RECORD": _text(self.record), "CAUSE": []}
        else:
            ser = {
                "TARGET": self.target,
                "ERRORMESSAGE": self.error_message,
                "RECORD": _text(self.record),
                "CAUSE": [],
                "topic": self.topic,
            }
        return {
            "TYPE": self.message_type,
            "DESERIALIZATIONERROR": deser,
            "RECORDPROCESSINGERROR": processing,
            "SERIALIZATIONERROR": ser,
        }


def _text(record: bytes | str | None) -> str | None:
    if record is None or isinstance(record, str):
        return record
    return record.decode("utf-8", errors="replace")


class ProcessingLog:
    """Collects entries and appends them to the processing-log topic of an event log.

    The log is an optional sink: with no event log attached (``log=None``) entries are only counted and
    kept in memory (the last ``keep`` of them), which tests and the conformance runner read.
    """

    def __init__(self, log: object | None = None, keep: int = 1000) -> None:
        self._log = log
        self._lock = threading.Lock()
        self._recent: list[ProcessingLogEntry] = []
        self._keep = keep
        self.count = 0
        self._per_topic: dict[str, int] = {}

    @property
    def recent(self) -> list[ProcessingLogEntry]:
        with self._lock:
            return list(self._recent)

    def count_for_topic(self, topic: str) -> int:
        """Records of ``topic`` reported since the engine started (DESCRIBE EXTENDED's failed messages)."""
        with self._lock:
            return self._per_topic.get(topic, 0)

    def arrow_schema(self) -> pa.Schema:
        return pa.schema(PROCESSING_LOG_SCHEMA.arrow_fields())

    def write(self, entries: list[ProcessingLogEntry]) -> None:
        """Record ``entries`` (in memory, and in the topic when a log is attached)."""
        if not entries:
            return
        with self._lock:
            self.count += len(entries)
            for entry in entries:
                if entry.topic:
                    self._per_topic[entry.topic] = self._per_topic.get(entry.topic, 0) + 1
            self._recent.extend(entries)
            del self._recent[: max(0, len(self._recent) - self._keep)]
        if self._log is None:
            return
        now = int(time.time() * 1000)
        schema = self.arrow_schema()
        batch = pa.RecordBatch.from_pylist(
            [
                {
                    "LOGGER": f"processing.{e.query_id}",
                    "LEVEL": "ERROR",
                    "TIME": now,
                    "MESSAGE": e.message_struct(),
                }
                for e in entries
            ],
            schema=schema,
        )
        topic = self._topic(schema)
        topic.append(batch, partition=0)  # type: ignore[attr-defined]

    def ensure_topic(self) -> None:
        """Create the processing-log topic now (it is otherwise created by the first entry)."""
        if self._log is not None:
            self._topic(self.arrow_schema())

    def _topic(self, schema: pa.Schema) -> object:
        log = self._log
        assert log is not None
        if log.has_topic(PROCESSING_LOG_TOPIC):  # type: ignore[attr-defined]
            return log.topic(PROCESSING_LOG_TOPIC)  # type: ignore[attr-defined]
        from headwater.storage import TopicConfig

        return log.create_topic(PROCESSING_LOG_TOPIC, TopicConfig(partitions=1), schema=schema)  # type: ignore[attr-defined]

"""How the runner writes input records into the engine's topics and reads records back out.

Inputs go to *raw* topics (``__key`` / ``__value`` bytes, ``__timestamp``, ``__headers``), exactly the
bytes the harness serialised, as Kafka would hold them. Outputs come from two kinds of topics:

* raw topics (a source declared over a topic the case produced to, or INSERT VALUES targets): the bytes
  are read back as stored;
* typed topics (every persistent query's sink): the rows are first encoded into the bytes ksqlDB would
  have written, with the product's own encoders for the sink's key and value formats
  (:class:`headwater.engine.serde.SourceSerde`, windowed keys included), and then read back with the
  harness serdes like any other record. This is where the product's serialisation is checked.

Records of a topic with several partitions are read partition by partition, each in offset order, or,
when the runner noted the topic's end offsets after each step it fed, in the order they were produced
(ksqlDB's stub Kafka keeps one production order per topic, which a partitioned log does not record).
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from headwater.conformance.comparator import ActualRecord
from headwater.conformance.model import TopicSpec
from headwater.conformance.serde import SerdeFailure, TopicSerdes
from headwater.engine.catalog import DataSource
from headwater.parser import ast

__all__ = [
    "HEADERS_TYPE",
    "RawRecord",
    "append_raw",
    "create_declared_topics",
    "create_raw_topic",
    "decoded_rows",
    "partition_count",
    "read_records",
    "topic_names",
]

HEADERS_TYPE = pa.list_(pa.struct([pa.field("key", pa.string()), pa.field("value", pa.binary())]))
"""The stored type of record headers (docs/architecture.md, the stored record layout)."""


@dataclass(frozen=True, slots=True)
class RawRecord:
    """A serialised record to append: key and value bytes (None: null), timestamp, headers (None: none)."""

    key: bytes | None
    value: bytes | None
    timestamp: int
    headers: tuple[tuple[str, bytes | None], ...] | None = None


def create_raw_topic(engine: Any, name: str, partitions: int) -> None:
    """Create a raw topic unless it exists (the harness creates declared topics before the statements)."""
    from headwater.storage import TopicConfig

    if not engine.log.has_topic(name):
        engine.log.create_topic(name, TopicConfig(partitions=partitions))


def create_declared_topics(
    engine: Any,
    statements: Sequence[ast.Statement],
    topics: Sequence[TopicSpec],
    *,
    default_partitions: int = 1,
) -> None:
    """Create each topic a CREATE STREAM/TABLE with columns names, as ksqlDB's harness does before it
    runs the statements (FORMAT.md §4.3), with the partitions of the case's ``topics`` entry, else of
    the statement's ``PARTITIONS``, else ``default_partitions`` (QTT's stub Kafka holds every record on
    partition 0 whatever the count; the RQTT harness creates a real topic of 4).

    Other topics are left to the statements: a query's sink created here as a raw topic would keep the
    query from writing its typed rows.
    """
    partitions_from_topics = {t.name: t.partitions for t in topics}
    for statement in statements:
        if not isinstance(statement, ast.CreateStream | ast.CreateTable) or not statement.elements:
            continue
        properties = {p.name.upper(): p.value for p in statement.properties}
        topic = properties.get("KAFKA_TOPIC")
        if not isinstance(topic, ast.StringLiteral):
            continue
        partitions = properties.get("PARTITIONS")
        count = partitions_from_topics.get(topic.value)
        if count is None:
            count = partitions.value if isinstance(partitions, ast.IntegerLiteral) else default_partitions
        create_raw_topic(engine, topic.value, count)


def topic_names(engine: Any) -> list[str]:
    """Every topic of the engine's log, by name."""
    names = []
    for topic in engine.log.list_topics():
        names.append(topic if isinstance(topic, str) else topic.name)
    return names


def partition_count(engine: Any, name: str) -> int | None:
    """The partitions of topic ``name``, or None when it does not exist."""
    if not engine.log.has_topic(name):
        return None
    return len(engine.log.topic(name).end_offsets())


def _is_raw(topic: Any) -> bool:
    return getattr(topic, "schema", None) is None


def append_raw(
    engine: Any,
    name: str,
    records: Sequence[RawRecord],
    source: DataSource,
    *,
    kafka_partitioning: bool = False,
) -> None:
    """Append ``records`` to topic ``name``, in order: all to partition 0, as QTT's stub Kafka holds
    them, or with ``kafka_partitioning`` each to the partition Kafka's default partitioner picks
    (``toPositive(murmur2(key bytes)) % partitions``, :func:`headwater.storage.assign_partitions`; a
    record without a key to partition 0, where a real producer's sticky choice is arbitrary), as the
    RQTT harness's real ``KafkaProducer`` does. One batch per partition.

    A raw topic stores the bytes as given. A typed topic (another query's sink, which a case may produce
    to, as one may produce to any Kafka topic) stores rows: the bytes are decoded with the product's
    decoders for the formats of the query's sink, as a consumer of that topic would read them.

    Raises:
        SerdeFailure: a record does not decode into the typed topic's columns.
    """
    if not kafka_partitioning:
        _append_to(engine, name, records, source, 0)
        return
    from headwater.storage import assign_partitions

    count = len(engine.log.topic(name).end_offsets())
    chosen = assign_partitions(pa.array([r.key for r in records], pa.binary()), count, keyless_partition=0)
    for partition in sorted(set(chosen.tolist())):
        _append_to(engine, name, [r for r, p in zip(records, chosen) if p == partition], source, partition)


def _append_to(
    engine: Any, name: str, records: Sequence[RawRecord], source: DataSource, partition: int
) -> None:
    """Append ``records`` to one partition of topic ``name`` as one batch, in order."""
    topic = engine.log.topic(name)
    headers = pa.array(
        [None if r.headers is None else [{"key": k, "value": v} for k, v in r.headers] for r in records],
        HEADERS_TYPE,
    )
    keys = pa.array([r.key for r in records], pa.binary())
    values = pa.array([r.value for r in records], pa.binary())
    timestamps = pa.array([r.timestamp for r in records], pa.int64())
    if _is_raw(topic):
        batch = pa.RecordBatch.from_arrays(
            [keys, values, timestamps, headers], names=["__key", "__value", "__timestamp", "__headers"]
        )
    else:
        batch = _typed_batch(engine, name, source, keys, values, timestamps, headers)
    topic.append(batch, partition=partition)


def _typed_batch(
    engine: Any,
    name: str,
    source: DataSource,
    keys: pa.Array,
    values: pa.Array,
    timestamps: pa.Array,
    headers: pa.Array,
) -> pa.RecordBatch:
    from headwater.engine.operators.sink import stored_schema
    from headwater.engine.serde import SourceSerde

    writer = next((s for s in engine.catalog.sources_on_topic(name) if s.is_sink), source)
    serde = SourceSerde(writer)
    decoded: dict[str, pa.Array] = {}
    for part, result in (("key", serde.decode_key(keys)), ("value", serde.decode_value(values))):
        if result.errors:
            row, message = result.errors[0]
            raise SerdeFailure(
                f"Failed to serialize {part}: record {row} does not decode into {name}: {message}"
            )
        decoded.update(result.columns)
    schema = stored_schema(writer)
    arrays = [
        decoded[f.name].cast(f.type) if f.name in decoded else pa.nulls(len(keys), f.type) for f in schema
    ]
    return pa.RecordBatch.from_arrays(
        [*arrays, timestamps, headers, values.is_null()],
        schema=pa.schema(
            [
                *schema,
                pa.field("__timestamp", pa.int64()),
                pa.field("__headers", HEADERS_TYPE),
                pa.field("__tombstone", pa.bool_()),
            ]
        ),
    )


def _headers_of(value: Any) -> tuple[tuple[str, bytes | None], ...]:
    if not value:
        return ()
    return tuple((h["key"], h["value"]) for h in value)


def _encoded_typed(batch: pa.RecordBatch, source: DataSource) -> tuple[list[Any], list[Any]]:
    """Key and value bytes of a typed batch, as the product's encoders write them.

    A row flagged ``__tombstone`` has a null value whatever its kind: a table's deletion, or a stream
    record without a value (ksqlDB carries null values through streams). A stream row the sink marks as
    having had no key at all (its absent-key column, found by metadata) has a null key, not a key of
    NULLs, as ksqlDB writes it. The row count is handed to the encoders, because a sink without key
    columns (or without value columns, the NONE format) gives them no column to read it from.
    """
    from headwater.engine.operators.sink import absent_key_field
    from headwater.engine.serde import SourceSerde

    serde = SourceSerde(source)
    names = batch.schema.names
    rows = batch.num_rows
    key_columns = [batch.column(c.name) for c in source.schema.key_columns]
    value_columns = [batch.column(c.name) for c in source.schema.value_columns]
    if source.window is not None:
        key_columns = [*key_columns, *(batch.column(n) for n in ("WINDOWSTART", "WINDOWEND") if n in names)]
    null_value = (
        batch.column("__tombstone").fill_null(False).to_numpy(zero_copy_only=False).astype(bool)
        if "__tombstone" in names
        else None
    )
    absent_column = absent_key_field(batch.schema)
    absent = (
        batch.column(absent_column).fill_null(False).to_numpy(zero_copy_only=False).astype(bool)
        if absent_column is not None
        else None
    )
    keys, key_errors = serde.encode_key(key_columns, rows=rows, absent=absent)
    values, value_errors = serde.encode_value(value_columns, rows=rows, null_record=null_value)
    if key_errors or value_errors:
        row, message = (key_errors or value_errors)[0]
        part = "key" if key_errors else "value"
        raise SerdeFailure(f"Failed to serialize {part} of the sink's row {row}: {message}")
    key_list, value_list = keys.to_pylist(), values.to_pylist()
    if len(key_list) != rows or len(value_list) != rows:
        raise SerdeFailure(
            f"encoding {rows} rows of {source.name} gave {len(key_list)} keys and {len(value_list)} values"
        )
    return key_list, value_list


def read_records(
    engine: Any, name: str, serdes: TopicSerdes, *, production_marks: Sequence[Mapping[int, int]] = ()
) -> list[ActualRecord]:
    """Every record of topic ``name``, deserialised with the harness serdes (an absent topic has none).

    Rows of a typed topic are encoded with the formats of the query's sink that writes it (the source
    the typed columns belong to), or of ``serdes``' source when no sink writes the topic.

    Records come partition by partition, each in offset order, unless ``production_marks`` is given: the
    topic's end offsets (partition to end) noted after each step that fed a query, in order. Records are
    then in the order they were produced, as ksqlDB's stub Kafka keeps one order per topic: by the step
    that produced them, and within one step (records one input produced on several partitions, whose
    order the log does not keep) by partition, then offset.

    Raises:
        SerdeFailure: a record cannot be encoded or deserialised.
    """
    if not engine.log.has_topic(name):
        return []
    topic = engine.log.topic(name)
    writer = next((s for s in engine.catalog.sources_on_topic(name) if s.is_sink), serdes.source)
    records: list[ActualRecord] = []
    positions: list[tuple[int, int, int]] = []
    for partition in range(len(topic.end_offsets())):
        result = topic.partition(partition).read(0)
        for batch in result.batches:
            if batch.num_rows == 0:
                continue
            names = batch.schema.names
            if production_marks:
                ends = [mark.get(partition, 0) for mark in production_marks]
                positions.extend(
                    (bisect.bisect_right(ends, offset), partition, offset)
                    for offset in batch.column("__offset").to_pylist()
                )
            if "__value" in names:
                keys = batch.column("__key").to_pylist()
                values = batch.column("__value").to_pylist()
            else:
                keys, values = _encoded_typed(batch, writer)
            timestamps = batch.column("__timestamp").to_pylist()
            headers = (
                batch.column("__headers").to_pylist() if "__headers" in names else [None] * batch.num_rows
            )
            for key, value, timestamp, header in zip(keys, values, timestamps, headers):
                key_spec, window = serdes.deserialize_key(key)
                records.append(
                    ActualRecord(
                        key=key_spec,
                        value=serdes.deserialize_value(value),
                        timestamp=int(timestamp),
                        headers=_headers_of(header),
                        window=window,
                    )
                )
    if production_marks:
        return [record for _, record in sorted(zip(positions, records), key=lambda pair: pair[0])]
    return records


def decoded_rows(engine: Any, source: DataSource) -> list[dict[str, Any]]:
    """Every record of ``source``'s topic as a dict of column name to Python value, decoded with the
    product's decoders for raw topics, with ``ROWTIME`` (the record's timestamp) and ``__tombstone``
    (True for a record without a value). Records appear partition by partition, each in offset order.

    Raises:
        SerdeFailure: a raw record cannot be decoded.
    """
    from headwater.engine.schema import ROWTIME
    from headwater.engine.serde import SourceSerde

    if not engine.log.has_topic(source.topic):
        return []
    topic = engine.log.topic(source.topic)
    serde = SourceSerde(source)
    rows: list[dict[str, Any]] = []
    for partition in range(len(topic.end_offsets())):
        for batch in topic.partition(partition).read(0).batches:
            if batch.num_rows == 0:
                continue
            names = batch.schema.names
            columns: dict[str, list[Any]] = {}
            if "__value" in names:
                values = batch.column("__value")
                tombstones = values.is_null().to_pylist()
                for decoded in (serde.decode_key(batch.column("__key")), serde.decode_value(values)):
                    if decoded.errors:
                        row, message = decoded.errors[0]
                        if not (decoded is not None and tombstones[row]):
                            raise SerdeFailure(
                                f"record {row} of topic {source.topic} does not decode: {message}"
                            )
                    columns.update({name: array.to_pylist() for name, array in decoded.columns.items()})
            else:
                tombstones = (
                    batch.column("__tombstone").to_pylist()
                    if "__tombstone" in names
                    else [False] * batch.num_rows
                )
                for column in source.schema:
                    if column.name in names:
                        columns[column.name] = batch.column(column.name).to_pylist()
            timestamps = batch.column("__timestamp").to_pylist()
            for i in range(batch.num_rows):
                record = {name: values_[i] for name, values_ in columns.items()}
                record[ROWTIME] = timestamps[i]
                record["__tombstone"] = bool(tombstones[i])
                rows.append(record)
    return rows

"""Writing input records into the engine's log as the two harnesses' Kafka would hold them."""

from __future__ import annotations

from pathlib import Path

from headwater.conformance import engine_io
from headwater.conformance.rest_executor import RQTT_DEFAULT_PARTITIONS
from headwater.engine import Engine
from headwater.parser import parse

STREAM = "CREATE STREAM S (K STRING KEY, V INT) WITH (kafka_topic='t', value_format='JSON');"


def _partitions_of(engine: Engine, topic: str) -> dict[int, list[bytes | None]]:
    log_topic = engine.log.topic(topic)
    found: dict[int, list[bytes | None]] = {}
    for partition in range(len(log_topic.end_offsets())):
        for batch in log_topic.partition(partition).read(0).batches:
            found.setdefault(partition, []).extend(batch.column("__key").to_pylist())
    return found


def test_rqtt_inputs_land_where_kafkas_default_partitioner_puts_them(tmp_path: Path) -> None:
    # ksqlDB's RQTT harness creates the topic with 4 partitions and produces with a real producer: key
    # "x" hashes (murmur2) to partition 2, which push-queries "join with ROWPARTITION and ROWOFFSET" expects
    engine = Engine(tmp_path, background=False)
    try:
        engine_io.create_declared_topics(
            engine, parse(STREAM), [], default_partitions=RQTT_DEFAULT_PARTITIONS
        )
        engine.execute(STREAM)
        source = engine.catalog.require_source("S")
        records = [engine_io.RawRecord(k, b'{"V": 1}', 0) for k in (b"x", None, b"x", b"21")]
        engine_io.append_raw(engine, "t", records, source, kafka_partitioning=True)
        assert _partitions_of(engine, "t") == {0: [None, b"21"], 2: [b"x", b"x"]}
    finally:
        engine.close()


def test_qtt_inputs_all_go_to_partition_zero(tmp_path: Path) -> None:
    engine = Engine(tmp_path, background=False)
    try:
        declared = STREAM.replace("value_format='JSON'", "value_format='JSON', partitions=3")
        engine_io.create_declared_topics(engine, parse(declared), [])
        engine.execute(declared)
        records = [engine_io.RawRecord(k, b'{"V": 1}', 0) for k in (b"x", b"y")]
        engine_io.append_raw(engine, "t", records, engine.catalog.require_source("S"))
        assert _partitions_of(engine, "t") == {0: [b"x", b"y"]}
    finally:
        engine.close()

"""Raw topics (JSON, DELIMITED) decode for historical queries with the streaming decoders: the same rows
as a push query, bad records counted and logged (never silently dropped), decoded segments cached."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from headwater.engine import Engine
from headwater.engine.historical import HistoricalSession, run_select
from headwater.engine.historical.decode import HISTORICAL_QUERY_ID, DecodeCache
from headwater.storage import TopicConfig


def _raw_topic(engine: Engine, name: str, value_format: str, values: list[bytes | None], per_segment: int) -> None:
    topic = engine.log.create_topic(
        name,
        TopicConfig(partitions=1),
        schema=None,
        metadata={"key_format": "KAFKA", "value_format": value_format},
    )
    for start in range(0, len(values), per_segment):
        chunk = values[start : start + per_segment]
        topic.append(
            pa.record_batch(
                {
                    "__timestamp": pa.array(np.arange(start, start + len(chunk), dtype=np.int64) * 10),
                    "__key": pa.nulls(len(chunk), pa.binary()),
                    "__value": pa.array(chunk, pa.binary()),
                }
            ),
            partition=0,
        )
        topic.partition(0).roll()  # one segment per chunk, sealed


def test_json_rows_decode_like_streaming_and_bad_records_are_counted(engine: Engine) -> None:
    values: list[bytes | None] = [b'{"NAME": "a", "N": 1}', b'{"NAME": "b", "N": "two"}', b"not json", b'{"NAME": "c"}', None]
    values += [f'{{"NAME": "x{i}", "N": {i}}}'.encode() for i in range(20)]
    _raw_topic(engine, "people", "JSON", values, per_segment=6)
    engine.execute("CREATE STREAM PEOPLE (NAME STRING, N INT) WITH (KAFKA_TOPIC='people', VALUE_FORMAT='JSON');")
    result = run_select(engine, "SELECT NAME, N FROM PEOPLE;")
    assert result.stats.undecodable_records == {"people": 2}  # "two" is no INT, "not json" is no JSON
    assert any("could not be decoded" in warning for warning in result.warnings)
    # the record without a value is no row of a stream; a missing field is NULL
    assert sorted(result.rows(), key=str) == sorted([("a", 1), ("c", None)] + [(f"x{i}", i) for i in range(20)], key=str)
    logged = [e for e in engine.processing_log.recent if e.query_id == HISTORICAL_QUERY_ID]
    assert len(logged) == 2


def test_delimited_rows_decode_like_streaming(engine: Engine) -> None:
    values: list[bytes | None] = [f"{i},item{i},{i * 1.5}".encode() for i in range(10)]
    values[4] = b"4,only-two-fields"
    _raw_topic(engine, "csv", "DELIMITED", values, per_segment=3)
    engine.execute(
        "CREATE STREAM CSV (ID INT, ITEM STRING, PRICE DOUBLE) WITH (KAFKA_TOPIC='csv', VALUE_FORMAT='DELIMITED');"
    )
    result = run_select(engine, "SELECT ID, ITEM, PRICE FROM CSV WHERE ID <> 7;")
    assert result.stats.undecodable_total == 1
    assert sorted(result.rows()) == [(i, f"item{i}", i * 1.5) for i in range(10) if i not in (4, 7)]
    assert result.stats.sources[0].decoded


def test_decoded_sealed_segments_are_cached_and_still_reported(engine: Engine) -> None:
    values: list[bytes | None] = [b"broken", *(f'{{"V": {i}}}'.encode() for i in range(30))]
    _raw_topic(engine, "vals", "JSON", values, per_segment=5)
    engine.execute("CREATE STREAM VALS (V INT) WITH (KAFKA_TOPIC='vals', VALUE_FORMAT='JSON');")
    cache = DecodeCache()
    first = HistoricalSession(engine, cache=cache).run("SELECT SUM(V) FROM VALS;")
    sealed = sum(1 for s in engine.log.topic("vals").segments() if s.sealed)
    assert len(cache) == sealed == 7
    logged_after_first = len(engine.processing_log.recent)
    second = HistoricalSession(engine, cache=cache).run("SELECT SUM(V) FROM VALS;")
    assert first.rows() == second.rows() == [(sum(range(30)),)]
    assert second.stats.undecodable_total == first.stats.undecodable_total == 1
    assert len(engine.processing_log.recent) == logged_after_first  # logged once, when decoded

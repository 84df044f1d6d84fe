"""Stateless query features through a real Engine over raw topics: the processing log, PARTITION BY
re-keying, headers, TIMESTAMP / TIMESTAMP_FORMAT, pseudo-columns, null values, INSERT INTO ... SELECT
into raw streams, PAUSE / RESUME, ASSERT, and what SHOW / DESCRIBE / EXPLAIN say about queries."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pytest

from headwater.engine import Engine
from headwater.engine.entities import (
    AssertTopicEntity,
    CommandStatusEntity,
    Queries,
    QueryDescriptionEntity,
    SourceDescriptionEntity,
)
from headwater.engine.operators.base import HEADERS_ARROW_TYPE, Operator
from headwater.engine.operators.sink import SinkOperator
from headwater.engine.planner.graph import Stage
from headwater.engine.runtime.processing_log import PROCESSING_LOG_TOPIC
from headwater.errors import ExecutionError, PlanError
from headwater.storage.murmur2 import murmur2_bytes

Record = tuple[bytes | None, bytes | None, int, list[tuple[str, bytes]] | None]


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    opened = Engine(tmp_path, background=False, config={"auto.offset.reset": "earliest"})
    yield opened
    opened.close()


def produce(engine: Engine, topic: str, records: Sequence[Record], partition: int = 0) -> None:
    """Append raw records (key bytes, value bytes, timestamp, headers) to a partition."""
    headers = [None if h is None else [{"key": k, "value": v} for k, v in h] for _, _, _, h in records]
    batch = pa.RecordBatch.from_arrays(
        [
            pa.array([r[0] for r in records], pa.binary()),
            pa.array([r[1] for r in records], pa.binary()),
            pa.array([r[2] for r in records], pa.int64()),
            pa.array(headers, HEADERS_ARROW_TYPE),
        ],
        names=["__key", "__value", "__timestamp", "__headers"],
    )
    engine.log.topic(topic).append(batch, partition=partition)


def json_value(**fields: Any) -> bytes:
    return orjson.dumps(fields)


def sink(engine: Engine, topic: str, *system: str) -> dict[int, list[dict[str, Any]]]:
    """Rows of each partition of a typed topic: user columns, plus the system columns asked for."""
    found: dict[int, list[dict[str, Any]]] = {}
    log_topic = engine.log.topic(topic)
    for partition in range(len(log_topic.end_offsets())):
        part = log_topic.partition(partition)
        rows: list[dict[str, Any]] = []
        for batch in part.read(part.start_offset).batches:
            names = [n for n in batch.schema.names if not n.startswith("__") or n in system]
            rows.extend(batch.select(names).to_pylist())
        found[partition] = rows
    return found


def drain(engine: Engine) -> int:
    return sum(q.process_available() for q in engine.persistent_queries())


CREATE = (
    "CREATE STREAM S (ID STRING KEY, NAME STRING, V INT) "
    "WITH (KAFKA_TOPIC='s', PARTITIONS=1, VALUE_FORMAT='JSON');"
)


def test_bad_records_and_failing_expressions_go_to_the_processing_log(engine: Engine) -> None:
    engine.execute(CREATE)
    engine.execute("CREATE STREAM OUT AS SELECT ID, 100 / V AS Q FROM S;")
    produce(
        engine,
        "s",
        [
            (b"a", json_value(NAME="x", V=4), 1, None),
            (b"b", b"{not json", 2, None),
            (b"c", json_value(NAME="y", V=0), 3, None),  # integer division by zero
            (b"d", json_value(NAME="z", V="not a number"), 4, None),
            (b"e", json_value(NAME="w", V=5), 5, None),
        ],
    )
    assert drain(engine) == 5  # the query went on past every bad record
    assert sink(engine, "OUT")[0] == [
        {"ID": "a", "Q": 25},
        {"ID": "c", "Q": None},
        {"ID": "e", "Q": 20},
    ]
    entries = engine.processing_log.recent
    decode = [e for e in entries if e.message_type == 0]
    assert [(e.topic, e.offset, e.target) for e in decode] == [("s", 1, "value"), ("s", 3, "value")]
    assert decode[0].record == b"{not json"
    assert any(e.message_type == 1 and "zero" in e.error_message.lower() for e in entries)
    # The entries are also rows of the processing-log topic, in KSQL_PROCESSING_LOG's shape.
    logged = sink(engine, PROCESSING_LOG_TOPIC)[0]
    assert len(logged) == len(entries)
    first = logged[0]["MESSAGE"]
    assert first["TYPE"] == 0 and first["DESERIALIZATIONERROR"]["topic"] == "s"
    assert first["DESERIALIZATIONERROR"]["ERRORMESSAGE"]
    description = engine.execute("DESCRIBE S EXTENDED;")[0]
    assert isinstance(description, SourceDescriptionEntity)
    stats = description.to_json()["sourceDescription"]
    assert stats["errorStatsMap"]["consumer-failed-messages"]["value"] == 2.0
    assert stats["statisticsMap"]["consumer-total-messages"]["value"] == 5.0


def test_partition_by_rekeys_through_the_partitioner(engine: Engine) -> None:
    engine.execute(CREATE)
    engine.execute("CREATE STREAM BYNAME WITH (PARTITIONS=4) AS SELECT * FROM S PARTITION BY NAME;")
    names = [f"name-{i}" for i in range(40)]
    produce(engine, "s", [(b"k", json_value(NAME=n, V=i), i, None) for i, n in enumerate(names)])
    drain(engine)
    rows = sink(engine, "BYNAME")
    assert sorted(r["NAME"] for part in rows.values() for r in part) == sorted(names)
    for partition, part_rows in rows.items():
        for row in part_rows:
            # The KAFKA key format serialises a STRING as its UTF-8 bytes; Kafka's default partitioner
            # puts the record at murmur2(bytes) % partitions.
            expected = (murmur2_bytes(row["NAME"].encode()) & 0x7FFFFFFF) % 4
            assert partition == expected
    source = engine.catalog.source("BYNAME")
    assert source is not None and str(source.schema) == "`NAME` STRING KEY, `V` INTEGER, `ID` STRING"


def test_header_columns_and_headers_copied_to_the_sink(engine: Engine) -> None:
    # one source cannot have both (ksqlDB: "Schema already contains a HEADERS column.")
    engine.execute(
        "CREATE STREAM H (K STRING KEY, V INT, HS ARRAY<STRUCT<KEY STRING, VALUE BYTES>> HEADERS) "
        "WITH (KAFKA_TOPIC='h', PARTITIONS=1, VALUE_FORMAT='JSON');"
        "CREATE STREAM HX (K STRING KEY, V INT, X BYTES HEADER('x')) WITH (KAFKA_TOPIC='h', VALUE_FORMAT='JSON');"
    )
    engine.execute("CREATE STREAM HO AS SELECT H.K, H.V, HS, X FROM H JOIN HX WITHIN 1 SECOND ON H.K = HX.K;")
    produce(
        engine,
        "h",
        [
            (b"a", json_value(V=1), 1, [("x", b"1"), ("y", b"2"), ("x", b"3")]),
            (b"b", json_value(V=2), 2, None),
        ],
    )
    drain(engine)
    rows = sink(engine, "HO", "__headers")[0]
    assert rows[0]["X"] == b"3"  # the last header of that key
    assert rows[0]["HS"] == [
        {"KEY": "x", "VALUE": b"1"},
        {"KEY": "y", "VALUE": b"2"},
        {"KEY": "x", "VALUE": b"3"},
    ]
    assert rows[0]["__headers"] == [
        {"key": "x", "value": b"1"},
        {"key": "y", "value": b"2"},
        {"key": "x", "value": b"3"},
    ]
    assert rows[1]["X"] is None and not rows[1]["HS"]
    with pytest.raises(PlanError, match="Cannot insert into HEADER columns: X"):
        engine.execute("INSERT INTO HX (K, V, X) VALUES ('c', 3, TO_BYTES('ab', 'utf8'));")


def test_timestamp_columns_set_rowtime(engine: Engine) -> None:
    engine.execute(
        "CREATE STREAM T1 (K STRING KEY, TS BIGINT, V INT) "
        "WITH (KAFKA_TOPIC='t1', PARTITIONS=1, VALUE_FORMAT='JSON', TIMESTAMP='TS');"
        "CREATE STREAM T2 (K STRING KEY, TS STRING, V INT) WITH (KAFKA_TOPIC='t2', PARTITIONS=1, "
        "VALUE_FORMAT='JSON', TIMESTAMP='TS', TIMESTAMP_FORMAT='yyyy-MM-dd''T''HH:mm:ssX');"
        "CREATE STREAM O1 AS SELECT K, V, ROWTIME AS RT FROM T1;"
        "CREATE STREAM O2 AS SELECT K, V, ROWTIME AS RT FROM T2;"
    )
    produce(
        engine, "t1", [(b"a", json_value(TS=5000, V=1), 1, None), (b"b", json_value(TS=None, V=2), 2, None)]
    )
    produce(
        engine,
        "t2",
        [
            (b"a", json_value(TS="2020-01-01T00:00:01Z", V=1), 1, None),
            (b"b", json_value(TS="not a time", V=2), 2, None),
            (b"c", json_value(TS="2020-01-01T02:00:00+02", V=3), 3, None),
        ],
    )
    drain(engine)
    assert sink(engine, "O1", "__timestamp")[0] == [{"K": "a", "V": 1, "RT": 5000, "__timestamp": 5000}]
    assert [(r["K"], r["RT"]) for r in sink(engine, "O2")[0]] == [("a", 1577836801000), ("c", 1577836800000)]
    failures = [e for e in engine.processing_log.recent if e.target == "timestamp"]
    assert [(e.topic, e.offset) for e in failures] == [("t1", 1), ("t2", 1)]


def test_invalid_timestamps_can_fail_the_query(tmp_path: Path) -> None:
    engine = Engine(
        tmp_path,
        background=False,
        config={"auto.offset.reset": "earliest", "ksql.timestamp.throw.on.invalid": "true"},
    )
    engine.execute(
        "CREATE STREAM T (K STRING KEY, TS BIGINT) "
        "WITH (KAFKA_TOPIC='t', PARTITIONS=1, VALUE_FORMAT='JSON', TIMESTAMP='TS');"
        "CREATE STREAM O AS SELECT * FROM T;"
    )
    produce(engine, "t", [(b"a", json_value(TS=-5), 1, None)])
    (query,) = engine.persistent_queries()
    with pytest.raises(ExecutionError, match="Invalid timestamp"):
        query.process_available()
    assert query.state == "ERROR"
    engine.close()


def test_pseudo_columns_and_null_values(engine: Engine) -> None:
    engine.execute(CREATE)
    engine.execute(
        "CREATE STREAM P AS SELECT ID, NAME, ROWTIME AS RT, ROWPARTITION AS RP, ROWOFFSET AS RO FROM S;"
        "CREATE STREAM F AS SELECT ID, NAME FROM S WHERE ROWOFFSET >= 1;"
    )
    produce(engine, "s", [(b"a", json_value(NAME="x", V=1), 7, None), (b"b", None, 8, None)])
    drain(engine)
    # A record without a value goes through a projection as a record without a value (ksqlDB keeps
    # it: its key is known) and a filter drops it.
    assert sink(engine, "P", "__tombstone")[0] == [
        {"ID": "a", "NAME": "x", "RT": 7, "RP": 0, "RO": 0, "__tombstone": False},
        {"ID": "b", "NAME": None, "RT": None, "RP": None, "RO": None, "__tombstone": True},
    ]
    assert sink(engine, "F")[0] == []


def test_insert_into_select_serialises_into_a_raw_stream(engine: Engine) -> None:
    engine.execute(CREATE)
    engine.execute(
        "CREATE STREAM D (ID STRING KEY, NAME STRING, V INT) "
        "WITH (KAFKA_TOPIC='d', PARTITIONS=1, VALUE_FORMAT='DELIMITED');"
        "INSERT INTO D SELECT * FROM S WHERE V > 1;"
    )
    produce(
        engine, "s", [(b"a", json_value(NAME="x", V=1), 1, None), (b"b", json_value(NAME="y", V=2), 2, None)]
    )
    drain(engine)
    part = engine.log.topic("d").partition(0)
    stored = [b.select(["__key", "__value"]).to_pylist() for b in part.read(0).batches]
    assert [r for rows in stored for r in rows] == [{"__key": b"b", "__value": b"y,2"}]
    rows = list(engine.stream("SELECT * FROM D;"))
    assert [r.columns for r in rows] == [("b", "y", 2)]


def test_pause_and_resume_survive_a_restart(tmp_path: Path) -> None:
    engine = Engine(tmp_path, background=False, config={"auto.offset.reset": "earliest"})
    engine.execute(CREATE + "CREATE STREAM OUT AS SELECT * FROM S;")
    status = engine.execute("PAUSE CSAS_OUT_0;")[0]
    assert isinstance(status, CommandStatusEntity) and status.command_status.message == "Query paused."
    produce(engine, "s", [(b"a", json_value(NAME="x", V=1), 1, None)])
    assert drain(engine) == 0
    listing = engine.execute("SHOW QUERIES;")[0]
    assert isinstance(listing, Queries) and listing.queries[0].state == "PAUSED"
    engine.close()
    engine = Engine(tmp_path, background=False, config={"auto.offset.reset": "earliest"})
    assert drain(engine) == 0
    engine.execute("RESUME ALL;")
    assert drain(engine) == 1
    assert sink(engine, "OUT")[0] == [{"ID": "a", "NAME": "x", "V": 1}]
    with pytest.raises(PlanError, match="Unknown queryId: NOPE"):
        engine.execute("PAUSE NOPE;")
    engine.close()


def test_assert_topic_and_schema(engine: Engine) -> None:
    engine.execute(CREATE)
    held = engine.execute("ASSERT TOPIC s WITH (PARTITIONS=1);")[0]
    assert isinstance(held, AssertTopicEntity)
    assert held.to_json() == {
        "@type": "assert_topic",
        "statementText": "ASSERT TOPIC s WITH (PARTITIONS=1);",
        "topicName": "s",
        "exists": True,
        "warnings": [],
    }
    assert engine.execute("ASSERT NOT EXISTS TOPIC nothing;")[0].to_json()["exists"] is False
    with pytest.raises(PlanError, match=r"^Topic nothing does not exist$"):
        engine.execute("ASSERT TOPIC nothing TIMEOUT 100 MILLISECONDS;")
    with pytest.raises(PlanError, match="For config partitions, expected 3 got 1"):
        engine.execute("ASSERT TOPIC s WITH (PARTITIONS=3) TIMEOUT 0 SECONDS;")
    with pytest.raises(PlanError, match="Topic s exists"):
        engine.execute("ASSERT NOT EXISTS TOPIC s TIMEOUT 0 SECONDS;")
    with pytest.raises(PlanError, match="Schema with subject name s-value does not exist"):
        engine.execute("ASSERT SCHEMA SUBJECT 's-value' TIMEOUT 0 SECONDS;")
    assert engine.execute("ASSERT NOT EXISTS SCHEMA ID 4;")[0].to_json()["exists"] is False


def test_statement_text_runs_through_the_semicolon_as_written(engine: Engine) -> None:
    entities = engine.execute(CREATE + "SHOW STREAMS ;\nLIST TOPICS")
    assert [e.to_json()["statementText"] for e in entities[-2:]] == ["SHOW STREAMS ;", "LIST TOPICS"]
    engine.execute("CREATE STREAM OUT AS SELECT * FROM S;")
    (query,) = engine.persistent_queries()
    assert query.statement_text == "CREATE STREAM OUT AS SELECT * FROM S;"


def test_explain_of_a_historical_select_shows_the_duckdb_plan(engine: Engine) -> None:
    engine.execute(CREATE)
    explained = engine.execute("EXPLAIN SELECT ID, V FROM S WHERE V > 1;")[0]
    description = explained.to_json()["queryDescription"]
    assert description["queryType"] == "PULL" and description["sources"] == ["S"]
    assert [f["name"] for f in description["fields"]] == ["ID", "V"]
    plan = description["executionPlan"]
    assert plan.startswith("Historical query (DuckDB)") and "DuckDB plan:" in plan
    assert engine.persistent_queries() == []


def test_explain_a_statement_plans_without_running_it(engine: Engine) -> None:
    engine.execute(CREATE)
    explained = engine.execute("EXPLAIN CREATE STREAM OUT AS SELECT ID, V * 2 AS W FROM S WHERE V > 0;")[0]
    assert isinstance(explained, QueryDescriptionEntity)
    description = explained.to_json()["queryDescription"]
    assert description["id"] == "CSAS_OUT_0"
    assert description["statementText"] == "CREATE STREAM OUT AS SELECT ID, V * 2 AS W FROM S WHERE V > 0;"
    assert description["sinks"] == ["OUT"] and description["sources"] == ["S"]
    assert [f["name"] for f in description["fields"]] == ["ID", "W"]
    plan = description["executionPlan"].splitlines()
    assert plan[0] == " > [ SINK ] | Schema: ID STRING KEY, W INTEGER | Logger: CSAS_OUT_0.OUT"
    assert [line.split(" ]")[0].strip() for line in plan] == [
        "> [ SINK",
        "> [ PROJECT",
        "> [ FILTER",
        "> [ SOURCE",
    ]
    assert plan[3].startswith(
        "\t\t\t\t\t\t > [ SOURCE ] | Schema: ID STRING KEY, NAME STRING, V INTEGER, ROWTIME"
    )
    # Nothing ran: no query, no sink, and the next query still gets id 0.
    assert engine.persistent_queries() == [] and engine.catalog.source("OUT") is None
    created = engine.execute("CREATE STREAM OUT AS SELECT ID, V * 2 AS W FROM S WHERE V > 0;")[0]
    assert isinstance(created, CommandStatusEntity) and created.query_id == "CSAS_OUT_0"
    running = engine.execute("EXPLAIN CSAS_OUT_0;")[0].to_json()["queryDescription"]
    assert running["state"] == "RUNNING" and running["executionPlan"].splitlines()[0] == plan[0]
    pushed = engine.execute("EXPLAIN SELECT * FROM S EMIT CHANGES;")[0].to_json()["queryDescription"]
    assert pushed["queryType"] == "PUSH" and pushed["sinks"] == []
    with pytest.raises(PlanError, match="The provided statement does not run a ksql query"):
        engine.execute("EXPLAIN SHOW STREAMS;")


def test_records_produced_into_a_sink_while_the_engine_is_down_are_kept(tmp_path: Path) -> None:
    engine = Engine(tmp_path, background=False, config={"auto.offset.reset": "earliest"})
    engine.execute(
        CREATE + "CREATE STREAM D (ID STRING KEY, NAME STRING, V INT) "
        "WITH (KAFKA_TOPIC='d', PARTITIONS=1, VALUE_FORMAT='JSON'); INSERT INTO D SELECT * FROM S;"
    )
    produce(engine, "s", [(b"a", json_value(NAME="x", V=1), 1, None)])
    drain(engine)
    engine.close()
    # Another program appends to the sink topic while no engine runs (as the topic tools do).
    from headwater.storage import EventLog

    log = EventLog.open(tmp_path / "log")
    log.topic("d").append(
        pa.RecordBatch.from_arrays(
            [pa.array([b"z"]), pa.array([json_value(NAME="outside", V=9)]), pa.array([5], pa.int64())],
            names=["__key", "__value", "__timestamp"],
        ),
        partition=0,
    )
    log.close()
    engine = Engine(tmp_path, background=False, config={"auto.offset.reset": "earliest"})
    assert engine.recovery_report == {}
    assert [r.columns for r in engine.stream("SELECT * FROM D;")] == [("a", "x", 1), ("z", "outside", 9)]
    engine.close()


def test_a_failing_step_leaves_no_output_behind(engine: Engine) -> None:
    engine.execute(CREATE + "CREATE STREAM OUT AS SELECT * FROM S;")
    produce(engine, "s", [(b"a", json_value(NAME="x", V=1), 1, None)])
    produce(engine, "s", [(b"b", json_value(NAME="y", V=2), 2, None)])
    (query,) = engine.persistent_queries()

    class FailsOnSecondBatch(Operator):
        kind = "fails"
        seen = 0

        def process(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
            self.seen += 1
            if self.seen == 2:
                raise RuntimeError("boom")
            return [batch]

    # One step reads both records (two stored batches): the first reaches the sink, the second fails.
    ((_, stage),) = query.graph.entries
    while stage.downstream is not None and stage.downstream.downstream is not None:
        stage = stage.downstream
    stage.downstream = Stage(FailsOnSecondBatch(), stage.downstream)
    with pytest.raises(ExecutionError, match="boom"):
        query.process("s", 0, max_records=None)
    assert engine.log.topic("OUT").partition(0).end_offset == 0
    assert query.committed_offsets()[("s", 0)] == 0
    assert query.checkpoints.load().sources[("s", 0)] == 0  # type: ignore[union-attr]


def _wait_for(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_background_queries_run_on_threads_and_resume_after_restart(tmp_path: Path) -> None:
    engine = Engine(tmp_path, background=True, config={"auto.offset.reset": "earliest"})
    engine.execute(CREATE + "CREATE STREAM OUT AS SELECT ID, UCASE(NAME) AS NAME FROM S WHERE V > 0;")
    for i in range(3):
        engine.execute(f"INSERT INTO S (ID, NAME, V) VALUES ('k{i}', 'n{i}', {i});")
    _wait_for(lambda: len(sink(engine, "OUT")[0]) == 2)
    engine.close()
    engine = Engine(tmp_path, background=True, config={"auto.offset.reset": "earliest"})
    engine.execute("INSERT INTO S (ID, NAME, V) VALUES ('k3', 'n3', 3);")
    _wait_for(lambda: len(sink(engine, "OUT")[0]) == 3)
    assert sink(engine, "OUT")[0] == [
        {"ID": "k1", "NAME": "N1"},
        {"ID": "k2", "NAME": "N2"},
        {"ID": "k3", "NAME": "N3"},
    ]
    engine.execute("PAUSE ALL;")
    engine.execute("INSERT INTO S (ID, NAME, V) VALUES ('k4', 'n4', 4);")
    time.sleep(0.3)
    assert len(sink(engine, "OUT")[0]) == 3
    engine.execute("RESUME ALL;")
    _wait_for(lambda: len(sink(engine, "OUT")[0]) == 4)
    engine.close()


def test_a_sink_can_discard_its_output_for_measurement(engine: Engine) -> None:
    engine.execute(CREATE + "CREATE STREAM OUT AS SELECT ID, V FROM S;")
    (query,) = engine.persistent_queries()
    sink = query.operators[-1]
    assert isinstance(sink, SinkOperator)
    sink.discard_output()
    engine.execute("INSERT INTO S (ID, V) VALUES ('a', 1); INSERT INTO S (ID, V) VALUES ('b', 2);")
    query.process_available()
    assert sink.appended == 2
    assert sum(engine.log.topic("OUT").end_offsets().values()) == 0
    assert query.committed_offsets() == {("s", 0): 2}

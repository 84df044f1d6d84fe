"""Historical queries through the engine (SELECT over a stream without EMIT CHANGES, answered by the
historical package on DuckDB): filters, projections with ksqlDB's functions, LIMIT, pull-query rules;
and the processing log as a queryable stream."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from headwater.engine import Engine
from headwater.errors import ParseError, PlanError


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    opened = Engine(
        tmp_path,
        background=False,
        config={"auto.offset.reset": "earliest", "ksql.logging.processing.stream.auto.create": "true"},
    )
    opened.execute(
        "CREATE STREAM A (K STRING KEY, V INT, S STRUCT<X INT>) "
        "WITH (KAFKA_TOPIC='a', PARTITIONS=1, VALUE_FORMAT='JSON');"
    )
    for i in range(5):
        opened.execute(f"INSERT INTO A (K, V, S) VALUES ('k{i}', {i}, STRUCT(X:={i * 10}));")
    yield opened
    opened.close()


def rows(engine: Engine, sql: str) -> list[tuple[object, ...]]:
    stream = engine.stream(sql)
    found = [r.columns for r in stream]
    # ksqlDB ends a pull query that its LIMIT cut with "Limit Reached", any other with "Query Completed"
    assert stream.final_message is not None
    assert stream.final_message.message in ("Query Completed", "Limit Reached")
    return found


def test_filter_projection_and_limit(engine: Engine) -> None:
    assert rows(engine, "SELECT K, V / 2 AS H, UCASE(K) FROM A WHERE V > 1 AND S->X < 40 LIMIT 2;") == [
        ("k2", 1, "K2"),
        ("k3", 1, "K3"),
    ]
    assert rows(engine, "SELECT * FROM A WHERE V * 2 > 4;") == [("k3", 3, {"X": 30}), ("k4", 4, {"X": 40})]
    assert rows(engine, "SELECT K FROM A WHERE K IN ('k1', 'k3') OR V IS NULL;") == [("k1",), ("k3",)]
    assert rows(engine, "SELECT K, ROWTIME > 0 FROM A WHERE V >= 4;") == [("k4", True)]
    with pytest.raises(PlanError, match="Pull queries don't support the following columns in SELECT clauses: `ROWOFFSET`"):
        engine.stream("SELECT K, ROWOFFSET FROM A;")


def test_the_processing_log_is_a_stream(engine: Engine) -> None:
    engine.execute("CREATE STREAM B AS SELECT * FROM A;")
    engine.log.topic("a").append(
        pa.RecordBatch.from_arrays(
            [pa.array([b"k"]), pa.array([b"{bad"]), pa.array([1], pa.int64())],
            names=["__key", "__value", "__timestamp"],
        ),
        partition=0,
    )
    engine.persistent_queries()[0].process_available()
    found = rows(
        engine,
        "SELECT MESSAGE->TYPE AS T, MESSAGE->DESERIALIZATIONERROR->ERRORMESSAGE AS M "
        "FROM KSQL_PROCESSING_LOG WHERE MESSAGE->TYPE = 0;",
    )
    assert len(found) == 1 and found[0][0] == 0
    assert str(found[0][1]).startswith("Failed to deserialize value from topic: a.")


def test_sql_beyond_ksqldb_grammar_goes_to_the_historical_extension(engine: Engine) -> None:
    stream = engine.stream("SELECT K, V FROM A ORDER BY V DESC LIMIT 2;")
    assert [r.columns for r in stream] == [("k4", 4), ("k3", 3)]
    with pytest.raises(ParseError):
        engine.stream("SELEC K FROM A;")

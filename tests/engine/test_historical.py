"""Historical queries (SELECT over a stream without EMIT CHANGES): DuckDB filters when the WHERE clause
is in the subset it evaluates as ksqlDB does, the compiled operators do the rest; and the processing log
as a queryable stream."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from headwater.engine import Engine
from headwater.engine.runtime.historical import duckdb_predicate
from headwater.errors import PlanError
from headwater.parser import parse_expression
from headwater.parser import types as t


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


TYPES = {"V": t.INT, "K": t.STRING, "D": t.DOUBLE, "S->X": t.INT, "B": t.BOOLEAN}


def type_of(expression: object) -> t.SqlType | None:
    from headwater.parser import to_sql

    text = to_sql(expression)
    if text in TYPES:
        return TYPES[text]
    if text.startswith("'"):
        return t.STRING
    if text in ("true", "false", "TRUE", "FALSE"):
        return t.BOOLEAN
    return t.INT if text.lstrip("-").isdigit() else (t.DOUBLE if text[:1].isdigit() else None)


@pytest.mark.parametrize(
    ("where", "sql"),
    [
        ("V > 1 AND S->X < 40", '("V" > 1) AND ("S"."X" < 40)'),
        ("K IN ('a', 'b') OR V IS NULL", "(\"K\" IN ('a', 'b')) OR (\"V\" IS NULL)"),
        ("NOT V BETWEEN 1 AND 3", 'NOT ("V" BETWEEN 1 AND 3)'),
        ("D >= 1.5", '"D" >= 1.5'),
        ("V * 2 > 4", None),  # arithmetic: ksqlDB's integer semantics stay with the compiled operators
        ("UCASE(K) = 'A'", None),  # functions too
        ("K = V", None),  # a comparison that needs an implicit conversion
        ("V IN (1, D)", None),  # IN with a column
    ],
)
def test_where_clauses_duckdb_evaluates_as_ksqldb(where: str, sql: str | None) -> None:
    assert duckdb_predicate(parse_expression(where), type_of) == sql


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

"""Statements around stateful queries: EXPLAIN of aggregations and joins, DESCRIBE FUNCTION of an
aggregate, CTAS result-type rules, and a table's pull and push queries through the engine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from headwater.engine import Engine
from headwater.errors import PlanError

SETUP = (
    "CREATE STREAM S (K STRING KEY, V INT) WITH (KAFKA_TOPIC='s', PARTITIONS=1, VALUE_FORMAT='JSON');"
    "CREATE TABLE T (K STRING PRIMARY KEY, N STRING) WITH (KAFKA_TOPIC='t', PARTITIONS=1, VALUE_FORMAT='JSON');"
)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    opened = Engine(tmp_path, config={"auto.offset.reset": "earliest"}, background=False)
    opened.execute(SETUP)
    yield opened
    opened.close()


def test_explain_describes_aggregation_and_join_steps(engine: Engine) -> None:
    (aggregate,) = engine.execute(
        "EXPLAIN CREATE TABLE A AS SELECT K, COUNT(*) AS N FROM S WINDOW TUMBLING (SIZE 1 SECOND) GROUP BY K;"
    )
    description = aggregate.to_json()["queryDescription"]
    assert description["id"] == "CTAS_A_0" and description["windowType"] == "TUMBLING"
    assert "[ AGGREGATE ]" in description["executionPlan"]
    (join,) = engine.execute("EXPLAIN CREATE STREAM J AS SELECT S.K, V, N FROM S JOIN T ON S.K = T.K;")
    plan = join.to_json()["queryDescription"]["executionPlan"]
    assert "[ STREAM_TABLE_JOIN ]" in plan and plan.count("[ SOURCE ]") == 2
    assert engine.persistent_queries() == []  # EXPLAIN runs nothing


def test_describe_function_finds_aggregates(engine: Engine) -> None:
    (entity,) = engine.execute("DESCRIBE FUNCTION TOPK;")
    document = entity.to_json()
    assert document["type"] == "AGGREGATE" and document["name"] == "TOPK"
    assert any(f["returnType"] == "ARRAY<BIGINT>" for f in document["functions"])


def test_result_kinds_must_match_the_statement(engine: Engine) -> None:
    with pytest.raises(PlanError, match=r"produces a TABLE\. Please use CREATE TABLE AS SELECT"):
        engine.execute("CREATE STREAM BAD AS SELECT K, COUNT(*) FROM S GROUP BY K;")
    with pytest.raises(PlanError, match=r"produces a STREAM\. Please use CREATE STREAM AS SELECT"):
        engine.execute("CREATE TABLE BAD AS SELECT K, V FROM S;")


def test_pull_and_push_queries_over_an_aggregate(engine: Engine) -> None:
    engine.execute("CREATE TABLE A AS SELECT K, COUNT(*) AS N, SUM(V) AS TOTAL FROM S GROUP BY K;")
    for key, value in (("a", 1), ("b", 2), ("a", 3)):
        engine.execute(f"INSERT INTO S (K, V) VALUES ('{key}', {value});")
    (query,) = engine.persistent_queries()
    query.process_available()
    stream = engine.stream("SELECT * FROM A WHERE K = 'a';")
    assert stream.header.schema == "`K` STRING KEY, `N` BIGINT, `TOTAL` INTEGER"
    assert [r.columns for r in stream] == [("a", 2, 4)]
    assert sorted(r.columns for r in engine.stream("SELECT K, TOTAL FROM A;")) == [("a", 4), ("b", 2)]
    with pytest.raises(PlanError, match="The `T` table isn't queryable"):
        engine.stream("SELECT * FROM T;")
    with pytest.raises(PlanError, match="Pull queries don't support GROUP BY clauses"):
        engine.stream("SELECT K, COUNT(*) FROM A GROUP BY K;")
    push = engine.stream("SELECT K, N FROM A EMIT CHANGES LIMIT 2;")
    assert push.header.schema == "`K` STRING, `N` BIGINT"
    assert [r.columns for r in push] == [("a", 1), ("b", 1)]  # the changelog from the start

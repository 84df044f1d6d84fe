"""Statements around stateful queries: EXPLAIN of aggregations and joins, DESCRIBE FUNCTION of an
aggregate, CTAS result-type rules, and a table's pull and push queries through the engine."""

from __future__ import annotations

import pytest

from headwater.engine import Engine
from headwater.errors import PlanError
from headwater.storage.murmur2 import murmur2_bytes

SETUP = (
    "CREATE STREAM S (K STRING KEY, V INT) WITH (KAFKA_TOPIC='s', PARTITIONS=1, VALUE_FORMAT='JSON');"
    "CREATE TABLE T (K STRING PRIMARY KEY, N STRING) WITH (KAFKA_TOPIC='t', PARTITIONS=1, VALUE_FORMAT='JSON');"
)


@pytest.fixture
def engine(driven_engine: Engine) -> Engine:
    opened = driven_engine
    opened.execute(SETUP)
    return opened


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


def test_window_bounds_of_a_windowed_aggregation_only_in_its_select(engine: Engine) -> None:
    windowed = "FROM S WINDOW TUMBLING (SIZE 1 SECOND)"
    with pytest.raises(PlanError, match=r"^Error in WHERE expression: Unknown column WINDOWSTART\.$"):
        engine.stream(f"SELECT K, COUNT(*) {windowed} WHERE WINDOWSTART > 1 GROUP BY K EMIT CHANGES;")
    for tail in ("GROUP BY K HAVING MIN(WINDOWEND) > 1", "GROUP BY K"):
        select = "MAX(WINDOWEND)" if tail == "GROUP BY K" else "COUNT(*)"
        with pytest.raises(PlanError, match=r"^Window bounds column WINDOWEND can only be used in the SELECT"):
            engine.stream(f"SELECT K, {select} {windowed} {tail} EMIT CHANGES;")


def test_a_join_having_error_names_the_joined_columns(engine: Engine) -> None:
    with pytest.raises(PlanError, match=r"Cannot compare SUM\(S_V\) \(INTEGER\) to '1' \(STRING\)"):
        engine.execute(
            "CREATE TABLE J AS SELECT S.K, SUM(S.V) AS TOTAL FROM S JOIN T ON S.K = T.K "
            "GROUP BY S.K HAVING SUM(S.V) > '1';"
        )


def test_star_over_a_join_of_windowed_streams_keeps_each_sides_window(engine: Engine) -> None:
    engine.execute(
        "CREATE STREAM W1 (K INT KEY, A INT) WITH (KAFKA_TOPIC='w1', PARTITIONS=1, VALUE_FORMAT='JSON', "
        "WINDOW_TYPE='TUMBLING', WINDOW_SIZE='2 SECONDS');"
        "CREATE STREAM W2 (K INT KEY, B INT) WITH (KAFKA_TOPIC='w2', PARTITIONS=1, VALUE_FORMAT='JSON', "
        "WINDOW_TYPE='TUMBLING', WINDOW_SIZE='2 SECONDS');"
        "CREATE STREAM WJ AS SELECT * FROM W1 JOIN W2 WITHIN 1 MINUTE ON W1.K = W2.K;"
    )
    sink = engine.catalog.source("WJ")
    assert sink is not None
    assert [c.name for c in sink.schema] == [
        "W1_K", "W1_WINDOWSTART", "W1_WINDOWEND", "W1_A", "W2_K", "W2_WINDOWSTART", "W2_WINDOWEND", "W2_B",
    ]


def test_a_statement_ksqldb_parses_and_refuses_is_not_the_extensions(engine: Engine) -> None:
    from headwater.errors import ParseError

    with pytest.raises(ParseError, match="Value must be integer for command: LIMIT"):
        engine.stream("SELECT * FROM S LIMIT 2.5;")


def _partition_of(key: str, partitions: int) -> int:
    """Kafka's default partition of a KAFKA-format STRING key (its UTF-8 bytes)."""
    return (murmur2_bytes(key.encode()) & 0x7FFFFFFF) % partitions


def test_every_window_of_a_key_lands_on_the_partition_of_the_key(engine: Engine) -> None:
    # Kafka Streams' WindowedStreamPartitioner: the window bytes do not take part in the hash.
    engine.execute(
        "CREATE TABLE W WITH (PARTITIONS=4) AS SELECT K, COUNT(*) AS N FROM S "
        "WINDOW TUMBLING (SIZE 1 SECOND) GROUP BY K;"
    )
    keys = [f"key-{i}" for i in range(12)]
    for key in keys:
        for second in range(5):
            engine.execute(f"INSERT INTO S (K, V, ROWTIME) VALUES ('{key}', 1, {second * 1000});")
    (query,) = engine.persistent_queries()
    query.process_available()
    topic = engine.log.topic(engine.catalog.source("W").topic)
    placed: dict[str, set[int]] = {}
    windows = 0
    for partition in range(4):
        part = topic.partition(partition)
        for batch in part.read(part.start_offset).batches:
            for key in batch.column("K").to_pylist():
                placed.setdefault(key, set()).add(partition)
                windows += 1
    assert windows == len(keys) * 5
    assert placed == {key: {_partition_of(key, 4)} for key in keys}
    assert len({_partition_of(key, 4) for key in keys}) > 1  # the keys really spread


def test_a_pull_scan_with_limit_takes_the_rows_of_the_first_partitions_first(engine: Engine) -> None:
    engine.execute("CREATE TABLE A WITH (PARTITIONS=4) AS SELECT K, COUNT(*) AS N FROM S GROUP BY K;")
    keys = [f"key-{i}" for i in range(20)]
    for key in keys:
        engine.execute(f"INSERT INTO S (K, V) VALUES ('{key}', 1);")
    (query,) = engine.persistent_queries()
    query.process_available()
    engine.execute("SET 'ksql.query.pull.limit.clause.enabled'='true';")
    everything = [row.columns[0] for row in engine.stream("SELECT K FROM A;")]
    assert sorted(everything) == sorted(keys)
    in_scan_order = sorted(keys, key=lambda key: (_partition_of(key, 4), key.encode()))
    assert everything == in_scan_order
    limited = [row.columns[0] for row in engine.stream("SELECT K FROM A LIMIT 6;")]
    assert limited == in_scan_order[:6]

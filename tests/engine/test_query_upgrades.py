"""CREATE OR REPLACE of a query's sink (ksqlDB's upgrade rules), DROP of sources used by queries, and
the header-column rules of CREATE STREAM."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from headwater.engine import Engine
from headwater.errors import PlanError

SETUP = (
    "SET 'ksql.create.or.replace.enabled' = 'true';"
    "CREATE STREAM FOO (ID INT KEY, COL1 INT, COL2 INT) WITH (KAFKA_TOPIC='foo', PARTITIONS=1, VALUE_FORMAT='JSON');"
)


@pytest.fixture
def engine(driven_engine: Engine) -> Engine:
    opened = driven_engine
    opened.execute(SETUP)
    return opened


def _drain(engine: Engine) -> None:
    for query in engine.persistent_queries():
        query.process_available()


def _pull(engine: Engine, sql: str) -> list[list[object]]:
    return [list(row.columns) for row in engine.stream(sql)]


def test_a_replaced_aggregation_keeps_its_state_when_a_filter_is_added(engine: Engine) -> None:
    engine.execute("CREATE TABLE BAR AS SELECT ID, COUNT(COL1) AS N FROM FOO GROUP BY ID;")
    engine.execute("INSERT INTO FOO (ID, COL1) VALUES (1, 0); INSERT INTO FOO (ID, COL1) VALUES (2, 0);")
    _drain(engine)
    (before,) = engine.persistent_queries()
    engine.execute("CREATE OR REPLACE TABLE BAR AS SELECT ID, COUNT(COL1) AS N FROM FOO WHERE COL1 > 0 GROUP BY ID;")
    (after,) = engine.persistent_queries()
    assert after.query_id == before.query_id == "CTAS_BAR_0"
    engine.execute("INSERT INTO FOO (ID, COL1) VALUES (1, 0); INSERT INTO FOO (ID, COL1) VALUES (2, 1);")
    _drain(engine)
    assert sorted(_pull(engine, "SELECT * FROM BAR;")) == [[1, 1], [2, 2]]


def test_an_aggregation_reading_other_columns_is_not_upgradeable(engine: Engine) -> None:
    engine.execute("CREATE TABLE BAR AS SELECT ID, COUNT(*) AS N FROM FOO GROUP BY ID;")
    with pytest.raises(PlanError) as refused:
        engine.execute("CREATE OR REPLACE TABLE BAR AS SELECT ID, COUNT(COL1) AS N FROM FOO WHERE COL1 > 0 GROUP BY ID;")
    assert refused.value.message == (
        "Query is not upgradeable. Plan step of type StreamAggregate must have matching columns not part of "
        "aggregate. Values differ: [`ID`, `ROWTIME`] vs. [`ID`, `COL1`]"
    )


def test_joins_and_windowed_aggregations_take_no_upgrade(engine: Engine) -> None:
    engine.execute(
        "CREATE TABLE T (ID INT PRIMARY KEY, BAR INT) WITH (KAFKA_TOPIC='t', PARTITIONS=1, VALUE_FORMAT='JSON');"
        "CREATE STREAM J AS SELECT FOO.ID, COL1, BAR FROM FOO JOIN T ON FOO.ID = T.ID;"
        "CREATE TABLE W AS SELECT ID, COUNT(*) AS N FROM FOO WINDOW TUMBLING (SIZE 30 SECONDS) GROUP BY ID;"
    )
    with pytest.raises(PlanError, match=r"^Upgrades not yet supported for StreamTableJoin$"):
        engine.execute("CREATE OR REPLACE STREAM J AS SELECT FOO.ID, COL1, BAR FROM FOO JOIN T ON FOO.ID = T.ID WHERE COL1 > 0;")
    with pytest.raises(PlanError, match=r"^Upgrades not yet supported for StreamWindowedAggregate$"):
        engine.execute(
            "CREATE OR REPLACE TABLE W AS SELECT ID, COUNT(*) AS N FROM FOO WINDOW TUMBLING (SIZE 30 SECONDS) "
            "WHERE COL1 > 0 GROUP BY ID;"
        )


def test_the_source_level_check_lists_what_changed(engine: Engine) -> None:
    engine.execute("CREATE STREAM B AS SELECT ID, COL1, COL2 FROM FOO;")
    with pytest.raises(PlanError) as refused:
        engine.execute("CREATE OR REPLACE STREAM B AS SELECT ID, COL2, COL1 FROM FOO;")
    assert refused.value.message.startswith("Cannot upgrade data source: DataSource '`B`' has schema = ")
    assert refused.value.message.endswith(
        "(The following columns are changed, missing or reordered: [`COL1` INTEGER, `COL2` INTEGER])"
    )
    with pytest.raises(PlanError, match=r"Key columns must be identical\. .*: \[`ID` INTEGER KEY\]"):
        engine.execute("CREATE OR REPLACE STREAM B AS SELECT * FROM FOO PARTITION BY COL1;")
    engine.execute("CREATE OR REPLACE STREAM B AS SELECT ID, COL1, COL2, COL1 + 1 AS PLUS FROM FOO;")  # appended: fine


def test_a_changed_table_filter_does_not_reuse_the_old_verdicts(engine: Engine) -> None:
    engine.execute(
        "CREATE TABLE A (ID INT PRIMARY KEY, COL1 INT) WITH (KAFKA_TOPIC='a', PARTITIONS=1, VALUE_FORMAT='JSON');"
        "CREATE TABLE B AS SELECT * FROM A WHERE COL1 > 0;"
        "INSERT INTO A (ID, COL1) VALUES (1, 2);"
    )
    _drain(engine)
    engine.execute("CREATE OR REPLACE TABLE B AS SELECT * FROM A WHERE COL1 < 0;")
    engine.execute("INSERT INTO A (ID, COL1) VALUES (1, 3);")
    _drain(engine)
    part = engine.log.topic("B").partition(0)
    written = [row["ID"] for batch in part.read(part.start_offset).batches for row in batch.to_pylist()]
    assert written == [1]  # the first row only: no delete for a key the new WHERE never let through


def test_drop_rules(engine: Engine) -> None:
    engine.execute("CREATE STREAM FOO2 AS SELECT * FROM FOO;")
    with pytest.raises(PlanError) as refused:
        engine.execute("DROP STREAM FOO;")
    assert refused.value.message == (
        "Cannot drop FOO.\nThe following streams and/or tables read from this source: [FOO2].\n"
        "You need to drop them before dropping FOO."
    )
    engine.execute("CREATE STREAM COPY (ID INT KEY, COL1 INT, COL2 INT) WITH (KAFKA_TOPIC='copy', PARTITIONS=1, VALUE_FORMAT='JSON');")
    engine.execute("INSERT INTO COPY SELECT * FROM FOO2;")
    insert = next(q.query_id for q in engine.persistent_queries() if q.sink.name == "COPY")
    with pytest.raises(PlanError) as refused:
        engine.execute("DROP STREAM FOO2;")
    assert refused.value.message == (
        f"Cannot drop FOO2.\nThe following queries read from this source: [{insert}].\n"
        "The following queries write into this source: [].\nYou need to terminate them before dropping FOO2."
    )
    engine.execute(f"TERMINATE {insert};")
    engine.execute("DROP STREAM FOO2;")  # its own query goes with it
    assert [q.sink.name for q in engine.persistent_queries()] == []
    engine.execute("DROP STREAM FOO;")


def test_a_source_made_from_another_blocks_its_drop_after_its_query_is_terminated(
    engine: Engine, tmp_path: Path
) -> None:
    engine.execute("CREATE STREAM FOO2 AS SELECT * FROM FOO; TERMINATE CSAS_FOO2_0;")
    assert engine.persistent_queries() == []
    with pytest.raises(PlanError, match=r"The following streams and/or tables read from this source: \[FOO2\]"):
        engine.execute("DROP STREAM FOO;")
    engine.close()
    reopened = Engine(tmp_path, config={"auto.offset.reset": "earliest"}, background=False)  # replayed
    try:
        with pytest.raises(PlanError, match=r"read from this source: \[FOO2\]"):
            reopened.execute("DROP STREAM FOO;")
        reopened.execute("DROP STREAM FOO2; DROP STREAM FOO;")
        assert reopened.catalog.source("FOO") is None
    finally:
        reopened.close()


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ("H1 ARRAY<STRUCT<key STRING, value BYTES>> HEADERS, H2 ARRAY<STRUCT<key STRING, value BYTES>> HEADERS",
         "Schema already contains a HEADERS column."),
        ("H1 ARRAY<STRUCT<key STRING, value BYTES>> HEADERS, H2 BYTES HEADER('blah')",
         "Schema already contains a HEADERS column."),
        ("H1 BYTES HEADER('blah'), H2 BYTES HEADER('blah')", "Schema already contains a HEADER('blah') column."),
    ],
)
def test_header_columns_are_not_repeated(engine: Engine, columns: str, message: str) -> None:
    with pytest.raises(PlanError, match=message.replace("(", r"\(").replace(")", r"\)")):
        engine.execute(f"CREATE STREAM S (K STRING KEY, {columns}) WITH (KAFKA_TOPIC='s', PARTITIONS=1, VALUE_FORMAT='JSON');")
    engine.execute("CREATE STREAM S2 (K STRING KEY, A BYTES HEADER('a'), B BYTES HEADER('b')) WITH (KAFKA_TOPIC='s2', PARTITIONS=1, VALUE_FORMAT='JSON');")


def _plan(engine: Engine, sql: str) -> Any:
    from headwater import parser
    from headwater.engine.planner.builder import QueryBuilder

    statement = parser.parse_statement(sql)
    builder = QueryBuilder(engine.catalog, engine.registry, engine.config.as_dict(), engine.partition_count)
    return builder.build(statement.query, sink_name="BAR", persistent=True).plan  # type: ignore[attr-defined]


def test_the_plan_check_names_ksqldb_steps(engine: Engine) -> None:
    from headwater.engine.planner.upgrade import check_upgrade

    by_key = _plan(engine, "CREATE TABLE BAR AS SELECT ID, COUNT(*) AS N FROM FOO GROUP BY ID;")
    check_upgrade(by_key, _plan(engine, "CREATE TABLE BAR AS SELECT ID, COUNT(*) AS N FROM FOO WHERE ID > 0 GROUP BY ID;"))
    one_way = _plan(engine, "CREATE TABLE BAR AS SELECT COL1, COL2, COUNT(*) AS N FROM FOO GROUP BY COL1, COL2;")
    other_way = _plan(engine, "CREATE TABLE BAR AS SELECT COL1, COL2, COUNT(*) AS N FROM FOO GROUP BY COL2, COL1;")
    with pytest.raises(PlanError, match=r"^Query is not upgradeable\. Plan step of type StreamGroupBy must have matching groupByExpressions\. "):
        check_upgrade(one_way, other_way)
    windowed = _plan(engine, "CREATE TABLE BAR AS SELECT ID, COUNT(*) AS N FROM FOO WINDOW TUMBLING (SIZE 1 SECOND) GROUP BY ID;")
    with pytest.raises(PlanError, match=r"^Upgrades not yet supported for StreamWindowedAggregate$"):
        check_upgrade(by_key, windowed)
    projected = _plan(engine, "CREATE STREAM BAR AS SELECT * FROM FOO;")
    keyed = _plan(engine, "CREATE STREAM BAR AS SELECT * FROM FOO PARTITION BY COL1;")
    with pytest.raises(PlanError) as refused:
        check_upgrade(keyed, projected)
    assert refused.value.message == (
        "Query is not upgradeable. Plan step of type StreamSelectKey must have matching class. Values differ: "
        "class io.confluent.ksql.execution.plan.StreamSelectKey vs. class io.confluent.ksql.execution.plan.StreamSource"
    )


def test_a_checkpoint_with_positional_state_ids_is_still_restored(engine: Engine, tmp_path: Path) -> None:
    from headwater.engine.runtime.checkpoint import Checkpoint, CheckpointStore

    engine.execute("CREATE TABLE BAR AS SELECT ID, COUNT(*) AS N FROM FOO GROUP BY ID;")
    engine.execute("INSERT INTO FOO (ID, COL1) VALUES (1, 0);")
    _drain(engine)
    (query,) = engine.persistent_queries()
    renamed = dict(zip([k for k, _ in query.graph.checkpoint_ids()], query.graph.legacy_checkpoint_ids()))
    engine.close()
    store = CheckpointStore(tmp_path / "queries" / query.query_id)
    current = store.load()
    assert current is not None and "aggregate-0" in current.state
    store.commit(
        Checkpoint(
            epoch=current.epoch + 1,
            sources=current.sources,
            sinks=current.sinks,
            state={renamed[k]: v for k, v in current.state.items()},  # as written before the ids changed
        )
    )
    reopened = Engine(tmp_path, config={"auto.offset.reset": "earliest"}, background=False)
    try:
        reopened.execute("INSERT INTO FOO (ID, COL1) VALUES (1, 0);")
        _drain(reopened)
        assert _pull(reopened, "SELECT * FROM BAR;") == [[1, 2]]
    finally:
        reopened.close()

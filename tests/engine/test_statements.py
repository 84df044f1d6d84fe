"""Statements through a real Engine (event log, parser, binder) that need no record formats:
types, properties, variables, listings, ksqlDB's validation messages, and command-topic replay."""

from __future__ import annotations

from pathlib import Path

import pytest

from headwater.engine import Engine
from headwater.engine.entities import (
    CommandStatusEntity,
    KafkaTopicsList,
    PropertiesList,
    StatementApplied,
    TypeList,
    VariablesList,
    WarningEntity,
)
from headwater.engine.functions.registry import FunctionRegistry
from headwater.errors import HeadwaterError, ParseError, PlanError


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    opened = Engine(tmp_path, background=False, function_registry=FunctionRegistry())
    yield opened  # type: ignore[misc]
    opened.close()


def test_create_type_is_listed_and_survives_restart(tmp_path: Path) -> None:
    engine = Engine(tmp_path, background=False, function_registry=FunctionRegistry())
    status = engine.execute("CREATE TYPE ADDRESS AS STRUCT<STREET STRING, NUM INT>;")[0]
    assert isinstance(status, CommandStatusEntity)
    assert status.command_status.message == (
        "Registered custom type with name 'ADDRESS' and SQL type STRUCT<`STREET` STRING, `NUM` INTEGER>"
    )
    engine.execute("CREATE TYPE GONE AS INT; DROP TYPE GONE;")
    engine.close()
    again = Engine(tmp_path, background=False, function_registry=FunctionRegistry())
    types = again.execute("SHOW TYPES;")[0]
    assert isinstance(types, TypeList)
    assert [name for name, _ in types.types] == ["ADDRESS"]
    with pytest.raises(PlanError, match="already registered"):
        again.execute("CREATE TYPE ADDRESS AS INT;")
    again.close()


def test_set_applies_to_the_rest_of_the_request_only(engine: Engine) -> None:
    first = engine.execute("SET 'auto.offset.reset' = 'earliest'; SHOW PROPERTIES;")
    assert isinstance(first[0], StatementApplied) and first[0].rest_visible is False
    props = first[1]
    assert isinstance(props, PropertiesList)
    assert {p.name: p.value for p in props.properties}["auto.offset.reset"] == "earliest"
    assert "auto.offset.reset" in props.overwritten_properties
    later = engine.execute("SHOW PROPERTIES;")[0]
    assert isinstance(later, PropertiesList)
    assert {p.name: p.value for p in later.properties}["auto.offset.reset"] == "latest"
    with pytest.raises(PlanError, match="Expected value to be either true or false"):
        engine.execute("SET 'ksql.timestamp.throw.on.invalid' = 'perhaps';")


def test_variables_define_substitute_and_undefine(engine: Engine) -> None:
    engine.execute("DEFINE kind = 'ADDRESS';")
    engine.execute("CREATE TYPE ${kind} AS STRUCT<STREET STRING>;")
    variables = engine.execute("SHOW VARIABLES;")[0]
    assert isinstance(variables, VariablesList)
    assert [(v.name, v.value) for v in variables.variables] == [("kind", "ADDRESS")]
    assert isinstance(engine.execute("UNDEFINE kind;")[0], StatementApplied)
    warning = engine.execute("UNDEFINE kind;")[0]
    assert isinstance(warning, WarningEntity) and "never defined" in warning.message


def test_internal_topics_are_listed_only_with_all(engine: Engine) -> None:
    engine.execute("CREATE TYPE T AS INT;")
    topics = engine.execute("SHOW TOPICS;")[0]
    assert isinstance(topics, KafkaTopicsList) and topics.topics == ()
    all_topics = engine.execute("SHOW ALL TOPICS;")[0]
    assert isinstance(all_topics, KafkaTopicsList)
    assert [x.name for x in all_topics.topics] == ["_headwater_command_topic"]


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        (
            "CREATE STREAM S WITH (kafka_topic='t', value_format='JSON');",
            "The statement does not define any columns.",
        ),
        (
            "CREATE STREAM S (ID INT KEY, V INT) WITH (kafka_topic='t');",
            "Statement is missing the 'VALUE_FORMAT' property from the WITH clause.",
        ),
        (
            "CREATE TABLE T (ID INT, V INT) WITH (kafka_topic='t', value_format='JSON');",
            "Tables require a PRIMARY KEY. Please define the PRIMARY KEY.",
        ),
        (
            "CREATE STREAM S (ROWTIME BIGINT, V INT) WITH (kafka_topic='t', value_format='JSON');",
            "'ROWTIME' is a reserved column name. You cannot use it as a name for a column.",
        ),
        ("DROP STREAM NOPE;", "Stream NOPE does not exist."),
        ("TERMINATE CSAS_X_0;", "Unknown queryId: CSAS_X_0"),
        ("DESCRIBE NOPE;", "Could not find STREAM/TABLE 'NOPE' in the Metastore"),
    ],
)
def test_ksqldb_statement_errors(engine: Engine, sql: str, message: str) -> None:
    with pytest.raises(HeadwaterError) as info:
        engine.execute(sql)
    assert message in str(info.value)


def test_a_failing_statement_keeps_the_earlier_ones(engine: Engine) -> None:
    with pytest.raises(PlanError) as info:
        engine.execute("CREATE TYPE KEPT AS INT;\nCREATE TYPE KEPT AS STRING;")
    assert engine.catalog.type("KEPT") is not None
    assert getattr(info.value, "statement_index", None) == 1


def test_a_script_that_does_not_parse_runs_nothing(engine: Engine) -> None:
    with pytest.raises(ParseError) as info:
        engine.execute("CREATE TYPE NOT_KEPT AS INT;\nCREATE TYPE ;")
    assert engine.catalog.type("NOT_KEPT") is None
    assert info.value.line == 2  # positions count from the start of the whole text


def test_positions_in_messages_count_from_the_start_of_the_text(engine: Engine) -> None:
    with pytest.raises(PlanError, match=r"^Line: 2, Col: 13: Source `UNKNOWN` does not exist\.$"):
        engine.execute("CREATE TYPE T AS INT;\nINSERT INTO UNKNOWN SELECT * FROM ELSEWHERE;")


def test_an_unknown_source_of_a_persistent_query_is_refused_while_preparing(engine: Engine) -> None:
    engine.execute("CREATE STREAM S (ID INT KEY, V INT) WITH (KAFKA_TOPIC='s', PARTITIONS=1, VALUE_FORMAT='JSON');")
    for sql in ("CREATE STREAM X AS SELECT * FROM UNKNOWN;", "CREATE STREAM X AS SELECT * FROM S JOIN NOPE WITHIN 1 SECOND ON S.ID = NOPE.ID;"):
        with pytest.raises(PlanError) as refused:
            engine.execute(sql)
        missing = "UNKNOWN" if "UNKNOWN" in sql else "NOPE"
        assert refused.value.message == f"Exception while preparing statement: {missing} does not exist."
    assert engine.catalog.source("X") is None


def test_select_goes_to_stream_not_execute(engine: Engine) -> None:
    with pytest.raises(PlanError, match=r"Use Engine\.stream"):
        engine.execute("SELECT * FROM X EMIT CHANGES;")


def test_stream_takes_variables_for_the_call_only(engine: Engine) -> None:
    engine.execute(
        "CREATE STREAM VS (ID INT KEY, V INT) WITH (KAFKA_TOPIC='vs', PARTITIONS=1, VALUE_FORMAT='JSON');"
        "INSERT INTO VS (ID, V) VALUES (1, 10); INSERT INTO VS (ID, V) VALUES (2, 20);"
    )
    rows = list(engine.stream("SELECT V FROM ${source} WHERE ID = ${id};", variables={"source": "VS", "ID": "2"}))
    assert [r.columns for r in rows] == [(20,)]
    ordered = list(engine.stream("SELECT V FROM ${source} ORDER BY V DESC LIMIT 1;", variables={"source": "VS"}))
    assert [r.columns for r in ordered] == [(20,)]  # Headwater's SQL extension sees the substituted text
    assert engine.variables == {}

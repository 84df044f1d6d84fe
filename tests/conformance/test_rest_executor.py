"""RQTT cases end to end, through the engine's API and through a real server on a loopback port.

Each test runs the same case both ways; the HTTP variant shares one server between the tests (as the
runner shares one per worker), so the tests also check that a case leaves nothing behind for the next.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from headwater.conformance.rest_executor import TransportFactory, run_rest_case
from headwater.conformance.rest_loader import expand_rest_test_object
from headwater.conformance.rest_model import RestTestCase
from headwater.conformance.rest_transports import close_shared_server, engine_transport, http_transport
from headwater.conformance.results import Status

STREAM = "CREATE STREAM INPUT (K STRING KEY, ID INT) WITH (kafka_topic='test_topic', value_format='JSON');"
ADMIN = {"admin": {"@type": "currentStatus"}}
INPUTS = [
    {"topic": "test_topic", "timestamp": 12345, "key": "11", "value": {"id": 100}},
    {"topic": "test_topic", "timestamp": 12365, "key": "12", "value": {"id": 101}},
]


@pytest.fixture(scope="module", autouse=True)
def _stop_the_shared_server() -> Iterator[None]:
    yield
    close_shared_server()


@pytest.fixture(params=["engine", "http"])
def factory(request: pytest.FixtureRequest, tmp_path: Path) -> TransportFactory:
    if request.param == "engine":
        return engine_transport(tmp_path, query_idle=2.0)
    return http_transport(None, query_idle=2.0)


def _case(**fields: Any) -> RestTestCase:
    [case] = expand_rest_test_object("rest.json", {"name": "t", "statements": [STREAM], **fields})
    return case


def _run(case: RestTestCase, factory: TransportFactory) -> Any:
    return run_rest_case(case, factory, timeout=60)


def test_insert_values_reach_the_topic(factory: TransportFactory) -> None:
    case = _case(
        statements=[STREAM, "INSERT INTO INPUT (ROWTIME, K, ID) VALUES (1234, 'key', 10);"],
        outputs=[{"topic": "test_topic", "timestamp": 1234, "key": "key", "value": {"ID": 10}}],
        responses=[ADMIN],
    )
    result = _run(case, factory)
    assert result.status is Status.PASS, result.reason
    wrong = _case(
        statements=[STREAM, "INSERT INTO INPUT (ROWTIME, K, ID) VALUES (1234, 'key', 10);"],
        outputs=[{"topic": "test_topic", "timestamp": 1234, "key": "key", "value": {"ID": 11}}],
    )
    result = _run(wrong, factory)
    assert (result.status, result.summary) == (Status.FAIL, "output differs: value differs")


def test_push_query_with_limit(factory: TransportFactory) -> None:
    expected = {
        "query": [
            {"header": {"schema": "`ID` INTEGER"}},
            {"row": {"columns": [101]}},
            {"row": {"columns": [100]}},
            {"finalMessage": "Limit Reached"},
        ]
    }
    case = _case(
        statements=[STREAM, "SELECT ID FROM INPUT EMIT CHANGES LIMIT 2;"],
        inputs=INPUTS,
        responses=[ADMIN, expected],
    )
    result = _run(case, factory)
    assert result.status is Status.PASS, result.reason


def test_a_push_query_short_of_its_limit_returns_what_it_has_in_time(factory: TransportFactory) -> None:
    expected = {"query": [{"header": {"schema": "`ID` INTEGER"}}, {"row": {"columns": [100]}}]}
    case = _case(
        statements=[STREAM, "SELECT ID FROM INPUT EMIT CHANGES LIMIT 3;"],
        inputs=INPUTS,
        responses=[ADMIN, expected],
    )
    result = _run(case, factory)
    assert (result.status, result.summary) == (Status.FAIL, "response differs: row count mismatch.")
    assert "{row={columns=[101]}}" in result.reason and result.seconds < 30


def test_query_error_matches_expected_error(factory: TransportFactory) -> None:
    case = _case(
        statements=[STREAM, "SELECT * FROM MISSING EMIT CHANGES LIMIT 1;"],
        expectedError={
            "type": "io.confluent.ksql.rest.entity.KsqlStatementErrorMessage",
            "message": "does not exist",
            "status": 400,
        },
    )
    result = _run(case, factory)
    assert result.status is Status.PASS, result.reason
    unexpected = _case(statements=[STREAM, "SELECT * FROM MISSING EMIT CHANGES LIMIT 1;"], responses=[ADMIN])
    result = _run(unexpected, factory)
    assert result.status is Status.FAIL
    assert result.summary.startswith("Server failed to execute statement: ")
    assert "MISSING" in result.summary and "does not exist" in result.summary


@pytest.mark.parametrize(
    ("query", "column"),
    [
        ("SELECT * FROM INPUT EMIT CHANGES LIMIT;", 39),
        # the REST API speaks ksqlDB's grammar only: ORDER BY is not answered as Headwater's SQL extension
        ("SELECT * FROM INPUT ORDER BY K DESC;", 27),
    ],
    ids=["grammar", "sql-extension"],
)
def test_a_syntax_error_reads_as_the_servers(factory: TransportFactory, query: str, column: int) -> None:
    # ksqlDB's wording: "line L:C: Syntax Error", a blank line, "Statement: " and the text as sent
    case = _case(
        statements=[STREAM, query],
        expectedError={
            "type": "io.confluent.ksql.rest.entity.KsqlStatementErrorMessage",
            "message": f"line 1:{column}: Syntax Error\n\nStatement: {query}",
            "status": 400,
        },
    )
    result = _run(case, factory)
    assert result.status is Status.PASS, result.reason


def test_admin_error_ends_the_case(factory: TransportFactory) -> None:
    case = _case(
        statements=[
            STREAM,
            "CREATE STREAM INPUT (V INT) WITH (kafka_topic='test_topic', value_format='JSON');",
        ],
        expectedError={"type": "io.confluent.ksql.rest.entity.KsqlErrorMessage", "status": 400},
    )
    result = _run(case, factory)
    assert result.status is Status.PASS, result.reason
    mismatch = _case(
        statements=[
            STREAM,
            "CREATE STREAM INPUT (V INT) WITH (kafka_topic='test_topic', value_format='JSON');",
        ],
        expectedError={"message": "no such message"},
    )
    result = _run(mismatch, factory)
    assert result.status is Status.FAIL and result.summary.startswith("Expected error mismatch: ")


def test_an_expected_error_that_never_comes_fails_only_when_a_query_returns_rows(
    factory: TransportFactory,
) -> None:
    # RestTestExecutor fails such a case only once a query returns rows ("Expected last statement to
    # return an error"); admin statements that all succeed leave it to the output and response checks
    query = _case(
        statements=[STREAM, "SELECT * FROM INPUT EMIT CHANGES LIMIT 1;"], expectedError={"status": 400}
    )
    result = _run(query, factory)
    assert (result.status, result.summary) == (Status.FAIL, "Expected last statement to return an error")
    admin_only = _case(expectedError={"status": 400}, responses=[ADMIN])
    assert _run(admin_only, factory).status is Status.PASS
    wrong_response = _case(expectedError={"status": 400}, responses=[{"admin": {"@type": "no_such_entity"}}])
    assert _run(wrong_response, factory).status is Status.FAIL


def test_invalid_cases_fail(factory: TransportFactory) -> None:
    late = _case(statements=[STREAM, "SELECT * FROM INPUT EMIT CHANGES LIMIT 1;", "DROP STREAM INPUT;"])
    result = _run(late, factory)
    assert result.summary == "Invalid test case: a statement follows queries"
    many = _case(responses=[ADMIN, ADMIN])
    assert _run(many, factory).summary == "Invalid test case: more expected responses than statements"


def test_consecutive_cases_share_nothing(factory: TransportFactory) -> None:
    """The same stream, topic and sink twice in a row: the second case sees only its own records."""
    csas = "CREATE STREAM OUTPUT WITH (kafka_topic='out') AS SELECT K, ID + 1 AS N FROM INPUT;"
    case = _case(
        statements=[STREAM, csas],
        inputs=INPUTS[:1],
        outputs=[{"topic": "out", "key": "11", "value": {"N": 101}, "timestamp": 12345}],
        responses=[ADMIN, ADMIN],
    )
    for _ in range(2):
        result = _run(case, factory)
        assert result.status is Status.PASS, result.reason
    counted = _case(
        statements=[STREAM, csas, "SELECT N FROM OUTPUT EMIT CHANGES LIMIT 2;"],
        inputs=INPUTS[:1],
        responses=[
            ADMIN,
            ADMIN,
            {"query": [{"header": {"schema": "`N` INTEGER"}}, {"row": {"columns": [101]}}]},
        ],
    )
    result = _run(counted, factory)  # one row, then the time limit: an earlier case's row would be a second
    assert result.status is Status.PASS, result.reason


def test_caught_up_means_every_source_partition_committed(tmp_path: Path) -> None:
    """What the HTTP transport waits for, on an engine whose queries only run when driven."""
    from headwater.conformance import engine_io
    from headwater.conformance.rest_transports import queries_caught_up
    from headwater.conformance.serde import TopicSerdes
    from headwater.engine import Engine

    engine = Engine(tmp_path / "data", background=False)
    try:
        engine_io.create_raw_topic(engine, "input", 2)
        engine.execute(
            STREAM.replace("test_topic", "input") + "\nCREATE STREAM OUTPUT AS SELECT * FROM INPUT;"
        )
        assert queries_caught_up(engine)
        source = engine.catalog.sources_on_topic("input")[0]
        serdes = TopicSerdes(source)
        record = engine_io.RawRecord(serdes.serialize_key("a", None), serdes.serialize_value({"ID": 1}), 5)
        engine_io.append_raw(engine, "input", [record], source)
        assert not queries_caught_up(engine)
        [query] = engine.persistent_queries()
        assert query.process_available() == 1
        assert queries_caught_up(engine)
    finally:
        engine.close()


def test_table_push_rows_carry_tombstones_through_the_engine(tmp_path: Path) -> None:
    """A deleted table row is a row with ``"tombstone": true`` (the HTTP variant waits on the server)."""
    case = _case(
        statements=[
            "CREATE TABLE T (K INT PRIMARY KEY, ID INT) WITH (kafka_topic='test_topic', value_format='JSON');",
            "SELECT * FROM T EMIT CHANGES LIMIT 2;",
        ],
        inputs=[
            {"topic": "test_topic", "timestamp": 1, "key": 10, "value": {"id": 110}},
            {"topic": "test_topic", "timestamp": 2, "key": 10, "value": None},
        ],
        responses=[
            ADMIN,
            {
                "query": [
                    {"header": {"schema": "`K` INTEGER, `ID` INTEGER"}},
                    {"row": {"columns": [10, 110]}},
                    {"row": {"columns": [10, None], "tombstone": True}},
                    {"finalMessage": "Limit Reached"},
                ]
            },
        ],
    )
    result = _run(case, engine_transport(tmp_path, query_idle=2.0))
    assert result.status is Status.PASS, result.reason

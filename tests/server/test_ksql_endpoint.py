"""POST /ksql against a real server: entities, errors, request-scoped properties and variables."""

from __future__ import annotations

import httpx
import pytest

STREAM = "CREATE STREAM S (ID INT KEY, V STRING) WITH (KAFKA_TOPIC='s', PARTITIONS=1, VALUE_FORMAT='JSON');"


def post(client: httpx.Client, text: str, **fields: object) -> httpx.Response:
    return client.post("/ksql", json={"ksql": text, **fields})


def test_one_entity_per_statement_in_ksqldb_shapes(http1: httpx.Client) -> None:
    response = post(http1, STREAM + " INSERT INTO S (ID, V) VALUES (1, 'a'); SHOW STREAMS; LIST TOPICS;")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    created, streams, topics = response.json()  # the INSERT answers with nothing, as in ksqlDB
    assert created["@type"] == "currentStatus"
    assert created["commandId"] == "stream/`S`/create"
    assert created["commandStatus"]["status"] == "SUCCESS"
    assert created["commandSequenceNumber"] == 0
    assert created["warnings"] == []
    assert streams["@type"] == "streams"
    assert [s["name"] for s in streams["streams"]] == ["S"]
    assert topics["@type"] == "kafka_topics"
    assert "s" in [t["name"] for t in topics["topics"]]


def test_syntax_error_is_a_statement_error_and_runs_nothing(http1: httpx.Client) -> None:
    response = post(http1, STREAM + " CREATE STREAM oops (;")
    assert response.status_code == 400
    body = response.json()
    assert body["@type"] == "statement_error"
    assert body["error_code"] == 40001
    assert "line 1:" in body["message"]
    assert "CREATE STREAM oops" in body["statementText"]
    assert body["entities"] == []
    assert post(http1, "SHOW STREAMS;").json()[0]["streams"] == []  # the first statement did not run either


def test_a_failing_statement_carries_the_entities_before_it(http1: httpx.Client) -> None:
    response = post(http1, STREAM + " DESCRIBE  NOPE ; -- the end")
    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] == 40001
    assert body["statementText"] == "DESCRIBE  NOPE ;"  # as written, through its ';', as ksqlDB's
    assert "NOPE" in body["message"]
    assert [e["@type"] for e in body["entities"]] == ["currentStatus"]


def test_a_syntax_error_reads_as_ksqldbs_with_headwaters_detail_after_it(http1: httpx.Client) -> None:
    text = "SHOW STREAMS;\nSELECT * FRM S;"
    body = http1.post("/query", json={"ksql": "SELECT * FROM S ORDER BY ID DESC;"}).json()
    assert body["message"].startswith("line 1:23: Syntax Error\n\nStatement: SELECT * FROM S ORDER BY ID DESC;\n")
    assert body["statementText"] == "SELECT * FROM S ORDER BY ID DESC;"
    body = post(http1, text).json()
    assert body["message"].startswith(f"line 2:10: Syntax Error\n\nStatement: {text}\n")
    assert body["message"].endswith("\nSELECT * FRM S;\n         ^")  # the line and a caret under FRM


def test_positions_in_messages_count_from_the_start_of_the_request(http1: httpx.Client) -> None:
    """ksqlDB says where in the request a statement failed, not where in the statement."""
    response = post(http1, STREAM + "\nSHOW STREAMS;\n   CREATE STREAM T AS SELECT NOPE FROM S;")
    body = response.json()
    assert body["message"] == "Line: 3, Col: 30: SELECT column 'NOPE' cannot be resolved."
    assert body["statementText"] == "CREATE STREAM T AS SELECT NOPE FROM S;"
    assert [e["@type"] for e in body["entities"]] == ["currentStatus", "streams"]
    query = http1.post("/query", json={"ksql": "\n  SELECT NOPE FROM S EMIT CHANGES;"}).json()
    assert query["message"].startswith("Line: 2, Col: 10: ")
    assert query["statementText"] == "SELECT NOPE FROM S EMIT CHANGES;"


def test_queries_belong_to_the_query_endpoints(http1: httpx.Client) -> None:
    for text in (STREAM + " SELECT * FROM S;", "PRINT 's';"):
        response = post(http1, text)
        assert response.status_code == 400
        body = response.json()
        assert body["error_code"] == 40002
        assert "'/query'" in body["message"]
    assert post(http1, "SHOW STREAMS;").json()[0]["streams"] == []  # validated before anything ran


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"{not json", "Malformed JSON in request"),
        (b"[1, 2]", "expected a JSON object"),
        (b"{}", '"ksql" field must be populated'),
        (b'{"ksql": "   "}', '"ksql" field must be populated'),
        (b'{"ksql": 5}', "must be a string"),
        (b'{"ksql": "SHOW STREAMS;", "streamsProperties": [1]}', "'streamsProperties' must be a JSON object"),
        (b'{"ksql": "SHOW STREAMS;", "commandSequenceNumber": "x"}', "must be an integer"),
    ],
)
def test_malformed_requests_get_ksqldb_error_bodies(http1: httpx.Client, body: bytes, fragment: str) -> None:
    response = http1.post("/ksql", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    error = response.json()
    assert error["@type"] == "generic_error"
    assert error["error_code"] == 40000
    assert fragment in error["message"]


def test_set_is_scoped_to_its_request(http1: httpx.Client) -> None:
    response = post(http1, "SET 'auto.offset.reset' = 'earliest'; SHOW PROPERTIES;")
    assert response.status_code == 200
    (properties,) = response.json()  # SET answers with nothing
    values = {p["name"]: p["value"] for p in properties["properties"]}
    assert values["auto.offset.reset"] == "earliest"
    again = {p["name"]: p["value"] for p in post(http1, "SHOW PROPERTIES;").json()[0]["properties"]}
    assert again["auto.offset.reset"] != "earliest"


def test_streams_properties_apply_to_the_request(http1: httpx.Client) -> None:
    response = post(http1, "SHOW PROPERTIES;", streamsProperties={"auto.offset.reset": "earliest"})
    values = {p["name"]: p["value"] for p in response.json()[0]["properties"]}
    assert values["auto.offset.reset"] == "earliest"
    bad = post(http1, "SHOW PROPERTIES;", streamsProperties={"ksql.timestamp.throw.on.invalid": "maybe"})
    assert bad.status_code == 400
    assert "Invalid value maybe" in bad.json()["message"]


def test_session_variables_and_define_are_scoped_to_the_request(http1: httpx.Client) -> None:
    response = post(
        http1,
        "CREATE STREAM ${name} (ID INT KEY) WITH (KAFKA_TOPIC='${topic}', PARTITIONS=1, VALUE_FORMAT='JSON');",
        sessionVariables={"name": "FROM_VARIABLES", "topic": "t1"},
    )
    assert response.status_code == 200, response.text
    defined = post(
        http1,
        "DEFINE other = 'DEFINED'; CREATE STREAM ${other} (ID INT KEY) WITH (KAFKA_TOPIC='t2', PARTITIONS=1, VALUE_FORMAT='JSON');",
    )
    assert defined.status_code == 200, defined.text
    assert [e["@type"] for e in defined.json()] == ["currentStatus"]  # DEFINE answers with nothing
    names = {s["name"] for s in post(http1, "SHOW STREAMS;").json()[0]["streams"]}
    assert {"FROM_VARIABLES", "DEFINED"} <= names
    # The DEFINE of one request does not reach the next one.
    leaked = post(
        http1,
        "CREATE STREAM ${other} (ID INT KEY) WITH (KAFKA_TOPIC='t3', PARTITIONS=1, VALUE_FORMAT='JSON');",
    )
    assert leaked.status_code == 400
    assert post(http1, "SHOW VARIABLES;").json()[0]["variables"] == []


def test_undefine_of_an_unknown_variable_warns(http1: httpx.Client) -> None:
    (warning,) = post(http1, "UNDEFINE nothing;").json()
    assert warning["@type"] == "warning_entity"
    assert "nothing" in warning["message"]


def test_command_sequence_number_waits_for_its_command(http1: httpx.Client) -> None:
    sequence = post(http1, STREAM).json()[0]["commandSequenceNumber"]
    assert post(http1, "SHOW STREAMS;", commandSequenceNumber=sequence).status_code == 200
    late = post(http1, "SHOW STREAMS;", commandSequenceNumber=sequence + 5)
    assert late.status_code == 503
    assert late.json()["error_code"] == 50301
    assert str(sequence + 5) in late.json()["message"]


def test_persistent_query_and_terminate(http1: httpx.Client) -> None:
    response = post(http1, STREAM + " CREATE STREAM BIG AS SELECT * FROM S WHERE ID > 1;")
    created = response.json()[1]
    query_id = created["commandStatus"]["queryId"]
    assert query_id.startswith("CSAS_BIG")
    queries = post(http1, "SHOW QUERIES;").json()[0]["queries"]
    assert [q["id"] for q in queries] == [query_id]
    terminated = post(http1, f"TERMINATE {query_id};")
    assert terminated.status_code == 200
    assert terminated.json()[0]["@type"] == "currentStatus"
    assert post(http1, "SHOW QUERIES;").json()[0]["queries"] == []

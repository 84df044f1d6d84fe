"""POST /query, /query-stream and /close-query against a real server: shapes, formats, streaming, and
no leaked query when a client goes away."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

import httpx
import pytest

from headwater.server import RunningServer

EARLIEST = {"auto.offset.reset": "earliest"}


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def thread_alive(name: str) -> bool:
    return any(t.name == name or t.name.endswith(name) for t in threading.enumerate())


@pytest.mark.usefixtures("orders")
def test_query_streams_ksqldb_json_array_ending_in_bracket_newline(http1: httpx.Client) -> None:
    response = http1.post("/query", json={"ksql": "SELECT ID, PRICE FROM ORDERS WHERE ID > 1;"})
    assert response.status_code == 200
    assert response.headers.get("transfer-encoding") == "chunked"
    assert response.text.endswith("]\n")
    header, *rows, final = json.loads(response.text)
    assert header["header"]["schema"].startswith("`ID` INTEGER")
    assert header["header"]["queryId"]
    assert [r["row"]["columns"] for r in rows] == [[2, 2.25], [3, 3.25]]
    assert final == {"finalMessage": "Query Completed"}
    assert "2.25" in response.text and "[2,2.25]" in response.text  # decimals as exact numbers


@pytest.mark.usefixtures("orders")
def test_push_query_with_limit_ends_with_limit_reached(http1: httpx.Client) -> None:
    response = http1.post(
        "/query", json={"ksql": "SELECT * FROM ORDERS EMIT CHANGES LIMIT 2;", "streamsProperties": EARLIEST}
    )
    document = json.loads(response.text)
    assert [item["row"]["columns"] for item in document[1:-1]] == [
        [1, "item-1", 1.25, 10],
        [2, "item-2", 2.25, 20],
    ]
    assert document[-1] == {"finalMessage": "Limit Reached"}
    assert response.text.endswith('{"finalMessage":"Limit Reached"}]\n')


@pytest.mark.usefixtures("orders")
@pytest.mark.parametrize("accept", [None, "*/*", "application/vnd.ksqlapi.delimited.v1"])
def test_query_stream_is_delimited_by_default(http1: httpx.Client, accept: str | None) -> None:
    headers = {"accept": accept} if accept else {}
    response = http1.post("/query-stream", json={"sql": "SELECT ID, ITEM FROM ORDERS;"}, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.ksqlapi.delimited.v1"
    lines = response.text.splitlines()
    metadata = json.loads(lines[0])
    assert metadata["columnNames"] == ["ID", "ITEM"]
    assert metadata["columnTypes"] == ["INTEGER", "STRING"]
    assert metadata["queryId"]
    assert [json.loads(line) for line in lines[1:]] == [[1, "item-1"], [2, "item-2"], [3, "item-3"]]


@pytest.mark.usefixtures("orders")
def test_query_stream_as_one_json_array_when_asked(http1: httpx.Client) -> None:
    response = http1.post(
        "/query-stream",
        json={"sql": "SELECT * FROM ORDERS EMIT CHANGES LIMIT 1;", "properties": EARLIEST},
        headers={"accept": "application/json"},
    )
    assert response.headers["content-type"] == "application/json"
    metadata, row = json.loads(response.text)
    assert metadata["columnNames"] == ["ID", "ITEM", "PRICE", "QTY"]
    assert metadata["columnTypes"] == ["INTEGER", "STRING", "DECIMAL(6, 2)", "BIGINT"]
    assert row == [1, "item-1", 1.25, 10]


@pytest.mark.usefixtures("orders")
def test_print_over_query(http1: httpx.Client) -> None:
    response = http1.post("/query", json={"ksql": "PRINT 'orders' FROM BEGINNING LIMIT 2;"})
    assert response.status_code == 200
    lines = [line for line in response.text.splitlines() if line]
    assert lines[0].startswith("Key format:")
    assert lines[1].startswith("Value format:")
    assert len(lines) == 4
    assert "item-1" in lines[2] and "item-2" in lines[3]


def test_query_errors(http1: httpx.Client) -> None:
    bad = http1.post("/query", json={"ksql": "SELECT * FROM NOWHERE;"})
    assert bad.status_code == 400
    assert bad.json()["@type"] == "statement_error"
    assert bad.json()["error_code"] == 40001
    assert bad.json()["statementText"] == "SELECT * FROM NOWHERE;"
    not_a_query = http1.post("/query", json={"ksql": "SHOW STREAMS;"})
    assert not_a_query.status_code == 400
    assert "not supported for this resource" in not_a_query.json()["message"]
    missing = http1.post("/query-stream", json={"ksql_typo": "x"})
    assert missing.status_code == 400
    assert missing.json() == {
        "@type": "generic_error",
        "error_code": 40000,
        "message": '"sql" field must be populated',
    }


@pytest.mark.usefixtures("orders")
def test_push_query_streams_rows_as_they_arrive(server: RunningServer, http1: httpx.Client) -> None:
    with http1.stream(
        "POST", "/query-stream", json={"sql": "SELECT ID FROM ORDERS EMIT CHANGES LIMIT 2;"}
    ) as response:
        lines = response.iter_lines()
        metadata = json.loads(next(lines))
        assert wait_until(lambda: metadata["queryId"] in server.app.queries.ids())
        with httpx.Client(base_url=server.url) as other:
            for i in (7, 8):
                other.post(
                    "/ksql", json={"ksql": f"INSERT INTO ORDERS (ID) VALUES ({i});"}
                ).raise_for_status()
                assert json.loads(next(lines)) == [i]  # each row arrives while the query runs
        assert list(lines) == []
    assert wait_until(lambda: server.app.queries.ids() == [])


@pytest.mark.usefixtures("orders")
@pytest.mark.parametrize("endpoint", ["/query", "/query-stream"])
def test_disconnecting_closes_the_push_query(server: RunningServer, endpoint: str) -> None:
    field = "ksql" if endpoint == "/query" else "sql"
    client = httpx.Client(base_url=server.url, timeout=20)
    with client.stream("POST", endpoint, json={field: "SELECT * FROM ORDERS EMIT CHANGES;"}) as response:
        lines = response.iter_lines()  # kept: dropping the iterator would close the connection early
        first = next(lines)
        query_id = (
            json.loads(first.rstrip(",")[1:])["header"] if endpoint == "/query" else json.loads(first)
        )["queryId"]
        assert wait_until(lambda: query_id in server.app.queries.ids())
        assert thread_alive(query_id)  # the engine's query thread
    client.close()  # the connection goes away with the response unfinished
    assert wait_until(lambda: query_id not in server.app.queries.ids())
    assert wait_until(lambda: not thread_alive(query_id)), "the engine's push query thread is still running"
    assert wait_until(lambda: not thread_alive(f"headwater-pump-{query_id}"))


@pytest.mark.usefixtures("orders")
def test_close_query_ends_the_stream(server: RunningServer, http2: httpx.Client) -> None:
    with http2.stream(
        "POST", "/query-stream", json={"sql": "SELECT * FROM ORDERS EMIT CHANGES;"}
    ) as response:
        lines = response.iter_lines()
        query_id = json.loads(next(lines))["queryId"]
        closed = httpx.post(f"{server.url}/close-query", json={"queryId": query_id})
        assert closed.status_code == 200
        assert closed.content == b""
        assert list(lines) == []  # the response ended
    assert server.app.queries.ids() == []
    assert wait_until(lambda: not thread_alive(query_id))
    again = httpx.post(f"{server.url}/close-query", json={"queryId": query_id})
    assert again.status_code == 400
    assert again.json()["message"] == f"No query with id {query_id}"
    missing = httpx.post(f"{server.url}/close-query", json={})
    assert missing.status_code == 400
    assert missing.json()["message"] == "No queryId in arguments"


def test_values_of_every_type_are_ksqldb_json(http1: httpx.Client) -> None:
    create = (
        "CREATE STREAM T (ID INT KEY, D DECIMAL(4, 2), TS TIMESTAMP, DT DATE, TM TIME, B BYTES, "
        "A ARRAY<INT>, M MAP<STRING, DOUBLE>, ST STRUCT<X INT, Y STRING>) "
        "WITH (KAFKA_TOPIC='t', PARTITIONS=1, VALUE_FORMAT='JSON');"
        "INSERT INTO T (ID, D, TS, DT, TM, B, A, M, ST) VALUES (1, 1.50, '2020-01-01T10:11:12.345', "
        "'2020-01-02', '01:02:03', 'AAE=', ARRAY[1, 2], MAP('a' := 0.5), STRUCT(X := 3, Y := 'y'));"
    )
    assert http1.post("/ksql", json={"ksql": create}).status_code == 200
    response = http1.post("/query-stream", json={"sql": "SELECT * FROM T;"})
    row_line = response.text.splitlines()[1]
    assert row_line == (
        '[1,1.50,"2020-01-01T10:11:12.345","2020-01-02","01:02:03","AAE=",[1,2],{"a":0.5},{"X":3,"Y":"y"}]'
    )


HAVING_TABLE = (
    "CREATE STREAM INPUT (K INT KEY, VAL INT) WITH (KAFKA_TOPIC='input', PARTITIONS=1, VALUE_FORMAT='JSON');"
    "CREATE TABLE POSITIVE AS SELECT K, SUM(VAL) AS TOTAL FROM INPUT GROUP BY K HAVING SUM(VAL) > 0;"
    "INSERT INTO INPUT (K, VAL) VALUES (11, 10);"
    "INSERT INTO INPUT (K, VAL) VALUES (11, -20);"
    "INSERT INTO INPUT (K, VAL) VALUES (11, 21);"
)


def test_a_deleted_table_row_is_a_tombstone_on_query_only(http1: httpx.Client) -> None:
    """HAVING drops K=11 when its sum turns negative: /query marks that row as ksqlDB's tombstone;
    /query-stream has no such flag (ksqlDB's delimited writer sends the values)."""
    assert http1.post("/ksql", json={"ksql": HAVING_TABLE}).status_code == 200
    query = "SELECT * FROM POSITIVE EMIT CHANGES LIMIT 3;"
    legacy = http1.post("/query", json={"ksql": query, "streamsProperties": EARLIEST})
    assert legacy.status_code == 200, legacy.text
    assert [item.get("row") for item in json.loads(legacy.text)[1:-1]] == [
        {"columns": [11, 10]},
        {"columns": [11, None], "tombstone": True},
        {"columns": [11, 11]},
    ]
    assert '{"row":{"columns":[11,null],"tombstone":true}}' in legacy.text
    delimited = http1.post("/query-stream", json={"sql": query, "properties": EARLIEST})
    assert [json.loads(line) for line in delimited.text.splitlines()[1:]] == [[11, 10], [11, None], [11, 11]]

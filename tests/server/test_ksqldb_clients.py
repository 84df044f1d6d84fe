"""Existing ksqlDB clients against a real server, unchanged: PyPI's ``ksqldb`` (requests for /ksql and
/close-query, httpx over HTTP/2 with prior knowledge for /query-stream and /inserts-stream) and plain
HTTP/1.1 with ``requests``."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from headwater.server import RunningServer

ksqldb = pytest.importorskip("ksqldb")
requests = pytest.importorskip("requests")

STREAM = (
    "CREATE STREAM RIDES (ID INT KEY, CITY STRING, KM DOUBLE) "
    "WITH (KAFKA_TOPIC='rides', PARTITIONS=1, VALUE_FORMAT='JSON');"
)


def test_statements_and_pull_query(server: RunningServer) -> None:
    client = ksqldb.KSQLdbClient(server.url)
    (created,) = client.ksql(STREAM)
    assert created["@type"] == "currentStatus"
    assert created["commandStatus"]["status"] == "SUCCESS"
    assert client.ksql("INSERT INTO RIDES (ID, CITY, KM) VALUES (1, 'Oslo', 2.5);") == []
    properties = client.get_properties()
    assert {p["name"]: p["value"] for p in properties}["auto.offset.reset"] == "latest"
    metadata, *rows = client.query_sync("SELECT * FROM RIDES;")
    assert metadata["columnNames"] == ["ID", "CITY", "KM"]
    assert metadata["columnTypes"] == ["INTEGER", "STRING", "DOUBLE"]
    assert rows == [[1, "Oslo", 2.5]]


def test_push_query_with_limit_and_inserts_stream(server: RunningServer) -> None:
    client = ksqldb.KSQLdbClient(server.url)
    client.ksql(STREAM)

    async def run() -> list[Any]:
        received: list[Any] = []

        async def consume() -> None:
            async for item in client.query_async("SELECT CITY, KM FROM RIDES EMIT CHANGES LIMIT 2;"):
                received.append(item)

        task = asyncio.create_task(consume())
        while not server.app.queries.ids():  # the push query is running before rows go in
            await asyncio.sleep(0.02)
        acks = await asyncio.to_thread(
            client.inserts_stream,
            "rides",
            [{"ID": 1, "CITY": "Oslo", "KM": 2.5}, {"id": 2, "city": "Rome", "km": 4}],
        )
        assert acks == [{"status": "ok", "seq": 0}, {"status": "ok", "seq": 1}]
        await asyncio.wait_for(task, 20)
        return received

    metadata, *rows = asyncio.run(run())
    assert metadata["columnNames"] == ["CITY", "KM"]
    assert rows == [["Oslo", 2.5], ["Rome", 4.0]]
    assert server.app.queries.ids() == []


def test_close_query(server: RunningServer) -> None:
    client = ksqldb.KSQLdbClient(server.url)
    client.ksql(STREAM)

    async def run() -> list[Any]:
        received: list[Any] = []
        async for item in client.query_async("SELECT * FROM RIDES EMIT CHANGES;", timeout=30):
            received.append(item)
            if len(received) == 1:
                assert await asyncio.to_thread(client.close_query, item["queryId"]) is True
        return received

    received = asyncio.run(asyncio.wait_for(run(), 20))
    assert len(received) == 1  # the metadata, then the stream ended
    assert server.app.queries.ids() == []
    assert client.close_query(received[0]["queryId"]) is False  # no longer running


def test_plain_http1_client_gets_the_same_results(server: RunningServer) -> None:
    ksql_client = ksqldb.KSQLdbClient(server.url)
    ksql_client.ksql(STREAM + "INSERT INTO RIDES (ID, CITY, KM) VALUES (1, 'Oslo', 2.5);")
    over_http2 = ksql_client.query_sync("SELECT * FROM RIDES;")
    response = requests.post(f"{server.url}/query-stream", json={"sql": "SELECT * FROM RIDES;"}, timeout=20)
    over_http1 = [json.loads(line) for line in response.text.splitlines()]
    assert over_http1[1:] == over_http2[1:]
    assert over_http1[0]["columnNames"] == over_http2[0]["columnNames"]
    inserted = requests.post(
        f"{server.url}/inserts-stream",
        data=b'{"target":"RIDES"}\n{"ID":3,"CITY":"Lima","KM":1}\n',
        timeout=20,
    )
    assert [json.loads(line) for line in inserted.text.splitlines()] == [{"status": "ok", "seq": 0}]
    listed = requests.post(f"{server.url}/ksql", json={"ksql": "SHOW STREAMS;"}, timeout=20).json()
    assert listed == ksql_client.ksql("SHOW STREAMS;")

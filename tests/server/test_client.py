"""The shell's client against a real server: the same entities and rows the embedded engine gives."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from headwater.engine import Engine
from headwater.engine.entities import QueryRow
from headwater.server import RunningServer
from headwater.server.client import ServerClient, ServerError, ServerUnavailableError
from headwater.server.entity_codec import RemoteEntity, entity_from_json

SETUP = (
    "CREATE TYPE ADDRESS AS STRUCT<CITY STRING, ZIP INT>;"
    "CREATE STREAM S (ID INT KEY, V STRING, D DECIMAL(4, 2), TS TIMESTAMP, A ADDRESS) "
    "WITH (KAFKA_TOPIC='s', PARTITIONS=1, VALUE_FORMAT='JSON');"
    "INSERT INTO S (ID, V, D, TS, A) VALUES (1, 'one', 1.50, '2020-01-01T00:00:00.250', STRUCT(CITY := 'Oslo', ZIP := 1));"
    "CREATE STREAM T AS SELECT ID, V FROM S WHERE ID > 0;"
)
INTROSPECTION = [
    "SHOW STREAMS;",
    "SHOW TABLES;",
    "SHOW TOPICS;",
    "SHOW TOPICS EXTENDED;",
    "SHOW QUERIES;",
    "SHOW QUERIES EXTENDED;",
    "DESCRIBE S;",
    "DESCRIBE T EXTENDED;",
    "DESCRIBE STREAMS;",
    "SHOW FUNCTIONS;",
    "DESCRIBE FUNCTION UCASE;",
    "SHOW PROPERTIES;",
    "SHOW TYPES;",
    "SHOW VARIABLES;",
    "EXPLAIN SELECT * FROM S EMIT CHANGES;",
]


def comparable(document: dict) -> dict:
    """An entity's JSON without what differs between two engines by design (timestamps of statistics)."""
    text = repr(document)
    for word in ("statisticsMap", "errorStatsMap", "statistics", "errorStats"):
        text = text.replace(word, "_")
    return {k: v for k, v in document.items() if k not in ("sourceDescription", "sourceDescriptions")} | {
        "described": "sourceDescription" in document or "sourceDescriptions" in document
    }


def test_execute_returns_the_embedded_engines_entities(server: RunningServer, tmp_path: Path) -> None:
    client = ServerClient(server.url)
    with Engine(tmp_path / "embedded") as engine:
        remote_setup = client.execute(SETUP)
        local_setup = [e for e in engine.execute(SETUP) if e.rest_visible]
        assert [e.to_json() for e in remote_setup] == [e.to_json() for e in local_setup]
        for statement in INTROSPECTION:
            (remote,) = client.execute(statement)
            (local,) = engine.execute(statement)
            assert type(remote) is type(local), statement
            assert not isinstance(remote, RemoteEntity), statement
            if statement.startswith(
                ("SHOW QUERIES", "EXPLAIN", "DESCRIBE T", "DESCRIBE STREAMS", "SHOW TOPICS")
            ):
                assert comparable(remote.to_json()).keys() == comparable(local.to_json()).keys(), statement
            else:
                assert remote == local, statement


def test_every_entity_survives_json(server: RunningServer) -> None:
    """entity_from_json is the inverse of to_json for what the engine produces."""
    engine = server.app.engine
    entities = [e for e in engine.execute(SETUP) if e.rest_visible]
    for statement in [
        *INTROSPECTION,
        "UNDEFINE nothing;",
        "ASSERT TOPIC s;",
        "TERMINATE CSAS_T_0;",
        "DROP STREAM T;",
    ]:
        entities.extend(e for e in engine.execute(statement) if e.rest_visible)
    assert len(entities) >= len(INTROSPECTION) + 5
    for entity in entities:
        decoded = entity_from_json(entity.to_json())
        assert decoded.to_json() == entity.to_json(), type(entity).__name__
        assert type(decoded) is type(entity)
    unknown = entity_from_json(
        {"@type": "connector_list", "statementText": "SHOW CONNECTORS", "warnings": []}
    )
    assert isinstance(unknown, RemoteEntity)
    assert unknown.to_json()["@type"] == "connector_list"


def test_stream_gives_engine_rows_and_final_message(server: RunningServer, tmp_path: Path) -> None:
    client = ServerClient(server.url)
    client.execute(SETUP)
    with Engine(tmp_path / "embedded") as engine:
        engine.execute(SETUP)
        local = engine.stream("SELECT * FROM S;")
        local_rows = list(local)
        remote = client.stream("SELECT * FROM S;")
        remote_rows = list(remote)
    assert remote_rows == local_rows  # Decimal, datetime and struct values come back as the engine's
    assert remote.header.column_names == local.header.column_names
    assert remote.header.column_types == local.header.column_types
    assert remote.final_message == local.final_message


def test_push_stream_rows_arrive_and_close_stops_the_query(server: RunningServer) -> None:
    client = ServerClient(server.url)
    client.execute(SETUP)
    stream = client.stream("SELECT ID, V FROM S EMIT CHANGES;")
    query_id = stream.header.query_id
    assert query_id in server.app.queries.ids()
    received = []

    def read() -> None:
        for row in stream:
            received.append(row.columns)

    reader = threading.Thread(target=read)
    reader.start()
    client.execute("INSERT INTO S (ID, V) VALUES (2, 'two');")
    deadline = time.monotonic() + 10
    while not received and time.monotonic() < deadline:
        time.sleep(0.02)
    assert received == [(2, "two")]
    stream.close()  # from another thread than the reader, as the shell's Ctrl-C does
    reader.join(10)
    assert not reader.is_alive()
    deadline = time.monotonic() + 10
    while query_id in server.app.queries.ids() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert query_id not in server.app.queries.ids()


def test_limit_and_print(server: RunningServer) -> None:
    client = ServerClient(server.url)
    client.execute(SETUP)
    limited = client.stream("SELECT ID FROM S EMIT CHANGES LIMIT 1;", {"auto.offset.reset": "earliest"})
    assert [row.columns for row in limited] == [(1,)]
    assert limited.final_message is not None and limited.final_message.message == "Limit Reached"
    printed = client.stream("PRINT 's' FROM BEGINNING LIMIT 1;")
    lines = [row.columns[0] for row in printed]
    assert lines[0].startswith("Key format:") and "one" in lines[2]
    assert printed.header.column_names == ("TEXT",)


def test_a_deleted_table_row_comes_back_as_a_tombstone(server: RunningServer) -> None:
    client = ServerClient(server.url)
    client.execute(
        "CREATE STREAM INPUT (K INT KEY, VAL INT) WITH (KAFKA_TOPIC='input', PARTITIONS=1, VALUE_FORMAT='JSON');"
        "CREATE TABLE POSITIVE AS SELECT K, SUM(VAL) AS TOTAL FROM INPUT GROUP BY K HAVING SUM(VAL) > 0;"
        "INSERT INTO INPUT (K, VAL) VALUES (11, 10);"
        "INSERT INTO INPUT (K, VAL) VALUES (11, -20);"
    )
    stream = client.stream("SELECT * FROM POSITIVE EMIT CHANGES LIMIT 2;", {"auto.offset.reset": "earliest"})
    assert list(stream) == [QueryRow((11, 10)), QueryRow((11, None), tombstone=True)]


def test_importing_the_client_leaves_the_engine_and_the_server_unloaded() -> None:
    """``headwater http://host -e ...`` imports the client only; the package's names load on first use."""
    probe = (
        "import sys, headwater.server.client\n"
        "heavy = [m for m in ('headwater.engine.engine', 'headwater.server.app', 'hypercorn', 'duckdb', 'pyarrow')"
        " if m in sys.modules]\n"
        "import headwater.server as server\n"
        "print(heavy, server.main.__module__, server.ServerSettings.__name__, 'main' in dir(server))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["[]", "headwater.server.runner", "ServerSettings", "True"]


def test_errors(server: RunningServer) -> None:
    client = ServerClient(server.url)
    with pytest.raises(ServerError) as bad:
        client.execute("CREATE STREAM (;")
    assert bad.value.error_code == 40001
    assert "line 1:" in bad.value.message
    with pytest.raises(ServerError) as failed:
        client.execute("SHOW STREAMS; DESCRIBE NOPE;")
    assert failed.value.statement_text == "DESCRIBE NOPE;"
    assert [e["@type"] for e in failed.value.entities] == ["streams"]
    with pytest.raises(ServerError) as unknown:
        client.stream("SELECT * FROM NOWHERE;")
    assert unknown.value.status == 400
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    with pytest.raises(ServerUnavailableError, match="Cannot reach the server"):
        ServerClient(f"http://127.0.0.1:{port}").execute("SHOW STREAMS;")
    assert client.info()["serverStatus"] == "RUNNING"

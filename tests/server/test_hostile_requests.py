"""Careless and hostile requests: each gets ksqlDB's error JSON with a status that says what was wrong,
clients that vanish mid-stream leave nothing behind, and the server keeps serving after all of them."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from headwater.server import RunningServer

ROOT = Path(__file__).resolve().parents[2]


def assert_still_serving(http: httpx.Client) -> None:
    assert http.get("/info").status_code == 200
    response = http.post("/ksql", json={"ksql": "SHOW STREAMS;"})
    assert response.status_code == 200, response.text


def test_a_data_dir_that_is_a_file_is_one_clear_message(tmp_path: Path) -> None:
    target = tmp_path / "data"
    target.write_text("keep me")
    result = subprocess.run(
        [sys.executable, "-m", "headwater.server", "--data-dir", str(target), "--listen", "127.0.0.1:0"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == f"headwater server: error: The data directory {str(target)!r} is a file, not a directory"
    assert target.read_text() == "keep me"


@pytest.mark.parametrize(
    ("path", "body", "status", "fragment"),
    [
        ("/ksql", b"{bad", 400, "Malformed JSON in request"),
        ("/ksql", b"\xff\xfe\x00", 400, "not UTF-8"),
        ("/ksql", b"[1, 2]", 400, "expected a JSON object"),
        ("/ksql", b'{"sql": "SHOW STREAMS;"}', 400, '"ksql" field must be populated'),
        ("/ksql", b'{"ksql": 5}', 400, '"ksql" field must be a string'),
        ("/ksql", b'{"ksql": "SHOW STREAMS;", "streamsProperties": 5}', 400, "'streamsProperties' must be a JSON object"),
        ("/ksql", b'{"ksql": "SHOW STREAMS;", "streamsProperties": {"auto.offset.reset": [1]}}', 400, "auto.offset.reset"),
        ("/ksql", b'{"ksql": "SHOW STREAMS;", "sessionVariables": []}', 400, "'sessionVariables' must be a JSON object"),
        ("/ksql", b'{"ksql": "SHOW STREAMS;", "commandSequenceNumber": "x"}', 400, "'commandSequenceNumber' must be an integer"),
        ("/query", b'{"ksql": 42}', 400, '"ksql" field must be a string'),
        ("/query-stream", b"{bad", 400, "Malformed JSON in request"),
        ("/query-stream", b'{"sql": 5}', 400, '"sql" field must be a string'),
        ("/query-stream", b'{"sql": "SELECT * FROM NOPE;", "properties": 7}', 400, "'properties' must be a JSON object"),
        ("/inserts-stream", b"{bad", 400, "Malformed JSON in request"),
        ("/inserts-stream", b'{"target": "NOPE"}\n', 400, "unknown stream/table"),
        ("/close-query", b'{"queryId": 5}', 400, "queryId"),
    ],
)
def test_malformed_bodies_are_ksqldb_errors(http1: httpx.Client, path: str, body: bytes, status: int,
                                             fragment: str) -> None:
    response = http1.post(path, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == status, response.text
    document = response.json()
    assert document["@type"] in {"generic_error", "statement_error"}
    assert document["error_code"] // 100 == status
    assert fragment in document["message"], document
    assert_still_serving(http1)


def test_unknown_endpoints_and_wrong_methods(http1: httpx.Client) -> None:
    assert http1.get("/nope").json()["error_code"] == 40400
    assert http1.get("/ksql").json()["error_code"] == 40500
    assert http1.delete("/query").json()["error_code"] == 40500
    assert_still_serving(http1)


def test_a_body_over_the_limit_is_413(server: RunningServer, http1: httpx.Client) -> None:
    huge = b'{"ksql": "' + b"a" * (5 << 20) + b'"}'
    response = http1.post("/ksql", content=huge, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error_code"] == 41300
    assert_still_serving(http1)


def test_clients_closing_mid_stream_leave_the_server_serving(server: RunningServer, http1: httpx.Client,
                                                             orders: None) -> None:
    host, port = server.url.removeprefix("http://").split(":")
    for path, body in (
        ("/query-stream", b'{"sql": "SELECT * FROM ORDERS EMIT CHANGES;", "properties": {"auto.offset.reset": "earliest"}}'),
        ("/query", b'{"ksql": "SELECT * FROM ORDERS EMIT CHANGES;", "streamsProperties": {"auto.offset.reset": "earliest"}}'),
        ("/inserts-stream", b'{"target": "ORDERS"}\n{"ID": 9, "ITEM": "half'),
    ):
        with socket.create_connection((host, int(port)), timeout=10) as raw:
            if path == "/inserts-stream":  # a chunked body cut inside a row
                framing = f"Transfer-Encoding: chunked\r\n\r\n{len(body):x}\r\n".encode()
                raw.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\n".encode() + framing + body + b"\r\n")
            else:  # a whole request, then the connection closes while rows stream
                head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                raw.sendall(head + body)
                assert raw.recv(4096).startswith(b"HTTP/1.1 200"), path
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        queries = http1.post("/ksql", json={"ksql": "SHOW QUERIES;"}).json()[0]["queries"]
        if not queries:
            break
        time.sleep(0.1)
    assert queries == [], "a push query outlived its closed connection"
    rows = http1.post("/query", json={"ksql": "SELECT * FROM ORDERS;"}).json()
    assert [row["row"]["columns"][0] for row in rows if "row" in row] == [1, 2, 3], "the half row was not inserted"
    assert_still_serving(http1)


def test_a_statement_nested_too_deeply_is_a_400_and_the_server_keeps_serving(http1: httpx.Client, orders: None) -> None:
    deep = "SELECT " + "1+" * 3000 + "1 AS X FROM ORDERS;"
    for path in ("/query", "/ksql"):
        body = {"ksql": deep if path == "/query" else deep.replace("SELECT", "CREATE STREAM D AS SELECT", 1)}
        response = http1.post(path, json=body)
        assert response.status_code == 400, response.text
        document = response.json()
        assert document["error_code"] == 40001
        assert "nested too deeply" in document["message"], document
    assert_still_serving(http1)

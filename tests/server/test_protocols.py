"""One port, two protocols: HTTP/1.1 and HTTP/2 with prior knowledge; absolute-form targets; unknown
endpoints, wrong methods and oversized bodies answered with ksqlDB's error bodies."""

from __future__ import annotations

import json
import socket

import httpx
import pytest

from headwater.server import RunningServer, ServerSettings, start_in_thread

STREAM = "CREATE STREAM S (ID INT KEY, V STRING) WITH (KAFKA_TOPIC='s', PARTITIONS=1, VALUE_FORMAT='JSON');"


def raw_request(server: RunningServer, data: bytes) -> bytes:
    """Send bytes on a plain socket and read the whole answer (the request closes the connection)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_http1_and_http2_on_the_same_port_give_the_same_results(
    http1: httpx.Client, http2: httpx.Client
) -> None:
    created = http2.post("/ksql", json={"ksql": STREAM + " INSERT INTO S (ID, V) VALUES (1, 'one');"})
    assert created.http_version == "HTTP/2"
    assert created.status_code == 200
    answers = {}
    for client in (http1, http2):
        streamed = client.post("/query-stream", json={"sql": "SELECT * FROM S;"})
        listed = client.post("/ksql", json={"ksql": "SHOW STREAMS;"})
        info = client.get("/info")
        answers[streamed.http_version] = (
            [json.loads(line) for line in streamed.text.splitlines()][1:],
            listed.json(),
            info.json(),
        )
    assert set(answers) == {"HTTP/1.1", "HTTP/2"}
    assert answers["HTTP/1.1"] == answers["HTTP/2"]
    assert answers["HTTP/2"][0] == [[1, "one"]]


def test_query_endpoint_over_http2_streams_too(http2: httpx.Client) -> None:
    http2.post(
        "/ksql", json={"ksql": STREAM + " INSERT INTO S (ID, V) VALUES (1, 'one');"}
    ).raise_for_status()
    response = http2.post("/query", json={"ksql": "SELECT * FROM S;"})
    assert response.http_version == "HTTP/2"
    document = json.loads(response.text)
    assert document[1] == {"row": {"columns": [1, "one"]}}


def test_absolute_form_request_target(server: RunningServer) -> None:
    body = json.dumps({"ksql": "SHOW STREAMS;"}).encode()
    request = (
        f"POST http://127.0.0.1:{server.port}/ksql HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body
    answer = raw_request(server, request)
    assert answer.startswith(b"HTTP/1.1 200")
    assert b'"@type":"streams"' in answer


def test_unknown_endpoint_and_wrong_method(http1: httpx.Client) -> None:
    missing = http1.get("/no-such-thing")
    assert missing.status_code == 404
    assert missing.json() == {
        "@type": "generic_error",
        "error_code": 40400,
        "message": "Not found: /no-such-thing",
    }
    wrong = http1.get("/ksql")
    assert wrong.status_code == 405
    assert wrong.json()["error_code"] == 40500


def test_oversized_bodies_are_refused(tmp_path) -> None:
    with start_in_thread(ServerSettings(data_dir=tmp_path / "d", port=0, max_body_bytes=1000)) as server:
        big = {"ksql": "SHOW STREAMS; -- " + "x" * 2000}
        declared = httpx.post(f"{server.url}/ksql", json=big)
        assert declared.status_code == 413
        assert declared.json()["error_code"] == 41300

        def chunks():  # no Content-Length: the limit applies while reading
            for _ in range(30):
                yield b" " * 100

        streamed = httpx.post(f"{server.url}/ksql", content=chunks())
        assert streamed.status_code == 413
        assert streamed.json()["@type"] == "generic_error"
        # A streamed insert may be long; one row over the limit stops it with an error ack.
        httpx.post(f"{server.url}/ksql", json={"ksql": STREAM}).raise_for_status()
        rows = b'{"target": "S"}\n{"ID": 1, "V": "ok"}\n{"ID": 2, "V": "' + b"y" * 1500 + b'"}\n'
        inserted = httpx.post(f"{server.url}/inserts-stream", content=rows)
        acks = [json.loads(line) for line in inserted.text.splitlines()]
        assert acks[0] == {"status": "ok", "seq": 0}
        assert acks[1]["status"] == "error" and acks[1]["error_code"] == 41300


def test_bad_content_length_is_a_bad_request(server: RunningServer) -> None:
    request = (
        b'POST /ksql HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\nConnection: close\r\n\r\n{"ksql": 1}\n'
    )
    answer = raw_request(server, request)
    assert answer.startswith(b"HTTP/1.1 400")
    assert b'"error_code":40000' in answer


@pytest.mark.parametrize("path", ["/healthcheck", "/info", "/status"])
def test_introspection_endpoints(http1: httpx.Client, path: str) -> None:
    response = http1.get(path)
    assert response.status_code == 200
    body = response.json()
    if path == "/healthcheck":
        assert body["isHealthy"] is True
        assert set(body["details"]) == {"metastore", "kafka", "commandRunner"}
    elif path == "/info":
        assert body["KsqlServerInfo"]["serverStatus"] == "RUNNING"
        assert body["KsqlServerInfo"]["ksqlServiceId"] == "default_"
    else:
        assert body == {"commandStatuses": {}}


def test_status_of_commands(http1: httpx.Client) -> None:
    created = http1.post("/ksql", json={"ksql": STREAM}).json()[0]
    command_id = created["commandId"]
    assert http1.get("/status").json() == {"commandStatuses": {command_id: "SUCCESS"}}
    one = http1.get(f"/status/{command_id}")
    assert one.status_code == 200
    assert one.json() == {"status": "SUCCESS", "message": created["commandStatus"]["message"]}
    unknown = http1.get("/status/stream/NOPE/create")
    assert unknown.status_code == 404
    assert unknown.json()["error_code"] == 40400


def test_is_valid_property(http1: httpx.Client) -> None:
    good = http1.get("/is_valid_property/auto.offset.reset")
    assert good.status_code == 200
    assert good.json() is True
    bad = http1.get("/is_valid_property/nonsense")
    assert bad.status_code == 400
    assert (
        bad.json()["message"]
        == "Not recognizable as ksql, streams, consumer, or producer property: 'nonsense'"
    )

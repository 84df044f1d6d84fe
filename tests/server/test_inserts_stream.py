"""POST /inserts-stream against a real server: one ack per row, in order; the first bad row ends the
stream with ksqlDB's error ack and nothing after it is inserted."""

from __future__ import annotations

import json

import httpx

TYPES = (
    "CREATE STREAM T (ID INT KEY, D DECIMAL(5, 3), X DOUBLE, B BIGINT, A ARRAY<INT>, "
    "M MAP<STRING, DOUBLE>, ST STRUCT<N INT, S STRING>, TS TIMESTAMP) "
    "WITH (KAFKA_TOPIC='t', PARTITIONS=1, VALUE_FORMAT='JSON');"
)


def body(target: str, *rows: object) -> bytes:
    return b"\n".join(json.dumps(item).encode() for item in ({"target": target}, *rows)) + b"\n"


def rows_of(client: httpx.Client, sql: str) -> list[list[object]]:
    response = client.post("/query-stream", json={"sql": sql})
    return [json.loads(line) for line in response.text.splitlines()[1:]]


def test_rows_of_every_shape_are_inserted_and_acked(http2: httpx.Client) -> None:
    http2.post("/ksql", json={"ksql": TYPES}).raise_for_status()
    payload = body(
        "t",  # case-insensitive target
        {
            "ID": 1,
            "D": 1.125,
            "X": 0.1,
            "B": 9007199254740993,
            "A": [1, None],
            "M": {"k": 2},
            "ST": {"n": 3, "s": "x"},
        },
        {"id": 2, "ts": "2021-02-03T04:05:06.007"},
    )
    response = http2.post("/inserts-stream", content=payload)
    assert response.http_version == "HTTP/2"
    assert response.headers["content-type"] == "application/vnd.ksqlapi.delimited.v1"
    assert [json.loads(line) for line in response.text.splitlines()] == [
        {"status": "ok", "seq": 0},
        {"status": "ok", "seq": 1},
    ]
    raw = http2.post("/query-stream", json={"sql": "SELECT * FROM T;"}).text.splitlines()[1:]
    assert raw[0] == '[1,1.125,0.1,9007199254740993,[1,null],{"k":2.0},{"N":3,"S":"x"},null]'
    assert raw[1] == '[2,null,null,null,null,null,null,"2021-02-03T04:05:06.007"]'


def test_acks_as_one_json_array_when_asked(http1: httpx.Client) -> None:
    http1.post("/ksql", json={"ksql": TYPES}).raise_for_status()
    response = http1.post(
        "/inserts-stream", content=body("T", {"ID": 1}, {"ID": 2}), headers={"accept": "application/json"}
    )
    assert response.headers["content-type"] == "application/json"
    assert response.json() == [{"status": "ok", "seq": 0}, {"status": "ok", "seq": 1}]


def test_the_first_bad_row_ends_the_stream(http1: httpx.Client) -> None:
    http1.post("/ksql", json={"ksql": TYPES}).raise_for_status()
    payload = body("T", {"ID": 1}, {"ID": 2, "NOPE": 1}, {"ID": 3})
    acks = [json.loads(line) for line in http1.post("/inserts-stream", content=payload).text.splitlines()]
    assert acks[0] == {"status": "ok", "seq": 0}
    error = acks[1]
    assert error["status"] == "error"
    assert error["seq"] == 1
    assert error["error_code"] == 40000
    assert "NOPE" in error["message"]
    assert len(acks) == 2
    assert rows_of(http1, "SELECT ID FROM T;") == [[1]]  # row 3 was never inserted


def test_malformed_rows_and_shapes(http1: httpx.Client) -> None:
    http1.post("/ksql", json={"ksql": TYPES}).raise_for_status()
    bad_json = b'{"target": "T"}\n{"ID": 1}\n{"ID": \n'
    acks = [json.loads(line) for line in http1.post("/inserts-stream", content=bad_json).text.splitlines()]
    assert acks[1]["status"] == "error" and "Malformed JSON in inserts stream" in acks[1]["message"]
    wrong_shape = body("T", {"ID": 5, "ST": [1, 2]})
    (ack,) = [
        json.loads(line) for line in http1.post("/inserts-stream", content=wrong_shape).text.splitlines()
    ]
    assert ack["status"] == "error"
    assert ack["message"] == "Cannot insert an array into column `ST` of type STRUCT<`N` INTEGER, `S` STRING>"


def test_bad_arguments_are_refused_before_any_row(http1: httpx.Client) -> None:
    unknown = http1.post("/inserts-stream", content=body("NOWHERE", {"ID": 1}))
    assert unknown.status_code == 400
    assert unknown.json() == {
        "@type": "generic_error",
        "error_code": 40000,
        "message": "Cannot insert values into an unknown stream/table: `NOWHERE`",
    }
    missing = http1.post("/inserts-stream", content=b'{"no_target": 1}\n')
    assert missing.status_code == 400
    assert missing.json()["message"] == "No target in arguments"
    empty = http1.post("/inserts-stream", content=b"")
    assert empty.status_code == 400
    malformed = http1.post("/inserts-stream", content=b"{oops\n")
    assert malformed.status_code == 400
    assert malformed.json()["message"].startswith("Malformed JSON in request")

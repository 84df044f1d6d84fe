"""The RQTT HTTP transport reads a streamed /query response whole, however slowly its chunks arrive."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from headwater.conformance.rest_transports import HttpTransport


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


@pytest.fixture
def stalling_server() -> Iterator[tuple[int, list[float]]]:
    """A server answering one /query with a chunked body that stalls in the middle of a chunk, then
    either ends the response or keeps the connection open without a word (``pauses`` says how long)."""
    listener = socket.create_server(("127.0.0.1", 0))
    pauses: list[float] = []
    finished = threading.Event()  # the test is over: stop being silent

    def serve() -> None:
        connection, _ = listener.accept()
        with connection:
            request = b""
            while b"\r\n\r\n" not in request:
                request += connection.recv(65536)
            head, _, body = request.partition(b"\r\n\r\n")
            length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")))
            while len(body) < length:
                body += connection.recv(65536)
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
            connection.sendall(_chunk(b'[{"header":{"queryId":"q","schema":"`ID` INTEGER"}},\n'))
            row = _chunk(b'{"row":{"columns":[1]}},\n')
            connection.sendall(row[:5])  # the chunk's size line and a little of its data...
            time.sleep(pauses[0])  # ...then nothing for a while, as from a server starved of CPU
            connection.sendall(row[5:])
            connection.sendall(_chunk(b'{"row":{"columns":[2]}}]\n'))
            if len(pauses) > 1:
                finished.wait(pauses[1])  # a query that never ends: silence until the client gives up
            connection.sendall(b"0\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1], pauses
    finished.set()
    listener.close()
    thread.join(10)


def _transport(port: int, idle: float) -> HttpTransport:
    server = SimpleNamespace(app=SimpleNamespace(engine=None), port=port)
    return HttpTransport(server, query_idle=idle)


def test_a_chunk_that_stalls_half_way_loses_no_row(stalling_server: tuple[int, list[float]]) -> None:
    port, pauses = stalling_server
    pauses.append(1.5)  # longer than the 0.5 s socket timeouts the reader once used
    rows = _transport(port, idle=5.0).query("SELECT ID FROM S EMIT CHANGES;", {})
    assert isinstance(rows, list)
    assert [r.get("row", {}).get("columns") for r in rows[1:]] == [[1], [2]]
    assert json.dumps(rows[0]["header"]["schema"]) == '"`ID` INTEGER"'


def test_a_silent_response_ends_after_the_idle_time_with_the_rows_so_far(
    stalling_server: tuple[int, list[float]],
) -> None:
    port, pauses = stalling_server
    pauses += [0.1, 120.0]
    started = time.monotonic()
    headers: list[bool] = []
    rows = _transport(port, idle=1.0).query("SELECT ID FROM S EMIT CHANGES;", {}, on_header=lambda: headers.append(True))
    assert time.monotonic() - started < 60  # the idle time ended it, not the server
    assert isinstance(rows, list)
    assert [r.get("row", {}).get("columns") for r in rows[1:]] == [[1], [2]]
    assert headers == [True]

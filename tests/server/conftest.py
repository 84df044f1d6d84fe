"""A real server on 127.0.0.1 (an ephemeral port, a real socket) over a fresh data directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("hypercorn")
pytest.importorskip("httpx")

import httpx

from headwater.server import RunningServer, ServerSettings, start_in_thread


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    running = start_in_thread(ServerSettings(data_dir=tmp_path / "data", port=0, command_timeout_s=0.5))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def http1(server: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=20) as client:
        yield client


@pytest.fixture
def http2(server: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=20, http1=False, http2=True) as client:
        yield client


ORDERS = (
    "CREATE STREAM ORDERS (ID INT KEY, ITEM STRING, PRICE DECIMAL(6, 2), QTY BIGINT) "
    "WITH (KAFKA_TOPIC='orders', PARTITIONS=1, VALUE_FORMAT='JSON');"
)


@pytest.fixture
def orders(http1: httpx.Client) -> None:
    """The ORDERS stream with 3 rows: ID i, ITEM 'item-i', PRICE i.25, QTY 10*i."""
    inserts = "".join(
        f"INSERT INTO ORDERS (ID, ITEM, PRICE, QTY) VALUES ({i}, 'item-{i}', {i}.25, {10 * i});"
        for i in range(1, 4)
    )
    response = http1.post("/ksql", json={"ksql": ORDERS + inserts})
    assert response.status_code == 200, response.text

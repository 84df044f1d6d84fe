"""Careless calls of the Python API: each is a HeadwaterError that says what was wrong, never a TypeError,
an AttributeError or an OSError from deep inside, and nothing on disk is touched by a refused call."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import headwater
from headwater.api import Client
from headwater.errors import HeadwaterError, PlanError, StorageError


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    with headwater.connect(tmp_path / "data", background=False) as hw:
        hw.sql(
            "CREATE STREAM CLICKS (USER STRING KEY, PAGE STRING) "
            "WITH (KAFKA_TOPIC='clicks', PARTITIONS=1, VALUE_FORMAT='JSON');"
        )
        hw.sql("INSERT INTO CLICKS (ROWTIME, USER, PAGE) VALUES (1000, 'u1', '/a');")
        yield hw


def test_connect_on_a_file_names_it(tmp_path: Path) -> None:
    target = tmp_path / "data"
    target.write_text("keep me")
    with pytest.raises(StorageError, match="is a file, not a directory"):
        headwater.connect(target)
    with pytest.raises(StorageError, match="is a file"):
        headwater.connect(target / "below")
    assert target.read_text() == "keep me"


@pytest.mark.parametrize("path", [5, None, ["data"]])
def test_connect_on_something_that_is_not_a_path(path: Any) -> None:
    with pytest.raises(StorageError, match="must be a path"):
        headwater.connect(path)


def test_connect_on_an_empty_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StorageError, match="must not be empty"):
        headwater.connect("")


@pytest.mark.parametrize("text", [5, None, b"SHOW STREAMS;", ["SHOW STREAMS;"]])
def test_sql_of_something_that_is_not_text(client: Client, text: Any) -> None:
    with pytest.raises(PlanError, match=r"sql\(\) takes the statements as text \(str\)"):
        client.sql(text)


@pytest.mark.parametrize("name", [5, None, b"CLICKS"])
def test_read_of_a_name_that_is_not_text(client: Client, name: Any) -> None:
    with pytest.raises(PlanError, match=r"read\(\) takes the name of a stream or table"):
        client.read(name)


def test_read_with_a_where_that_is_not_text(client: Client) -> None:
    with pytest.raises(PlanError, match="where takes a ksqlDB expression as text"):
        client.read("CLICKS", where=5)  # type: ignore[arg-type]


@pytest.mark.parametrize("since", ["yesterday", [1], True, 1.5, "2024-13-45"])
def test_read_with_a_bad_since_says_so(client: Client, since: Any) -> None:
    with pytest.raises(HeadwaterError, match="Invalid since"):
        client.read("CLICKS", since=since)


def test_read_of_a_missing_source_lists_the_known_ones(client: Client) -> None:
    with pytest.raises(PlanError, match=r"Stream or table NOPE does not exist \(known: CLICKS\)"):
        client.read("NOPE")
    assert client.read("CLICKS").num_rows == 1


def test_a_closed_client_says_so(tmp_path: Path) -> None:
    hw = headwater.connect(tmp_path / "data", background=False)
    hw.sql("CREATE STREAM S (ID INT KEY) WITH (KAFKA_TOPIC='s', PARTITIONS=1, VALUE_FORMAT='JSON');")
    hw.close()
    hw.close()  # closing twice is harmless
    calls = [
        lambda: hw.sql("INSERT INTO S (ID) VALUES (1);"),
        lambda: hw.sql("SELECT * FROM S;"),
        lambda: hw.read("S"),
        lambda: hw.duckdb(),
        lambda: hw.explain("SELECT * FROM S;"),
        lambda: hw.export("S", tmp_path / "s.parquet"),
    ]
    for call in calls:
        with pytest.raises(PlanError, match="This client is closed"):
            call()
    assert not (tmp_path / "s.parquet").exists()


def test_a_statement_nested_too_deeply_is_a_plan_error(client: Client) -> None:
    with pytest.raises(PlanError, match="nested too deeply"):
        client.sql("SELECT " + "1+" * 3000 + "1 AS X FROM CLICKS;")
    with pytest.raises(PlanError, match="nested too deeply"):
        client.read("CLICKS", where="1+" * 3000 + "1 = 2")
    assert client.read("CLICKS").num_rows == 1

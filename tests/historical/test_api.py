"""The Python API (``headwater.connect``) and the export: what each call returns, DuckDB views of streams
and tables, time ranges, and Parquet files that read back as the same rows."""

from __future__ import annotations

import argparse
import datetime
import io
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import headwater
from headwater.api import Client
from headwater.engine.entities import CommandStatusEntity, StreamsList
from headwater.engine.historical import HistoricalResult
from headwater.engine.historical.export import ExportProgress, add_export_parser, run_export_command
from headwater.errors import ParseError, PlanError


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    with headwater.connect(tmp_path / "data", config={"auto.offset.reset": "earliest"}, background=False) as hw:
        hw.sql(
            "CREATE STREAM CLICKS (USER STRING KEY, PAGE STRING, MS INT) "
            "WITH (KAFKA_TOPIC='clicks', PARTITIONS=2, VALUE_FORMAT='JSON');"
        )
        for i in range(30):
            hw.sql(
                f"INSERT INTO CLICKS (ROWTIME, USER, PAGE, MS) VALUES ({i * 1000}, 'u{i % 4}', '/p{i % 3}', {i * 10});"
            )
        yield hw


def test_connect_is_exported_and_sql_returns_by_statement(client: Client) -> None:
    assert "connect" in headwater.__all__
    created = client.sql("CREATE STREAM OTHER (V INT) WITH (KAFKA_TOPIC='other', PARTITIONS=1, VALUE_FORMAT='JSON');")
    assert isinstance(created, CommandStatusEntity)
    assert isinstance(client.sql("SHOW STREAMS;"), StreamsList)
    result = client.sql("SELECT USER, COUNT(*) AS N FROM CLICKS GROUP BY USER;")
    assert isinstance(result, HistoricalResult)
    assert sorted(result.rows()) == [("u0", 8), ("u1", 8), ("u2", 7), ("u3", 7)]
    assert isinstance(result.table, pa.Table) and result.table.column_names == ["USER", "N"]
    explained = client.sql("EXPLAIN SELECT * FROM CLICKS WHERE ROWTIME < 5000;")
    assert isinstance(explained, str) and "CLICKS (stream, topic clicks" in explained
    # several statements: each runs, the last one's result comes back
    last = client.sql("INSERT INTO OTHER (V) VALUES (1); SELECT V FROM OTHER;")
    assert isinstance(last, HistoricalResult) and last.rows() == [(1,)]
    with pytest.raises(ParseError):
        client.sql("SELEKT 1;")


def test_read_with_time_ranges(client: Client) -> None:
    table = client.read("clicks", since=5000, until=datetime.datetime(1970, 1, 1, 0, 0, 9))
    assert table.column_names == ["USER", "PAGE", "MS", "ROWTIME", "ROWPARTITION", "ROWOFFSET"]
    assert sorted(table.column("ROWTIME").to_pylist()) == [5000, 6000, 7000, 8000]
    assert client.read("CLICKS", since="1970-01-01T00:00:29Z").column("MS").to_pylist() == [290]
    filtered = client.read("CLICKS", where="PAGE = '/p1' AND MS > 200")
    assert sorted(filtered.column("MS").to_pylist()) == [220, 250, 280]
    with pytest.raises(PlanError, match="Invalid since"):
        client.read("CLICKS", since="yesterday")
    with pytest.raises(PlanError, match="does not exist"):
        client.read("NOPE")


def test_duckdb_views_of_streams_and_tables(client: Client) -> None:
    client.sql(
        "CREATE TABLE PROFILES (USER STRING PRIMARY KEY, NAME STRING) "
        "WITH (KAFKA_TOPIC='profiles', PARTITIONS=1, VALUE_FORMAT='JSON');"
    )
    client.sql("INSERT INTO PROFILES (USER, NAME) VALUES ('u0', 'Ann');")
    client.sql("INSERT INTO PROFILES (USER, NAME) VALUES ('u1', 'Bob');")
    client.sql("INSERT INTO PROFILES (USER, NAME) VALUES ('u0', 'Anna');")
    con = client.duckdb()
    columns = [row[0] for row in con.sql('DESCRIBE "CLICKS"').fetchall()]
    assert columns == ["USER", "PAGE", "MS", "ROWTIME", "ROWPARTITION", "ROWOFFSET"]
    used = sum(1 for end in client.engine.log.topic("clicks").end_offsets().values() if end)
    assert con.sql('SELECT count(*), count(DISTINCT ROWPARTITION) FROM "CLICKS"').fetchall() == [(30, used)]
    assert sorted(con.sql('SELECT USER, NAME FROM "PROFILES"').fetchall()) == [("u0", "Anna"), ("u1", "Bob")]
    joined = con.sql(
        'SELECT p.NAME, count(*) FROM "CLICKS" c JOIN "PROFILES" p ON c.USER = p.USER GROUP BY 1 ORDER BY 1'
    ).fetchall()
    assert joined == [("Anna", 8), ("Bob", 8)]


def test_export_reads_back_as_the_same_rows(client: Client, tmp_path: Path) -> None:
    seen: list[ExportProgress] = []
    target = tmp_path / "out" / "clicks.parquet"
    report = client.export("CLICKS", target, since=3000, until=20_000, where="MS % 20 = 0", progress=seen.append)
    expected = client.read("CLICKS", since=3000, until=20_000, where="MS % 20 = 0")
    assert report.rows == expected.num_rows == 8
    segments = sum(1 for s in client.engine.log.topic("clicks").segments() if s.record_count)
    assert seen[0] == ExportProgress(0, segments, 0)
    assert seen[-1].segments_done == seen[-1].segments_total == segments == report.segments_read
    assert seen[-1].rows_written == 8
    back = duckdb.connect().sql(f"SELECT * FROM '{target}' ORDER BY ROWTIME").fetchall()
    assert back == [tuple(r.values()) for r in expected.sort_by("ROWTIME").to_pylist()]
    assert pq.read_schema(target).types == expected.schema.types
    assert not list(target.parent.glob(".*.tmp"))


def test_export_failures_leave_no_file(client: Client, tmp_path: Path) -> None:
    target = tmp_path / "bad.parquet"
    with pytest.raises(ParseError, match="--where"):
        client.export("CLICKS", target, where="MS >")
    with pytest.raises(PlanError):
        client.export("CLICKS", target, where="NOSUCH > 1")
    assert not target.exists() and not list(tmp_path.glob(".*.tmp"))


def test_export_command_line(client: Client, tmp_path: Path) -> None:
    data_dir = Path(client.engine.data_dir)
    client.close()
    parser = argparse.ArgumentParser(prog="headwater")
    add_export_parser(parser.add_subparsers(dest="command"))
    target = tmp_path / "cli.parquet"
    args = parser.parse_args(["export", "CLICKS", "--to", str(target), "--until", "10000", "--progress", "always"])
    err = io.StringIO()
    assert run_export_command(args, data_dir, err=err) == 0
    text = err.getvalue()
    assert "\r[" in text and "segments" in text  # the progress bar was drawn
    assert "Exported 10 rows of CLICKS" in text
    assert pq.read_table(target).num_rows == 10
    wrong = parser.parse_args(["export", "CLICKS", "--to", str(tmp_path / "x.csv")])
    with pytest.raises(PlanError, match=r"\.parquet"):
        run_export_command(wrong, data_dir, err=io.StringIO())

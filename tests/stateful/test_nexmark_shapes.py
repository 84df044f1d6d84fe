"""The stateful Nexmark queries (q3, q5, q7, q8) run as ksqlDB statement pipelines over the benchmark's
generated events, each stage checked against DuckDB over the same events.

ksqlDB's dialect needs short pipelines for them:

* q3 (local item suggestion): persons become a table keyed by id (``LATEST_BY_OFFSET`` per ``ID``), then
  a stream-table join of auctions on ``SELLER`` (re-keyed by it) with the category / state filter. A
  stream-table join is an as-of join: an auction meets its seller only if the person came first in event
  time (the generator draws some sellers from persons created a few events later, which a batch join
  would still match);
* q5 (hot items): a HOPPING window count per auction, then the maximum count per window over a stream
  declared on the counts' changelog (counts only grow, so the maximum of the updates is the maximum of
  the final counts);
* q7 (highest bid): a TUMBLING window MAX of the price (ksqlDB has no arg-max; the bids carrying it are a
  lookup of this table);
* q8 (monitor new users): persons and auction sellers each aggregated per TUMBLING window, then a
  windowed table-table join on id and window.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from benchmarks.nexmark.generator import GeneratorConfig, NexmarkGenerator
from benchmarks.nexmark.loader import declare_streams, load
from headwater.engine import Engine

EVENTS = 30_000
RATE = 2_000  # events per second of event time: 15 s of events, several windows


@pytest.fixture(scope="module")
def nexmark(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, pa.Table]]:
    directory = tmp_path_factory.mktemp("nexmark")
    engine = Engine(directory / "engine", config={"auto.offset.reset": "earliest"}, background=False)
    dataset = load(
        NexmarkGenerator(GeneratorConfig(events=EVENTS, seed=3, events_per_second=RATE)),
        directory / "files",
        engine.log,
        arrow=False,
    )
    declare_streams(engine)
    engine.close()
    tables = {kind: pq.read_table(dataset.directory / f"{kind}.parquet") for kind in ("person", "auction", "bid")}
    return directory / "engine", tables


def _run(data_dir: Path, statements: str) -> Engine:
    """An engine on a copy of the loaded events, the statements run and their queries drained in
    creation order (each query after the ones whose sinks it reads)."""
    copy = data_dir.parent / f"run-{len(list(data_dir.parent.iterdir()))}"
    shutil.copytree(data_dir, copy)
    engine = Engine(copy, config={"auto.offset.reset": "earliest"}, background=False)
    try:
        engine.execute(statements)
        for query in engine.persistent_queries():
            query.process_available()
    except BaseException:
        engine.close()
        raise
    return engine


def _rows(engine: Engine, sink: str) -> list[dict[str, Any]]:
    topic = engine.log.topic(sink)
    return [r for p in range(len(topic.end_offsets())) for b in topic.partition(p).read(0).batches for r in b.to_pylist()]


def _final(engine: Engine, sink: str, keys: list[str]) -> dict[tuple[Any, ...], dict[str, Any]]:
    state: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in _rows(engine, sink):
        key = tuple(row[k] for k in keys)
        if row.get("__tombstone"):
            state.pop(key, None)
        else:
            state[key] = row
    return state


def _duck(tables: dict[str, pa.Table], sql: str) -> list[dict[str, Any]]:
    connection = duckdb.connect()
    for name, table in tables.items():  # event time as epoch milliseconds, TS
        connection.register(name, table.append_column("TS", table.column("DATETIME").cast(pa.int64())))
    result = connection.sql(sql).to_arrow_table().to_pylist()
    connection.close()
    return result


def test_q3_local_item_suggestion(nexmark: tuple[Path, dict[str, pa.Table]]) -> None:
    data_dir, tables = nexmark
    engine = _run(
        data_dir,
        "CREATE TABLE PERSON_BY_ID AS SELECT ID, LATEST_BY_OFFSET(NAME) AS NAME, LATEST_BY_OFFSET(CITY) AS CITY, "
        "LATEST_BY_OFFSET(STATE) AS STATE FROM PERSON GROUP BY ID;"
        "CREATE STREAM Q3 AS SELECT A.SELLER AS SELLER, P.NAME AS NAME, P.CITY AS CITY, P.STATE AS STATE, "
        "A.ID AS AUCTION_ID FROM AUCTION A JOIN PERSON_BY_ID P ON A.SELLER = P.ID "
        "WHERE A.CATEGORY = 10 AND P.STATE IN ('OR', 'ID', 'CA');",
    )
    got = sorted((r["NAME"], r["CITY"], r["STATE"], r["AUCTION_ID"]) for r in _rows(engine, "Q3"))
    expected = sorted(
        (r["NAME"], r["CITY"], r["STATE"], r["ID"])
        for r in _duck(
            tables,
            "SELECT p.NAME, p.CITY, p.STATE, a.ID FROM auction a JOIN person p ON a.SELLER = p.ID "
            "AND p.DATETIME <= a.DATETIME WHERE a.CATEGORY = 10 AND p.STATE IN ('OR', 'ID', 'CA')",
        )
    )
    assert got and got == expected
    engine.close()


def test_q5_hot_items_counts_and_window_maximum(nexmark: tuple[Path, dict[str, pa.Table]]) -> None:
    data_dir, tables = nexmark
    engine = _run(
        data_dir,
        "CREATE TABLE Q5_COUNTS AS SELECT AUCTION, COUNT(*) AS NUM FROM BID "
        "WINDOW HOPPING (SIZE 10 SECONDS, ADVANCE BY 2 SECONDS) GROUP BY AUCTION;"
        "CREATE STREAM Q5_UPDATES (AUCTION BIGINT KEY, NUM BIGINT) WITH (KAFKA_TOPIC='Q5_COUNTS', "
        "VALUE_FORMAT='JSON', WINDOW_TYPE='HOPPING', WINDOW_SIZE='10 SECONDS');"
        "CREATE TABLE Q5_MAX AS SELECT WINDOWSTART AS WS, MAX(NUM) AS MAXNUM FROM Q5_UPDATES GROUP BY WINDOWSTART;",
    )
    counts = {(k[0], k[1]): r["NUM"] for k, r in _final(engine, "Q5_COUNTS", ["AUCTION", "WINDOWSTART"]).items()}
    expected = _duck(
        tables,
        """
        WITH b AS (SELECT AUCTION, TS AS ts FROM bid),
             w AS (SELECT AUCTION, s.start AS ws FROM b, range((ts // 2000) * 2000 - 8000, ts + 1, 2000) s(start)
                   WHERE s.start >= 0 AND ts < s.start + 10000)
        SELECT AUCTION, ws, count(*) AS NUM FROM w GROUP BY AUCTION, ws
        """,
    )
    assert counts == {(r["AUCTION"], r["ws"]): r["NUM"] for r in expected}
    maxima = {k[0]: r["MAXNUM"] for k, r in _final(engine, "Q5_MAX", ["WS"]).items()}
    by_window: dict[int, int] = {}
    for (_, window), num in counts.items():
        by_window[window] = max(num, by_window.get(window, 0))
    assert maxima == by_window
    engine.close()


def test_q7_highest_bid_per_tumbling_window(nexmark: tuple[Path, dict[str, pa.Table]]) -> None:
    data_dir, tables = nexmark
    engine = _run(
        data_dir,
        "CREATE TABLE Q7 AS SELECT 1 AS K, MAX(PRICE) AS MAXPRICE FROM BID WINDOW TUMBLING (SIZE 10 SECONDS) GROUP BY 1;",
    )
    got = {k[1]: r["MAXPRICE"] for k, r in _final(engine, "Q7", ["K", "WINDOWSTART"]).items()}
    expected = _duck(
        tables, "SELECT (TS // 10000) * 10000 AS ws, max(PRICE) AS m FROM bid GROUP BY ws"
    )
    assert got == {r["ws"]: r["m"] for r in expected}
    engine.close()


def test_q8_new_users_in_the_same_tumbling_window(nexmark: tuple[Path, dict[str, pa.Table]]) -> None:
    data_dir, tables = nexmark
    engine = _run(
        data_dir,
        "CREATE TABLE Q8_PERSONS AS SELECT ID, LATEST_BY_OFFSET(NAME) AS NAME FROM PERSON "
        "WINDOW TUMBLING (SIZE 10 SECONDS) GROUP BY ID;"
        "CREATE TABLE Q8_SELLERS AS SELECT SELLER, COUNT(*) AS AUCTIONS FROM AUCTION "
        "WINDOW TUMBLING (SIZE 10 SECONDS) GROUP BY SELLER;"
        "CREATE TABLE Q8 AS SELECT P.ID AS ID, P.NAME AS NAME, S.AUCTIONS AS AUCTIONS FROM Q8_PERSONS P "
        "JOIN Q8_SELLERS S ON P.ID = S.SELLER;",
    )
    got = {(k[0], k[1]): r["NAME"] for k, r in _final(engine, "Q8", ["ID", "WINDOWSTART"]).items()}
    expected = _duck(
        tables,
        """
        SELECT p.ID, (p.TS // 10000) * 10000 AS ws, p.NAME FROM person p
        JOIN (SELECT DISTINCT SELLER, (TS // 10000) * 10000 AS ws FROM auction) a
          ON p.ID = a.SELLER AND (p.TS // 10000) * 10000 = a.ws
        """,
    )
    assert got and got == {(r["ID"], r["ws"]): r["NAME"] for r in expected}
    engine.close()

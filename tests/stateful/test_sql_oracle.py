"""Stateful SQL on finite input against DuckDB computing the same answer.

Each test runs a persistent query through the engine (statements, produced records, the query drained
in large batches), folds the sink's changelog into its final table (latest row per key, tombstones
removing keys), and compares with DuckDB's answer to the equivalent SQL over the same input rows:
GROUP BY aggregates with HAVING, tumbling and hopping windows, aggregation over a table (updates and
deletes undo their old rows), table-table joins and a stream-table join.
"""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from headwater.engine import Engine

CONFIG = {"auto.offset.reset": "earliest"}


def _engine(tmp_path: Path, statements: str) -> Engine:
    engine = Engine(tmp_path, config=CONFIG, background=False)
    engine.execute(statements)
    return engine


def _insert(engine: Engine, target: str, rows: list[dict[str, Any]], columns: list[str]) -> None:
    for row in rows:
        values = ", ".join(_literal(row[c]) for c in columns)
        engine.execute(f"INSERT INTO {target} ({', '.join(columns)}) VALUES ({values});")


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


def _drain(engine: Engine) -> None:
    while sum(q.process_available() for q in engine.persistent_queries()):
        pass


def _final_table(engine: Engine, sink: str, keys: list[str]) -> dict[tuple[Any, ...], dict[str, Any]]:
    """The sink's changelog folded by key: each record replaces its key's row, a tombstone removes it."""
    topic = engine.log.topic(sink)
    state: dict[tuple[Any, ...], dict[str, Any]] = {}
    for partition in range(len(topic.end_offsets())):
        part = topic.partition(partition)
        for batch in part.read(part.start_offset).batches:
            for row in batch.to_pylist():
                key = tuple(row[k] for k in keys)
                if row.get("__tombstone"):
                    state.pop(key, None)
                else:
                    state[key] = {k: v for k, v in row.items() if not k.startswith("__")}
    return state


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return bool(a == b)


def _assert_same(actual: dict[tuple[Any, ...], dict[str, Any]], expected: list[dict[str, Any]], keys: list[str]) -> None:
    wanted = {tuple(row[k] for k in keys): row for row in expected}
    assert set(actual) == set(wanted)
    for key, row in wanted.items():
        got = actual[key]
        for column, value in row.items():
            assert _close(got[column], value), (key, column, got[column], value)


def _stream_rows(seed: int, count: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows = []
    time = 0
    for _ in range(count):
        time += rng.randint(0, 3000)
        value = None if rng.random() < 0.1 else rng.randint(-50, 200)
        rows.append({"K": f"k{rng.randrange(12)}", "V": value, "D": rng.uniform(-10, 10), "ROWTIME": time})
    return rows


def test_group_by_aggregates_and_having_match_duckdb(tmp_path: Path) -> None:
    rows = _stream_rows(1, 600)
    engine = _engine(
        tmp_path,
        "CREATE STREAM S (K STRING KEY, V INT, D DOUBLE) WITH (KAFKA_TOPIC='s', PARTITIONS=2, VALUE_FORMAT='JSON');"
        "CREATE TABLE A AS SELECT K, COUNT(*) AS N, COUNT(V) AS NV, SUM(V) AS TOTAL, MIN(V) AS LO, MAX(V) AS HI, "
        "AVG(D) AS MEAN FROM S GROUP BY K HAVING COUNT(*) > 40;",
    )
    _insert(engine, "S", rows, ["K", "V", "D", "ROWTIME"])
    _drain(engine)
    actual = _final_table(engine, "A", ["K"])
    expected = _duck(
        "SELECT K, count(*) AS N, count(V) AS NV, coalesce(sum(V), 0) AS TOTAL, min(V) AS LO, max(V) AS HI, "
        "avg(D) AS MEAN FROM t GROUP BY K HAVING count(*) > 40",
        rows,
    )
    assert expected, "the HAVING clause keeps some groups"
    _assert_same(actual, expected, ["K"])
    engine.close()


def _duck(sql: str, rows: list[dict[str, Any]], **tables: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """DuckDB's answer to ``sql`` over ``rows`` (as table ``t``) and the named ``tables``."""
    connection = duckdb.connect()
    if rows:
        connection.register("t", pa.Table.from_pylist(rows))
    for name, table_rows in tables.items():
        connection.register(name, pa.Table.from_pylist(table_rows))
    result = connection.sql(sql).to_arrow_table().to_pylist()
    connection.close()
    return result


@pytest.mark.parametrize(
    ("window", "size", "advance"),
    [("TUMBLING (SIZE 20 SECONDS)", 20_000, 20_000), ("HOPPING (SIZE 30 SECONDS, ADVANCE BY 10 SECONDS)", 30_000, 10_000)],
)
def test_windowed_aggregates_match_duckdb(tmp_path: Path, window: str, size: int, advance: int) -> None:
    rows = _stream_rows(2, 500)
    engine = _engine(
        tmp_path,
        "CREATE STREAM S (K STRING KEY, V INT, D DOUBLE) WITH (KAFKA_TOPIC='s', PARTITIONS=1, VALUE_FORMAT='JSON');"
        f"CREATE TABLE W AS SELECT K, COUNT(*) AS N, SUM(V) AS TOTAL, MAX(D) AS HI FROM S WINDOW {window} GROUP BY K;",
    )
    _insert(engine, "S", rows, ["K", "V", "D", "ROWTIME"])
    _drain(engine)
    actual = _final_table(engine, "W", ["K", "WINDOWSTART"])
    # every window holding a record: starts are multiples of the advance in (ts - size, ts]
    expected = _duck(
        f"""
        WITH starts AS (
            SELECT t.*, s.start FROM t,
                   range((t.ROWTIME // {advance}) * {advance} - {size} + {advance}, t.ROWTIME + 1, {advance}) s(start)
            WHERE s.start >= 0 AND s.start <= t.ROWTIME AND t.ROWTIME < s.start + {size}
        )
        SELECT K, start AS WINDOWSTART, count(*) AS N, coalesce(sum(V), 0) AS TOTAL, max(D) AS HI
        FROM starts GROUP BY K, start
        """,
        rows,
    )
    _assert_same(actual, expected, ["K", "WINDOWSTART"])
    for (_, start), row in actual.items():
        assert row["WINDOWEND"] == start + size
    engine.close()


def _table_changes(seed: int, count: int, keys: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [
        {"ID": rng.randrange(keys), "G": f"g{rng.randrange(5)}", "X": rng.randint(0, 100), "ROWTIME": i,
         "DELETE": rng.random() < 0.15}
        for i in range(count)
    ]


def _produce_table(engine: Engine, topic: str, changes: list[dict[str, Any]], columns: list[str]) -> list[dict[str, Any]]:
    """Append changes to a raw JSON table topic (deletes as tombstones); return the final rows."""
    import orjson

    keys = [change["ID"].to_bytes(4, "big", signed=True) for change in changes]
    values = [None if c["DELETE"] else orjson.dumps({k: c[k] for k in columns}) for c in changes]
    batch = pa.RecordBatch.from_arrays(
        [pa.array(keys, pa.binary()), pa.array(values, pa.binary()), pa.array([c["ROWTIME"] for c in changes], pa.int64())],
        names=["__key", "__value", "__timestamp"],
    )
    engine.log.topic(topic).append(batch, partition=0)
    final: dict[int, dict[str, Any]] = {}
    for change in changes:
        if change["DELETE"]:
            final.pop(change["ID"], None)
        else:
            final[change["ID"]] = {"ID": change["ID"], **{k: change[k] for k in columns}}
    return list(final.values())


def test_aggregation_over_a_table_undoes_updates_and_deletes(tmp_path: Path) -> None:
    engine = _engine(
        tmp_path,
        "CREATE TABLE T (ID INT PRIMARY KEY, G STRING, X INT) WITH (KAFKA_TOPIC='t', PARTITIONS=1, VALUE_FORMAT='JSON');"
        "CREATE TABLE BY_G AS SELECT G, COUNT(*) AS N, SUM(X) AS TOTAL FROM T GROUP BY G;",
    )
    final = _produce_table(engine, "t", _table_changes(3, 400, 40), ["G", "X"])
    _drain(engine)
    actual = _final_table(engine, "BY_G", ["G"])
    # a group emptied by undo keeps a row with a zero count (ksqlDB does not delete it)
    actual = {k: v for k, v in actual.items() if v["N"] != 0}
    expected = _duck("SELECT G, count(*) AS N, sum(X) AS TOTAL FROM t GROUP BY G", final)
    _assert_same(actual, expected, ["G"])
    engine.close()


@pytest.mark.parametrize("join", ["JOIN", "LEFT JOIN", "FULL OUTER JOIN"])
def test_table_table_joins_match_duckdb(tmp_path: Path, join: str) -> None:
    key = "ROWKEY" if join == "FULL OUTER JOIN" else "L.ID"  # an outer join's key is synthetic
    engine = _engine(
        tmp_path,
        "CREATE TABLE L (ID INT PRIMARY KEY, G STRING, X INT) WITH (KAFKA_TOPIC='l', PARTITIONS=1, VALUE_FORMAT='JSON');"
        "CREATE TABLE R (ID INT PRIMARY KEY, G STRING, X INT) WITH (KAFKA_TOPIC='r', PARTITIONS=1, VALUE_FORMAT='JSON');"
        f"CREATE TABLE J AS SELECT {key} AS ID, L.X AS LX, R.G AS RG FROM L {join} R ON L.ID = R.ID;",
    )
    left = _produce_table(engine, "l", _table_changes(4, 300, 30), ["G", "X"])
    right = _produce_table(engine, "r", _table_changes(5, 300, 30), ["G", "X"])
    _drain(engine)
    actual = _final_table(engine, "J", ["ID"])
    expected = _duck(
        f"SELECT coalesce(l.ID, r.ID) AS ID, l.X AS LX, r.G AS RG FROM l {join} r ON l.ID = r.ID",
        [],
        l=left,
        r=right,
    )
    _assert_same(actual, expected, ["ID"])
    engine.close()


def test_stream_table_join_matches_duckdb(tmp_path: Path) -> None:
    engine = _engine(
        tmp_path,
        "CREATE TABLE T (ID INT PRIMARY KEY, G STRING, X INT) WITH (KAFKA_TOPIC='t', PARTITIONS=1, VALUE_FORMAT='JSON');"
        "CREATE STREAM S (ID INT KEY, V INT) WITH (KAFKA_TOPIC='s', PARTITIONS=1, VALUE_FORMAT='JSON');"
        "CREATE STREAM J AS SELECT S.ID AS ID, S.V AS V, T.G AS G FROM S LEFT JOIN T ON S.ID = T.ID;",
    )
    final = _produce_table(engine, "t", _table_changes(6, 200, 25), ["G", "X"])
    queries = engine.persistent_queries()
    queries[0].process_available()  # the table side first: every stream record then sees its final row
    rng = random.Random(7)
    events = [{"ID": rng.randrange(30), "V": i, "ROWTIME": 10_000 + i} for i in range(300)]
    _insert(engine, "S", events, ["ID", "V", "ROWTIME"])
    _drain(engine)
    topic = engine.log.topic("J")
    got = [row for batch in topic.partition(0).read(0).batches for row in batch.to_pylist()]
    expected = _duck("SELECT s.ID, s.V, t.G FROM s LEFT JOIN t ON s.ID = t.ID ORDER BY s.V", [], s=events, t=final)
    assert [(r["ID"], r["V"], r["G"]) for r in got] == [(r["ID"], r["V"], r["G"]) for r in expected]
    engine.close()

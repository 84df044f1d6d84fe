"""Headwater's kernels as DuckDB functions: types cross the boundary intact, NULLs reach the kernels,
aggregates see every group (empty ones too), table functions unnest, and sessions sharing a database do
not see each other's functions or views."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headwater.engine import Engine
from headwater.engine.aggregates import build_aggregates
from headwater.engine.entities import QueryRow
from headwater.engine.expressions import Scope, ScopeColumn, bind
from headwater.engine.functions import default_registry
from headwater.engine.historical import HistoricalSession, run_select
from headwater.engine.historical.duck_types import (
    duckdb_type,
    from_duckdb_arrow,
    sql_type_of_arrow,
    to_duckdb_arrow,
)
from headwater.engine.historical.udfs import UdfRegistry
from headwater.engine.types import to_arrow
from headwater.parser import parse_expression
from headwater.parser import types as t

_PRIMITIVES = st.sampled_from(
    [t.BOOLEAN, t.INT, t.BIGINT, t.DOUBLE, t.STRING, t.BYTES, t.DATE, t.TIME, t.TIMESTAMP, t.Decimal(12, 3)]
)
_TYPES = st.recursive(
    _PRIMITIVES,
    lambda inner: st.one_of(
        inner.map(t.Array),
        st.tuples(st.sampled_from([t.STRING, t.INT]), inner).map(lambda kv: t.Map(*kv)),
        st.lists(inner, min_size=1, max_size=3).map(lambda fs: t.Struct(tuple((f"f{i}", f) for i, f in enumerate(fs)))),
    ),
    max_leaves=5,
)


@settings(max_examples=60, deadline=None)
@given(_TYPES)
def test_every_type_survives_a_trip_through_duckdb(sql_type: t.SqlType) -> None:
    """NULLs of any type pass DuckDB's CAST, an identity function and back with their SQL type."""
    connection = duckdb.connect()
    registry = UdfRegistry(connection, {})
    scope = Scope((ScopeColumn("X", sql_type),))
    bound = bind(parse_expression("X"), scope, default_registry())
    name = registry.scalar(bound, [("X", sql_type)])
    table = connection.sql(f"SELECT {name}(CAST(NULL AS {duckdb_type(sql_type)})) AS V").to_arrow_table()
    assert sql_type_of_arrow(table.schema.field(0).type) == sql_type
    assert from_duckdb_arrow(table.column(0), sql_type).type == to_arrow(sql_type)


def test_time_values_change_units_at_the_boundary() -> None:
    millis = pa.array([1_000, None, 86_399_999], pa.time32("ms"))
    out = to_duckdb_arrow(millis, t.TIME)
    assert out.type == pa.time64("us")
    assert from_duckdb_arrow(out, t.TIME).equals(millis)


def test_kernels_see_nulls_and_failures_are_counted() -> None:
    connection = duckdb.connect()
    failures: list[str] = []
    registry = UdfRegistry(connection, {}, on_error=failures.append)
    scope = Scope((ScopeColumn("S", t.STRING),))
    coalesce = registry.scalar(bind(parse_expression("CONCAT(S, 'x')"), scope, default_registry()), [("S", t.STRING)])
    assert connection.sql(f"SELECT {coalesce}(NULL), {coalesce}('a')").fetchall() == [("x", "ax")]
    parse = registry.scalar(bind(parse_expression("CAST(S AS INT)"), scope, default_registry()), [("S", t.STRING)])
    rows = connection.sql(f"SELECT {parse}(s) FROM (VALUES ('12'), ('twelve'), (NULL)) v(s)").fetchall()
    assert sorted(rows, key=str) == sorted([(12,), (None,), (None,)], key=str)
    assert registry.failed_rows == 1 and len(failures) == 1


def test_aggregates_over_gathered_values_include_empty_groups() -> None:
    connection = duckdb.connect()
    registry = UdfRegistry(connection, {})
    topk = build_aggregates()["TOPK"].resolve((t.INT, t.INT))
    name = registry.aggregate(topk, [2], [t.INT])
    rows = connection.sql(
        f"SELECT g, {name}(list(v)) FROM (VALUES (1, 5), (1, 9), (1, NULL), (1, 7), (2, 3)) x(g, v) GROUP BY g ORDER BY g"
    ).fetchall()
    assert rows == [(1, [9, 7]), (2, [3])]
    collect = build_aggregates()["COLLECT_LIST"].resolve((t.STRING,))
    empty = registry.aggregate(collect, [], [t.STRING])
    assert connection.sql(f"SELECT {empty}(list(v)) FROM (SELECT 'a' AS v WHERE false)").fetchall() == [([],)]


def test_multi_column_aggregates_receive_structs() -> None:
    connection = duckdb.connect()
    registry = UdfRegistry(connection, {})
    correlation = build_aggregates()["CORRELATION"].resolve((t.DOUBLE, t.DOUBLE))
    name = registry.aggregate(correlation, [], [t.DOUBLE, t.DOUBLE])
    value = connection.sql(
        f'SELECT {name}(list({{"a0": x, "a1": y}})) FROM (VALUES (1.0, 2.0), (2.0, 4.0), (3.0, 6.5)) v(x, y)'
    ).fetchall()[0][0]
    assert value == pytest.approx(float(np.corrcoef([1.0, 2.0, 3.0], [2.0, 4.0, 6.5])[0, 1]))


def test_decimal_literals_keep_their_scale(engine: Engine) -> None:
    engine.execute("CREATE STREAM D (ID INT KEY, V DECIMAL(6, 2)) WITH (KAFKA_TOPIC='d', PARTITIONS=1, VALUE_FORMAT='JSON');")
    engine.execute("INSERT INTO D (ID, V) VALUES (1, 12.50);")
    result = run_select(engine, "SELECT V + 1.25 AS W, V * 2 AS X FROM D;")
    assert result.rows() == [(Decimal("13.75"), Decimal("25.00"))]
    assert result.header.schema == "`W` DECIMAL(7, 2), `X` DECIMAL(17, 2)"


def test_results_behave_like_a_query_stream(engine: Engine) -> None:
    engine.execute("CREATE STREAM S (V INT) WITH (KAFKA_TOPIC='s', PARTITIONS=1, VALUE_FORMAT='JSON');")
    for i in range(5):
        engine.execute(f"INSERT INTO S (V) VALUES ({i});")
    result = run_select(engine, "SELECT V FROM S;")
    rows = iter(result)
    first = next(rows)
    assert isinstance(first, QueryRow)
    result.close()
    assert result.closed and list(rows) == []
    assert result.header.column_names == ("V",) and result.header.column_types == ("INTEGER",)


def test_sessions_sharing_a_database_do_not_meet(engine: Engine) -> None:
    engine.execute("CREATE STREAM S (V INT) WITH (KAFKA_TOPIC='s', PARTITIONS=1, VALUE_FORMAT='JSON');")
    for i in range(50):
        engine.execute(f"INSERT INTO S (V) VALUES ({i});")
    run_select(engine, "SELECT ABS(V) FROM S LIMIT 1;")  # the function library loads its families lazily
    answers: list[list[tuple[Any, ...]]] = []
    errors: list[BaseException] = []

    def query(offset: int) -> None:
        try:
            for _ in range(5):
                answers.append(run_select(engine, f"SELECT SUM(V + {offset}) FROM S WHERE ABS(V) >= 0;").rows())
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=query, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(a[0][0] for a in answers) == sorted(sum(range(50)) + 50 * k for k in range(4) for _ in range(5))
    session = HistoricalSession(engine)
    leftover = session.connection.sql("SELECT count(*) FROM duckdb_functions() WHERE function_name LIKE 'hw_%'").fetchall()
    session.close()
    assert leftover == [(0,)]

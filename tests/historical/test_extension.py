"""Headwater's SQL extension: SELECTs the ksqlDB grammar refuses (ORDER BY, subqueries, window functions,
CTEs, set operations) run as SQL over the catalog, with ksqlDB's names, functions and integer division."""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import pytest

from headwater.engine import Engine
from headwater.engine.historical import run_select
from headwater.errors import ExecutionError, ParseError, PlanError


@pytest.fixture
def orders(engine: Engine) -> Engine:
    engine.execute(
        "CREATE STREAM ORDERS (ID INT KEY, ITEM STRING, QTY INT) WITH (KAFKA_TOPIC='orders', PARTITIONS=2, VALUE_FORMAT='JSON');"
    )
    engine.execute(
        "CREATE STREAM ITEMS (ITEM STRING KEY, COLOUR STRING) WITH (KAFKA_TOPIC='items', PARTITIONS=1, VALUE_FORMAT='JSON');"
    )
    for i in range(12):
        engine.execute(
            f"INSERT INTO ORDERS (ROWTIME, ID, ITEM, QTY) VALUES ({i * 1000}, {i}, 'item{i % 3}', {i * 7 % 5});"
        )
    for item, colour in [("item0", "red"), ("item1", "green")]:
        engine.execute(f"INSERT INTO ITEMS (ITEM, COLOUR) VALUES ('{item}', '{colour}');")
    return engine


def test_order_by_with_lower_case_names(orders: Engine) -> None:
    result = run_select(orders, "select id, qty from orders where qty > 2 order by qty desc, id limit 4")
    assert result.stats.sources[0].name == "ORDERS"
    assert [c.name for c in result.columns] == ["ID", "QTY"]
    expected = sorted(((i, i * 7 % 5) for i in range(12) if i * 7 % 5 > 2), key=lambda r: (-r[1], r[0]))[:4]
    assert result.rows() == expected


def test_window_functions_and_joins(orders: Engine) -> None:
    rows = run_select(
        orders,
        "SELECT o.ITEM, i.COLOUR, o.ID, ROW_NUMBER() OVER (PARTITION BY o.ITEM ORDER BY o.ID DESC) AS RN "
        "FROM ORDERS o JOIN ITEMS i ON o.ITEM = i.ITEM QUALIFY RN = 1 ORDER BY o.ITEM",
    ).rows()
    assert rows == [("item0", "red", 9, 1), ("item1", "green", 10, 1)]


def test_subqueries_and_ctes(orders: Engine) -> None:
    totals = {f"item{k}": sum(i * 7 % 5 for i in range(12) if i % 3 == k) for k in range(3)}
    rows = run_select(
        orders,
        "WITH T AS (SELECT ITEM, SUM(QTY) AS TOTAL FROM ORDERS GROUP BY ITEM) "
        "SELECT ITEM, TOTAL FROM T WHERE TOTAL > (SELECT MIN(TOTAL) FROM T) ORDER BY ITEM",
    ).rows()
    low = min(totals.values())
    assert rows == sorted((k, v) for k, v in totals.items() if v > low)
    union = run_select(orders, "SELECT ITEM FROM ITEMS UNION SELECT 'item9' ORDER BY 1").rows()
    assert union == [("item0",), ("item1",), ("item9",)]


def test_ksql_functions_keep_their_meaning(orders: Engine) -> None:
    result = run_select(
        orders,
        "SELECT ID, UCASE(ITEM) AS UP, SUBSTRING(ITEM, 5) AS SUFFIX, QTY / 2 AS HALF, LEN(ITEM) "
        "FROM ORDERS ORDER BY ID LIMIT 2",
    )
    assert [c.name for c in result.columns] == ["ID", "UP", "SUFFIX", "HALF", "KSQL_COL_0"]
    assert [c.type.sql() for c in result.columns] == ["INTEGER", "STRING", "STRING", "INTEGER", "INTEGER"]
    assert result.rows() == [(0, "ITEM0", "0", 0, 5), (1, "ITEM1", "1", 1, 5)]


def test_ksql_aggregates_and_types(orders: Engine) -> None:
    result = run_select(
        orders,
        "SELECT ITEM, SUM(QTY) AS TOTAL, COLLECT_LIST(ID) AS IDS, TOPK(QTY, 2) AS TOP "
        "FROM ORDERS GROUP BY ITEM ORDER BY ITEM",
    )
    assert [c.type.sql() for c in result.columns] == ["STRING", "INTEGER", "ARRAY<INTEGER>", "ARRAY<INTEGER>"]
    first = result.rows()[0]
    qtys = [i * 7 % 5 for i in range(12) if i % 3 == 0]
    assert first[0] == "item0" and first[1] == sum(qtys)
    assert sorted(first[2]) == [0, 3, 6, 9]
    assert first[3] == sorted(qtys, reverse=True)[:2]
    empty = run_select(orders, "SELECT SUM(QTY) AS S, AVG(QTY) AS A FROM ORDERS WHERE ID < 0").rows()
    assert empty == [(0, 0.0)]  # ksqlDB: SUM and AVG of nothing are 0


def test_time_range_prunes_in_extension_queries(engine: Engine, typed_events: Callable[..., pa.Table]) -> None:
    typed_events(batches=10)
    result = run_select(engine, "SELECT COUNT(*) FROM EV e WHERE e.ROWTIME >= 3000 AND e.ROWTIME < 4000 ORDER BY 1")
    assert result.rows() == [(100,)]
    assert result.stats.segments_opened == 1


def test_unknown_sources_and_bad_sql(orders: Engine) -> None:
    with pytest.raises(PlanError, match="Source NOPE does not exist"):
        run_select(orders, "SELECT * FROM nope ORDER BY 1")
    with pytest.raises(ParseError):
        run_select(orders, "SELEKT * FROM ORDERS ORDER BY 1")
    with pytest.raises(PlanError):
        run_select(orders, "SELECT NOSUCHCOLUMN FROM ORDERS ORDER BY 1")


def test_no_access_to_files_from_sql(orders: Engine, tmp_path: object) -> None:
    with pytest.raises((PlanError, ExecutionError)):
        run_select(orders, "SELECT * FROM read_csv('/etc/passwd') ORDER BY 1")

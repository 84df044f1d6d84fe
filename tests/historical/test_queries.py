"""Historical SELECTs in ksqlDB's grammar: projections, functions, GROUP BY, windows, joins and errors,
over real topics, each checked against values worked out independently (Python) from the input."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pytest

from headwater.engine import Engine
from headwater.engine.historical import run_select
from headwater.errors import PlanError

ORDERS = (
    "CREATE STREAM ORDERS (ID INT KEY, ITEM STRING, QTY INT, PRICE DOUBLE) "
    "WITH (KAFKA_TOPIC='orders', PARTITIONS=1, VALUE_FORMAT='JSON');"
)
ROWS = [
    # (id, item, qty, price, rowtime)
    (1, "apple", 3, 1.5, 1_000),
    (2, "pear", None, 2.0, 2_000),
    (3, "apple", 5, 1.25, 3_000),
    (4, "fig", -7, 4.0, 61_000),
    (5, None, 2, 0.5, 62_000),
    (6, "pear", 8, 2.5, 125_000),
]


def _orders(engine: Engine) -> None:
    engine.execute(ORDERS)
    for id_, item, qty, price, rowtime in ROWS:
        item_sql = "NULL" if item is None else f"'{item}'"
        qty_sql = "NULL" if qty is None else str(qty)
        engine.execute(
            f"INSERT INTO ORDERS (ROWTIME, ID, ITEM, QTY, PRICE) VALUES ({rowtime}, {id_}, {item_sql}, {qty_sql}, {price});"
        )


def _rows(engine: Engine, sql: str) -> list[tuple[Any, ...]]:
    return run_select(engine, sql).rows()


def test_projection_where_and_limit(engine: Engine) -> None:
    _orders(engine)
    result = run_select(engine, "SELECT ID, QTY * 2 AS DOUBLED, ROWTIME FROM ORDERS WHERE QTY > 2 LIMIT 10;")
    assert result.header.schema == "`ID` INTEGER, `DOUBLED` INTEGER, `ROWTIME` BIGINT"
    assert sorted(result.rows()) == [(1, 6, 1_000), (3, 10, 3_000), (6, 16, 125_000)]
    assert result.final_message is not None and result.final_message.message == "Query Completed"
    limited = run_select(engine, "SELECT * FROM ORDERS LIMIT 2;")
    assert len(limited) == 2
    assert limited.final_message is not None and limited.final_message.message == "Limit Reached"


def test_star_names_and_types(engine: Engine) -> None:
    _orders(engine)
    result = run_select(engine, "SELECT * FROM ORDERS WHERE ID = 1;")
    assert result.header.schema == "`ID` INTEGER, `ITEM` STRING, `QTY` INTEGER, `PRICE` DOUBLE"
    assert result.rows() == [(1, "apple", 3, 1.5)]
    assert result.table.schema.types == [pa.int32(), pa.string(), pa.int32(), pa.float64()]


def test_ksql_semantics_of_operators_carry_over(engine: Engine) -> None:
    """Integer division truncates toward zero, comparisons with NULL are FALSE (not NULL), and NOT of
    them TRUE, as in ksqlDB; DOUBLE division by zero is Infinity."""
    _orders(engine)
    rows = dict(
        (row[0], row[1:])
        for row in _rows(
            engine,
            "SELECT ID, QTY / 2, QTY % 3, QTY > 2, NOT (QTY > 2), PRICE / 0.0, QTY IN (3, 5) FROM ORDERS;",
        )
    )
    assert rows[4] == (-3, -1, False, True, float("inf"), False)
    assert rows[2] == (None, None, False, True, float("inf"), False)  # QTY is NULL
    assert rows[3] == (2, 2, True, False, float("inf"), True)


def test_functions_are_headwaters_own(engine: Engine) -> None:
    _orders(engine)
    rows = dict(
        (row[0], row[1:])
        for row in _rows(
            engine,
            "SELECT ID, UCASE(ITEM), SUBSTRING(ITEM, 2, 2), CONCAT(ITEM, '-', CAST(QTY AS STRING)), "
            "LEN(ITEM), CASE WHEN QTY > 4 THEN 'big' ELSE 'small' END, IFNULL(QTY, 0), "
            "ROUND(PRICE * 3), ARRAY_LENGTH(ARRAY[ID, QTY]) FROM ORDERS;",
        )
    )
    assert rows[1] == ("APPLE", "pp", "apple-3", 5, "small", 3, 5, 2)
    assert rows[2] == ("PEAR", "ea", "pear-", 4, "small", 0, 6, 2)  # ksqlDB's CONCAT skips NULLs
    assert rows[5] == (None, None, "-2", None, "small", 2, 2, 2)


def test_failed_values_are_null_and_counted(engine: Engine) -> None:
    engine.execute(
        "CREATE STREAM S (ID INT KEY, T STRING) WITH (KAFKA_TOPIC='s', PARTITIONS=1, VALUE_FORMAT='JSON');"
    )
    engine.execute("INSERT INTO S (ID, T) VALUES (1, '12');")
    engine.execute("INSERT INTO S (ID, T) VALUES (2, 'twelve');")
    result = run_select(engine, "SELECT ID, PARSE_TIMESTAMP(T, 'HH') FROM S;")
    values = dict(result.rows())
    assert values[2] is None and values[1] is not None
    assert result.stats.failed_rows == 1
    assert any("failed to compute" in w for w in result.warnings)


def test_group_by_with_native_and_headwater_aggregates(engine: Engine) -> None:
    _orders(engine)
    result = run_select(
        engine,
        "SELECT ITEM, COUNT(*) AS N, COUNT(QTY) AS Q, SUM(QTY) AS TOTAL, AVG(PRICE) AS MEAN, MAX(PRICE) AS TOP, "
        "COLLECT_LIST(ID) AS IDS, EARLIEST_BY_OFFSET(QTY) AS FIRST FROM ORDERS GROUP BY ITEM;",
    )
    assert result.header.schema == (
        "`ITEM` STRING, `N` BIGINT, `Q` BIGINT, `TOTAL` INTEGER, `MEAN` DOUBLE, `TOP` DOUBLE, "
        "`IDS` ARRAY<INTEGER>, `FIRST` INTEGER"
    )
    groups: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for row in ROWS:
        if row[1] is not None:  # rows with a NULL GROUP BY value are dropped, as in ksqlDB
            groups[row[1]].append(row)
    expected = {
        item: (
            len(rows),
            sum(1 for r in rows if r[2] is not None),
            sum(r[2] for r in rows if r[2] is not None),  # SUM of only NULLs is 0 in ksqlDB
            sum(r[3] for r in rows) / len(rows),
            max(r[3] for r in rows),
            [r[0] for r in rows],
            next(r[2] for r in rows if r[2] is not None),  # EARLIEST_BY_OFFSET skips NULLs by default
        )
        for item, rows in groups.items()
    }
    assert {row[0]: row[1:] for row in result.rows()} == expected


def test_having_and_expressions_over_aggregates(engine: Engine) -> None:
    _orders(engine)
    rows = _rows(
        engine,
        "SELECT ITEM, COUNT(*) * 10 AS TENS, UCASE(ITEM) AS UP FROM ORDERS GROUP BY ITEM HAVING COUNT(*) > 1;",
    )
    assert sorted(rows) == [("apple", 20, "APPLE"), ("pear", 20, "PEAR")]


def test_group_by_an_expression_and_a_global_aggregate(engine: Engine) -> None:
    _orders(engine)
    rows = _rows(engine, "SELECT QTY % 2 AS PARITY, COUNT(*) FROM ORDERS GROUP BY QTY % 2;")
    assert sorted(rows) == [(-1, 1), (0, 2), (1, 2)]
    assert _rows(engine, "SELECT COUNT(*), SUM(QTY) FROM ORDERS;") == [(6, 11)]


def test_non_aggregated_columns_are_refused(engine: Engine) -> None:
    _orders(engine)
    with pytest.raises(PlanError, match="not part of GROUP BY"):
        run_select(engine, "SELECT ITEM, QTY, COUNT(*) FROM ORDERS GROUP BY ITEM;")


def test_tumbling_and_hopping_windows(engine: Engine) -> None:
    _orders(engine)
    tumbling = _rows(
        engine,
        "SELECT ITEM, WINDOWSTART, WINDOWEND, COUNT(*) FROM ORDERS WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY ITEM;",
    )
    assert sorted(tumbling) == [
        ("apple", 0, 60_000, 2),
        ("fig", 60_000, 120_000, 1),
        ("pear", 0, 60_000, 1),
        ("pear", 120_000, 180_000, 1),
    ]
    hopping = _rows(
        engine,
        "SELECT ITEM, WINDOWSTART, COUNT(*) FROM ORDERS WINDOW HOPPING (SIZE 2 MINUTES, ADVANCE BY 1 MINUTE) "
        "WHERE ITEM = 'pear' GROUP BY ITEM;",
    )
    # Kafka Streams' windowsFor: pear@2s -> [0, 2m); pear@125s -> [60s, 180s) and [120s, 240s)
    assert sorted(hopping) == [("pear", 0, 1), ("pear", 60_000, 1), ("pear", 120_000, 1)]


def test_session_windows(engine: Engine) -> None:
    engine.execute(
        "CREATE STREAM CLICKS (USER STRING KEY, PAGE STRING) WITH (KAFKA_TOPIC='clicks', PARTITIONS=1, VALUE_FORMAT='JSON');"
    )
    for user, time in [("a", 0), ("a", 20_000), ("a", 40_000), ("a", 200_000), ("b", 10_000), ("a", 229_000)]:
        engine.execute(f"INSERT INTO CLICKS (ROWTIME, USER, PAGE) VALUES ({time}, '{user}', 'p');")
    rows = _rows(
        engine,
        "SELECT USER, WINDOWSTART, WINDOWEND, COUNT(*) FROM CLICKS WINDOW SESSION (30 SECONDS) GROUP BY USER;",
    )
    assert sorted(rows) == [("a", 0, 40_000, 3), ("a", 200_000, 229_000, 2), ("b", 10_000, 10_000, 1)]


def test_stream_stream_join_within(engine: Engine) -> None:
    _orders(engine)
    engine.execute(
        "CREATE STREAM SHIPMENTS (ID INT KEY, CARRIER STRING) WITH (KAFKA_TOPIC='shipments', PARTITIONS=1, VALUE_FORMAT='JSON');"
    )
    for id_, carrier, time in [(1, "ups", 1_500), (1, "dhl", 30_000), (3, "fedex", 2_500), (9, "ups", 0)]:
        engine.execute(f"INSERT INTO SHIPMENTS (ROWTIME, ID, CARRIER) VALUES ({time}, {id_}, '{carrier}');")
    result = run_select(
        engine,
        "SELECT O.ID, O.ITEM, S.CARRIER FROM ORDERS O JOIN SHIPMENTS S WITHIN 10 SECONDS ON O.ID = S.ID;",
    )
    assert result.header.schema == "`O_ID` INTEGER, `O_ITEM` STRING, `S_CARRIER` STRING"
    assert sorted(result.rows()) == [(1, "apple", "ups"), (3, "apple", "fedex")]
    left = _rows(
        engine,
        "SELECT O.ID, S.CARRIER FROM ORDERS O LEFT JOIN SHIPMENTS S WITHIN (0 SECONDS, 1 MINUTE) ON O.ID = S.ID;",
    )
    assert sorted(left, key=lambda r: (r[0], r[1] or "")) == [
        (1, "dhl"), (1, "ups"), (2, None), (3, None), (4, None), (5, None), (6, None),
    ]  # fmt: skip  (fedex came 500 ms before order 3: outside WITHIN (0 SECONDS, 1 MINUTE))


def test_stream_table_join_sees_the_table_as_of_each_row(
    engine: Engine, append_records: Callable[..., None]
) -> None:
    _orders(engine)
    engine.execute(
        "CREATE TABLE STOCK (ITEM STRING PRIMARY KEY, LEVEL INT) WITH (KAFKA_TOPIC='stock', PARTITIONS=1, VALUE_FORMAT='JSON');"
    )
    append_records(
        "STOCK",
        [
            ({"ITEM": "apple"}, {"LEVEL": 10}, 500),
            ({"ITEM": "pear"}, {"LEVEL": 4}, 500),
            ({"ITEM": "apple"}, {"LEVEL": 20}, 2_500),
            ({"ITEM": "pear"}, None, 100_000),  # deleted before the last pear order
        ],
    )
    inner = _rows(engine, "SELECT O.ID, T.LEVEL FROM ORDERS O JOIN STOCK T ON O.ITEM = T.ITEM;")
    assert sorted(inner) == [(1, 10), (2, 4), (3, 20)]
    left = _rows(engine, "SELECT O.ID, T.LEVEL FROM ORDERS O LEFT JOIN STOCK T ON O.ITEM = T.ITEM;")
    assert sorted(left) == [(1, 10), (2, 4), (3, 20), (4, None), (5, None), (6, None)]


def test_table_table_joins_and_the_table_view(engine: Engine, append_records: Callable[..., None]) -> None:
    engine.execute(
        "CREATE TABLE A (K INT PRIMARY KEY, X STRING) WITH (KAFKA_TOPIC='a', PARTITIONS=1, VALUE_FORMAT='JSON');"
    )
    engine.execute(
        "CREATE TABLE B (K INT PRIMARY KEY, Y STRING) WITH (KAFKA_TOPIC='b', PARTITIONS=1, VALUE_FORMAT='JSON');"
    )
    append_records("A", [({"K": 1}, {"X": "a1"}, 1), ({"K": 2}, {"X": "a2"}, 2), ({"K": 1}, {"X": "a1'"}, 3), ({"K": 3}, {"X": "a3"}, 4), ({"K": 3}, None, 5)])
    append_records("B", [({"K": 2}, {"Y": "b2"}, 1), ({"K": 4}, {"Y": "b4"}, 2)])
    assert sorted(_rows(engine, "SELECT * FROM A;")) == [(1, "a1'"), (2, "a2")]
    assert _rows(engine, "SELECT A.K, X, Y FROM A JOIN B ON A.K = B.K;") == [(2, "a2", "b2")]
    full = _rows(engine, "SELECT A.K, B.K, X, Y FROM A FULL OUTER JOIN B ON A.K = B.K;")
    assert sorted(full, key=str) == sorted([(1, None, "a1'", None), (2, 2, "a2", "b2"), (None, 4, None, "b4")], key=str)


def test_aggregating_a_table_uses_its_latest_rows(engine: Engine, append_records: Callable[..., None]) -> None:
    engine.execute(
        "CREATE TABLE USERS (ID INT PRIMARY KEY, REGION STRING) WITH (KAFKA_TOPIC='users', PARTITIONS=1, VALUE_FORMAT='JSON');"
    )
    append_records(
        "USERS",
        [({"ID": 1}, {"REGION": "eu"}, 1), ({"ID": 2}, {"REGION": "eu"}, 2), ({"ID": 1}, {"REGION": "us"}, 3), ({"ID": 3}, {"REGION": "us"}, 4), ({"ID": 2}, None, 5)],
    )
    assert sorted(_rows(engine, "SELECT REGION, COUNT(*) FROM USERS GROUP BY REGION;")) == [("us", 2)]


def test_windowed_table_exposes_window_bounds(engine: Engine, append_records: Callable[..., None]) -> None:
    engine.execute(
        "CREATE TABLE W (ID INT PRIMARY KEY, C BIGINT) WITH (KAFKA_TOPIC='w', PARTITIONS=1, VALUE_FORMAT='JSON', "
        "WINDOW_TYPE='TUMBLING', WINDOW_SIZE='10 SECONDS');"
    )
    append_records(
        "W",
        [
            ({"ID": 1, "WINDOWSTART": 0, "WINDOWEND": 10_000}, {"C": 1}, 1),
            ({"ID": 1, "WINDOWSTART": 10_000, "WINDOWEND": 20_000}, {"C": 1}, 12_000),
            ({"ID": 1, "WINDOWSTART": 0, "WINDOWEND": 10_000}, {"C": 2}, 5),
        ],
    )
    result = run_select(engine, "SELECT * FROM W;")
    assert result.header.schema == "`ID` INTEGER KEY, `WINDOWSTART` BIGINT, `WINDOWEND` BIGINT, `C` BIGINT"
    assert sorted(result.rows()) == [(1, 0, 10_000, 2), (1, 10_000, 20_000, 1)]


def test_table_functions_explode_rows(engine: Engine) -> None:
    engine.execute(
        "CREATE STREAM BAGS (ID INT KEY, ITEMS ARRAY<STRING>) WITH (KAFKA_TOPIC='bags', PARTITIONS=1, VALUE_FORMAT='JSON');"
    )
    engine.execute("INSERT INTO BAGS (ID, ITEMS) VALUES (1, ARRAY['a', 'b']);")
    engine.execute("INSERT INTO BAGS (ID, ITEMS) VALUES (2, NULL);")
    engine.execute("INSERT INTO BAGS (ID, ITEMS) VALUES (3, ARRAY['c']);")
    rows = _rows(engine, "SELECT ID, EXPLODE(ITEMS) AS ITEM FROM BAGS;")
    assert sorted(rows) == [(1, "a"), (1, "b"), (3, "c")]


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT * FROM NOPE;", "Source `NOPE` does not exist"),
        ("SELECT ID FROM ORDERS PARTITION BY ITEM;", "PARTITION BY"),
        ("SELECT NOSUCH(ID) FROM ORDERS;", "NOSUCH"),
        ("SELECT ID FROM ORDERS WHERE ITEM;", "WHERE"),
        ("SELECT ID FROM ORDERS EMIT CHANGES;", "push query"),
    ],
)
def test_errors_say_what_is_wrong(engine: Engine, sql: str, message: str) -> None:
    _orders(engine)
    with pytest.raises(PlanError, match=message):
        run_select(engine, sql)

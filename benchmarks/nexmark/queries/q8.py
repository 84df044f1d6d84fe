"""Nexmark q8, monitor new users: persons who created an auction in the 10-second tumbling window in
which they registered.

Published as a join of two window aggregations on the person id and the window; ksqlDB says the same in
three statements, since a join of windowed tables matches on the key *and* the window:

1. ``{sink}_PERSONS``: persons per TUMBLING window of 10 seconds, keyed by ID (``LATEST_BY_OFFSET(NAME)``;
   Nexmark registers each person once);
2. ``{sink}_SELLERS``: auctions per seller per TUMBLING window of 10 seconds;
3. ``{sink}``: the two windowed tables joined on ID = SELLER (a primary-key join of windowed tables: same
   key, same window).

A table-table join's final state does not depend on arrival order, so it is the batch answer. The answer
is that final state: ID, NAME and the window start (WINDOWSTART), one row per person and window.
"""

from __future__ import annotations

from benchmarks.nexmark.queries import NexmarkQuery, Result
from benchmarks.nexmark.queries.flink_time import epoch_ms

QUERY = NexmarkQuery(
    query_id="q8",
    title="monitor new users",
    sources=("person", "auction"),
    headwater_sql=(
        "CREATE TABLE {sink}_PERSONS AS SELECT ID, LATEST_BY_OFFSET(NAME) AS NAME FROM PERSON "
        "WINDOW TUMBLING (SIZE 10 SECONDS) GROUP BY ID;\n"
        "CREATE TABLE {sink}_SELLERS AS SELECT SELLER, COUNT(*) AS AUCTIONS FROM AUCTION "
        "WINDOW TUMBLING (SIZE 10 SECONDS) GROUP BY SELLER;\n"
        "CREATE TABLE {sink} AS SELECT P.ID AS ID, P.NAME AS NAME FROM {sink}_PERSONS P "
        "JOIN {sink}_SELLERS S ON P.ID = S.SELLER;"
    ),
    duckdb_sql="""
        WITH sellers AS (SELECT DISTINCT SELLER, epoch_ms(DATETIME) // 10000 * 10000 AS WINDOWSTART FROM auction)
        SELECT p.ID, p.NAME, s.WINDOWSTART FROM person p JOIN sellers s
        ON p.ID = s.SELLER AND epoch_ms(p.DATETIME) // 10000 * 10000 = s.WINDOWSTART""",
    flink_sql=f"""
        SELECT P.`ID`, P.`NAME`, {epoch_ms("P.window_start")} AS `WINDOWSTART`
        FROM (
            SELECT `ID`, `NAME`, window_start, window_end
            FROM TABLE(TUMBLE(TABLE person, DESCRIPTOR(`DATETIME`), INTERVAL '10' SECOND))
            GROUP BY `ID`, `NAME`, window_start, window_end) P
        JOIN (
            SELECT `SELLER`, window_start, window_end
            FROM TABLE(TUMBLE(TABLE auction, DESCRIPTOR(`DATETIME`), INTERVAL '10' SECOND))
            GROUP BY `SELLER`, window_start, window_end) A
        ON P.`ID` = A.`SELLER` AND P.window_start = A.window_start AND P.window_end = A.window_end""",
    result=Result(columns=("ID", "NAME", "WINDOWSTART"), key=("ID", "WINDOWSTART")),
    windowed=True,
)

"""Nexmark q5, hot items: per 10-second window sliding by 2 seconds, the auction(s) with the most bids.

Published as one query (window counts joined to the maximum count of each window); ksqlDB needs a
pipeline, because it has no join on a window's bounds and no arg-max aggregate:

1. ``{sink}_COUNTS``: bids per auction per HOPPING window (SIZE 10 SECONDS, ADVANCE BY 2 SECONDS), a
   windowed table;
2. ``{sink}_COUNT_CHANGES``: a stream declared over that table's changelog topic (the usual ksqlDB way to
   aggregate an aggregation's updates);
3. ``{sink}_FINAL_COUNTS``: the counts as an unwindowed table keyed by (AUCTION, STARTTIME), with the
   window start also as a value column (a join needs it as a column);
4. ``{sink}_MAX``: the largest count per window start. A count only grows, so the largest of its updates
   is the largest final count;
5. ``{sink}``: the counts table joined to the maxima on the foreign key STARTTIME, keeping the counts
   that reach the maximum (``WHERE C.NUM >= M.MAXNUM``, Nexmark's condition).

Steps 3-5 go through tables rather than an as-of stream-table join because the join must see each
window's *final* maximum: a table-table (foreign-key) join is symmetric, and its final state does not
depend on the order in which the counts and maxima arrived. The answer is that final state: one row per
(auction, window) whose count is its window's maximum, ties included. Windows are Kafka Streams'
hopping windows (aligned to the epoch, start inclusive, end exclusive), the same as Flink's HOP and the
DuckDB expansion below; every window that holds a bid has an answer, the partial ones at the edges of the
input included (EMIT CHANGES: no window is held back).
"""

from __future__ import annotations

from benchmarks.nexmark.queries import NexmarkQuery, Result
from benchmarks.nexmark.queries.flink_time import epoch_ms

QUERY = NexmarkQuery(
    query_id="q5",
    title="hot items",
    sources=("bid",),
    headwater_sql=(
        "CREATE TABLE {sink}_COUNTS AS SELECT AUCTION, COUNT(*) AS NUM FROM BID "
        "WINDOW HOPPING (SIZE 10 SECONDS, ADVANCE BY 2 SECONDS) GROUP BY AUCTION;\n"
        "CREATE STREAM {sink}_COUNT_CHANGES (AUCTION BIGINT KEY, NUM BIGINT) WITH (KAFKA_TOPIC='{sink}_COUNTS', "
        "VALUE_FORMAT='JSON', WINDOW_TYPE='HOPPING', WINDOW_SIZE='10 SECONDS');\n"
        "CREATE TABLE {sink}_FINAL_COUNTS WITH (KEY_FORMAT='JSON') AS SELECT AUCTION, WINDOWSTART AS STARTTIME, "
        "AS_VALUE(WINDOWSTART) AS WINDOW_START, MAX(NUM) AS NUM FROM {sink}_COUNT_CHANGES "
        "GROUP BY AUCTION, WINDOWSTART;\n"
        "CREATE TABLE {sink}_MAX AS SELECT WINDOWSTART AS STARTTIME, MAX(NUM) AS MAXNUM FROM {sink}_COUNT_CHANGES "
        "GROUP BY WINDOWSTART;\n"
        "CREATE TABLE {sink} WITH (KEY_FORMAT='JSON') AS SELECT C.AUCTION AS AUCTION, C.STARTTIME AS STARTTIME, "
        "C.NUM AS NUM FROM {sink}_FINAL_COUNTS C JOIN {sink}_MAX M ON C.WINDOW_START = M.STARTTIME "
        "WHERE C.NUM >= M.MAXNUM;"
    ),
    duckdb_sql="""
        WITH windowed AS (
            SELECT b.AUCTION, epoch_ms(b.DATETIME) // 2000 * 2000 - 2000 * h.i AS STARTTIME
            FROM bid b CROSS JOIN (VALUES (0), (1), (2), (3), (4)) h(i)),
        counts AS (SELECT AUCTION, STARTTIME, count(*) AS NUM FROM windowed GROUP BY AUCTION, STARTTIME),
        maxima AS (SELECT STARTTIME, max(NUM) AS MAXNUM FROM counts GROUP BY STARTTIME)
        SELECT c.AUCTION, c.STARTTIME, c.NUM FROM counts c JOIN maxima m
        ON c.STARTTIME = m.STARTTIME AND c.NUM >= m.MAXNUM""",
    flink_sql=f"""
        SELECT C.`AUCTION`, {epoch_ms("C.window_start")} AS `STARTTIME`, C.num AS `NUM`
        FROM (
            SELECT `AUCTION`, COUNT(*) AS num, window_start, window_end
            FROM TABLE(HOP(TABLE bid, DESCRIPTOR(`DATETIME`), INTERVAL '2' SECOND, INTERVAL '10' SECOND))
            GROUP BY `AUCTION`, window_start, window_end) C
        JOIN (
            SELECT MAX(num) AS maxnum, window_start, window_end
            FROM (
                SELECT COUNT(*) AS num, window_start, window_end
                FROM TABLE(HOP(TABLE bid, DESCRIPTOR(`DATETIME`), INTERVAL '2' SECOND, INTERVAL '10' SECOND))
                GROUP BY `AUCTION`, window_start, window_end)
            GROUP BY window_start, window_end) M
        ON C.window_start = M.window_start AND C.window_end = M.window_end AND C.num >= M.maxnum""",
    result=Result(columns=("AUCTION", "STARTTIME", "NUM"), key=("AUCTION", "STARTTIME")),
    windowed=True,
)

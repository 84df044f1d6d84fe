"""Nexmark q7, highest bid: per 10-second tumbling window, the bid(s) with the highest price.

ksqlDB has neither a join on a window's bounds nor an arg-max aggregate, so Headwater runs a pipeline:

1. ``{sink}_WINDOW_MAX``: the highest price per TUMBLING window of 10 seconds, over all bids (one group:
   ``GROUP BY 1``, a constant, which ksqlDB accepts);
2. ``{sink}_WINDOW_MAX_CHANGES``: a stream declared over that table's changelog topic;
3. ``{sink}_MAX``: the maximum as an unwindowed table keyed by the window start (STARTTIME), each row
   stamped (``WITH (TIMESTAMP='BEFORE_WINDOW')``) with its window's start minus 1 ms;
4. ``{sink}``: every bid joined (stream-table) to the maximum of its window
   (``(ROWTIME / 10000) * 10000``, the start of the bid's tumbling window), keeping the bids whose price
   equals it.

A stream-table join is an as-of join: a bid sees the table as it was at the bid's event time. Step 3's
stamp puts every update of a window's maximum before the window's first bid in event time, so each bid
meets its window's *final* maximum; with the stages run one after another over the finite input (as
the benchmark runs every pipeline), that makes the join exact, ties included. Run live, the same
statements would compare each bid with the maximum known when it is processed. Without the stamp the
table's rows carry the time of the update that produced them (the last bid of a step), and bids earlier
in the step would find no maximum yet.

The answer is a stream: STARTTIME (the window start), then Nexmark's columns AUCTION, PRICE, BIDDER,
DATETIME, EXTRA.
"""

from __future__ import annotations

from benchmarks.nexmark.queries import NexmarkQuery, Result
from benchmarks.nexmark.queries.flink_time import epoch_ms

QUERY = NexmarkQuery(
    query_id="q7",
    title="highest bid",
    sources=("bid",),
    headwater_sql=(
        "CREATE TABLE {sink}_WINDOW_MAX AS SELECT 1 AS ALL_BIDS, MAX(PRICE) AS MAXPRICE FROM BID "
        "WINDOW TUMBLING (SIZE 10 SECONDS) GROUP BY 1;\n"
        "CREATE STREAM {sink}_WINDOW_MAX_CHANGES (ALL_BIDS INT KEY, MAXPRICE BIGINT) WITH "
        "(KAFKA_TOPIC='{sink}_WINDOW_MAX', VALUE_FORMAT='JSON', WINDOW_TYPE='TUMBLING', WINDOW_SIZE='10 SECONDS');\n"
        "CREATE TABLE {sink}_MAX WITH (TIMESTAMP='BEFORE_WINDOW') AS SELECT WINDOWSTART AS STARTTIME, "
        "AS_VALUE(WINDOWSTART - 1) AS BEFORE_WINDOW, MAX(MAXPRICE) AS MAXPRICE FROM {sink}_WINDOW_MAX_CHANGES "
        "GROUP BY WINDOWSTART;\n"
        "CREATE STREAM {sink} AS SELECT M.STARTTIME AS STARTTIME, B.AUCTION AS AUCTION, B.PRICE AS PRICE, "
        "B.BIDDER AS BIDDER, B.DATETIME AS DATETIME, B.EXTRA AS EXTRA FROM BID B "
        "JOIN {sink}_MAX M ON (B.ROWTIME / 10000) * 10000 = M.STARTTIME WHERE B.PRICE = M.MAXPRICE;"
    ),
    duckdb_sql="""
        WITH bids AS (SELECT *, epoch_ms(DATETIME) // 10000 * 10000 AS STARTTIME FROM bid),
        maxima AS (SELECT STARTTIME, max(PRICE) AS MAXPRICE FROM bids GROUP BY STARTTIME)
        SELECT b.STARTTIME, b.AUCTION, b.PRICE, b.BIDDER, b.DATETIME, b.EXTRA FROM bids b JOIN maxima m
        ON b.STARTTIME = m.STARTTIME AND b.PRICE = m.MAXPRICE""",
    flink_sql=f"""
        SELECT {epoch_ms("B.window_start")} AS `STARTTIME`, B.`AUCTION`, B.`PRICE`, B.`BIDDER`,
               B.`DATETIME`, B.`EXTRA`
        FROM (SELECT * FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(`DATETIME`), INTERVAL '10' SECOND))) B
        JOIN (
            SELECT MAX(`PRICE`) AS maxprice, window_start, window_end
            FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(`DATETIME`), INTERVAL '10' SECOND))
            GROUP BY window_start, window_end) M
        ON B.window_start = M.window_start AND B.window_end = M.window_end AND B.`PRICE` = M.maxprice""",
    result=Result(columns=("STARTTIME", "AUCTION", "PRICE", "BIDDER", "DATETIME", "EXTRA")),
    windowed=True,
)

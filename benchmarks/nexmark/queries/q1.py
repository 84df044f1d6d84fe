"""Nexmark q1, currency conversion: every bid with its price in euros, 0.908 x dollars, DECIMAL(23, 3).

ksqlDB types ``PRICE * 0.908`` as DECIMAL(24, 3) (the literal 0.908 is DECIMAL(4, 3) there, and BIGINT
times DECIMAL(p, s) has precision 19 + p + 1), and so does Flink; Nexmark's Flink sink declares
DECIMAL(23, 3). The CAST gives that type in every system; every product fits in 23 digits, so it never
rounds or overflows.
"""

from __future__ import annotations

from benchmarks.nexmark.queries import NexmarkQuery

QUERY = NexmarkQuery(
    query_id="q1",
    title="currency conversion",
    sources=("bid",),
    headwater_sql=(
        "CREATE STREAM {sink} AS SELECT AUCTION, BIDDER, CAST(PRICE * 0.908 AS DECIMAL(23, 3)) AS PRICE, "
        "DATETIME, EXTRA FROM BID EMIT CHANGES;"
    ),
    duckdb_sql=(
        "SELECT AUCTION, BIDDER, CAST(PRICE * 0.908 AS DECIMAL(23, 3)) AS PRICE, DATETIME, EXTRA FROM bid"
    ),
    flink_sql=(
        "SELECT `AUCTION`, `BIDDER`, CAST(0.908 * `PRICE` AS DECIMAL(23, 3)) AS `PRICE`, `DATETIME`, `EXTRA` "
        "FROM bid"
    ),
)

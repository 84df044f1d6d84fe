"""Nexmark q0, pass-through: every bid with all its columns (the cost of reading and writing)."""

from __future__ import annotations

from benchmarks.nexmark.queries import NexmarkQuery

QUERY = NexmarkQuery(
    query_id="q0",
    title="pass-through",
    sources=("bid",),
    headwater_sql="CREATE STREAM {sink} AS SELECT * FROM BID EMIT CHANGES;",
    duckdb_sql="SELECT AUCTION, BIDDER, PRICE, CHANNEL, URL, DATETIME, EXTRA FROM bid",
    flink_sql="SELECT `AUCTION`, `BIDDER`, `PRICE`, `CHANNEL`, `URL`, `DATETIME`, `EXTRA` FROM bid",
)

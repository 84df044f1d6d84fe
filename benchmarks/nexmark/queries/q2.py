"""Nexmark q2, selection: auction and price of the bids on auctions whose id is a multiple of 123."""

from __future__ import annotations

from benchmarks.nexmark.queries import NexmarkQuery

QUERY = NexmarkQuery(
    query_id="q2",
    title="selection",
    sources=("bid",),
    headwater_sql="CREATE STREAM {sink} AS SELECT AUCTION, PRICE FROM BID WHERE AUCTION % 123 = 0 EMIT CHANGES;",
    duckdb_sql="SELECT AUCTION, PRICE FROM bid WHERE AUCTION % 123 = 0",
    flink_sql="SELECT `AUCTION`, `PRICE` FROM bid WHERE MOD(`AUCTION`, 123) = 0",
)

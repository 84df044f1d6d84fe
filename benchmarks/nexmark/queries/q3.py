"""Nexmark q3, local item suggestion: who sells in category 10 from Oregon, Idaho or California.

The published query is a regular (unwindowed) inner join of the auction and person streams: on finite
input every auction meets its seller whichever came first, which is the batch join DuckDB computes. The
generator draws some sellers from the ten persons about to be created (the "lead" of the reference
generator), so an auction can come a few events before its seller.

ksqlDB has no unwindowed stream-stream join, and the two joins it does have differ from the published one
on such input: a stream-table join (auctions against a table of persons) is an as-of join, where an
auction meets only a seller who came before it in event time; a stream-stream join needs a WITHIN
window, and one that covers the whole input keeps every event in join state. So Headwater runs q3 as a
**join of two tables**: persons as a table keyed by ID and auctions as a table keyed by ID (each the
latest row per key, ``LATEST_BY_OFFSET``; Nexmark never updates either), joined on the foreign key
``SELLER`` = person ID. A table-table join is symmetric: its final state is the batch join, whatever the
arrival order, which is the published query's answer on finite input. The filters (category 10; state
OR, ID or CA) are applied while building the tables, where ksqlDB can apply them (a WHERE before the
GROUP BY), so the tables hold only the rows that can join.

The answer is the result table's final state, one row per qualifying auction: NAME, CITY, STATE of the
seller and the auction's ID (the table's key). No window is involved, so q3 runs on the reference
event-time rate.
"""

from __future__ import annotations

from benchmarks.nexmark.queries import NexmarkQuery, Result

QUERY = NexmarkQuery(
    query_id="q3",
    title="local item suggestion",
    sources=("person", "auction"),
    headwater_sql=(
        "CREATE TABLE {sink}_SELLERS AS SELECT ID, LATEST_BY_OFFSET(NAME) AS NAME, LATEST_BY_OFFSET(CITY) AS CITY, "
        "LATEST_BY_OFFSET(STATE) AS STATE FROM PERSON WHERE STATE IN ('OR', 'ID', 'CA') GROUP BY ID;\n"
        "CREATE TABLE {sink}_AUCTIONS AS SELECT ID, LATEST_BY_OFFSET(SELLER) AS SELLER FROM AUCTION "
        "WHERE CATEGORY = 10 GROUP BY ID;\n"
        "CREATE TABLE {sink} AS SELECT A.ID AS ID, P.NAME AS NAME, P.CITY AS CITY, P.STATE AS STATE "
        "FROM {sink}_AUCTIONS A JOIN {sink}_SELLERS P ON A.SELLER = P.ID;"
    ),
    duckdb_sql=(
        "SELECT p.NAME, p.CITY, p.STATE, a.ID FROM auction a JOIN person p ON a.SELLER = p.ID "
        "WHERE a.CATEGORY = 10 AND p.STATE IN ('OR', 'ID', 'CA')"
    ),
    flink_sql=(
        "SELECT P.`NAME`, P.`CITY`, P.`STATE`, A.`ID` FROM auction AS A INNER JOIN person AS P "
        "ON A.`SELLER` = P.`ID` WHERE A.`CATEGORY` = 10 AND P.`STATE` IN ('OR', 'ID', 'CA')"
    ),
    result=Result(columns=("NAME", "CITY", "STATE", "ID"), key=("ID",)),
)

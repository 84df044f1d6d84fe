"""The Nexmark queries, one module per query (``q0.py``, ``q1.py``, ...), each defining ``QUERY``.

A query is written three times, once per system, over the same tables: Headwater's ksqlDB SQL as a
persistent query (``CREATE STREAM {sink} AS SELECT ... EMIT CHANGES``, the sink name filled in per run),
DuckDB's SQL over views of the Parquet files, and Flink SQL over tables of the Arrow files (the runner
sends its result to a ``blackhole`` sink, Flink's discard sink). Tables and streams are named after the
event kinds: ``person``, ``auction``, ``bid`` (PERSON, AUCTION, BID in Headwater).

Adding a query is adding a module: :func:`all_queries` finds every ``q<N>.py`` here. The queries that need
the stateful engine (joins, windows) are listed in :data:`PLANNED` until their module exists.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from dataclasses import dataclass

__all__ = ["PLANNED", "NexmarkQuery", "all_queries", "query"]


@dataclass(frozen=True, slots=True)
class NexmarkQuery:
    """One Nexmark query in each system's SQL.

    Attributes:
        query_id: ``q0``, ``q1``, ...
        title: Nexmark's name for it.
        sources: the event kinds it reads (topic names: ``bid``, ...).
        headwater_sql: ``CREATE STREAM {sink} AS SELECT ... EMIT CHANGES;`` (``{sink}`` is filled in).
        duckdb_sql: a SELECT computing the same rows in DuckDB.
        flink_sql: a SELECT computing the same rows in Flink SQL.
    """

    query_id: str
    title: str
    sources: tuple[str, ...]
    headwater_sql: str
    duckdb_sql: str
    flink_sql: str

    def __post_init__(self) -> None:
        if not re.fullmatch(r"q\d+", self.query_id):
            raise ValueError(f"query id must look like q<N>, got {self.query_id!r}")
        if "{sink}" not in self.headwater_sql:
            raise ValueError(f"{self.query_id}: headwater_sql must name its sink as {{sink}}")

    def headwater_statement(self, sink: str) -> str:
        """The persistent query writing to the stream ``sink``."""
        return self.headwater_sql.format(sink=sink)


PLANNED: dict[str, str] = {
    "q3": "local item suggestion: a stream-table join of auctions to persons",
    "q5": "hot items: hopping windows and a max per window",
    "q7": "highest bid: tumbling windows and a max per window",
    "q8": "monitor new users: a windowed stream-stream join",
}
"""Queries waiting for the stateful engine (aggregations, windows, joins), with what each needs."""


def all_queries() -> dict[str, NexmarkQuery]:
    """Every query module's ``QUERY``, by id, in numeric order."""
    found: dict[str, NexmarkQuery] = {}
    for module in pkgutil.iter_modules(__path__):
        if re.fullmatch(r"q\d+", module.name):
            definition = importlib.import_module(f"{__name__}.{module.name}").QUERY
            if definition.query_id != module.name:
                raise ValueError(f"{module.name}.py defines {definition.query_id}")
            found[module.name] = definition
    return dict(sorted(found.items(), key=lambda item: int(item[0][1:])))


def query(query_id: str) -> NexmarkQuery:
    """One query by id.

    Raises:
        KeyError: with what the query still needs, when it is planned but not written yet.
    """
    queries = all_queries()
    if query_id in queries:
        return queries[query_id]
    if query_id in PLANNED:
        raise KeyError(f"{query_id} is not available yet ({PLANNED[query_id]})")
    raise KeyError(f"unknown query {query_id!r}; available: {', '.join(queries)}")

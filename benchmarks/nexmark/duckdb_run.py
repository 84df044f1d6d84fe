"""DuckDB's measurement: the same query in batch over the Parquet files (the in-process ceiling).

The views ``person``, ``auction`` and ``bid`` read the Parquet files; a measurement runs the query and
fetches its whole result as Arrow record batches (a million rows at a time), dropping each batch, the
counterpart of a discard sink. DuckDB runs on ``threads`` threads (1 by default: Headwater runs a query
on one thread, and the comparison is per core).
"""

from __future__ import annotations

import duckdb

from benchmarks.nexmark.loader import Dataset
from benchmarks.nexmark.measure import Measurement, Timer, settle
from benchmarks.nexmark.queries import NexmarkQuery
from benchmarks.nexmark.schemas import EVENT_KINDS

__all__ = ["connect", "run_duckdb"]

_FETCH_ROWS = 1_000_000


def connect(dataset: Dataset, threads: int = 1) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with one view per event kind over its Parquet file."""
    con = duckdb.connect()
    con.execute(f"SET threads = {int(threads)}")
    for kind in EVENT_KINDS:
        path = str(dataset.parquet(kind)).replace("'", "''")
        con.execute(f"CREATE VIEW {kind.topic} AS SELECT * FROM read_parquet('{path}')")
    return con


def run_duckdb(con: duckdb.DuckDBPyConnection, query: NexmarkQuery, dataset: Dataset, repeat: int,
               settle_first: bool = True) -> Measurement:
    """The best of ``repeat`` runs of the query's DuckDB SQL, its result fetched as Arrow.

    ``settle_first`` writes back dirty pages before each run (see :func:`settle`); tests skip it.
    """
    events = sum(dataset.counts[s] for s in query.sources)
    best: Measurement | None = None
    for _ in range(repeat):
        if settle_first:
            settle()
        with Timer() as timer:
            reader = con.sql(query.duckdb_sql).to_arrow_reader(_FETCH_ROWS)
            rows = sum(batch.num_rows for batch in reader)
        measured = Measurement(query.query_id, "duckdb", events, rows, timer.wall_s, timer.cpu_s)
        if best is None or measured.wall_s < best.wall_s:
            best = measured
    assert best is not None
    return best

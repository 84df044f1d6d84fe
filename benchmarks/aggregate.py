"""Benchmark: a grouped COUNT / SUM / AVG through the streaming GROUP BY operator, next to DuckDB's
GROUP BY over the same data in the same run.

Headwater feeds the rows to :class:`~headwater.engine.operators.aggregate.AggregateOperator` in batches
(10k rows by default), with the GROUP BY key and arguments as compiled column expressions, exactly as a
persistent query would; each batch updates the state and emits the changelog of the groups it touched.
DuckDB computes ``SELECT k, count(*), sum(v), avg(x) FROM t GROUP BY k`` over the whole table at once
(one thread by default, as Headwater runs on one). The final Headwater table is checked against
DuckDB's answer. Reported: events per second for both, and the ratio.

Run: ``.venv/bin/python benchmarks/aggregate.py [--rows 10000000] [--batch 10000] [--groups 1000]``
"""

from __future__ import annotations

import argparse
import math
import time
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from headwater.engine.aggregates import build_aggregates
from headwater.engine.expressions import Scope, ScopeColumn, bind, compile
from headwater.engine.functions.registry import FunctionRegistry
from headwater.engine.operators.aggregate import AggregateCall, AggregateOperator, GroupKey
from headwater.parser import parse_expression
from headwater.parser import types as t


def make_table(rows: int, groups: int) -> pa.Table:
    rng = np.random.default_rng(7)
    return pa.table(
        {
            "K": pa.array(rng.integers(0, groups, rows), pa.int64()),
            "V": pa.array(rng.integers(-1000, 1000, rows), pa.int64()),
            "X": pa.array(rng.normal(0.0, 100.0, rows)),
            "ROWTIME": pa.array(np.arange(rows, dtype=np.int64)),
        }
    )


def make_operator() -> AggregateOperator:
    scope = Scope((ScopeColumn("K", t.BIGINT), ScopeColumn("V", t.BIGINT), ScopeColumn("X", t.DOUBLE), ScopeColumn("ROWTIME", t.BIGINT)))
    registry = FunctionRegistry()

    def column(name: str) -> Any:
        return compile(bind(parse_expression(name), scope, registry))

    functions = build_aggregates()
    return AggregateOperator(
        [GroupKey("K", column("K"), t.BIGINT)],
        [
            AggregateCall("N", functions["COUNT"].resolve((t.BIGINT,)), (column("ROWTIME"),)),
            AggregateCall("TOTAL", functions["SUM"].resolve((t.BIGINT,)), (column("V"),)),
            AggregateCall("MEAN", functions["AVG"].resolve((t.DOUBLE,)), (column("X"),)),
        ],
    )


def run_headwater(table: pa.Table, batch_rows: int) -> tuple[float, dict[int, tuple[int, int, float]]]:
    operator = make_operator()
    batches = table.to_batches(max_chunksize=batch_rows)
    final: dict[int, tuple[int, int, float]] = {}
    start = time.perf_counter()
    last = None
    for batch in batches:
        for out in operator.process(batch):
            last = out
    elapsed = time.perf_counter() - start
    _ = last
    # the final table is the state of every group (read outside the timed loop)
    slots = np.flatnonzero(operator.store.index.live)
    keys = operator.store.index.keys(slots)[0].to_pylist()
    results = [r.to_pylist() for r in operator.store.results(slots)]
    for key, n, total, mean in zip(keys, *results):
        final[key] = (n, total, mean)
    return elapsed, final


def run_duckdb(table: pa.Table, threads: int) -> tuple[float, dict[int, tuple[int, int, float]]]:
    connection = duckdb.connect()
    connection.execute(f"SET threads = {threads}")
    connection.register("t", table)
    best = math.inf
    result = []
    for _ in range(3):
        start = time.perf_counter()
        result = connection.execute("SELECT k, count(*), sum(v), avg(x) FROM t GROUP BY k").fetchall()
        best = min(best, time.perf_counter() - start)
    return best, {k: (n, total, mean) for k, n, total, mean in result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--groups", type=int, default=1_000)
    parser.add_argument("--duckdb-threads", type=int, default=1)
    args = parser.parse_args()

    table = make_table(args.rows, args.groups)
    ours, our_table = run_headwater(table, args.batch)
    theirs, their_table = run_duckdb(table, args.duckdb_threads)
    assert set(our_table) == set(their_table)
    for key, (n, total, mean) in their_table.items():
        got = our_table[key]
        assert got[0] == n and got[1] == total and math.isclose(got[2], mean, rel_tol=1e-9), key

    print(f"rows {args.rows:,}  batch {args.batch:,}  groups {args.groups:,}")
    print(f"headwater streaming GROUP BY   {ours:8.2f} s   {args.rows / ours:14,.0f} events/s")
    print(f"duckdb GROUP BY ({args.duckdb_threads} thread)     {theirs:8.2f} s   {args.rows / theirs:14,.0f} events/s")
    print(f"ratio (duckdb speed / headwater speed): {ours / theirs:.1f}x")


if __name__ == "__main__":
    main()

"""Benchmark: compiled expressions over 1M-row batches, next to DuckDB computing the same expressions
over the same Arrow data.

Each case is a typical projection or filter (arithmetic, comparisons, CASE, string functions, struct
access). Headwater binds and compiles it once, then times ``evaluate(batch)``; DuckDB times
``SELECT <expr> FROM t`` materialised to Arrow over the same table. Both take the best of several runs.
DuckDB runs on one thread by default (``--duckdb-threads``), as Headwater evaluates on one.

Run: ``.venv/bin/python benchmarks/expressions.py [--rows 1000000] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from decimal import Decimal

import duckdb
import numpy as np
import pyarrow as pa

from headwater.engine.expressions import CompiledExpression, Scope, ScopeColumn, bind, compile
from headwater.engine.functions import default_registry
from headwater.engine.types import from_arrow
from headwater.parser import parse_expression

CASES: list[tuple[str, str, str]] = [
    # (name, ksqlDB expression, DuckDB expression)
    ("int arithmetic", "I + L * 2 - 7", "I + L * 2 - 7"),
    ("int division", "I / 7", "trunc(I / 7)"),
    ("modulus literal", "L % 123", "L % 123"),  # Nexmark q2's filter; both keep the dividend's sign
    ("modulus filter", "L % 123 = 0", "coalesce(L % 123 = 0, false)"),
    ("bigint x decimal", "L * 0.908", "L * 0.908"),
    ("decimal cast", "CAST(L * 0.908 AS DECIMAL(23, 3))", "CAST(L * 0.908 AS DECIMAL(23, 3))"),  # Nexmark q1
    ("double arithmetic", "X * Y + 1.5E0", "X * Y + 1.5"),
    ("decimal addition", "D + D", "D + D"),
    ("decimal multiply", "D * 3", "D * 3"),
    ("comparison", "X > 0.5E0", "coalesce(X > 0.5, false)"),
    ("filter AND", "X > 0.5E0 AND I < 100", "coalesce(X > 0.5, false) AND coalesce(I < 100, false)"),
    ("BETWEEN", "I BETWEEN 10 AND 1000", "coalesce(I BETWEEN 10 AND 1000, false)"),
    ("IN list", "I IN (1, 5, 9, 13, 17)", "coalesce(I IN (1, 5, 9, 13, 17), false)"),
    ("string equality", "S = 'abc'", "coalesce(S = 'abc', false)"),
    ("LIKE", "S LIKE 'ab%'", "S LIKE 'ab%'"),
    (
        "CASE",
        "CASE WHEN X < 0 THEN 'neg' WHEN X < 1 THEN 'small' ELSE 'big' END",
        "CASE WHEN X < 0 THEN 'neg' WHEN X < 1 THEN 'small' ELSE 'big' END",
    ),
    ("string concat", "S + '-' + S", "S || '-' || S"),
    ("UCASE", "UCASE(S)", "upper(S)"),
    ("LEN", "LEN(S)", "length(S)"),
    ("SUBSTRING", "SUBSTRING(S, 2, 3)", "substring(S, 2, 3)"),
    ("struct field", "ST->A + 1", "ST.A + 1"),
    ("array element", "ARR[2]", "ARR[2]"),
    # guarded values (a call passed to a call, a CAST, constructor items)
    ("nested calls", "LEN(UCASE(S))", "length(upper(S))"),
    ("CAST to string", "CAST(I AS STRING)", "CAST(I AS VARCHAR)"),
    ("array constructor", "ARRAY[I, I + 1]", "[I, I + 1]"),
]


def make_batch(rows: int) -> pa.RecordBatch:
    rng = np.random.default_rng(42)
    words = np.array(["abc", "abd", "xyz", "hello", "ab", "world", "abcdef", "q"])
    nulls = rng.random(rows) < 0.05
    struct = pa.StructArray.from_arrays(
        [
            pa.array(rng.integers(0, 1000, rows).astype(np.int32)),
            pa.array(words[rng.integers(0, len(words), rows)]),
        ],
        names=["A", "B"],
    )
    lengths = rng.integers(0, 5, rows)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    arrays = pa.ListArray.from_arrays(
        pa.array(offsets), pa.array(rng.integers(0, 100, int(offsets[-1])).astype(np.int32))
    )
    return pa.record_batch(
        {
            "I": pa.array(rng.integers(-10_000, 10_000, rows).astype(np.int32), mask=nulls),
            "L": pa.array(rng.integers(-(2**40), 2**40, rows)),
            "X": pa.array(rng.normal(0, 2, rows)),
            "Y": pa.array(rng.normal(0, 2, rows), mask=nulls),
            "D": pa.array(
                [Decimal(int(v)).scaleb(-2) for v in rng.integers(-(10**8), 10**8, rows)],
                pa.decimal128(10, 2),
            ),
            "S": pa.array(words[rng.integers(0, len(words), rows)], mask=nulls),
            "ST": struct,
            "ARR": arrays,
        }
    )


def best_of(repeat: int, run: Callable[[], object]) -> float:
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        timings.append(time.perf_counter() - start)
    return min(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--duckdb-threads", type=int, default=1)
    args = parser.parse_args()

    batch = make_batch(args.rows)
    registry = default_registry()
    scope = Scope(tuple(ScopeColumn(f.name, from_arrow(f.type)) for f in batch.schema))
    connection = duckdb.connect()
    connection.execute(f"SET threads = {args.duckdb_threads}")
    connection.register("t", pa.Table.from_batches([batch]))

    print(f"{args.rows:,} rows, best of {args.repeat}; DuckDB on {args.duckdb_threads} thread(s)")
    print(f"{'case':<20} {'headwater rows/s':>18} {'duckdb rows/s':>16} {'time ratio':>11}")
    for name, ksql, duck_sql in CASES:
        compiled = compile(bind(parse_expression(ksql), scope, registry))
        query = f"SELECT {duck_sql} FROM t"

        def ours_once(compiled: CompiledExpression = compiled) -> object:
            return compiled.evaluate(batch)

        def theirs_once(query: str = query) -> object:
            return connection.sql(query).to_arrow_table()

        ours, theirs = best_of(args.repeat, ours_once), best_of(args.repeat, theirs_once)
        print(f"{name:<20} {args.rows / ours:>18,.0f} {args.rows / theirs:>16,.0f} {ours / theirs:>10.2f}x")


if __name__ == "__main__":
    main()

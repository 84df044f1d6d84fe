"""Decoding throughput of the JSON and DELIMITED formats, against Arrow's own readers.

Usage::

    .venv/bin/python benchmarks/decode.py [--rows N] [--fallback-rows M] [--repeat R]

For each format, one million records of five columns (BIGINT, STRING, DOUBLE, BOOLEAN, TIMESTAMP) are
decoded by:

* the fast path: the product's decoder, as the engine uses it (after a warm-up batch, so a JSON
  decoder has learned the member spellings of the stream, here lower-case ``"id"`` for ``ID``);
* the per-row fallback: the same decoder with vectorization off, on ``--fallback-rows`` records
  (it is slow; the rate is per record, so the subset gives the same figure);
* the ceiling: ``pyarrow.json.read_json`` / ``pyarrow.csv.read_csv`` over the same bytes joined into
  one buffer, with an explicit schema (no ksqlDB semantics: no case-insensitive names, no lenient
  coercions, no per-record errors).

Every figure is the best of ``--repeat`` runs; runs of the three are interleaved so that load from
other processes weighs on them alike. Records per second are printed, and the ratio of the fast path
to the ceiling (1.0 would be as fast as Arrow's bare reader).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.json as pj

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from headwater.engine.formats.delimited import DelimitedDecoder
from headwater.engine.formats.json_decode import JsonDecoder
from headwater.parser import types as t

COLUMNS = [
    ("ID", t.BIGINT),
    ("NAME", t.STRING),
    ("AMOUNT", t.DOUBLE),
    ("ACTIVE", t.BOOLEAN),
    ("TS", t.TIMESTAMP),
]
ARROW_SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("name", pa.string()),
        ("amount", pa.float64()),
        ("active", pa.bool_()),
        ("ts", pa.int64()),
    ]
)


def json_records(rows: int) -> pa.Array:
    rng = np.random.default_rng(7)
    amounts = rng.random(rows) * 1000
    return pa.array(
        [
            orjson.dumps(
                {
                    "id": i,
                    "name": f"user{i}",
                    "amount": float(amounts[i]),
                    "active": i % 2 == 0,
                    "ts": 1_600_000_000_000 + i,
                }
            )
            for i in range(rows)
        ],
        pa.binary(),
    )


def delimited_records(rows: int) -> pa.Array:
    rng = np.random.default_rng(7)
    amounts = rng.random(rows) * 1000
    return pa.array(
        [
            f"{i},user{i},{float(amounts[i])!r},{'true' if i % 2 == 0 else 'false'},{1_600_000_000_000 + i}".encode()
            for i in range(rows)
        ],
        pa.binary(),
    )


def joined(records: pa.Array) -> pa.Buffer:
    """The records as one newline-delimited buffer (what the ceiling readers get)."""
    lines = pc.binary_join_element_wise(records, pa.scalar(b"\n", pa.binary()), pa.scalar(b"", pa.binary()))
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)
    return lines.buffers()[2].slice(0, int(offsets[len(lines)]))


def best(timings: list[float]) -> float:
    return min(timings)


def measure(cases: dict[str, Callable[[], int]], repeat: int) -> dict[str, tuple[float, int]]:
    timings: dict[str, list[float]] = {name: [] for name in cases}
    counts: dict[str, int] = {}
    for _ in range(repeat):
        for name, run in cases.items():
            started = time.perf_counter()
            counts[name] = run()
            timings[name].append(time.perf_counter() - started)
    return {name: (best(timings[name]), counts[name]) for name in cases}


def json_cases(rows: int, fallback_rows: int) -> dict[str, Callable[[], int]]:
    records = json_records(rows)
    subset = records.slice(0, fallback_rows)
    buffer = joined(records)
    fast = JsonDecoder(COLUMNS, is_key=False, unwrapped=False)
    fast.decode(records.slice(0, 10_000))  # learns the stream's member spellings
    slow = JsonDecoder(COLUMNS, is_key=False, unwrapped=False, vectorized=False)
    options = pj.ParseOptions(explicit_schema=ARROW_SCHEMA, unexpected_field_behavior="ignore")

    def run_fast() -> int:
        result = fast.decode(records)
        assert result.fast_rows == rows and not result.failed.any()
        return rows

    def run_fallback() -> int:
        result = slow.decode(subset)
        assert result.fallback_rows == fallback_rows and not result.failed.any()
        return fallback_rows

    def run_ceiling() -> int:
        return pj.read_json(pa.BufferReader(buffer), parse_options=options).num_rows

    return {"fast path": run_fast, "per-row fallback": run_fallback, "pyarrow.json.read_json": run_ceiling}


def delimited_cases(rows: int, fallback_rows: int) -> dict[str, Callable[[], int]]:
    records = delimited_records(rows)
    subset = records.slice(0, fallback_rows)
    buffer = joined(records)
    fast = DelimitedDecoder(COLUMNS)
    slow = DelimitedDecoder(COLUMNS, vectorized=False)
    names = [field.name for field in ARROW_SCHEMA]
    read_options = pcsv.ReadOptions(column_names=names)
    convert = pcsv.ConvertOptions(column_types={field.name: field.type for field in ARROW_SCHEMA})

    def run_fast() -> int:
        result = fast.decode(records)
        assert result.fast_rows == rows and not result.failed.any()
        return rows

    def run_fallback() -> int:
        result = slow.decode(subset)
        assert result.fallback_rows == fallback_rows and not result.failed.any()
        return fallback_rows

    def run_ceiling() -> int:
        return pcsv.read_csv(
            pa.BufferReader(buffer), read_options=read_options, convert_options=convert
        ).num_rows

    return {"fast path": run_fast, "per-row fallback": run_fallback, "pyarrow.csv.read_csv": run_ceiling}


def report(title: str, results: dict[str, tuple[float, int]]) -> None:
    print(f"\n{title}")
    ceiling_name = next(name for name in results if name.startswith("pyarrow"))
    ceiling_rate = results[ceiling_name][1] / results[ceiling_name][0]
    for name, (seconds, count) in results.items():
        rate = count / seconds
        extra = f"  {rate / ceiling_rate:5.2f} x {ceiling_name}" if name != ceiling_name else ""
        per_row = f"  {seconds / count * 1e6:6.2f} us/record" if name == "per-row fallback" else ""
        print(f"  {name:<24} {rate:>14,.0f} records/s{extra}{per_row}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--fallback-rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    fallback_rows = min(args.fallback_rows, args.rows)
    print(f"{args.rows:,} records of 5 columns; per-row fallback on {fallback_rows:,}; best of {args.repeat}")
    report("JSON", measure(json_cases(args.rows, fallback_rows), args.repeat))
    report("DELIMITED", measure(delimited_cases(args.rows, fallback_rows), args.repeat))


if __name__ == "__main__":
    main()

"""Historical queries: Headwater's topics through DuckDB against DuckDB reading a Parquet copy of the data.

Builds, in one run:

* ``EVENTS``: 10M events (ID BIGINT KEY, USER_ID INT, CATEGORY INT, QTY INT, PRICE DOUBLE, CITY STRING),
  appended to a four-partition typed topic in 100,000-row batches (round robin over the partitions,
  ROWTIME one event every 10 ms), with 16 MiB segments so that a time range maps onto a few segments;
* ``USERS``: 100,000 users (ID INT KEY, REGION STRING, TIER INT) in a one-partition typed topic;
* the same rows (with ROWTIME, ROWPARTITION, ROWOFFSET) as Parquet files written by DuckDB's own
  ``COPY ... (FORMAT PARQUET)``, read back through ``read_parquet`` views of the same names.

Then runs three queries on both, each ``--repeat`` times (the fastest counts), and checks that both give
the same answer:

1. full-scan aggregation (ksqlDB grammar):
   ``SELECT CATEGORY, COUNT(*), SUM(PRICE), AVG(QTY), MAX(PRICE) FROM EVENTS GROUP BY CATEGORY``;
2. selective time range (ksqlDB grammar): ``COUNT(*)`` and ``SUM(PRICE)`` of 0.5% of the time span;
3. join of the two topics (Headwater's SQL extension, as ORDER BY is not ksqlDB grammar):
   ``SELECT u.REGION, COUNT(*), SUM(e.PRICE) FROM EVENTS e JOIN USERS u ON e.USER_ID = u.ID
   GROUP BY u.REGION ORDER BY u.REGION``.

Reported: seconds per query, events per second, the ratio DuckDB-on-Parquet time / Headwater time
(1.0 means as fast), and for the time range the segments the topic has, the segments holding the range
and the segments the query opened. Targets: >= 0.8 for the scan; the time range opening no segment
beyond those holding it. Writes ``results/historical.json`` and ``results/historical.png``.

Run: ``.venv/bin/python benchmarks/historical.py [--events 10000000] [--repeat 5]``
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

try:
    from benchmarks.reporting import cpu_model, pyplot
except ModuleNotFoundError:  # run as a file (python benchmarks/x.py): put the repository root on the path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.reporting import cpu_model, pyplot
from headwater.engine import Engine
from headwater.engine.historical import HistoricalResult, run_select
from headwater.storage import TopicConfig

HERE = Path(__file__).resolve().parent
START = 1_700_000_000_000
STEP_MS = 10
BATCH = 100_000
PARTITIONS = 4
USERS = 100_000
CITIES = [f"city-{i:02d}" for i in range(50)]
REGIONS = ["north", "south", "east", "west", "centre"]


@dataclass
class Measurement:
    """One query on one engine: the fastest and the median of the runs."""

    query: str
    engine: str
    best_s: float
    median_s: float
    cpu_s: float
    events: int

    @property
    def events_per_s(self) -> float:
        return self.events / self.best_s if self.best_s else math.inf


def _events_schema() -> pa.Schema:
    return pa.schema(
        [
            pa.field("ID", pa.int64(), metadata={"headwater.key": "true"}),
            pa.field("USER_ID", pa.int32()),
            pa.field("CATEGORY", pa.int32()),
            pa.field("QTY", pa.int32()),
            pa.field("PRICE", pa.float64()),
            pa.field("CITY", pa.string()),
        ]
    )


def build(engine: Engine, events: int, segment_bytes: int) -> tuple[pa.Table, pa.Table]:
    """Fill the two topics and declare the streams; returns what was written, with the pseudo-columns."""
    rng = np.random.default_rng(42)
    events_topic = engine.log.create_topic(
        "events",
        TopicConfig(partitions=PARTITIONS, segment_bytes=segment_bytes),
        schema=_events_schema(),
        metadata={"key_format": "KAFKA", "value_format": "JSON"},
    )
    city_values = pa.array(CITIES)
    written = []
    offsets = [0] * PARTITIONS
    for number, start in enumerate(range(0, events, BATCH)):
        n = min(BATCH, events - start)
        partition = number % PARTITIONS
        times = START + np.arange(start, start + n, dtype=np.int64) * STEP_MS
        batch = pa.record_batch(
            {
                "__timestamp": pa.array(times),
                "ID": pa.array(np.arange(start, start + n, dtype=np.int64)),
                "USER_ID": pa.array(rng.integers(0, USERS, n).astype(np.int32)),
                "CATEGORY": pa.array(rng.integers(0, 20, n).astype(np.int32)),
                "QTY": pa.array(rng.integers(1, 10, n).astype(np.int32)),
                "PRICE": pa.array(np.round(rng.random(n) * 200.0, 2)),
                "CITY": city_values.take(pa.array(rng.integers(0, len(CITIES), n))),
            }
        )
        events_topic.append(batch, partition=partition)
        written.append(
            pa.record_batch(
                [*batch.columns[1:], batch.column(0),
                 pa.array(np.full(n, partition, dtype=np.int32)),
                 pa.array(np.arange(offsets[partition], offsets[partition] + n, dtype=np.int64))],
                names=[*batch.schema.names[1:], "ROWTIME", "ROWPARTITION", "ROWOFFSET"],
            )
        )
        offsets[partition] += n
    users_schema = pa.schema(
        [pa.field("ID", pa.int32(), metadata={"headwater.key": "true"}), pa.field("REGION", pa.string()),
         pa.field("TIER", pa.int32())]
    )
    users_topic = engine.log.create_topic(
        "users", TopicConfig(partitions=1), schema=users_schema, metadata={"key_format": "KAFKA", "value_format": "JSON"}
    )
    users = pa.record_batch(
        {
            "__timestamp": pa.array(np.full(USERS, START, dtype=np.int64)),
            "ID": pa.array(np.arange(USERS, dtype=np.int32)),
            "REGION": pa.array(REGIONS).take(pa.array(rng.integers(0, len(REGIONS), USERS))),
            "TIER": pa.array(rng.integers(1, 4, USERS).astype(np.int32)),
        }
    )
    users_topic.append(users, partition=0)
    engine.execute(
        "CREATE STREAM EVENTS (ID BIGINT KEY, USER_ID INT, CATEGORY INT, QTY INT, PRICE DOUBLE, CITY STRING) "
        "WITH (KAFKA_TOPIC='events', VALUE_FORMAT='JSON');"
    )
    engine.execute("CREATE STREAM USERS (ID INT KEY, REGION STRING, TIER INT) WITH (KAFKA_TOPIC='users', VALUE_FORMAT='JSON');")
    users_rows = pa.table(
        {
            "ID": users.column("ID"),
            "REGION": users.column("REGION"),
            "TIER": users.column("TIER"),
            "ROWTIME": users.column("__timestamp"),
            "ROWPARTITION": pa.array(np.zeros(USERS, dtype=np.int32)),
            "ROWOFFSET": pa.array(np.arange(USERS, dtype=np.int64)),
        }
    )
    return pa.Table.from_batches(written), users_rows


def parquet_copy(events: pa.Table, users: pa.Table, directory: Path) -> duckdb.DuckDBPyConnection:
    """The same rows as Parquet written by DuckDB, and a connection with views named as the streams."""
    writer = duckdb.connect()
    writer.register("events_rows", events)
    writer.register("users_rows", users)
    writer.execute(f"COPY events_rows TO '{directory / 'events.parquet'}' (FORMAT PARQUET)")
    writer.execute(f"COPY users_rows TO '{directory / 'users.parquet'}' (FORMAT PARQUET)")
    writer.close()
    reader = duckdb.connect()
    reader.execute(f"CREATE VIEW EVENTS AS SELECT * FROM read_parquet('{directory / 'events.parquet'}')")
    reader.execute(f"CREATE VIEW USERS AS SELECT * FROM read_parquet('{directory / 'users.parquet'}')")
    return reader


def timed(run: Callable[[], Any], repeat: int) -> tuple[float, float, float, Any]:
    """Best and median wall-clock seconds, best CPU seconds of this process (all threads: the work
    done, which a loaded machine inflates less than wall time), and the last answer."""
    seconds = []
    cpu = []
    answer = None
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        answer = run()
        seconds.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return min(seconds), statistics.median(seconds), min(cpu), answer


def _close(a: list[tuple[Any, ...]], b: list[tuple[Any, ...]]) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(sorted(a), sorted(b)):
        for u, v in zip(x, y):
            if isinstance(u, float) or isinstance(v, float):
                if not math.isclose(float(u), float(v), rel_tol=1e-9):
                    return False
            elif u != v:
                return False
    return True


def machine() -> dict[str, str]:
    cpu = cpu_model()
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "unknown"
    return {"nproc": str(os.cpu_count()), "cpu": cpu, "python": platform.python_version(),
            "pyarrow": pa.__version__, "duckdb": duckdb.__version__, "load_average": load}


def plot(results: list[Measurement], path: Path) -> bool:
    plt = pyplot()
    if plt is None:
        return False
    queries = list(dict.fromkeys(m.query for m in results))
    fig, ax = plt.subplots(figsize=(9, 4.5))
    width = 0.38
    x = np.arange(len(queries))
    for i, name in enumerate(("DuckDB on Parquet", "Headwater")):
        values = [next(m.best_s for m in results if m.query == q and m.engine == name) * 1000 for q in queries]
        bars = ax.bar(x + (i - 0.5) * width, values, width, label=name)
        ax.bar_label(bars, labels=[f"{v:.0f} ms" for v in values], fontsize=8)
    ax.set_xticks(x, queries)
    ax.set_ylabel("milliseconds (best run; lower is better)")
    ax.set_title(f"Historical queries over {results[0].events:,} events")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=10_000_000, help="events in EVENTS (default 10M)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per query; the fastest counts")
    parser.add_argument("--segment-mb", type=int, default=16, help="segment.bytes of EVENTS in MiB")
    parser.add_argument("--data-dir", type=Path, default=None, help="where to write (default: a temp dir)")
    parser.add_argument("--out", type=Path, default=HERE / "results", help="where to put the JSON and PNG")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="historical-", dir=args.data_dir))
    results: list[Measurement] = []
    checks: dict[str, Any] = {}
    try:
        engine = Engine(work / "data", background=False)
        print(f"writing {args.events:,} events and {USERS:,} users ...", file=sys.stderr)
        started = time.perf_counter()
        events, users = build(engine, args.events, args.segment_mb * 1024 * 1024)
        checks["build_s"] = round(time.perf_counter() - started, 2)
        started = time.perf_counter()
        parquet = parquet_copy(events, users, work)
        checks["parquet_copy_s"] = round(time.perf_counter() - started, 2)
        del events
        span = args.events * STEP_MS
        low = START + int(span * 0.40)
        high = low + int(span * 0.005)
        queries = {
            "full-scan aggregation": (
                "SELECT CATEGORY, COUNT(*) AS N, SUM(PRICE) AS TOTAL, AVG(QTY) AS MEAN_QTY, MAX(PRICE) AS TOP "
                "FROM EVENTS GROUP BY CATEGORY;",
                "SELECT CATEGORY, COUNT(*) AS N, SUM(PRICE) AS TOTAL, AVG(QTY) AS MEAN_QTY, MAX(PRICE) AS TOP "
                "FROM EVENTS GROUP BY CATEGORY",
            ),
            "time range (0.5%)": (
                f"SELECT COUNT(*) AS N, SUM(PRICE) AS TOTAL FROM EVENTS WHERE ROWTIME >= {low} AND ROWTIME < {high};",
                f"SELECT COUNT(*) AS N, SUM(PRICE) AS TOTAL FROM EVENTS WHERE ROWTIME >= {low} AND ROWTIME < {high}",
            ),
            "join of two topics": (
                "SELECT u.REGION, COUNT(*) AS N, SUM(e.PRICE) AS TOTAL FROM EVENTS e JOIN USERS u "
                "ON e.USER_ID = u.ID GROUP BY u.REGION ORDER BY u.REGION",
                "SELECT u.REGION, COUNT(*) AS N, SUM(e.PRICE) AS TOTAL FROM EVENTS e JOIN USERS u "
                "ON e.USER_ID = u.ID GROUP BY u.REGION ORDER BY u.REGION",
            ),
        }
        last: dict[str, HistoricalResult] = {}
        for name, (ours, theirs) in queries.items():
            print(f"{name} ...", file=sys.stderr)

            def run_ours(sql: str = ours, label: str = name) -> list[tuple[Any, ...]]:
                result = run_select(engine, sql)
                last[label] = result
                return result.rows()

            def run_theirs(sql: str = theirs) -> list[tuple[Any, ...]]:
                return parquet.sql(sql).fetchall()

            best, median, cpu, theirs_answer = timed(run_theirs, args.repeat)
            results.append(Measurement(name, "DuckDB on Parquet", best, median, cpu, args.events))
            best, median, cpu, ours_answer = timed(run_ours, args.repeat)
            results.append(Measurement(name, "Headwater", best, median, cpu, args.events))
            checks[f"{name}: same answer"] = _close(ours_answer, theirs_answer)
        (scan,) = last["time range (0.5%)"].stats.sources
        holding = [
            s for s in engine.log.topic("events").segments()
            if s.record_count and s.max_timestamp >= low and s.min_timestamp <= high - 1
        ]
        checks["time range: segments in topic"] = scan.segments_total
        checks["time range: segments holding the range"] = len(holding)
        checks["time range: segments opened"] = scan.segments_opened
        engine.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    info = machine()
    print(f"\nmachine: {info['nproc']} CPUs, {info['cpu']}, Python {info['python']}, pyarrow {info['pyarrow']}, "
          f"DuckDB {info['duckdb']}, load average {info['load_average']}")
    print(f"events: {args.events:,}; best of {args.repeat} runs\n")
    print(f"{'query':<24} {'engine':<18} {'best s':>8} {'median s':>9} {'CPU s':>7} {'events/s':>14}")
    for m in results:
        print(f"{m.query:<24} {m.engine:<18} {m.best_s:>8.3f} {m.median_s:>9.3f} {m.cpu_s:>7.3f} {m.events_per_s:>14,.0f}")
    print()
    ratios = {}
    cpu_ratios = {}
    for name in queries:
        theirs_m = next(m for m in results if m.query == name and m.engine == "DuckDB on Parquet")
        ours_m = next(m for m in results if m.query == name and m.engine == "Headwater")
        ratios[name] = theirs_m.best_s / ours_m.best_s
        cpu_ratios[name] = theirs_m.cpu_s / ours_m.cpu_s
        print(f"ratio (DuckDB-on-Parquet time / Headwater time), {name}: {ratios[name]:.2f} wall, "
              f"{cpu_ratios[name]:.2f} CPU")
    for key, value in checks.items():
        print(f"{key}: {value}")
    scan_ratio = ratios["full-scan aggregation"]
    print(f"\ntarget scan >= 0.8 of DuckDB on Parquet: {'met' if scan_ratio >= 0.8 else 'MISSED'} ({scan_ratio:.2f})")
    opened_ok = checks["time range: segments opened"] <= checks["time range: segments holding the range"]
    print(f"target time range reads at most the segments holding it: {'met' if opened_ok else 'MISSED'} "
          f"({checks['time range: segments opened']} opened, {checks['time range: segments holding the range']} hold it)")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "historical.json").write_text(json.dumps(
        {"machine": info, "events": args.events, "repeat": args.repeat, "checks": checks, "ratios": ratios, "cpu_ratios": cpu_ratios,
         "results": [asdict(m) | {"events_per_s": m.events_per_s} for m in results]},
        indent=2))
    if plot(results, args.out / "historical.png"):
        print(f"\nplot: {args.out / 'historical.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

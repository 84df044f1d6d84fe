"""The Flink side of the benchmark, run in its own process: ``python -m benchmarks.nexmark.flink_driver SPEC``.

It starts PyFlink's JVM (a local mini-cluster, streaming mode, parallelism 1 by default, object reuse
on, no checkpoints), runs the first query once over empty input to warm the JVM up (not counted), then
for each query of the spec:

1. optionally runs the query over the *sample* files and writes its rows to Parquet, so the runner can
   check that Flink computes the same answer as DuckDB;
2. runs it ``repeat`` times over the *empty* files: everything a job costs except processing events
   (planning, job submission, task deployment, finishing), Flink's per-job start-up, reported on its own
   (the fastest run counts; with ``startup_once`` only for the first query, the others reuse it);
3. runs it ``repeat`` times over the full files, each a ``CREATE TABLE ... WITH ('connector' =
   'blackhole') AS SELECT ...`` (blackhole is Flink's discard sink, as in Nexmark's Flink setup).

Wall time comes from the driver; CPU time is the driver's own plus the JVM's (the JVM is this process's
child; its user + system time is read from ``/proc``). The result is one JSON document written to the
spec's ``result`` path (stdout is left to PyFlink, which prints there); progress goes to stderr.

The spec (JSON file)::

    {"jar": "/path/source.jar", "parallelism": 1, "result": "/path/result.json", "startup_once": false,
     "tables": {"bid": {"columns": "`AUCTION` BIGINT, ...", "full": "...arrows", "empty": "...",
                        "sample": "... or null"}},
     "queries": [{"id": "q0", "sql": "SELECT ...", "repeat": 2, "sample_out": "/path.parquet or null"}]}
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from benchmarks.nexmark.measure import child_pids, pid_cpu_seconds, process_cpu_seconds

__all__ = ["main"]


def _say(message: str) -> None:
    print(f"  flink: {message}", file=sys.stderr, flush=True)


class _Clock:
    """Wall and CPU seconds of this process plus the JVM."""

    def __init__(self) -> None:
        self.jvm_pid: int | None = None

    def find_jvm(self) -> None:
        for pid in child_pids(os.getpid()):
            try:
                with open(f"/proc/{pid}/comm") as f:
                    if f.read().strip() == "java":
                        self.jvm_pid = pid
                        return
            except OSError:
                continue

    def cpu(self) -> float:
        jvm = pid_cpu_seconds(self.jvm_pid) if self.jvm_pid is not None else 0.0
        return process_cpu_seconds() + jvm

    def measure(self, action: Callable[[], None]) -> dict[str, float]:
        cpu, wall = self.cpu(), time.perf_counter()
        action()
        return {"wall_s": time.perf_counter() - wall, "cpu_s": self.cpu() - cpu}


def _use_tables(env: Any, tables: dict[str, Any], which: str) -> None:
    for name, table in tables.items():
        env.execute_sql(f"DROP TEMPORARY TABLE IF EXISTS {name}")
        env.execute_sql(
            f"CREATE TEMPORARY TABLE {name} ({table['columns']}) "
            f"WITH ('connector' = 'headwater-arrow-file', 'path' = '{table[which]}')")


def _run_to_blackhole(env: Any, sql: str, sink: str) -> None:
    env.execute_sql(f"CREATE TABLE {sink} WITH ('connector' = 'blackhole') AS {sql}").wait()
    env.execute_sql(f"DROP TABLE {sink}")


def _type_name(data_type: Any) -> str:
    """A PyFlink DataType in SQL spelling, with a decimal's precision and scale."""
    name = type(data_type).__name__.removesuffix("Type").upper()
    if name == "DECIMAL":
        return f"DECIMAL({data_type.precision}, {data_type.scale})"
    return name


def _collect_sample(env: Any, sql: str, out: str) -> list[str]:
    """Run ``sql`` over the sample tables, write its rows to Parquet; return Flink's column types.

    The rows come back through ``to_pandas`` (Arrow batches from the JVM); ``collect()`` hands rows over
    one py4j call at a time, about 3 ms per row.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = env.sql_query(sql)
    types = [_type_name(t) for t in table.get_schema().get_field_data_types()]
    frame = table.to_pandas()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), out)
    return types


def _best(runs: list[dict[str, float]]) -> dict[str, float]:
    return min(runs, key=lambda r: r["wall_s"])


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    # Py4J puts the Java exception on the second line: keep both, drop the stack trace.
    return f"{type(error).__name__}: " + " ".join(line.strip() for line in text[:2])


def _measure_query(env: Any, clock: _Clock, tables: dict[str, Any], query: dict[str, Any],
                   shared_startup: dict[str, float] | None) -> dict[str, Any]:
    """The sample answer, the start-up and the timed runs of one query (see the module docstring)."""
    qid = query["id"]
    repeat = int(query.get("repeat", 1))
    entry: dict[str, Any] = {"id": qid}
    if query.get("sample_out"):
        _use_tables(env, tables, "sample")
        try:
            entry["sample_types"] = _collect_sample(env, query["sql"], query["sample_out"])
            _say(f"{qid}: sample result collected")
        except Exception as error:  # the answer check is lost, the measurement is not
            entry["sample_error"] = _first_line(error)
            _say(f"{qid}: sample result not collected: {entry['sample_error']}")
    if shared_startup is None:
        _use_tables(env, tables, "empty")
        startups = [clock.measure(partial(_run_to_blackhole, env, query["sql"], f"{qid}_startup"))
                    for _ in range(repeat)]
        entry["startup"] = _best(startups)
        _say(f"{qid}: job start-up (empty input) {entry['startup']['wall_s']:.1f} s")
    else:
        entry["startup"] = shared_startup
    _use_tables(env, tables, "full")
    runs = []
    for attempt in range(repeat):
        measured = clock.measure(partial(_run_to_blackhole, env, query["sql"], f"{qid}_run"))
        runs.append(measured)
        _say(f"{qid}: run {attempt + 1}: {measured['wall_s']:.1f} s wall, {measured['cpu_s']:.1f} s CPU")
    entry["runs"] = runs
    return entry


def run(spec: dict[str, Any]) -> dict[str, Any]:
    clock = _Clock()
    started = time.perf_counter()
    start_cpu = process_cpu_seconds()
    from pyflink.table import EnvironmentSettings, TableEnvironment

    env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    clock.find_jvm()
    config = env.get_config()
    config.set("parallelism.default", str(spec.get("parallelism", 1)))
    config.set("pipeline.jars", Path(spec["jar"]).as_uri())
    config.set("pipeline.object-reuse", "true")
    environment = {"wall_s": time.perf_counter() - started, "cpu_s": clock.cpu() - start_cpu,
                   "jvm_found": clock.jvm_pid is not None}
    _say(f"JVM and table environment up in {environment['wall_s']:.1f} s")
    tables = spec["tables"]
    queries = spec["queries"]
    if queries:
        # The first job of a JVM loads and compiles most of Flink; it would count as the first query's.
        _use_tables(env, tables, "empty")
        warm_up = clock.measure(partial(_run_to_blackhole, env, queries[0]["sql"], "warm_up"))
        _say(f"first job (warm-up, not counted): {warm_up['wall_s']:.1f} s")
    results: list[dict[str, Any]] = []
    shared_startup: dict[str, float] | None = None
    for query in queries:
        try:
            entry = _measure_query(env, clock, tables, query, shared_startup)
        except Exception as error:  # one query failing (a Flink error) does not lose the others
            entry = {"id": query["id"], "error": _first_line(error)}
            _say(f"{query['id']}: failed: {entry['error']}")
        if spec.get("startup_once") and "startup" in entry:
            shared_startup = entry["startup"]
        results.append(entry)
    return {"environment": environment, "queries": results}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m benchmarks.nexmark.flink_driver SPEC.json", file=sys.stderr)
        return 2
    spec = json.loads(Path(args[0]).read_text())
    out = Path(spec["result"])
    try:
        result = run(spec)
    except Exception as error:  # reported to the runner, which shows it and carries on without Flink
        out.write_text(json.dumps({"error": _first_line(error)}))
        return 1
    out.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

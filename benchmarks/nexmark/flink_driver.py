"""The Flink side of the benchmark, run in its own process: ``python -m benchmarks.nexmark.flink_driver SPEC``.

It runs on the interpreter of Flink's own environment (:mod:`benchmarks.nexmark.flink_env`) and needs
nothing but the standard library, PyFlink and the pyarrow PyFlink brings (for the sample answers); it
imports nothing of Headwater's. It starts PyFlink's JVM (a local mini-cluster, streaming mode, parallelism 1 by default, object reuse
on, no checkpoints), runs the first query once over the sample (or empty) input to warm the JVM up (not
counted), then for each query of the spec:

1. optionally runs the query over the *sample* files and writes its rows to Parquet, so the runner can
   check that Flink computes the same answer as DuckDB;
2. runs it ``repeat`` times over the full files, each a ``CREATE TABLE ... WITH ('connector' =
   'blackhole') AS SELECT ...`` (blackhole is Flink's discard sink, as in Nexmark's Flink setup).

Each run is measured twice over. The driver times the whole job: wall time, and CPU time of the driver
plus the JVM (this process's child; user + system time from ``/proc``). The Arrow file source times the
*processing window*: from opening its file to emitting the last row, wall time and the JVM's CPU time
(every thread) over that window, written to a timing file (``'timing-file'`` table option). Operators
are chained into the source's thread at parallelism 1, so the window is the job's processing; the rest
of the job (planning, submission, deployment, finishing) is Flink's per-job start-up, reported on its
own. With several sources, the longest window counts. When the plan has a shuffle (a GROUP BY, a join),
the operators behind it run in their own thread: they finish the rows in flight (bounded by Flink's
network buffers) and fire the last windows (at the end of input, the final watermark) just after the
sources' window ends; that tail is counted in the start-up column.

The result is one JSON document written to the spec's ``result`` path (stdout is left to PyFlink, which
prints there); progress goes to stderr. The spec (JSON file)::

    {"jar": "/path/source.jar", "parallelism": 1, "result": "/path/result.json", "work": "/tmp/dir",
     "queries": [{"id": "q0", "sql": "SELECT ...", "repeat": 2, "sample_out": "/path.parquet or null",
                  "tables": {"bid": {"columns": "`AUCTION` BIGINT, ...", "full": "...arrows", "empty": "...",
                                     "sample": "... or null"}}}]}
"""

from __future__ import annotations

import json
import os
import sys
import time
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


def _use_tables(env: Any, tables: dict[str, Any], which: str, timing: Path | None = None) -> None:
    """(Re)declare every source table over its ``which`` file, reporting to ``timing`` when given."""
    for name, table in tables.items():
        options = f"'connector' = 'headwater-arrow-file', 'path' = '{table[which]}'"
        if timing is not None:
            options += f", 'timing-file' = '{timing}'"
        env.execute_sql(f"DROP TEMPORARY TABLE IF EXISTS {name}")
        env.execute_sql(f"CREATE TEMPORARY TABLE {name} ({table['columns']}) WITH ({options})")


def _run_to_blackhole(env: Any, sql: str, sink: str) -> None:
    env.execute_sql(f"CREATE TABLE {sink} WITH ('connector' = 'blackhole') AS {sql}").wait()
    env.execute_sql(f"DROP TABLE {sink}")


def _timed_run(env: Any, clock: _Clock, tables: dict[str, Any], sql: str, sink: str, timing: Path) -> dict[str, float]:
    """One job over the full files: the job's wall and CPU time, and its processing window."""
    timing.unlink(missing_ok=True)
    _use_tables(env, tables, "full", timing)
    cpu, wall = clock.cpu(), time.perf_counter()
    _run_to_blackhole(env, sql, sink)
    job = {"wall_s": time.perf_counter() - wall, "cpu_s": clock.cpu() - cpu}
    windows = [line.split() for line in timing.read_text().splitlines() if line.strip()]
    if not windows:
        raise RuntimeError("the source wrote no timing line")
    longest = max(windows, key=lambda w: int(w[1]))
    job["rows"] = sum(int(w[0]) for w in windows)
    job["processing_wall_s"] = int(longest[1]) / 1e9
    job["processing_cpu_s"] = int(longest[2]) / 1e9
    return job


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


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    # Py4J puts the Java exception on the second line: keep both, drop the stack trace.
    return f"{type(error).__name__}: " + " ".join(line.strip() for line in text[:2])


def _measure_query(env: Any, clock: _Clock, query: dict[str, Any], work: Path) -> dict[str, Any]:
    """The sample answer and the timed runs of one query (see the module docstring)."""
    qid = query["id"]
    tables = query["tables"]
    entry: dict[str, Any] = {"id": qid}
    if query.get("sample_out"):
        _use_tables(env, tables, "sample")
        try:
            entry["sample_types"] = _collect_sample(env, query["sql"], query["sample_out"])
            _say(f"{qid}: sample result collected")
        except Exception as error:  # the answer check is lost, the measurement is not
            entry["sample_error"] = _first_line(error)
            _say(f"{qid}: sample result not collected: {entry['sample_error']}")
    runs = []
    for attempt in range(int(query.get("repeat", 1))):
        measured = _timed_run(env, clock, tables, query["sql"], f"{qid}_run", work / f"{qid}.timing")
        runs.append(measured)
        _say(f"{qid}: run {attempt + 1}: job {measured['wall_s']:.1f} s wall, {measured['cpu_s']:.1f} s CPU; "
             f"processing {measured['processing_wall_s']:.1f} s wall, {measured['processing_cpu_s']:.1f} s CPU")
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
    queries = spec["queries"]
    work = Path(spec["work"])
    if queries:
        # The first job of a JVM loads and compiles most of Flink; it would count as the first query's.
        # Over the sample when there is one, so that the per-row code is compiled too.
        tables = queries[0]["tables"]
        warm_input = "sample" if all(t.get("sample") for t in tables.values()) else "empty"
        _use_tables(env, tables, warm_input)
        wall = time.perf_counter()
        _run_to_blackhole(env, queries[0]["sql"], "warm_up")
        _say(f"first job (warm-up over the {warm_input} input, not counted): {time.perf_counter() - wall:.1f} s")
    results: list[dict[str, Any]] = []
    for query in queries:
        try:
            entry = _measure_query(env, clock, query, work)
        except Exception as error:  # one query failing (a Flink error) does not lose the others
            entry = {"id": query["id"], "error": _first_line(error)}
            _say(f"{query['id']}: failed: {entry['error']}")
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

"""Run the Flink peer from the runner: build the source jar, start the driver process, read its results.

Flink runs in a separate process (:mod:`benchmarks.nexmark.flink_driver`), so that its JVM, a child of
that process, is measured on its own and does not share this process's CPU accounting. Its numbers are
turned into :class:`~benchmarks.nexmark.measure.Measurement` s: ``wall_s`` and ``cpu_s`` are the
processing window of the run with the shortest one (the source's measurement: reading the file and
every row through the chained operators, the JVM's CPU over that window), and ``startup_s`` /
``startup_cpu_s`` are the rest of that job (planning, submission, deployment, finishing), reported
beside, not hidden.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.nexmark.flink_jar import FlinkSetupError, build_source_jar
from benchmarks.nexmark.loader import Dataset
from benchmarks.nexmark.measure import Measurement, note
from benchmarks.nexmark.queries import NexmarkQuery
from benchmarks.nexmark.schemas import EVENT_KINDS

__all__ = ["FlinkResults", "run_flink"]

REPO = Path(__file__).resolve().parents[2]
_JVM_ARGS = ("-Dorg.apache.flink.api.python.shaded.io.netty.tryReflectionSetAccessible=true",
             "--add-opens=java.base/java.nio=ALL-UNNAMED", "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED")


@dataclass(frozen=True, slots=True)
class FlinkResults:
    """What the Flink driver measured.

    Attributes:
        measurements: one per query (net of job start-up).
        environment_s: seconds to start the JVM and the table environment (once per run).
        environment_cpu_s: CPU seconds of that.
        sample_outputs: per query, the Parquet file of rows Flink computed over the sample (if asked).
        sample_types: per query, Flink's result column types.
        problems: per query, what failed (the query's run, or its sample answer).
        error: why Flink did not run, when it did not.
    """

    measurements: list[Measurement] = field(default_factory=list)
    environment_s: float = 0.0
    environment_cpu_s: float = 0.0
    sample_outputs: dict[str, Path] = field(default_factory=dict)
    sample_types: dict[str, list[str]] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)
    error: str | None = None


def run_flink(queries: list[NexmarkQuery], dataset: Dataset, sample: Dataset | None, *, repeat: int,
              parallelism: int = 1, check_answers: bool = True, timeout_s: float = 1800) -> FlinkResults:
    """Run every query on Flink over ``dataset``.

    ``sample`` (a prefix of the same events) warms the JVM up and, with ``check_answers``, is what each
    query's answer is collected over for the check against DuckDB.
    """
    try:
        jar = build_source_jar()
    except FlinkSetupError as error:
        return FlinkResults(error=str(error))
    with tempfile.TemporaryDirectory(prefix="nexmark-flink-run-") as work:
        out = Path(work)
        used = sorted({source for q in queries for source in q.sources})
        tables: dict[str, Any] = {}
        for kind in EVENT_KINDS:
            if kind.topic in used:
                tables[kind.topic] = {
                    "columns": kind.flink_columns(),
                    "full": str(dataset.arrow(kind)),
                    "empty": str(dataset.arrow(kind, empty=True)),
                    "sample": str(sample.arrow(kind)) if sample is not None else None,
                }
        spec = {
            "jar": str(jar),
            "parallelism": parallelism,
            "result": str(out / "result.json"),
            "work": str(out),
            "tables": tables,
            "queries": [{"id": q.query_id, "sql": q.flink_sql, "repeat": repeat,
                         "sample_out": (str(out / f"{q.query_id}.sample.parquet")
                                        if sample is not None and check_answers else None)}
                        for q in queries],
        }
        (out / "spec.json").write_text(json.dumps(spec))
        env = dict(os.environ)
        # Flink's Arrow code (our source, and to_pandas for the answer check) uses a shaded Netty that needs
        # reflective access to DirectByteBuffer on Java 17, decided when Netty first loads.
        env["JVM_ARGS"] = " ".join(filter(None, [env.get("JVM_ARGS"), *_JVM_ARGS]))
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        try:
            process = subprocess.run(
                [sys.executable, "-m", "benchmarks.nexmark.flink_driver", str(out / "spec.json")],
                cwd=REPO, env=env, stdout=subprocess.DEVNULL, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired:
            return FlinkResults(error=f"the Flink driver did not finish within {timeout_s:.0f} s")
        result_path = out / "result.json"
        if not result_path.exists():
            return FlinkResults(error=f"the Flink driver exited with {process.returncode} and no result")
        result = json.loads(result_path.read_text())
        if "error" in result:
            return FlinkResults(error=result["error"])
        return _results(result, queries, dataset, sample, out)


def _results(result: dict[str, Any], queries: list[NexmarkQuery], dataset: Dataset, sample: Dataset | None,
             out: Path) -> FlinkResults:
    by_id = {q.query_id: q for q in queries}
    measurements = []
    sample_outputs: dict[str, Path] = {}
    sample_types: dict[str, list[str]] = {}
    problems: dict[str, str] = {}
    keep = Path(tempfile.mkdtemp(prefix="nexmark-flink-samples-"))
    for entry in result["queries"]:
        query = by_id[entry["id"]]
        if "error" in entry:
            problems[query.query_id] = f"Flink failed: {entry['error']}"
            continue
        if "sample_error" in entry:
            problems[query.query_id] = f"Flink's answer was not checked: {entry['sample_error']}"
        events = sum(dataset.counts[s] for s in query.sources)
        best = min(entry["runs"], key=lambda r: r["processing_wall_s"])
        if best["rows"] != events:
            problems[query.query_id] = f"Flink's source emitted {best['rows']:,} rows, not {events:,}"
            continue
        measurements.append(Measurement(
            query.query_id, "flink", events, -1, best["processing_wall_s"], best["processing_cpu_s"],
            best["wall_s"] - best["processing_wall_s"], max(best["cpu_s"] - best["processing_cpu_s"], 0.0)))
        if sample is not None and "sample_types" in entry:
            source = out / f"{query.query_id}.sample.parquet"
            target = keep / source.name
            source.replace(target)
            sample_outputs[query.query_id] = target
            sample_types[query.query_id] = entry["sample_types"]
    environment = result["environment"]
    if not environment.get("jvm_found"):
        note("  flink: the JVM process was not found; its CPU time is missing from the figures")
    return FlinkResults(measurements, environment["wall_s"], environment["cpu_s"], sample_outputs, sample_types,
                        problems)

"""Run the Flink peer from the runner: build the source jar, start the driver process, read its results.

Flink runs in a separate process (:mod:`benchmarks.nexmark.flink_driver`), so that its JVM, a child of
that process, is measured on its own and does not share this process's CPU accounting. Its numbers are
turned into :class:`~benchmarks.nexmark.measure.Measurement` s: ``wall_s`` and ``cpu_s`` are the best
full run minus the same job over empty input (Flink's per-job start-up), and ``startup_s`` /
``startup_cpu_s`` are that start-up, reported beside, not hidden.
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
              parallelism: int = 1, startup_once: bool = False, timeout_s: float = 1800) -> FlinkResults:
    """Run every query on Flink over ``dataset`` (and over ``sample`` for the answer check).

    ``startup_once`` measures the per-job start-up on the first query only (quick runs).
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
            "startup_once": startup_once,
            "result": str(out / "result.json"),
            "tables": tables,
            "queries": [{"id": q.query_id, "sql": q.flink_sql, "repeat": repeat,
                         "sample_out": str(out / f"{q.query_id}.sample.parquet") if sample is not None else None}
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
        startup = entry["startup"]
        best = min(entry["runs"], key=lambda r: r["wall_s"])
        wall = best["wall_s"] - startup["wall_s"]
        cpu = best["cpu_s"] - startup["cpu_s"]
        if wall <= 0 or cpu <= 0:
            note(f"  flink: {query.query_id}: processing time is within start-up noise at this scale; "
                 "using the whole job time")
            wall, cpu = best["wall_s"], best["cpu_s"]
        measurements.append(Measurement(query.query_id, "flink", events, -1, wall, cpu,
                                        startup["wall_s"], startup["cpu_s"]))
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

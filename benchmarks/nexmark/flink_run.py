"""Run the Flink peer from the runner: build the source jar, start the driver process, read its results.

Flink runs in a separate process (:mod:`benchmarks.nexmark.flink_driver`) on the interpreter of Flink's own
environment (:mod:`benchmarks.nexmark.flink_env`: PyFlink and its pinned pyarrow/numpy never enter the
project's ``.venv``), so that its JVM, a child of that process, is measured on its own and does not share
this process's CPU accounting. Its numbers are
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
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.nexmark.flink_env import FlinkSetupError, ensure_flink_python
from benchmarks.nexmark.flink_jar import build_source_jar
from benchmarks.nexmark.loader import Dataset
from benchmarks.nexmark.measure import Measurement, note
from benchmarks.nexmark.queries import NexmarkQuery
from benchmarks.nexmark.schemas import EVENT_KINDS

__all__ = ["FlinkInput", "FlinkResults", "flink_tables", "run_flink"]

WATERMARK = "WATERMARK FOR `DATETIME` AS `DATETIME` - INTERVAL '0.001' SECOND"
"""Event time for windowed queries: every source file is in DATETIME order, with many events per
millisecond, so the watermark trails the largest DATETIME seen by 1 ms (an event is never late)."""


@dataclass(frozen=True, slots=True)
class FlinkInput:
    """The events one query reads: the measured files and the sample its answer is checked on.

    Attributes:
        dataset: the full files (Arrow stream files, one per kind).
        sample: a prefix of the same events (or None): the JVM warms up on it, and with ``check_answers``
            the query's answer over it is compared with DuckDB's.
    """

    dataset: Dataset
    sample: Dataset | None

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
        version: the apache-flink version that ran.
    """

    measurements: list[Measurement] = field(default_factory=list)
    environment_s: float = 0.0
    environment_cpu_s: float = 0.0
    sample_outputs: dict[str, Path] = field(default_factory=dict)
    sample_types: dict[str, list[str]] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    version: str | None = None


def flink_tables(query: NexmarkQuery, inputs: FlinkInput) -> dict[str, Any]:
    """The driver's table declarations for one query: per source, its columns (with a watermark for a
    windowed query) and its full, empty and sample files."""
    tables: dict[str, Any] = {}
    for kind in EVENT_KINDS:
        if kind.topic in query.sources:
            columns = kind.flink_columns() + (f", {WATERMARK}" if query.windowed else "")
            tables[kind.topic] = {
                "columns": columns,
                "full": str(inputs.dataset.arrow(kind)),
                "empty": str(inputs.dataset.arrow(kind, empty=True)),
                "sample": str(inputs.sample.arrow(kind)) if inputs.sample is not None else None,
            }
    return tables


def run_flink(queries: list[NexmarkQuery], inputs: Mapping[str, FlinkInput], *, repeat: int,
              parallelism: int = 1, check_answers: bool = True, timeout_s: float = 3600) -> FlinkResults:
    """Run every query on Flink over its input (``inputs`` by query id), each answer checked on its sample
    when ``check_answers``. Makes Flink's environment first if it does not exist yet."""
    try:
        environment = ensure_flink_python(say=note)
        jar = build_source_jar(environment.pyflink_home)
    except FlinkSetupError as error:
        return FlinkResults(error=str(error))
    with tempfile.TemporaryDirectory(prefix="nexmark-flink-run-") as work:
        out = Path(work)
        spec = {
            "jar": str(jar),
            "parallelism": parallelism,
            "result": str(out / "result.json"),
            "work": str(out),
            "queries": [{"id": q.query_id, "sql": q.flink_sql, "repeat": repeat,
                         "tables": flink_tables(q, inputs[q.query_id]),
                         "sample_out": (str(out / f"{q.query_id}.sample.parquet")
                                        if inputs[q.query_id].sample is not None and check_answers else None)}
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
                [str(environment.python), "-m", "benchmarks.nexmark.flink_driver", str(out / "spec.json")],
                cwd=REPO, env=env, stdout=subprocess.DEVNULL, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired:
            return FlinkResults(error=f"the Flink driver did not finish within {timeout_s:.0f} s")
        result_path = out / "result.json"
        if not result_path.exists():
            return FlinkResults(error=f"the Flink driver exited with {process.returncode} and no result")
        result = json.loads(result_path.read_text())
        if "error" in result:
            return FlinkResults(error=result["error"])
        return _results(result, queries, inputs, out, environment.version)


def _results(result: dict[str, Any], queries: list[NexmarkQuery], inputs: Mapping[str, FlinkInput], out: Path,
             version: str | None = None) -> FlinkResults:
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
        events = sum(inputs[query.query_id].dataset.counts[s] for s in query.sources)
        best = min(entry["runs"], key=lambda r: r["processing_wall_s"])
        if best["rows"] != events:
            problems[query.query_id] = f"Flink's source emitted {best['rows']:,} rows, not {events:,}"
            continue
        measurements.append(Measurement(
            query.query_id, "flink", events, -1, best["processing_wall_s"], best["processing_cpu_s"],
            best["wall_s"] - best["processing_wall_s"], max(best["cpu_s"] - best["processing_cpu_s"], 0.0)))
        if "sample_types" in entry:
            source = out / f"{query.query_id}.sample.parquet"
            target = keep / source.name
            source.replace(target)
            sample_outputs[query.query_id] = target
            sample_types[query.query_id] = entry["sample_types"]
    environment = result["environment"]
    if not environment.get("jvm_found"):
        note("  flink: the JVM process was not found; its CPU time is missing from the figures")
    return FlinkResults(measurements, environment["wall_s"], environment["cpu_s"], sample_outputs, sample_types,
                        problems, version=version)

"""The Nexmark runner: one run measures every system on the same events and checks their answers.

``python -m benchmarks.nexmark [--quick] [--events N] [--queries q0,q1,q2,q3,q5,q7,q8]``

1. Generate the events once (seeded) into Headwater's three typed topics, Parquet files (DuckDB) and
   Arrow files (Flink); declare the streams PERSON, AUCTION, BID. Event time advances at
   :data:`EVENT_RATE` events per second (10,000, the first-event rate Beam's Nexmark suite defaults to),
   not the reference generator's 10M: at 10M events/s a million events span 100 ms, so a 10-second window
   would hold the whole run. At 10,000 events/s a 10-second tumbling window holds 100,000 events (92,000
   bids), a realistic window for q5, q7 and q8. The rate only moves DATETIME; q0-q3 cost the same at any rate.
2. For each query: Headwater writing a result topic, and Headwater with a discard sink (see
   :mod:`benchmarks.nexmark.headwater_run`; q3-q8 run as short pipelines of persistent queries, see
   :mod:`benchmarks.nexmark.queries`); the first result topic is compared with DuckDB's answer (for a
   table, its final state: the latest row per key).
3. DuckDB computing the same answer in batch from the Parquet, on one thread.
4. Flink SQL in a local mini-cluster, streaming mode, parallelism 1, reading the Arrow files, writing
   to a blackhole sink, in its own process; its processing window measured inside the job, its start-up
   beside; its answer checked against DuckDB on a sample (default run).
5. Ingestion (:mod:`benchmarks.ingest`) and q2's latency at 10,000 events/s
   (:mod:`benchmarks.nexmark.latency`).
6. The table, the targets and a PNG go to ``benchmarks/results/nexmark[-quick].{json,md,png}`` and, for the
   default run, into the Nexmark section of docs/benchmarks.md (the plot as docs/nexmark.png, since
   benchmarks/results/ is not versioned).

``--quick`` runs 100,000 events once each, a 3 s latency run and a small ingestion run, without Flink
(``--quick --flink`` adds it, without its answer check: its JVM and seven per-job start-ups of 3-10 s
each take about a minute by themselves under load). It is the smoke run: every query on Headwater
against DuckDB's answer. The default run (2M events,
best of 2) takes about 15 minutes on 2 cores, most of it q3's and q5's Headwater pipelines (see
docs/benchmarks.md). Only the complete default run (no option that changes what is measured) writes
docs/benchmarks.md, unless ``--docs`` / ``--no-docs``.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

from benchmarks.ingest import run_ingest
from benchmarks.nexmark import duckdb_run, headwater_run
from benchmarks.nexmark.equality import compare_with_duckdb
from benchmarks.nexmark.flink_run import FlinkInput, run_flink
from benchmarks.nexmark.generator import GeneratorConfig, NexmarkGenerator
from benchmarks.nexmark.latency import measure_latency
from benchmarks.nexmark.loader import Dataset, declare_streams, load
from benchmarks.nexmark.measure import Measurement, Progress, note, settle
from benchmarks.nexmark.queries import NexmarkQuery, all_queries, query
from benchmarks.nexmark.report import RunReport, machine, markdown, plot, write_docs_section, write_json
from headwater.engine import Engine
from headwater.errors import HeadwaterError

__all__ = ["main"]

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "benchmarks" / "results"
DOCS = REPO / "docs" / "benchmarks.md"
FLINK_SAMPLE_EVENTS = 120_000
"""Events of the sample Flink's answers are checked on: 12 s of event time, so the windowed queries' check
crosses window bounds (two tumbling windows, several hopping ones)."""
DEFAULT_EVENTS = 2_000_000
QUICK_EVENTS = 100_000
EVENT_RATE = 10_000
"""Events per second of event time (see the module docstring)."""
DEFAULT_QUERIES = ",".join(all_queries())


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.nexmark",
        description="Nexmark on Headwater, DuckDB and Flink, on the same data, in one run.")
    parser.add_argument("--quick", action="store_true", help="a small run, under a minute")
    parser.add_argument("--events", type=int, help=f"events to generate (default {DEFAULT_EVENTS:,}, quick {QUICK_EVENTS:,})")
    parser.add_argument("--queries", default=DEFAULT_QUERIES, help=f"comma-separated query ids (default {DEFAULT_QUERIES})")
    parser.add_argument("--seed", type=int, default=0, help="generator seed (default 0)")
    parser.add_argument("--rate", type=int, default=EVENT_RATE,
                        help=f"events per second of event time (default {EVENT_RATE:,}; see the module docstring)")
    parser.add_argument("--partitions", type=int, default=1, help="partitions per topic (default 1)")
    parser.add_argument("--repeat", type=int, help="runs per measurement, the best counts (default 2, quick 1)")
    parser.add_argument("--flink", action=argparse.BooleanOptionalAction, default=None,
                        help="measure Flink too (default: yes, except with --quick)")
    parser.add_argument("--no-ingest", action="store_true", help="leave the ingestion measurements out")
    parser.add_argument("--no-latency", action="store_true", help="leave the latency measurement out")
    parser.add_argument("--latency-seconds", type=float, help="length of the latency run (default 20, quick 3)")
    parser.add_argument("--docs", action=argparse.BooleanOptionalAction, default=None,
                        help="write the results into docs/benchmarks.md (default: only for the complete default run)")
    parser.add_argument("--work-dir", type=Path, help="where to put the data (default: a temp directory)")
    parser.add_argument("--keep", action="store_true", help="keep the data directory afterwards")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results directory (default benchmarks/results)")
    args = parser.parse_args(argv)
    args.events = args.events if args.events is not None else (QUICK_EVENTS if args.quick else DEFAULT_EVENTS)
    args.no_flink = not (args.flink if args.flink is not None else not args.quick)
    args.repeat = args.repeat if args.repeat is not None else (1 if args.quick else 2)
    args.latency_seconds = args.latency_seconds or (3.0 if args.quick else 20.0)
    complete = (not args.quick and args.events == DEFAULT_EVENTS and args.queries == DEFAULT_QUERIES
                and args.rate == EVENT_RATE and args.partitions == 1
                and not (args.no_flink or args.no_ingest or args.no_latency))
    args.docs = args.docs if args.docs is not None else complete
    if args.events <= 0 or args.repeat <= 0 or args.partitions <= 0:
        parser.error("--events, --repeat and --partitions must be positive")
    return args


def _select(ids: str) -> list[NexmarkQuery]:
    selected = []
    for query_id in (part.strip() for part in ids.split(",") if part.strip()):
        try:
            selected.append(query(query_id))
        except KeyError as error:
            raise SystemExit(f"--queries: {error.args[0]}") from None
    if not selected:
        raise SystemExit("--queries: no query given")
    return selected


def _headwater_and_duckdb(report: RunReport, queries: list[NexmarkQuery], engine: Engine, dataset: Dataset,
                          repeat: int) -> None:
    """Each attempt runs Headwater (result topic), Headwater (discard sink) and DuckDB in turn, so that a
    busy moment of the machine does not fall on one system's every run; the best of each counts."""
    con = duckdb_run.connect(dataset, threads=1)
    for nexmark in queries:
        note(f"{nexmark.query_id} ({nexmark.title})")
        best: dict[str, Measurement] = {}
        failed = False
        for attempt in range(repeat):
            runs: list[Measurement] = []
            for discard in ((False, True) if not failed else ()):
                sink = f"NEXMARK_{nexmark.query_id.upper()}_{'DISCARD' if discard else 'SINK'}_{attempt}"
                try:
                    runs.append(headwater_run.run_headwater(engine, nexmark, sink, discard=discard))
                    if not discard and attempt == 0:
                        note("  checking Headwater's result topic against DuckDB ...")
                        comparison = compare_with_duckdb(con, nexmark, "headwater",
                                                         headwater_run.read_result(engine.log, nexmark, sink))
                        report.comparisons.append(comparison)
                        note(f"  {comparison.describe()}")
                    headwater_run.drop_query(engine, nexmark, sink)
                except HeadwaterError as error:
                    report.notes.append(f"{nexmark.query_id}: Headwater failed: {error}")
                    note(f"  Headwater failed: {error}")
                    failed = True
                    break
            runs.append(duckdb_run.run_duckdb(con, nexmark, dataset, repeat=1))
            for measured in runs:
                if measured.system not in best or measured.wall_s < best[measured.system].wall_s:
                    best[measured.system] = measured
        for system in ("headwater", "headwater-discard", "duckdb"):
            if system in best:
                report.measurements.append(best[system])
                note(f"  {system}: {best[system].events_per_s:,.0f} events/s, "
                     f"{best[system].events_per_cpu_s:,.0f} events/CPU-s")
                for stage in best[system].stages:
                    note(f"    {stage.query_id}: {stage.records:,} records, {stage.wall_s:.2f} s, "
                         f"{stage.cpu_s:.2f} CPU-s")
    con.close()


def _flink(report: RunReport, queries: list[NexmarkQuery], dataset: Dataset, sample: Dataset | None,
           repeat: int, quick: bool) -> None:
    """Flink's measurements; its answers are checked on ``sample``, which also warms the JVM up. Quick runs
    have no sample: the JVM warms up on empty input, and no answer is checked."""
    note("flink (its own process; start-up measured separately)")
    inputs = dict.fromkeys((q.query_id for q in queries), FlinkInput(dataset, sample))
    results = run_flink(queries, inputs, repeat=repeat, check_answers=not quick)
    report.machine["apache-flink"] = results.version
    if quick:
        report.notes.append("Quick run: Flink's answers were not checked (the default run checks them on a "
                            f"sample; here its JVM warmed up on empty input), and all figures are from single "
                            f"runs of {dataset.events:,} events.")
    if results.error is not None:
        report.notes.append(f"Flink did not run: {results.error}")
        note(f"  Flink did not run: {results.error}")
        return
    report.measurements.extend(results.measurements)
    for query_id, problem in results.problems.items():
        report.notes.append(f"{query_id}: {problem}")
        note(f"  {query_id}: {problem}")
    report.flink_environment_s = results.environment_s
    report.flink_environment_cpu_s = results.environment_cpu_s
    for measured in results.measurements:
        note(f"  {measured.query}: {measured.events_per_s:,.0f} events/s, "
             f"{measured.events_per_cpu_s:,.0f} events/CPU-s (job start-up {measured.startup_s:.1f} s)")
    if results.sample_outputs and sample is not None:
        con = duckdb_run.connect(sample, threads=1)
        by_id = {q.query_id: q for q in queries}
        for query_id, path in results.sample_outputs.items():
            comparison = compare_with_duckdb(con, by_id[query_id], "flink", pq.read_table(path),
                                             results.sample_types.get(query_id))
            report.comparisons.append(comparison)
            note(f"  {comparison.describe()}")
        con.close()
        for directory in {path.parent for path in results.sample_outputs.values()}:
            shutil.rmtree(directory, ignore_errors=True)


def run(args: argparse.Namespace) -> RunReport:
    queries = _select(args.queries)
    command = "python -m benchmarks.nexmark " + " ".join(shlex.quote(a) for a in (args.argv or []))
    report = RunReport(
        settings={"command": command.strip(), "events": args.events, "seed": args.seed,
                  "events_per_second": args.rate, "partitions": args.partitions, "repeat": args.repeat,
                  "quick": args.quick, "queries": [q.query_id for q in queries]},
        machine=machine())
    work = Path(tempfile.mkdtemp(prefix="nexmark-", dir=args.work_dir))
    note(f"work directory: {work}")
    try:
        engine = Engine(work / "headwater", background=False)
        try:
            generator = NexmarkGenerator(GeneratorConfig(args.events, args.seed, args.rate))
            progress = Progress("generate and write (topics, Parquet, Arrow)", args.events)
            dataset = load(generator, work / "files", engine.log, partitions=args.partitions,
                           arrow=not args.no_flink, progress=progress.update)
            report.counts = dict(dataset.counts)
            declare_streams(engine)
            _headwater_and_duckdb(report, queries, engine, dataset, args.repeat)
        finally:
            engine.close()
        shutil.rmtree(work / "headwater", ignore_errors=True)
        if not args.no_flink:
            sample = None
            if not args.quick:
                sample_events = min(FLINK_SAMPLE_EVENTS, args.events)
                sample = load(NexmarkGenerator(GeneratorConfig(sample_events, args.seed, args.rate)),
                              work / "sample", None)
                report.flink_sample_events = sample_events
            _flink(report, queries, dataset, sample, args.repeat, args.quick)
        if not args.no_ingest:
            note("ingestion")
            ingest_dir = work / "ingest"
            ingest_dir.mkdir()
            report.ingest = run_ingest(100_000 if args.quick else 1_000_000, ingest_dir,
                                       repeat=1 if args.quick else 2)
        if not args.no_latency:
            note("latency")
            settle()
            report.latency = measure_latency(work / "latency", seconds=args.latency_seconds, seed=args.seed)
    finally:
        if args.keep:
            note(f"data kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    report.machine["load_average_end"] = os.getloadavg()[0]
    return report


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    args.argv = sys.argv[1:] if argv is None else argv
    started = time.perf_counter()
    report = run(args)
    stem = "nexmark-quick" if args.quick else "nexmark"
    args.out.mkdir(parents=True, exist_ok=True)
    png = args.out / f"{stem}.png"
    plotted = plot(report, png)
    write_json(report, args.out / f"{stem}.json")
    (args.out / f"{stem}.md").write_text("\n".join(markdown(report, png.name if plotted else None)) + "\n")
    print("\n".join(markdown(report, None)))
    if args.docs:
        # benchmarks/results/ is not versioned; the docs keep their own copy of the plot beside them.
        docs_png = DOCS.parent / "nexmark.png"
        if plotted:
            shutil.copyfile(png, docs_png)
        write_docs_section(DOCS, markdown(report, docs_png.name if plotted else None))
        note(f"\nwrote the Nexmark section of {DOCS} and {docs_png.name}")
    note(f"results in {args.out}/{stem}.{{json,md,png}}; whole run {time.perf_counter() - started:.0f} s")
    failed = [c for c in report.comparisons if not c.equal]
    return 1 if failed else 0

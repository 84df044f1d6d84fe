"""Ingestion throughput: Nexmark bids into a typed topic, three ways, each against plain pyarrow.

=====================  =====================================================  ===========================
path                   Headwater                                              plain pyarrow, same rows
=====================  =====================================================  ===========================
Arrow batches          ``Topic.append`` of 10,000-row record batches          IPC stream write to a file
Python rows            ``Topic.append_rows`` of 10,000 dicts at a time        ``RecordBatch.from_pylist``
JSON lines             ``headwater produce bid --format json FILE`` (a        ``pyarrow.json.read_json``
                       separate process: decode, convert, append)             with the topic's schema
=====================  =====================================================  ===========================

Every path ingests the same bids (the Nexmark generator's, seed 0) into a fresh one-partition typed topic;
the best of ``repeat`` runs counts. CPU time is user + system time of this process, and for the CLI of
the child process (``RUSAGE_CHILDREN``). The CLI's run includes starting Python and opening the log; that
start-up, measured by producing an empty file, is reported beside it.

Run: ``.venv/bin/python -m benchmarks.ingest [--events 1000000] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.json as pa_json

from benchmarks.nexmark.generator import GeneratorConfig, NexmarkGenerator
from benchmarks.nexmark.measure import Timer, note, settle
from benchmarks.nexmark.schemas import BID
from headwater.storage import EventLog, Topic, TopicConfig

__all__ = ["IngestResult", "bid_table", "main", "run_ingest"]

BATCH_ROWS = 10_000
HEADWATER = Path(sys.executable).with_name("headwater")


@dataclass(frozen=True, slots=True)
class IngestResult:
    """One ingestion path's best run.

    Attributes:
        path: ``arrow batches``, ``python rows`` or ``json lines``.
        method: ``headwater`` or ``pyarrow``.
        events: rows ingested.
        wall_s: elapsed seconds.
        cpu_s: user + system CPU seconds.
        startup_s: for the CLI, the run over an empty file (included in ``wall_s``); 0 otherwise.
    """

    path: str
    method: str
    events: int
    wall_s: float
    cpu_s: float
    startup_s: float = 0.0

    @property
    def events_per_s(self) -> float:
        return self.events / self.wall_s

    @property
    def events_per_cpu_s(self) -> float:
        return self.events / self.cpu_s if self.cpu_s > 0 else float("inf")


def bid_table(events: int, seed: int = 0) -> pa.Table:
    """``events`` Nexmark bids (from a generator run long enough to produce that many)."""
    config = GeneratorConfig(events=events * 50 // 46 + 50, seed=seed)
    batches = [chunk.bid for chunk in NexmarkGenerator(config).chunks()]
    return pa.Table.from_batches(batches, schema=BID.schema).slice(0, events).combine_chunks()


class _FreshTopic:
    """A new one-partition typed ``bid`` topic in a new log, made again before each timed run."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.log: EventLog | None = None
        self.topic: Topic | None = None

    def renew(self) -> None:
        self.close()
        shutil.rmtree(self.directory, ignore_errors=True)
        self.log = EventLog.open(self.directory / "log")
        self.topic = self.log.create_topic(BID.topic, TopicConfig(partitions=1), schema=BID.schema)

    def close(self) -> None:
        if self.log is not None:
            self.log.close()
            self.log = None


def _best(label: str, path: str, method: str, events: int, repeat: int,
          run: Callable[[], None], prepare: Callable[[], None] | None = None) -> IngestResult:
    best: IngestResult | None = None
    for _ in range(repeat):
        if prepare is not None:
            prepare()
        settle()
        with Timer() as timer:
            run()
        result = IngestResult(path, method, events, timer.wall_s, timer.cpu_s)
        if best is None or result.wall_s < best.wall_s:
            best = result
    assert best is not None
    note(f"  ingest {label}: {best.events_per_s:,.0f} events/s")
    return best


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _produce(data_dir: Path, source: Path) -> tuple[float, float]:
    """Run ``headwater produce`` on ``source``; (wall, child CPU) seconds."""
    cpu = _child_cpu()
    start = time.perf_counter()
    done = subprocess.run([str(HEADWATER), "produce", "--data-dir", str(data_dir), "--format", "json",
                           "--progress", "never", BID.topic, str(source)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"headwater produce failed ({done.returncode}): {done.stderr.strip()}")
    return time.perf_counter() - start, _child_cpu() - cpu


def run_ingest(events: int, work_dir: Path, repeat: int = 3) -> list[IngestResult]:
    """Measure the three paths (see the module docstring); the work directory is left for the caller."""
    table = bid_table(events)
    batches = table.to_batches(max_chunksize=BATCH_ROWS)
    results: list[IngestResult] = []
    fresh = _FreshTopic(work_dir / "append")

    # -- Arrow batches ------------------------------------------------------------------------------------
    def ipc_write() -> None:
        with pa.OSFile(str(work_dir / "plain.arrows"), "wb") as sink, pa.ipc.new_stream(sink, BID.schema) as w:
            for batch in batches:
                w.write_batch(batch)

    def append_batches() -> None:
        assert fresh.topic is not None
        for batch in batches:
            fresh.topic.append(batch, partition=0)

    results.append(_best("arrow batches, pyarrow IPC", "arrow batches", "pyarrow", events, repeat, ipc_write))
    results.append(_best("arrow batches, Topic.append", "arrow batches", "headwater", events, repeat,
                         append_batches, fresh.renew))

    # -- Python rows --------------------------------------------------------------------------------------
    rows = table.to_pylist()
    slices = [rows[i:i + BATCH_ROWS] for i in range(0, len(rows), BATCH_ROWS)]

    def from_pylist() -> None:
        for part in slices:
            pa.RecordBatch.from_pylist(part, schema=BID.schema)

    def append_rows() -> None:
        assert fresh.topic is not None
        for part in slices:
            fresh.topic.append_rows(part, partition=0)

    results.append(_best("python rows, RecordBatch.from_pylist", "python rows", "pyarrow", events, repeat,
                         from_pylist))
    results.append(_best("python rows, Topic.append_rows", "python rows", "headwater", events, repeat,
                         append_rows, fresh.renew))
    fresh.close()

    # -- JSON lines ---------------------------------------------------------------------------------------
    source = work_dir / "bids.json"
    millis = table.column("DATETIME").cast(pa.int64()).to_pylist()
    with open(source, "wb") as f:
        for row, ms in zip(table.to_pylist(), millis):
            row["DATETIME"] = ms
            f.write(orjson.dumps(row) + b"\n")
    empty = work_dir / "empty.json"
    empty.write_bytes(b"")
    json_schema = pa.schema([pa.field(f.name, pa.int64() if f.name == "DATETIME" else f.type) for f in BID.schema])

    def read_json() -> None:
        parsed = pa_json.read_json(source, parse_options=pa_json.ParseOptions(explicit_schema=json_schema))
        parsed.set_column(parsed.schema.get_field_index("DATETIME"), "DATETIME",
                          parsed.column("DATETIME").cast(pa.timestamp("ms")))

    cli = _FreshTopic(work_dir / "produce")

    def fresh_cli_topic() -> None:
        cli.renew()
        cli.close()

    results.append(_best("json lines, pyarrow.json.read_json", "json lines", "pyarrow", events, repeat, read_json))
    fresh_cli_topic()
    startup_s, _ = _produce(work_dir / "produce", empty)
    best: IngestResult | None = None
    for _ in range(repeat):
        fresh_cli_topic()
        settle()
        wall, cpu = _produce(work_dir / "produce", source)
        if best is None or wall < best.wall_s:
            best = IngestResult("json lines", "headwater", events, wall, cpu, startup_s)
    assert best is not None
    note(f"  ingest json lines, headwater produce: {best.events_per_s:,.0f} events/s "
         f"(process start-up {startup_s:.2f} s included)")
    results.append(best)
    return results


def ratios(results: list[IngestResult]) -> dict[str, float]:
    """Headwater / pyarrow events/s per path."""
    by = {(r.path, r.method): r for r in results}
    return {path: by[(path, "headwater")].events_per_s / by[(path, "pyarrow")].events_per_s
            for path in dict.fromkeys(r.path for r in results)}


def format_table(results: list[IngestResult]) -> list[str]:
    """A Markdown table of the results with the ratios."""
    share = ratios(results)
    lines = ["| path | method | events/s | events per CPU-s | Headwater / pyarrow |", "|---|---|---:|---:|---:|"]
    for r in results:
        name = "headwater produce (CLI)" if (r.path, r.method) == ("json lines", "headwater") else r.method
        ratio = f"{share[r.path]:.2f}" if r.method == "headwater" else ""
        startup = f" (incl. {r.startup_s:.2f} s process start)" if r.startup_s else ""
        lines.append(f"| {r.path} | {name} | {r.events_per_s:,.0f}{startup} | {r.events_per_cpu_s:,.0f} | {ratio} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Ingestion throughput into a typed topic, against pyarrow.")
    parser.add_argument("--events", type=int, default=1_000_000, help="bids to ingest (default 1M)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per path; the fastest counts")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="headwater-ingest-"))
    try:
        results = run_ingest(args.events, work, args.repeat)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("\n".join(format_table(results)))
    share = ratios(results)["arrow batches"]
    print(f"\ntarget: appending typed batches >= 0.7 x plain pyarrow IPC: "
          f"{'met' if share >= 0.7 else 'MISSED'} ({share:.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The Nexmark run's outputs: the results table with targets, JSON, the PNG plot, and the docs section.

The table and the targets are rendered in Markdown; the same lines are printed at the end of a run and
written between the markers ``<!-- nexmark-results:begin -->`` and ``<!-- nexmark-results:end -->`` in
docs/benchmarks.md, inside its "Nexmark" section (the text around the markers is written by hand and left
alone; other sections of the file are never touched).
"""

from __future__ import annotations

import json
import math
import os
import platform
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.ingest import IngestResult, format_table, ratios
from benchmarks.nexmark.equality import Comparison
from benchmarks.nexmark.latency import LatencyResult
from benchmarks.nexmark.measure import Measurement

__all__ = ["RunReport", "machine", "markdown", "plot", "write_docs_section", "write_json"]

BEGIN = "<!-- nexmark-results:begin -->"
END = "<!-- nexmark-results:end -->"
SECTION = "## Nexmark"

KSQLDB_PER_CORE = 49_000
"""ksqlDB's published project/filter throughput, messages/s per core."""
PER_CORE_TARGET = 20 * KSQLDB_PER_CORE
STATELESS = ("q0", "q1", "q2")
"""The project/filter queries, whose targets are 20x ksqlDB per core and 2x Flink per CPU-second; the
stateful ones (joins, windows) must reach Flink's events per CPU-second (1x)."""
FLINK_CPU_FACTOR = 2.0
STATEFUL_FLINK_CPU_FACTOR = 1.0
DUCKDB_SHARE = 0.25
APPEND_SHARE = 0.7
SYSTEMS = ("headwater", "headwater-discard", "duckdb", "flink")
LABELS = {"headwater": "Headwater (result topic)", "headwater-discard": "Headwater (discard sink)",
          "duckdb": "DuckDB (batch, Parquet)", "flink": "Flink SQL (streaming)"}


@dataclass
class RunReport:
    """Everything one run measured (filled in as the run goes)."""

    settings: dict[str, Any]
    machine: dict[str, Any]
    counts: dict[str, int] = field(default_factory=dict)
    measurements: list[Measurement] = field(default_factory=list)
    comparisons: list[Comparison] = field(default_factory=list)
    flink_environment_s: float | None = None
    flink_environment_cpu_s: float | None = None
    flink_sample_events: int = 0
    ingest: list[IngestResult] = field(default_factory=list)
    latency: LatencyResult | None = None
    notes: list[str] = field(default_factory=list)

    def find(self, query: str, system: str) -> Measurement | None:
        return next((m for m in self.measurements if m.query == query and m.system == system), None)

    @property
    def queries(self) -> list[str]:
        return list(dict.fromkeys(m.query for m in self.measurements))


def machine() -> dict[str, Any]:
    """The machine's CPU, core count, memory, versions and current load."""
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import duckdb
    import pyarrow

    info: dict[str, Any] = {"nproc": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
                            "pyarrow": pyarrow.__version__, "duckdb": duckdb.__version__,
                            "load_average_start": os.getloadavg()[0]}
    info["apache-flink"] = None  # Flink runs in its own environment; the runner fills in its version
    return info


def _rate(value: float) -> str:
    if math.isinf(value) or math.isnan(value):
        return "n/a"
    return f"{value:,.0f}"


def _verdict(ok: bool) -> str:
    return "met" if ok else "**MISSED**"


def markdown(report: RunReport, plot_path: str | None) -> list[str]:
    """The results as Markdown lines: settings, per-query table, targets, checks, ingestion, latency."""
    s, m = report.settings, report.machine
    lines = [
        f"Run: `{s['command']}`: {s['events']:,} events (seed {s['seed']}, {s['events_per_second']:,} events/s "
        f"of event time, {s['partitions']} partition(s) per topic), best of {s['repeat']}; "
        f"{m['nproc']} CPUs ({m['cpu']}), Python {m['python']}, pyarrow {m['pyarrow']}, DuckDB {m['duckdb']}, "
        f"apache-flink {m.get('apache-flink')}; load average {m['load_average_start']:.1f} at the start, "
        f"{m.get('load_average_end', float('nan')):.1f} at the end.",
        "",
        "Events are the query's input records (q0-q2, q5, q7: bids, 92% of all Nexmark events; q3, q8: "
        "persons and auctions, 8%). Events per CPU-second is the per-core figure. Flink's figures are its processing window, measured inside the job (reading "
        "the file, every row through the operators; the JVM's CPU over that window); the rest of each job "
        "(planning, deployment, finishing) is its start-up, shown beside.",
        "",
        "| query | system | events/s | events per CPU-s | output rows | start-up |",
        "|---|---|---:|---:|---:|---|",
    ]
    for query in report.queries:
        for system in SYSTEMS:
            found = report.find(query, system)
            if found is None:
                continue
            startup = ""
            if system == "flink":
                startup = f"job {found.startup_s:.1f} s ({found.startup_cpu_s:.1f} CPU-s)"
            rows = f"{found.output_rows:,}" if found.output_rows >= 0 else "(blackhole)"
            lines.append(f"| {query} | {LABELS[system]} | {_rate(found.events_per_s)} | "
                         f"{_rate(found.events_per_cpu_s)} | {rows} | {startup} |")
    if report.flink_environment_s is not None:
        lines += ["", f"Flink's JVM and table environment start once per run: {report.flink_environment_s:.1f} s "
                      f"({report.flink_environment_cpu_s or 0:.1f} CPU-s), not in the figures above."]
    lines += ["", "Targets (Headwater writing its result topic): q0-q2 >= 980,000 events per CPU-s (20x ksqlDB's "
              "published 49,000 per core) and >= 2x Flink's events per CPU-s; q3-q8 >= 1x Flink's; every query "
              ">= 0.25x DuckDB's events/s. The ratios are Headwater's figure over the other system's.", "",
              "| query | per core >= 980,000 events/CPU-s | vs Flink, events per CPU-s | vs DuckDB, events/s |",
              "|---|---|---|---|"]
    for query in report.queries:
        ours = report.find(query, "headwater")
        if ours is None:
            continue
        flink, duck = report.find(query, "flink"), report.find(query, "duckdb")
        stateless = query in STATELESS
        cells = [f"{_verdict(ours.events_per_cpu_s >= PER_CORE_TARGET)} ({_rate(ours.events_per_cpu_s)})"
                 if stateless else f"no target ({_rate(ours.events_per_cpu_s)})"]
        if flink is not None:
            factor = ours.events_per_cpu_s / flink.events_per_cpu_s
            wanted = FLINK_CPU_FACTOR if stateless else STATEFUL_FLINK_CPU_FACTOR
            cells.append(f"{_verdict(factor >= wanted)} ({factor:.2f}x, target {wanted:g}x)")
        else:
            cells.append("not measured")
        if duck is not None:
            share = ours.events_per_s / duck.events_per_s
            cells.append(f"{_verdict(share >= DUCKDB_SHARE)} ({share:.2f}x)")
        else:
            cells.append("not measured")
        lines.append(f"| {query} | " + " | ".join(cells) + " |")
    staged = [m for m in report.measurements if m.system == "headwater" and m.stages]
    if staged:
        lines += ["", "Headwater's pipelines, stage by stage (the result-topic run above; each stage runs to the end "
                      "of its input before the next starts):", "",
                  "| query | persistent query | input records | wall s | CPU s |", "|---|---|---:|---:|---:|"]
        for measured in staged:
            for stage in measured.stages:
                lines.append(f"| {measured.query} | {stage.query_id} | {stage.records:,} | {stage.wall_s:.2f} | "
                             f"{stage.cpu_s:.2f} |")
    if report.ingest:
        share = ratios(report.ingest)["arrow batches"]
        lines.append("")
        lines.append(f"Appending typed batches >= 0.7x plain pyarrow IPC: {_verdict(share >= APPEND_SHARE)} "
                     f"({share:.2f}x).")
    lines += ["", "Answers checked against DuckDB (row multisets, decimals exact):", ""]
    if not report.comparisons:
        lines.append("* none checked")
    for comparison in report.comparisons:
        scope = (f" (first {report.flink_sample_events:,} events)" if comparison.system == "flink" else "")
        lines.append(f"* {comparison.describe()}{scope}")
    if report.ingest:
        lines += ["", f"Ingestion of {report.ingest[0].events:,} bids into a typed topic:", ""]
        lines += format_table(report.ingest)
    if report.latency is not None:
        lat = report.latency
        lines += ["", f"Latency, q2 at {lat.rate:,} events/s (achieved {lat.achieved_rate:,.0f}) for "
                      f"{lat.seconds:.0f} s, append to readable in the sink: p50 **{lat.p50_ms:.1f} ms**, "
                      f"p99 **{lat.p99_ms:.1f} ms**, max {lat.max_ms:.1f} ms over {lat.samples:,} results "
                      f"(first second left out; {lat.missing} never arrived)."]
    if report.notes:
        lines += ["", "Notes:", ""] + [f"* {note}" for note in report.notes]
    if plot_path is not None:
        lines += ["", f"![Nexmark throughput]({plot_path})"]
    return lines


def write_json(report: RunReport, path: Path) -> None:
    """The whole report as JSON (measurements with their derived rates)."""
    document = {
        "settings": report.settings,
        "machine": report.machine,
        "counts": report.counts,
        "measurements": [asdict(m) | {"events_per_s": m.events_per_s, "events_per_cpu_s": m.events_per_cpu_s}
                         for m in report.measurements],
        "comparisons": [asdict(c) | {"equal": c.equal} for c in report.comparisons],
        "flink_environment_s": report.flink_environment_s,
        "flink_environment_cpu_s": report.flink_environment_cpu_s,
        "ingest": [asdict(r) | {"events_per_s": r.events_per_s} for r in report.ingest],
        "latency": asdict(report.latency) if report.latency is not None else None,
        "notes": report.notes,
    }
    path.write_text(json.dumps(document, indent=2, default=str))


def _short(value: float) -> str:
    """A bar's label: 1.23M, 456k or 789 (empty for a missing bar)."""
    if not value:
        return ""
    if value >= 1e6:
        return f"{value / 1e6:.2f}M"
    if value >= 1e3:
        return f"{value / 1e3:.0f}k"
    return f"{value:.0f}"


def plot(report: RunReport, path: Path) -> bool:
    """Bar charts of events/s and events per CPU-second per query and system (log scale)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot written", file=sys.stderr)
        return False
    queries = report.queries
    systems = [s for s in SYSTEMS if any(report.find(q, s) for q in queries)]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    width = 0.8 / max(len(systems), 1)
    for ax, (title, attribute) in zip(axes, (("events/s (wall clock)", "events_per_s"),
                                             ("events per CPU-second (per core)", "events_per_cpu_s"))):
        for i, system in enumerate(systems):
            values = []
            for query in queries:
                found = report.find(query, system)
                values.append(getattr(found, attribute) if found is not None else 0.0)
            positions = [q + (i - (len(systems) - 1) / 2) * width for q in range(len(queries))]
            bars = ax.bar(positions, values, width, label=LABELS[system])
            ax.bar_label(bars, labels=[_short(v) for v in values], fontsize=7, rotation=90, padding=2)
        if attribute == "events_per_cpu_s":
            ax.axhline(PER_CORE_TARGET, color="grey", linestyle="--", linewidth=1)
            ax.text(-0.45, PER_CORE_TARGET * 1.08, "q0-q2 target: 20x ksqlDB per core", fontsize=7, ha="left",
                    color="grey")
        ax.set_xticks(range(len(queries)), queries)
        ax.set_yscale("log")
        highest = max((getattr(m, attribute) for m in report.measurements
                       if m.query in queries and math.isfinite(getattr(m, attribute))), default=0.0)
        if highest > 0:
            ax.set_ylim(top=highest * 8)  # room for the rotated labels above the tallest bar
        ax.set_title(title)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(systems), fontsize=8, frameon=False)
    fig.suptitle(f"Nexmark, {report.settings['events']:,} events, same data for every system")
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def write_docs_section(docs: Path, lines: list[str]) -> None:
    """Replace the generated block of the Nexmark section of ``docs`` (creating the section if missing)."""
    block = "\n".join([BEGIN, *lines, END])
    text = docs.read_text() if docs.exists() else "# Benchmarks\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        text = head + block + tail
    else:
        text = text.rstrip("\n") + f"\n\n{SECTION}\n\nGenerated by `python -m benchmarks.nexmark`.\n\n{block}\n"
    docs.write_text(text)

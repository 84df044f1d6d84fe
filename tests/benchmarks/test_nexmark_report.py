"""The Nexmark report: the docs writer replaces only its block, and the targets are judged as stated."""

from __future__ import annotations

from pathlib import Path

from benchmarks.nexmark.measure import Measurement, StageTime
from benchmarks.nexmark.report import BEGIN, END, RunReport, markdown, write_docs_section

SETTINGS = {"command": "python -m benchmarks.nexmark", "events": 1000, "seed": 0, "events_per_second": 10,
            "partitions": 1, "repeat": 1}
MACHINE = {"nproc": 2, "cpu": "test", "python": "3", "pyarrow": "26", "duckdb": "2", "load_average_start": 1.0}


def test_the_docs_writer_replaces_only_the_generated_block(tmp_path: Path) -> None:
    docs = tmp_path / "benchmarks.md"
    docs.write_text(f"# Benchmarks\n\n## Event log\n\nkept\n\n## Nexmark\n\nhand-written\n\n{BEGIN}\nold\n{END}\n\n"
                    "## Later section\n\nalso kept\n")
    write_docs_section(docs, ["new line 1", "new line 2"])
    text = docs.read_text()
    assert "old" not in text
    assert f"{BEGIN}\nnew line 1\nnew line 2\n{END}" in text
    assert text.startswith("# Benchmarks\n\n## Event log\n\nkept\n\n## Nexmark\n\nhand-written\n\n")
    assert text.endswith("## Later section\n\nalso kept\n")


def test_a_missing_section_is_appended(tmp_path: Path) -> None:
    docs = tmp_path / "benchmarks.md"
    docs.write_text("# Benchmarks\n\n## Event log\n\nkept\n")
    write_docs_section(docs, ["result"])
    text = docs.read_text()
    assert text.startswith("# Benchmarks\n\n## Event log\n\nkept\n\n## Nexmark\n")
    assert f"{BEGIN}\nresult\n{END}" in text


def test_targets_are_judged_per_core_against_flink_and_duckdb() -> None:
    report = RunReport(SETTINGS, MACHINE)
    report.measurements = [
        Measurement("q0", "headwater", 1_000_000, 1_000_000, wall_s=0.5, cpu_s=0.5),      # 2M/s, 2M per CPU-s
        Measurement("q0", "duckdb", 1_000_000, 1_000_000, wall_s=0.1, cpu_s=0.1),         # 10M/s: 0.2x
        Measurement("q0", "flink", 1_000_000, -1, wall_s=2.0, cpu_s=1.5, startup_s=3.0),  # 0.67M per CPU-s: 3x
        Measurement("q2", "headwater", 1_000_000, 10, wall_s=2.0, cpu_s=2.0),             # 0.5M per CPU-s
    ]
    lines = markdown(report, None)
    q0 = next(line for line in lines if line.startswith("| q0 | met"))
    assert "met (2,000,000)" in q0 and "met (3.00x, target 2x)" in q0 and "**MISSED** (0.20x)" in q0
    q2 = next(line for line in lines if line.startswith("| q2 | **MISSED**"))
    assert q2.count("not measured") == 2
    assert any("job 3.0 s" in line for line in lines)


def test_a_stateful_query_needs_flinks_rate_only_and_shows_its_stages() -> None:
    report = RunReport(SETTINGS, MACHINE)
    report.measurements = [
        Measurement("q5", "headwater", 1_000_000, 50, wall_s=4.0, cpu_s=4.0,            # 250,000 per CPU-s
                    stages=(StageTime("CTAS_S_COUNTS_0", 1_000_000, 3.0, 3.0), StageTime("CTAS_S_1", 80, 1.0, 1.0))),
        Measurement("q5", "flink", 1_000_000, -1, wall_s=5.0, cpu_s=5.0),               # 200,000: 1.25x
    ]
    lines = markdown(report, None)
    q5 = next(line for line in lines if line.startswith("| q5 | no target"))
    assert "met (1.25x, target 1x)" in q5 and "no target (250,000)" in q5
    assert "| q5 | CTAS_S_COUNTS_0 | 1,000,000 | 3.00 | 3.00 |" in lines


def test_only_the_complete_default_run_writes_the_docs_and_it_runs_every_query() -> None:
    from benchmarks.nexmark.runner import DEFAULT_EVENTS, EVENT_RATE, _arguments

    default = _arguments([])
    assert default.docs and default.events == DEFAULT_EVENTS and default.rate == EVENT_RATE == 10_000
    assert default.queries.split(",") == ["q0", "q1", "q2", "q3", "q5", "q7", "q8"]
    assert not _arguments(["--quick"]).docs
    assert not _arguments(["--queries", "q0,q1"]).docs
    assert not _arguments(["--rate", "10000000"]).docs
    assert _arguments(["--quick", "--docs"]).docs

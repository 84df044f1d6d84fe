"""The Flink peer's bookkeeping (no JVM needed) and, when PyFlink and a JDK are present, its source jar."""

from __future__ import annotations

import importlib.util
import shutil
import zipfile
from pathlib import Path

import pytest

from benchmarks.nexmark.flink_run import _results
from benchmarks.nexmark.loader import Dataset
from benchmarks.nexmark.queries import query


def _run(rows: int, wall: float, cpu: float, processing_wall: float, processing_cpu: float) -> dict[str, float]:
    return {"rows": rows, "wall_s": wall, "cpu_s": cpu, "processing_wall_s": processing_wall,
            "processing_cpu_s": processing_cpu}


def test_the_processing_window_is_the_figure_and_the_rest_of_the_job_its_start_up(tmp_path: Path) -> None:
    dataset = Dataset(tmp_path, 1000, {"person": 20, "auction": 60, "bid": 920})
    result = {
        "environment": {"wall_s": 9.0, "cpu_s": 4.0, "jvm_found": True},
        "queries": [
            {"id": "q0", "runs": [_run(920, 6.0, 5.0, 2.0, 2.5), _run(920, 5.5, 4.0, 1.5, 1.0)]},
            {"id": "q1", "error": "Py4JJavaError: boom"},
            {"id": "q2", "runs": [_run(900, 3.0, 2.0, 0.5, 0.5)]},
        ],
    }
    outcome = _results(result, [query("q0"), query("q1"), query("q2")], dataset, None, tmp_path)
    assert [m.query for m in outcome.measurements] == ["q0"]
    q0 = outcome.measurements[0]
    assert (q0.events, q0.wall_s, q0.cpu_s, q0.startup_s, q0.startup_cpu_s) == (920, 1.5, 1.0, 4.0, 3.0)
    assert outcome.problems["q1"] == "Flink failed: Py4JJavaError: boom"
    assert "emitted 900 rows, not 920" in outcome.problems["q2"]
    assert (outcome.environment_s, outcome.environment_cpu_s) == (9.0, 4.0)


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("pyflink") is None or shutil.which("javac") is None,
                    reason="needs PyFlink (apache-flink) and a JDK")
def test_the_arrow_file_source_compiles_into_a_jar_with_its_factory(tmp_path: Path) -> None:
    from benchmarks.nexmark.flink_jar import build_source_jar

    jar = build_source_jar(tmp_path)
    with zipfile.ZipFile(jar) as archive:
        names = set(archive.namelist())
        service = archive.read("META-INF/services/org.apache.flink.table.factories.Factory").decode()
    assert "headwater/nexmark/ArrowFileSourceFunction.class" in names
    assert service.strip() == "headwater.nexmark.ArrowFileSourceFactory"
    assert build_source_jar(tmp_path) == jar  # cached

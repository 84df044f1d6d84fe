"""The Flink peer's bookkeeping and environment (no JVM needed) and, when Flink's environment and a JDK are
present, its source jar."""

from __future__ import annotations

import shutil
import sys
import zipfile
from pathlib import Path

import pytest

from benchmarks.nexmark.flink_env import FlinkSetupError, ensure_flink_python, flink_venv
from benchmarks.nexmark.flink_run import WATERMARK, FlinkInput, _results, flink_tables
from benchmarks.nexmark.loader import Dataset
from benchmarks.nexmark.queries import query
from benchmarks.nexmark.schemas import AUCTION


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
    inputs = dict.fromkeys(("q0", "q1", "q2"), FlinkInput(dataset, None))
    outcome = _results(result, [query("q0"), query("q1"), query("q2")], inputs, tmp_path, "2.3.0")
    assert [m.query for m in outcome.measurements] == ["q0"]
    q0 = outcome.measurements[0]
    assert (q0.events, q0.wall_s, q0.cpu_s, q0.startup_s, q0.startup_cpu_s) == (920, 1.5, 1.0, 4.0, 3.0)
    assert outcome.problems["q1"] == "Flink failed: Py4JJavaError: boom"
    assert "emitted 900 rows, not 920" in outcome.problems["q2"]
    assert (outcome.environment_s, outcome.environment_cpu_s) == (9.0, 4.0)
    assert outcome.version == "2.3.0"


def test_flink_never_goes_into_the_environment_the_benchmark_runs_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEADWATER_FLINK_VENV", sys.prefix)
    with pytest.raises(FlinkSetupError, match="refusing"):
        ensure_flink_python(create=False)


def test_a_missing_flink_environment_is_not_made_unless_asked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HEADWATER_FLINK_VENV", str(tmp_path / "nowhere"))
    assert flink_venv() == (tmp_path / "nowhere").resolve()
    with pytest.raises(FlinkSetupError, match="not set up"):
        ensure_flink_python(create=False)
    assert not (tmp_path / "nowhere").exists()


def test_windowed_queries_declare_an_event_time_watermark_and_read_only_their_sources(tmp_path: Path) -> None:
    dataset = Dataset(tmp_path, 1000, {"person": 20, "auction": 60, "bid": 920})
    inputs = FlinkInput(dataset, None)
    q8 = flink_tables(query("q8"), inputs)
    assert sorted(q8) == ["auction", "person"]
    assert all(WATERMARK in table["columns"] and table["sample"] is None for table in q8.values())
    q3 = flink_tables(query("q3"), inputs)
    assert sorted(q3) == ["auction", "person"] and not any(WATERMARK in t["columns"] for t in q3.values())
    assert q3["auction"]["full"] == str(dataset.arrow(AUCTION))


def _flink_home() -> Path | None:
    try:
        return ensure_flink_python(create=False).pyflink_home
    except FlinkSetupError:
        return None


@pytest.mark.slow
@pytest.mark.skipif(_flink_home() is None or shutil.which("javac") is None,
                    reason="needs Flink's environment (python -m benchmarks.nexmark.flink_env) and a JDK")
def test_the_arrow_file_source_compiles_into_a_jar_with_its_factory(tmp_path: Path) -> None:
    from benchmarks.nexmark.flink_jar import build_source_jar

    home = _flink_home()
    assert home is not None
    jar = build_source_jar(home, tmp_path)
    with zipfile.ZipFile(jar) as archive:
        names = set(archive.namelist())
        service = archive.read("META-INF/services/org.apache.flink.table.factories.Factory").decode()
    assert "headwater/nexmark/ArrowFileSourceFunction.class" in names
    assert service.strip() == "headwater.nexmark.ArrowFileSourceFactory"
    assert build_source_jar(home, tmp_path) == jar  # cached

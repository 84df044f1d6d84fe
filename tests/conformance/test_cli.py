"""``python -m headwater.conformance``: tables, totals, reasons, --json, --filter, exit status."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from headwater.conformance.cli import main

STREAM = "CREATE STREAM INPUT (K STRING KEY, ID BIGINT) WITH (kafka_topic='input', value_format='JSON');"
CSAS = "CREATE STREAM OUTPUT AS SELECT K, ID FROM INPUT;"


def _write(directory: Path) -> Path:
    tests = [
        {
            "name": "passes",
            "statements": [STREAM, CSAS],
            "inputs": [{"topic": "input", "key": "a", "value": {"ID": 1}}],
            "outputs": [{"topic": "OUTPUT", "key": "a", "value": {"ID": 1}}],
        },
        {
            "name": "fails",
            "statements": [STREAM, CSAS],
            "inputs": [{"topic": "input", "key": "a", "value": {"ID": 1}}],
            "outputs": [{"topic": "OUTPUT", "key": "a", "value": {"ID": 2}}],
        },
        {
            "name": "formats",
            "format": ["JSON", "AVRO"],
            "statements": [STREAM.replace("'JSON'", "'{FORMAT}'"), CSAS],
            "inputs": [{"topic": "input", "key": "a", "value": {"ID": 1}}],
            "outputs": [{"topic": "OUTPUT", "key": "a", "value": {"ID": 1}}],
        },
    ]
    path = directory / "demo.json"
    path.write_text(json.dumps({"tests": tests}), encoding="utf-8")
    (directory / "broken.json").write_text("{", encoding="utf-8")
    return path


def test_table_totals_reasons_and_json(tmp_path: Path) -> None:
    _write(tmp_path)
    out = io.StringIO()
    report = tmp_path / "out" / "results.json"
    report.parent.mkdir()
    status = main([str(tmp_path), "--jobs", "1", "--json", str(report), "--work-dir", str(tmp_path)], out=out)
    text = out.getvalue()
    assert status == 0
    assert "demo.json" in text and "broken.json" in text
    total = next(line for line in text.splitlines() if line.startswith("TOTAL"))
    assert total.split()[1:] == ["2", "1", "1", "1", "5"]
    assert (
        "needs AVRO" in text and "output differs: value differs" in text and "the file does not load" in text
    )
    slice_part = text[text.index("stateless JSON/DELIMITED/KAFKA/NONE cases") :].splitlines()
    assert slice_part[0] == "stateless JSON/DELIMITED/KAFKA/NONE cases: 2/3 passed (66.7%; target 95%)"
    assert slice_part[1:3] == ["     1  output differs: value differs", "          demo - fails"]
    objects = json.loads(report.read_text(encoding="utf-8"))
    assert [o["name"] for o in objects] == [
        "demo - passes",
        "demo - fails",
        "demo - formats - JSON",
        "demo - formats - AVRO",
        "broken",
    ]
    assert [o["status"] for o in objects] == ["pass", "fail", "pass", "skip", "error"]
    assert set(objects[0]) == {"file", "test", "name", "status", "reason"}
    assert objects[3]["reason"] == "needs AVRO" and objects[2]["test"] == "formats"


def test_filter_and_resumed_mode(tmp_path: Path) -> None:
    path = _write(tmp_path)
    out = io.StringIO()
    assert main([str(path), "--jobs", "1", "--filter", "formats - JSON$", "--mode", "resumed"], out=out) == 0
    total = next(line for line in out.getvalue().splitlines() if line.startswith("TOTAL"))
    assert total.split()[1:] == ["1", "0", "0", "0", "1"]


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    assert main([str(tmp_path / "nope.json")], out=io.StringIO()) == 2


def test_module_entry_point_runs_in_parallel(tmp_path: Path) -> None:
    path = _write(tmp_path)
    completed = subprocess.run(
        [sys.executable, "-m", "headwater.conformance", str(path), "--jobs", "2"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    total = next(line for line in completed.stdout.splitlines() if line.startswith("TOTAL"))
    assert total.split()[1:] == ["2", "1", "0", "1", "4"]


def _write_rqtt(directory: Path) -> Path:
    tests = [
        {
            "name": "inserts",
            "statements": [STREAM, "INSERT INTO INPUT (K, ID) VALUES ('a', 1);"],
            "outputs": [{"topic": "input", "key": "a", "value": {"ID": 1}}],
            "responses": [{"admin": {"@type": "currentStatus"}}],
        },
        {
            "name": "wrong",
            "statements": [STREAM, "INSERT INTO INPUT (K, ID) VALUES ('a', 1);"],
            "outputs": [{"topic": "input", "key": "a", "value": {"ID": 2}}],
        },
        {
            "name": "avro",
            "statements": [STREAM.replace("'JSON'", "'AVRO'")],
            "responses": [{"admin": {"@type": "currentStatus"}}],
        },
    ]
    directory.mkdir(exist_ok=True)
    path = directory / "rest.json"
    path.write_text(json.dumps({"tests": tests}), encoding="utf-8")
    return path


@pytest.mark.parametrize("flags", [["--rqtt"], ["--http"]])
def test_rqtt_through_the_engine_and_over_http(tmp_path: Path, flags: list[str]) -> None:
    path = _write_rqtt(tmp_path / "cases")
    out = io.StringIO()
    report = tmp_path / "results.json"
    assert main([*flags, str(path), "--jobs", "1", "--json", str(report)], out=out) == 0
    total = next(line for line in out.getvalue().splitlines() if line.startswith("TOTAL"))
    assert total.split()[1:] == ["1", "1", "0", "1", "3"]
    assert "needs AVRO" in out.getvalue() and "output differs: value differs" in out.getvalue()
    assert "RQTT cases that need no schema registry: 1/2 passed (50.0%; target 90%)" in out.getvalue()
    objects = json.loads(report.read_text(encoding="utf-8"))
    assert [(o["name"], o["status"]) for o in objects] == [
        ("rest - inserts", "pass"),
        ("rest - wrong", "fail"),
        ("rest - avro", "skip"),
    ]


def test_an_rqtt_directory_needs_no_flag_and_resumed_mode_is_refused(tmp_path: Path) -> None:
    _write_rqtt(tmp_path / "rqtt")
    out = io.StringIO()
    assert main([str(tmp_path / "rqtt"), "--jobs", "1"], out=out) == 0
    total = next(line for line in out.getvalue().splitlines() if line.startswith("TOTAL"))
    assert total.split()[1:] == ["1", "1", "0", "1", "3"]
    assert main([str(tmp_path / "rqtt"), "--mode", "resumed"], out=io.StringIO()) == 2

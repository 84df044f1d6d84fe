"""Every benchmark starts the way its docstring says to start it.

A benchmark that no longer starts is found by the next person who wants a number, long after the change
that broke it; ``--help`` imports the whole script, so this catches a broken import (the way a script run
as a file cannot see the ``benchmarks`` package) in seconds, without measuring anything.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted(
    p for p in (ROOT / "benchmarks").glob("*.py") if p.name not in {"__init__.py", "reporting.py"}
)


def _documented_commands(script: Path) -> list[list[str]]:
    """The ways the script's docstring runs it: ``python benchmarks/x.py`` and/or ``python -m benchmarks.x``."""
    text = script.read_text()
    commands = []
    if re.search(rf"python benchmarks/{re.escape(script.name)}", text):
        commands.append([sys.executable, str(script.relative_to(ROOT))])
    if re.search(rf"python -m benchmarks\.{re.escape(script.stem)}\b", text):
        commands.append([sys.executable, "-m", f"benchmarks.{script.stem}"])
    return commands


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_benchmark_starts_as_documented(script: Path) -> None:
    commands = _documented_commands(script)
    assert commands, f"{script.name}'s docstring does not say how to run it"
    for command in commands:
        done = subprocess.run([*command, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{' '.join(command[1:])} --help failed:\n{done.stderr[-2000:]}"
        assert "usage:" in done.stdout

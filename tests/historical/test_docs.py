"""The examples of docs/historical.md run, in order, in an empty directory, and their assertions hold."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "historical.md"


def _examples() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.DOTALL)


def test_the_guide_has_examples() -> None:
    assert len(_examples()) >= 6


def test_the_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "docs_historical"}
    for number, example in enumerate(_examples(), start=1):
        code = compile(example, f"docs/historical.md example {number}", "exec")
        exec(code, namespace)
    assert "2/2 segments" in capsys.readouterr().out  # the export's progress callback ran
    assert (tmp_path / "orders.parquet").exists()

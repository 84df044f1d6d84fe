"""The README's tour runs as written.

A newcomer's first minutes are the README's SQL block typed into the shell opened by ``make run``, then
its Python block. This test runs both, statement by statement, against a fresh data directory with the
demo stream the shell creates, and checks that every statement succeeds and that the results the tour
promises (a filtered stream, a pull query's current row, an enriched join, a historical aggregate) are
there. A statement that stops working, or a result that changes, fails here before a user sees it.
"""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import headwater
from headwater.engine.runtime.transient import QueryStream
from headwater.parser import split_statements
from headwater.repl.demo import start_demo

README = Path(__file__).resolve().parents[2] / "README.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(), flags=re.S)


def _first_rows(stream: QueryStream, count: int, timeout: float = 30.0) -> list[Any]:
    """Up to ``count`` rows of a push query, then close it (the tour's push queries never end)."""
    rows: list[Any] = []

    def consume() -> None:
        for row in stream:
            rows.append(row)
            if len(rows) >= count:
                break

    reader = threading.Thread(target=consume, daemon=True)
    reader.start()
    reader.join(timeout)
    stream.close()
    return rows


def _eventually(check: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


def test_the_sql_tour_runs_as_written(tmp_path: Path) -> None:
    (block,) = _blocks("sql")
    statements = [s.strip() for s in split_statements(block) if s.strip()]
    assert len(statements) >= 15
    with headwater.connect(tmp_path / "headwater-data") as hw:
        demo = start_demo(hw.engine, threading.Lock(), seed=7)
        try:
            for statement in statements:
                result = hw.sql(statement)
                if isinstance(result, QueryStream):
                    assert _first_rows(result, 1), f"no row from {statement!r}"
        finally:
            demo.stop()

        pull = _eventually(lambda: hw.sql("SELECT * FROM sales_by_item WHERE item = 'tea';").rows())
        assert [tuple(r) for r in pull] == [("tea", 2, 7.5)]
        enriched = _eventually(lambda: hw.sql("SELECT id, item, amount, level FROM enriched;").rows())
        assert enriched == [(3, "tea", 4.0, 40)]
        totals = hw.sql("SELECT item, SUM(amount) AS total FROM orders GROUP BY item ORDER BY total DESC;")
        assert totals.rows() == [("cake", 12.0), ("tea", 7.5)]
        big = hw.sql("SELECT * FROM big_orders;").rows()
        assert big == [(2, "cake", 12.0)]


def test_the_python_example_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    with headwater.connect("./headwater-data") as hw:
        hw.sql(
            "CREATE STREAM orders (id INT KEY, item STRING, amount DOUBLE) "
            "WITH (kafka_topic='orders', value_format='JSON', partitions=1);"
        )
        hw.sql("INSERT INTO orders (id, item, amount) VALUES (1, 'tea', 3.5);")
    (example,) = _blocks("python")
    exec(compile(example, str(README), "exec"), {})
    printed = capsys.readouterr().out
    assert "tea" in printed and "3.5" in printed
    assert "[(1,)]" in printed


def test_the_command_line_examples_run_as_written(tmp_path: Path) -> None:
    """The "Outside the shell" commands, each run by a real shell in a directory holding the files they
    name, on a data directory where the tour's ORDERS stream exists."""
    import subprocess
    import sys

    block = next(b for b in _blocks("sh") if "produce orders" in b)
    commands = [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]
    (tmp_path / "orders.jsonl").write_text('{"ID": 5, "ITEM": "jam", "AMOUNT": 2.5}\n')
    (tmp_path / "script.sql").write_text("SHOW STREAMS;\n")
    with headwater.connect(tmp_path / "headwater-data") as hw:
        hw.sql(
            "CREATE STREAM orders (id INT KEY, item STRING, amount DOUBLE) "
            "WITH (kafka_topic='orders', value_format='JSON', partitions=1);"
        )
    venv_bin = Path(sys.executable).parent
    outputs = []
    for command in commands:
        assert command.startswith(".venv/bin/headwater ")
        done = subprocess.run(
            command.replace(".venv/bin/headwater", str(venv_bin / "headwater"), 1),
            shell=True,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"{command}: {done.stderr}"
        assert "Traceback" not in done.stderr
        outputs.append(done.stdout)
    assert any("ORDERS" in out for out in outputs)  # -f script.sql shows the stream
    assert any('"ITEM":"jam"' in out.replace(" ", "") for out in outputs)  # print shows the produced record

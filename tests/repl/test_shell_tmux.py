"""The interactive shell in a real terminal (tmux): typing, continuation lines, live push queries, Ctrl-C,
Ctrl-D, history, and the demo.

Every wait polls the screen with a timeout; nothing sleeps for a fixed time.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from headwater.repl.demo import SUGGESTED_STATEMENTS

pytestmark = pytest.mark.tmux

PROMPT = "headwater>"  # as the screen shows it: tmux drops trailing spaces
HEADWATER = Path(sys.executable).parent / "headwater"


def prompt_count(screen: str) -> int:
    return sum(1 for line in screen.splitlines() if line.startswith(PROMPT))


def test_a_whole_session(terminal_factory, tmp_path: Path, isolated_home: Path) -> None:
    data_dir = tmp_path / "data"
    term = terminal_factory("--data-dir", str(data_dir))
    term.wait_for(PROMPT)
    assert f"Data directory: {data_dir}" in term.screen()

    # A statement over two lines: Enter on the unfinished first line opens a continuation line.
    term.type("CREATE STREAM orders (id INT KEY, item STRING, amount DOUBLE)")
    term.wait_for(re.compile(r"^ +>$", re.MULTILINE))  # the continuation prompt, waiting
    term.type("  WITH (kafka_topic='orders', value_format='JSON', partitions=1);")
    term.wait_for("Stream created")

    for number, (item, amount) in enumerate([("tea", 3.5), ("cake", 12.0), ("pie", 15.5)], start=1):
        term.type(f"INSERT INTO orders (id, item, amount) VALUES ({number}, '{item}', {amount});")
    term.wait_for(lambda screen: prompt_count(screen) >= 5)  # the CREATE, three INSERTs, a fresh prompt

    term.type("SET 'auto.offset.reset'='earliest';")
    term.type("CREATE STREAM big_orders AS SELECT id, item, amount FROM orders WHERE amount > 10;")
    term.wait_for(re.compile(r"CSAS_BIG_ORDERS_\d+"))

    # A push query over the persistent query's sink shows the rows as the query writes them.
    term.type("SELECT * FROM big_orders EMIT CHANGES;")
    screen = term.wait_for(lambda screen: "|cake" in screen and "|pie" in screen)
    assert "|tea" not in screen
    assert re.search(r"\|ID\s*\|ITEM\s*\|AMOUNT\s*\|", screen)

    # Ctrl-C stops the query and keeps the shell.
    prompts_before = prompt_count(term.screen())
    term.press("C-c")
    term.wait_for("Query terminated")
    term.wait_for(lambda screen: prompt_count(screen) > prompts_before)

    term.type("SHOW QUERIES;")
    term.wait_for(lambda screen: screen.count("CSAS_BIG_ORDERS") >= 2 and "RUNNING" in screen)

    # An error is one message with a caret, and the shell goes on.
    term.type("SELECT * FRM orders;")
    term.wait_for("SELECT * FRM orders;\n         ^")
    screen = term.wait_for_prompt()
    assert "Traceback" not in screen

    term.press("C-d")
    assert term.wait_for_exit() == 0
    assert "Exiting Headwater." in term.screen()
    assert (data_dir / ".headwater_history").exists()


def test_push_query_shows_records_produced_by_another_process(
    terminal_factory, tmp_path: Path, isolated_home: Path
) -> None:
    data_dir = tmp_path / "data"
    subprocess.run([str(HEADWATER), "--data-dir", str(data_dir), "topic", "create", "clicks"], check=True)
    term = terminal_factory("--data-dir", str(data_dir))
    term.wait_for(PROMPT)
    term.type("CREATE STREAM clicks (user STRING KEY, page STRING) WITH (kafka_topic='clicks', value_format='JSON');")
    term.wait_for("Stream created")
    term.type("SELECT user, page FROM clicks EMIT CHANGES;")
    term.wait_for(re.compile(r"\|USER\s*\|PAGE\s*\|"))  # the header shows while the query waits

    lines = "".join(f'{{"user": "u{n}", "page": "/p{n}"}}\n' for n in range(3))
    produced = subprocess.run(
        [str(HEADWATER), "--data-dir", str(data_dir), "produce", "clicks", "--format", "json", "--key", "user"],
        input=lines.encode(),
        capture_output=True,
        check=False,
    )
    assert produced.returncode == 0, produced.stderr
    term.wait_for(lambda screen: all(f"|u{n}" in screen and f"/p{n}" in screen for n in range(3)))

    term.press("C-c")
    term.wait_for("Query terminated")
    term.wait_for_prompt()
    term.press("C-d")
    assert term.wait_for_exit() == 0


def test_ctrl_c_at_the_prompt_clears_the_line_and_history_survives_restarts(
    terminal_factory, tmp_path: Path, isolated_home: Path
) -> None:
    data_dir = tmp_path / "data"
    term = terminal_factory("--data-dir", str(data_dir))
    term.wait_for(PROMPT)
    term.type("SHOW TOPICS;")
    term.wait_for("Kafka Topic")
    term.type("SELECT half a statement", enter=False)
    term.press("C-c")
    term.wait_for_prompt()
    term.type("version")
    # The version's own line (the banner's line goes on after the version number).
    screen = term.wait_for(re.compile(r"^Version: \S+$", re.MULTILINE))
    # The interrupted line stays on screen, as in a shell, and the next prompt starts empty.
    assert re.search(r"^headwater> version$", screen, re.MULTILINE)
    term.type("exit")
    assert term.wait_for_exit() == 0

    again = terminal_factory("--data-dir", str(data_dir))
    again.wait_for(PROMPT)
    for _ in range(3):  # back through "exit" and "version" to the statement
        again.press("Up")
    again.wait_for(lambda screen: screen.rstrip().endswith(PROMPT + " SHOW TOPICS;"))
    again.press("C-c")
    again.wait_for_prompt()
    again.press("C-d")
    assert again.wait_for_exit() == 0


def test_demo_banner_and_suggested_statements(terminal_factory, tmp_path: Path, isolated_home: Path) -> None:
    data_dir = tmp_path / "data"
    term = terminal_factory("--demo", "--data-dir", str(data_dir))
    screen = term.wait_for(PROMPT, timeout=60)
    assert "PAGEVIEWS" in screen
    for statement in SUGGESTED_STATEMENTS:
        assert statement in screen

    # The first suggestion: five live rows, then the query ends by itself.
    term.type(SUGGESTED_STATEMENTS[0])
    screen = term.wait_for("Limit Reached", timeout=30)
    table = screen.split(SUGGESTED_STATEMENTS[0])[-1]
    assert len(re.findall(r"^\|Page_\d+", table, flags=re.MULTILINE)) == 5

    # The second: rows keep arriving until Ctrl-C.
    term.type(SUGGESTED_STATEMENTS[1])
    live_row = re.compile(r"^\|Page_\d+\s*\|User_2\s*\|\d\d:\d\d:\d\d\s*\|$", re.MULTILINE)
    term.wait_for(lambda screen: live_row.search(screen.split(SUGGESTED_STATEMENTS[1])[-1]) is not None, timeout=60)
    term.press("C-c")
    term.wait_for("Query terminated")
    term.wait_for_prompt()
    term.press("C-d")
    assert term.wait_for_exit() == 0

    # A second start finds the stream and keeps producing into it.
    restarted = terminal_factory("--demo", "--data-dir", str(data_dir))
    restarted.wait_for(PROMPT, timeout=60)
    restarted.type("SHOW STREAMS;")
    restarted.wait_for(re.compile(r"PAGEVIEWS\s*\|\s*pageviews"))
    restarted.wait_for_prompt()
    restarted.press("C-d")
    assert restarted.wait_for_exit() == 0

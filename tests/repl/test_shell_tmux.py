"""The interactive shell in a real terminal (tmux), as a new user meets it: typing, continuation lines, live
push queries with their status line, Ctrl-C, Ctrl-D, history, completion, help, the pager, vi keys, the
demo; against the embedded engine and against a ``headwater server``.

Every wait polls the screen with a timeout; nothing sleeps for a fixed time.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from headwater.repl.demo import SUGGESTED_STATEMENTS

pytestmark = pytest.mark.tmux

PROMPT = "headwater>"  # as the screen shows it: tmux drops trailing spaces
HEADWATER = Path(sys.executable).parent / "headwater"


def prompt_count(screen: str) -> int:
    return sum(1 for line in screen.splitlines() if line.startswith(PROMPT))


@dataclass(frozen=True)
class Target:
    """Where the shell under test runs statements: its arguments, the data directory the statements
    end up in, the banner line that says so, and where its history is kept."""

    arguments: tuple[str, ...]
    data_dir: Path
    banner: str
    history: Path


@pytest.fixture(params=["embedded", "server"])
def target(request: pytest.FixtureRequest, tmp_path: Path, isolated_home: Path) -> Target:
    if request.param == "embedded":
        data_dir = tmp_path / "data"
        return Target(("--data-dir", str(data_dir)), data_dir, f"Data directory: {data_dir}", data_dir / ".headwater_history")
    url, data_dir = request.getfixturevalue("headwater_server")
    return Target((url,), data_dir, f"Server: {url} (version", isolated_home / ".headwater_history")


def test_a_whole_session(terminal_factory, target: Target) -> None:
    """The acceptance session: create a stream, insert, run a CSAS, watch a push query, Ctrl-C, exit."""
    term = terminal_factory(*target.arguments)
    term.wait_for(PROMPT, timeout=60)
    assert target.banner in term.screen()

    # A statement over two lines: Enter on the unfinished first line opens a continuation line.
    term.type("CREATE STREAM orders (id INT KEY, item STRING, amount DOUBLE)")
    term.wait_for(re.compile(r"^ +>$", re.MULTILINE))  # the continuation prompt, waiting
    term.type("  WITH (kafka_topic='orders', value_format='JSON', partitions=1);")
    term.wait_for("Stream created")

    # One INSERT at a time, each after the shell is back at its prompt: text typed while a statement
    # runs is echoed by the terminal ahead of the next prompt, which would make the screen unpredictable.
    for number, (item, amount) in enumerate([("tea", 3.5), ("cake", 12.0), ("pie", 15.5)], start=1):
        term.type(f"INSERT INTO orders (id, item, amount) VALUES ({number}, '{item}', {amount});")
        term.wait_for(lambda screen, n=number: prompt_count(screen) >= 2 + n)  # CREATE, n INSERTs, a fresh prompt

    term.type("SET 'auto.offset.reset'='earliest';")
    term.wait_for("Successfully changed local property 'auto.offset.reset' to 'earliest'.")
    term.type("CREATE STREAM big_orders AS SELECT id, item, amount FROM orders WHERE amount > 10;")
    term.wait_for(re.compile(r"CSAS_BIG_ORDERS_\d+"))

    # A push query over the persistent query's sink shows the rows as the query writes them, with a
    # status line under them while it runs.
    term.type("SELECT * FROM big_orders EMIT CHANGES;")
    screen = term.wait_for(lambda screen: "|cake" in screen and "|pie" in screen)
    assert "|tea" not in screen
    assert re.search(r"\|ID\s*\|ITEM\s*\|AMOUNT\s*\|", screen)
    term.wait_for(lambda screen: screen.rstrip().endswith("Press CTRL-C to interrupt (2 rows so far)"))

    # Ctrl-C stops the query and keeps the shell; the status line is gone.
    prompts_before = prompt_count(term.screen())
    term.press("C-c")
    term.wait_for("Query terminated")
    screen = term.wait_for(lambda screen: prompt_count(screen) > prompts_before)
    assert "Press CTRL-C to interrupt" not in screen
    assert screen.split("SELECT * FROM big_orders EMIT CHANGES;")[-1].rstrip().splitlines()[-3:] == [
        "+----+----+------+",
        "Query terminated",
        PROMPT,
    ]

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
    assert target.history.exists()
    assert "CREATE STREAM big_orders AS SELECT" in target.history.read_text()


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
    term.wait_for("Press CTRL-C to interrupt")

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
    screen = term.wait_for(re.compile(r"^Version: \S+$", re.MULTILINE))
    # The interrupted line stays on screen, as in a shell, and the next prompt starts empty. (Text typed in
    # the instant between two prompts is echoed by the terminal ahead of the new prompt, so the line may
    # start with that echo; what matters is that nothing of the interrupted statement is left in it.)
    assert re.search(r"^headwater> SELECT half a statement *$", screen, re.MULTILINE), screen
    assert re.search(r"headwater> version$", screen, re.MULTILINE)
    term.type("history")
    term.wait_for(re.compile(r"^   2: version$", re.MULTILINE))
    term.type("exit")
    assert term.wait_for_exit() == 0

    again = terminal_factory("--data-dir", str(data_dir))
    again.wait_for(PROMPT)
    for _ in range(4):  # back through "exit", "history" and "version" to the statement
        again.press("Up")
    again.wait_for(lambda screen: screen.rstrip().endswith(PROMPT + " SHOW TOPICS;"))
    again.press("C-c")
    again.wait_for_prompt()
    again.press("C-d")
    assert again.wait_for_exit() == 0


def _create_orders(data_dir: Path, rows: int) -> None:
    """Set up a stream with ``rows`` orders through an engine in this process (not what a test is about)."""
    from headwater.engine import Engine

    with Engine(data_dir) as engine:
        engine.execute(
            "CREATE STREAM orders (id INT KEY, item STRING, amount DOUBLE) "
            "WITH (kafka_topic='orders', value_format='JSON', partitions=1);"
        )
        for n in range(1, rows + 1):
            engine.execute(f"INSERT INTO orders (id, item, amount) VALUES ({n}, 'item{n}', {n}.5);")


def test_tab_completion_and_help_on_statements(terminal_factory, tmp_path: Path, isolated_home: Path) -> None:
    data_dir = tmp_path / "data"
    _create_orders(data_dir, 1)
    term = terminal_factory("--data-dir", str(data_dir))
    term.wait_for(PROMPT)

    term.type("DESCRIBE ord", enter=False)
    term.press("Tab")  # the only stream starting with "ord", in the case typed
    term.wait_for(lambda screen: screen.rstrip().endswith(PROMPT + " DESCRIBE orders"))
    term.type(";")
    term.wait_for(re.compile(r"AMOUNT\s*\|\s*DOUBLE"))

    term.type("SELECT * FROM orders WHERE am", enter=False)
    term.press("Tab")
    term.wait_for(lambda screen: screen.rstrip().endswith(PROMPT + " SELECT * FROM orders WHERE amount"))
    term.type(" > 1;")
    term.wait_for("|item1")
    term.wait_for_prompt()

    term.type("help create stream")
    screen = term.wait_for("CREATE STREAM AS SELECT: ")
    assert "KAFKA_TOPIC='topic'" in screen
    term.type("help")
    term.wait_for("SQL statements (type 'help <statement>'")
    term.wait_for_prompt()
    term.press("C-d")
    assert term.wait_for_exit() == 0


def test_long_historical_results_are_paged(terminal_factory, tmp_path: Path, isolated_home: Path) -> None:
    data_dir = tmp_path / "data"
    _create_orders(data_dir, 60)
    term = terminal_factory("--data-dir", str(data_dir), height=24)
    term.wait_for(PROMPT)
    term.type("SELECT id, item FROM orders;")
    screen = term.wait_for(re.compile(r"-- More -- \(lines 1-23 of 65\)"))
    assert "|item1 " in screen and "|item30" not in screen
    term.press("Space")
    screen = term.wait_for(re.compile(r"-- More -- \(lines 1-46 of 65\)"))
    assert "|item30" in screen
    term.press("q")
    screen = term.wait_for("(19 more lines not shown)")
    term.wait_for("Query terminated")
    term.wait_for_prompt()
    # Without the pager the whole result prints at once.
    term.type("set cli pager off")
    term.type("SELECT id, item FROM orders;")
    term.wait_for(lambda screen: screen.count("|item60") >= 1 and screen.count("Query terminated") >= 2)
    term.press("C-d")
    assert term.wait_for_exit() == 0


def test_vi_key_bindings(terminal_factory, tmp_path: Path, isolated_home: Path) -> None:
    data_dir = tmp_path / "data"
    term = terminal_factory("--data-dir", str(data_dir), env={"HEADWATER_EDITING_MODE": "vi"})
    term.wait_for(PROMPT)
    term.type("SHOW TOPICSX", enter=False)
    term.press("Escape")  # normal mode, the cursor on the X
    term.type("x", enter=False)  # delete it
    term.type("a;", enter=False)  # append ';' and run
    term.press("Enter")
    term.wait_for("Kafka Topic")
    term.wait_for_prompt()
    term.press("C-d")
    assert term.wait_for_exit() == 0


def test_the_server_command_moves_the_shell_to_a_server(
    terminal_factory, tmp_path: Path, isolated_home: Path, headwater_server: tuple[str, Path]
) -> None:
    url, _ = headwater_server
    term = terminal_factory("--data-dir", str(tmp_path / "data"))
    term.wait_for(PROMPT)
    term.type("server")
    term.wait_for(f"embedded engine on {tmp_path / 'data'}")
    term.type(f"server {url}")
    term.wait_for(f"Server now: {url}")
    term.type("CREATE STREAM remote_only (id INT KEY) WITH (kafka_topic='remote_only', value_format='JSON', partitions=1);")
    term.wait_for("Stream created")
    term.type("SHOW STREAMS;")
    term.wait_for(re.compile(r"REMOTE_ONLY\s*\|\s*remote_only"))
    term.type("server local")
    term.wait_for(f"Server now: embedded engine on {tmp_path / 'data'}")
    term.type("SHOW STREAMS;")
    screen = term.wait_for(lambda screen: screen.count("Stream Name") >= 1)
    assert "REMOTE_ONLY" not in screen.split("server local")[-1]
    term.type("server localhost:1")
    term.wait_for("Server URL must begin with protocol")
    term.press("C-d")
    assert term.wait_for_exit() == 0


def test_the_password_is_asked_for_on_the_terminal(
    terminal_factory, isolated_home: Path, server_with_credentials: tuple[str, str, str]
) -> None:
    url, user, password = server_with_credentials
    term = terminal_factory(url, "-u", user)
    term.wait_for("Enter password:")
    term.type(password)
    screen = term.wait_for(PROMPT, timeout=60)
    assert password not in screen  # not echoed
    assert f"Server: {url}" in screen
    term.type("SHOW TOPICS;")
    term.wait_for("Kafka Topic")
    term.press("C-d")
    assert term.wait_for_exit() == 0

    wrong = terminal_factory(url, "-u", user, "-p", "not-it")
    wrong.wait_for(f"Error: The server at {url} refused the credentials: Unauthorized")
    assert wrong.wait_for_exit() == 1


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

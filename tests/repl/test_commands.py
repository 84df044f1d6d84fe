"""The shell's own commands on a real session: help, output, version, server, run script, spool, set cli,
history, exit, and their argument checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from headwater.repl.commands import CommandError, ShellState, parse_command, run_command

CREATE = (
    "CREATE STREAM orders (id INT KEY, item STRING, amount DOUBLE) "
    "WITH (kafka_topic='orders', value_format='JSON', partitions=1);"
)


def command(shell, text: str, **state: object) -> tuple[str, ShellState]:
    """Run a command line on the shell's session; what it printed, and the state it left."""
    line = parse_command(text)
    assert line is not None, text
    shell_state = ShellState(session=shell.session, **state)  # type: ignore[arg-type]
    start = len(shell.out.getvalue())
    run_command(line, shell_state)
    return shell.out.getvalue()[start:], shell_state


def test_help_covers_sql_statements_and_commands(shell) -> None:
    out, _ = command(shell, "help")
    for expected in ("SQL statements", "CREATE STREAM AS SELECT", "PRINT", "run script <path_to_sql_file>:",
                     "spool [<path_to_file>|OFF]", "set cli <property> <value>:", "Keyboard shortcuts:"):  # fmt: skip
        assert expected in out
    out, _ = command(shell, "help create stream")
    assert out.startswith("CREATE STREAM: ")
    assert "KAFKA_TOPIC='topic'" in out and "CREATE STREAM AS SELECT: " in out
    out, _ = command(shell, "HELP spool;")
    assert out.startswith("spool [<path_to_file>|OFF]")
    with pytest.raises(CommandError, match="No help for 'frobnicate'"):
        command(shell, "help frobnicate")


def test_output_shows_and_changes_the_format(shell) -> None:
    assert command(shell, "output")[0] == "Current output format: TABULAR\n"
    assert command(shell, "output json")[0] == "Output format set to JSON\n"
    assert shell.session.output_format == "JSON"
    with pytest.raises(CommandError, match=r"Invalid output format: 'xml' \(valid formats: 'JSON', 'TABULAR'\)"):
        command(shell, "output xml")


def test_version_and_server_of_the_embedded_engine(shell, tmp_path: Path) -> None:
    assert command(shell, "version")[0].startswith("Version: 0.")
    assert command(shell, "server")[0] == f"embedded engine on {tmp_path / 'data'}\n"


def test_server_switches_the_backend_through_connect(shell) -> None:
    opened: list[str] = []

    def connect(address: str):
        opened.append(address)
        return shell.backend  # the embedded engine stands in for "local"

    changed: list[bool] = []
    out, _ = command(shell, "server local", connect=connect, on_backend_change=lambda: changed.append(True))
    assert opened == ["local"] and changed == [True]
    assert out == f"Server now: {shell.backend.where}\n"


def test_wrong_argument_counts_get_ksqldbs_messages(shell) -> None:
    with pytest.raises(CommandError, match=r"^Too many parameters\nversion:"):
        command(shell, "version 2")
    with pytest.raises(CommandError, match=r"^Too few parameters\nrun script"):
        command(shell, "run script")


def test_run_script_runs_a_files_statements(shell, tmp_path: Path) -> None:
    script = tmp_path / "setup script.sql"
    script.write_text(CREATE + "\nINSERT INTO orders (id, item, amount) VALUES (1, 'tea', 3.5);\n")
    command(shell, f"run script '{script}'")
    out, err = shell.run("SELECT item FROM orders;")
    assert "|tea |" in out and err == ""
    with pytest.raises(CommandError, match=r"Failed to read file: .*nope\.sql"):
        command(shell, f"run script {tmp_path / 'nope.sql'}")


def test_spool_copies_output_and_errors_to_a_file_until_spool_off(shell, tmp_path: Path) -> None:
    target = tmp_path / "session.txt"
    out, _ = command(shell, f"spool {target}")
    assert out == f"Session will be spooled to {target}\nEnter SPOOL OFF to disable\n"
    shell.console.spool_only("headwater> SHOW TOPICS;")  # what the prompt loop writes for typed lines
    shell.run("SHOW TOPICS;")
    shell.run("SELECT * FROM nope;")
    out, _ = command(shell, "spool off")
    assert out == f"Spool written to {target}\n"
    shell.run("SHOW STREAMS;")
    spooled = target.read_text()
    assert spooled.startswith(f"Session will be spooled to {target}\nEnter SPOOL OFF to disable\nheadwater> SHOW TOPICS;\n")
    assert "Kafka Topic" in spooled and "NOPE" in spooled.upper()
    assert "Stream Name" not in spooled  # after SPOOL OFF


def test_set_cli_changes_how_rows_look(shell) -> None:
    shell.run(CREATE + "INSERT INTO orders (id, item, amount) VALUES (1, 'tea', 3.5);")
    command(shell, "set cli column-width 8")
    out, _ = shell.run("SELECT id, item FROM orders;")
    assert "|1       |tea     |" in out
    command(shell, "SET CLI COLUMN-WIDTH 0")
    out, _ = shell.run("SELECT id, item FROM orders;")
    assert "|1   |tea |" in out
    listed, _ = command(shell, "set cli")
    assert "WRAP         ON" in listed and "COLUMN-WIDTH 0" in listed
    with pytest.raises(CommandError, match=r"Undefined property: colour\. Valid properties are: \[COLUMN-WIDTH, EDITING-MODE, PAGER, WRAP\]"):
        command(shell, "set cli colour on")
    with pytest.raises(CommandError, match="Invalid value maybe for configuration WRAP: String must be one of: ON, OFF"):
        command(shell, "set cli wrap maybe")


def test_set_cli_editing_mode_switches_the_key_bindings(shell) -> None:
    modes: list[str] = []
    command(shell, "set cli editing-mode vi", set_editing_mode=modes.append)
    assert modes == ["VI"] and shell.session.cli.editing_mode == "VI"


def test_history_numbers_entries_and_indents_continuation_lines(shell) -> None:
    out, _ = command(shell, "history", history=lambda: ["SHOW TOPICS;", "SELECT *\nFROM s;"])
    assert out == "   1: SHOW TOPICS;\n   2: SELECT *\n      FROM s;\n"


def test_exit_and_quit_leave(shell) -> None:
    assert command(shell, "exit")[1].leave
    assert command(shell, "QUIT;")[1].leave

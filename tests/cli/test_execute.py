"""``headwater -e`` / ``-f`` / piped statements: plain output, exit status, one clear message per error."""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
from pathlib import Path

CREATE = (
    "CREATE STREAM orders (id INT KEY, item STRING, amount DOUBLE) "
    "WITH (kafka_topic='orders', value_format='JSON', partitions=1);"
)
INSERTS = (
    "INSERT INTO orders (id, item, amount) VALUES (1, 'tea', 3.5);"
    "INSERT INTO orders (id, item, amount) VALUES (2, 'cake', 12.0);"
    "INSERT INTO orders (id, item, amount) VALUES (3, 'jam', 4.25);"
)


def cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def result_rows(out: str) -> list[list[str]]:
    """The data rows of the bordered result tables in ``out`` (a header block is border, names, border;
    rows follow until the next border)."""
    lines = out.splitlines()
    rows = []
    index = 0
    while index < len(lines):
        if (
            lines[index].startswith("+")
            and index + 2 < len(lines)
            and lines[index + 1].startswith("|")
            and lines[index + 2].startswith("+")
        ):
            index += 3
            while index < len(lines) and lines[index].startswith("|"):
                rows.append(cells(lines[index]))
                index += 1
            continue
        index += 1
    return rows


def test_execute_runs_statements_and_prints_plain_tables(headwater) -> None:
    run = headwater("-e", CREATE + INSERTS + "SHOW STREAMS; SELECT item, amount FROM orders;")
    assert run.status == 0, run.err
    assert "\x1b" not in run.out  # no colours or escape sequences when stdout is a pipe
    assert "headwater>" not in run.out
    listing = [cells(line) for line in run.out.splitlines() if line.startswith(" ORDERS")]
    assert listing == [["ORDERS", "orders", "KAFKA", "JSON", "false"]]
    assert sorted(result_rows(run.out)) == [["cake", "12.0"], ["jam", "4.25"], ["tea", "3.5"]]
    # With several statements each result is preceded by its statement, as in ksqlDB's CLI.
    assert "SELECT item, amount FROM orders;" in run.out


def test_output_greps_cleanly(headwater, run_sql) -> None:
    run_sql(CREATE + INSERTS)
    run = headwater("-e", "SELECT item, amount FROM orders WHERE amount > 4")
    assert run.status == 0, run.err
    assert sorted(result_rows(run.out)) == [["cake", "12.0"], ["jam", "4.25"]]


def test_a_failing_statement_stops_the_run_with_status_1_and_one_message(headwater) -> None:
    run = headwater("-e", CREATE + "SELECT * FROM nope; SHOW STREAMS;")
    assert run.status == 1
    assert "Traceback" not in run.err
    assert len(run.err.strip().splitlines()) == 1
    assert "NOPE" in run.err.upper()
    assert "Stream Name" not in run.out  # the statement after the failure did not run
    assert "Stream created" in run.out  # the one before it did


def test_parse_errors_show_the_caret_at_the_position_in_the_whole_script(headwater, tmp_path: Path) -> None:
    script = tmp_path / "script.sql"
    script.write_text("SHOW STREAMS;\n\n-- a mistake on line 4\nSELECT * FRM orders;\n")
    run = headwater("-f", str(script))
    assert run.status == 1
    lines = run.err.rstrip("\n").splitlines()
    assert lines[0].startswith("line 4:10: ")
    assert "'FRM'" in run.err
    assert lines[-2:] == ["SELECT * FRM orders;", " " * 9 + "^"]


def test_file_runs_every_statement(headwater, tmp_path: Path) -> None:
    script = tmp_path / "setup.sql"
    script.write_text(CREATE + "\n" + INSERTS.replace(";", ";\n") + "SELECT COUNT_NOTHING FROM orders;\n")
    run = headwater("-f", str(script))
    assert run.status == 1  # the last statement is wrong
    run = headwater("-e", "SELECT id FROM orders;")
    assert sorted(result_rows(run.out)) == [["1"], ["2"], ["3"]]


def test_missing_script_file(headwater, tmp_path: Path) -> None:
    run = headwater("-f", str(tmp_path / "nope.sql"))
    assert run.status == 1
    assert run.err.strip() == f"Error: Script file not found: {tmp_path / 'nope.sql'}"


def test_statements_piped_to_stdin_run_as_a_script(headwater) -> None:
    run = headwater(stdin=CREATE + "\nSHOW STREAMS;\n")
    assert run.status == 0, run.err
    assert "ORDERS" in run.out and "headwater>" not in run.out


def test_json_output_is_ksqldb_rest_json(headwater, run_sql) -> None:
    run_sql(CREATE + INSERTS)
    run = headwater("--output", "JSON", "-e", "SHOW STREAMS;")
    assert run.status == 0, run.err
    document = json.loads(run.out)
    assert document[0]["@type"] == "streams"
    assert [s["name"] for s in document[0]["streams"]] == ["ORDERS"]
    rows = headwater("--output", "json", "-e", "SELECT id, item FROM orders;")
    messages = [json.loads(line) for line in rows.out.splitlines() if line.strip()]
    assert "header" in messages[0]
    assert sorted(tuple(m["row"]["columns"]) for m in messages[1:] if "row" in m) == [(1, "tea"), (2, "cake"), (3, "jam")]


def test_define_substitutes_variables(headwater, run_sql) -> None:
    run_sql(CREATE + INSERTS)
    run = headwater("-d", "wanted=cake", "-e", "SELECT id FROM orders WHERE item = '${wanted}';")
    assert run.status == 0, run.err
    assert result_rows(run.out) == [["2"]]


def test_define_rejects_a_name_no_statement_could_refer_to(headwater) -> None:
    run = headwater("-d", "1abc=x", "-e", "SHOW TOPICS;")
    assert run.status == 1
    assert run.err.startswith("Error: Invalid variable name '1abc'")


def test_query_row_limit_stops_a_push_query(headwater, run_sql) -> None:
    run_sql(CREATE + INSERTS)
    run = headwater("--query-row-limit", "2", "-e", "SET 'auto.offset.reset'='earliest'; SELECT id FROM orders EMIT CHANGES;")
    assert run.status == 0, run.err
    assert len(result_rows(run.out)) == 2
    assert run.out.rstrip().endswith("Query terminated")


def test_query_timeout_stops_a_push_query(headwater, run_sql) -> None:
    run_sql(CREATE + INSERTS)
    started = time.monotonic()
    run = headwater("--query-timeout", "1500", "-e", "SELECT id FROM orders EMIT CHANGES;")
    assert run.status == 0, run.err
    assert time.monotonic() - started < 60
    assert result_rows(run.out) == []  # from the end: nothing new came
    assert run.out.rstrip().endswith("Query terminated")


def test_push_query_with_limit_ends_with_its_final_message(headwater, run_sql) -> None:
    run_sql(CREATE + INSERTS)
    run = headwater("-e", "SET 'auto.offset.reset'='earliest'; SELECT id FROM orders EMIT CHANGES LIMIT 2;")
    assert run.status == 0, run.err
    assert len(result_rows(run.out)) == 2
    assert "Limit Reached" in run.out


def test_print_statement_prints_lines(headwater, run_sql) -> None:
    run_sql(CREATE + INSERTS)
    run = headwater("-e", "PRINT 'orders' FROM BEGINNING LIMIT 2;")
    assert run.status == 0, run.err
    assert run.out.count("rowtime: ") == 2
    assert "+--" not in run.out  # lines, not a table


def test_version_and_help(headwater) -> None:
    version = headwater("--version")
    assert version.status == 0 and version.out.startswith("headwater 0.")
    helped = headwater("--help")
    assert helped.status == 0
    for word in ("--execute", "--file", "--output", "--demo", "topic", "produce", "print"):
        assert word in helped.out


def test_unknown_flag_is_a_usage_error(headwater) -> None:
    run = headwater("--no-such-flag")
    assert run.status == 2 and "unrecognized arguments" in run.err


def test_piped_statements_run_as_soon_as_they_are_complete(data_dir: Path, tmp_path: Path) -> None:
    command = [str(Path(sys.executable).parent / "headwater"), "--data-dir", str(data_dir)]
    env = {k: v for k, v in os.environ.items() if k != "HEADWATER_DATA_DIR"}
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=tmp_path, env=env)
    assert process.stdin is not None and process.stdout is not None
    try:
        process.stdin.write(b"SHOW TOPICS;\n")
        process.stdin.flush()
        # The result must come while stdin is still open.
        selector = selectors.DefaultSelector()
        selector.register(process.stdout, selectors.EVENT_READ)
        received = b""
        deadline = time.monotonic() + 60
        while b"Kafka Topic" not in received and time.monotonic() < deadline:
            if selector.select(timeout=1):
                chunk = os.read(process.stdout.fileno(), 4096)
                if not chunk:
                    break
                received += chunk
        assert b"Kafka Topic" in received
        process.stdin.close()
        assert process.wait(timeout=60) == 0
    finally:
        process.kill()

"""Pieces of the shell that need no terminal: query classification, shell commands, error positions,
and printing a query stream (the engine's own QueryStream class, fed by hand)."""

from __future__ import annotations

import io
import threading

from headwater.engine.entities import QueryHeader, QueryRow
from headwater.engine.runtime.transient import QueryStream
from headwater.errors import ParseError
from headwater.repl.commands import CommandLine, parse_command
from headwater.repl.console import Console
from headwater.repl.query_output import QueryOutputOptions, print_query
from headwater.repl.session import _rebase, is_query
from headwater.repl.statements import split_statements


def test_queries_are_select_and_print_whatever_comes_before() -> None:
    assert is_query("SELECT * FROM s;")
    assert is_query("  /* c */ -- d\n print 'topic';")
    assert not is_query("EXPLAIN SELECT * FROM s;")
    assert not is_query("CREATE STREAM s AS SELECT * FROM t;")
    assert not is_query("")


def test_shell_commands_need_no_semicolon_and_take_arguments() -> None:
    assert parse_command("EXIT") == CommandLine("exit", ())
    assert parse_command("quit;") == CommandLine("exit", ())
    assert parse_command(" output JSON ; ") == CommandLine("output", ("JSON",))
    assert parse_command("RUN SCRIPT '/tmp/my file.sql'") == CommandLine("run script", ("/tmp/my file.sql",))
    assert parse_command("set cli wrap off") == CommandLine("set cli", ("wrap", "off"))
    assert parse_command("spool 'it''s.txt'") == CommandLine("spool", ("it's.txt",))
    assert parse_command("help\nmore") is None
    assert parse_command("SHOW TOPICS;") is None
    assert parse_command("exitnow") is None
    # SQL that starts with a command's words stays SQL.
    assert parse_command("SET 'cli' = 'x';") is None
    assert parse_command("SET 'auto.offset.reset'='earliest';") is None


def test_parse_errors_are_moved_to_their_place_in_the_whole_input() -> None:
    text = "SHOW TOPICS;\n  SELECT * FRM s;"
    statement = split_statements(text)[1]
    error = ParseError("bad", line=1, column=10, token="FRM", source=statement.text)
    moved = _rebase(error, statement, text)
    assert (moved.line, moved.column) == (2, 12)
    assert moved.render().splitlines()[1:] == ["  SELECT * FRM s;", " " * 11 + "^"]


def _console() -> tuple[Console, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    return Console(out, err, colour=False), out, err


def test_rows_print_as_a_table_then_the_final_message() -> None:
    stream = QueryStream(QueryHeader("q1", "`ID` INTEGER, `NAME` STRING", ("ID", "NAME"), ("INTEGER", "STRING")))
    stream._put(QueryRow((1, "tea")))
    stream._put(QueryRow((2, None)))
    stream._finish("Limit Reached")
    console, out, _ = _console()
    print_query(stream, console)
    assert out.getvalue().splitlines() == [
        "+----+----+",
        "|ID  |NAME|",
        "+----+----+",
        "|1   |tea |",
        "|2   |null|",
        "+----+----+",
        "Limit Reached",
        "Query terminated",
    ]


def test_rows_arriving_later_print_as_they_come() -> None:
    stream = QueryStream(QueryHeader("q1", "`V` STRING", ("V",), ("STRING",)))
    console, out, _ = _console()
    seen_header = threading.Event()

    def feed() -> None:
        seen_header.wait(10)
        stream._put(QueryRow(("late",)))
        stream._finish(None)

    feeder = threading.Thread(target=feed)
    feeder.start()

    # The header is printed while no row has come yet; the row follows when it arrives.
    def wait_for_header() -> None:
        while "|V" not in out.getvalue():
            threading.Event().wait(0.02)
        seen_header.set()

    watcher = threading.Thread(target=wait_for_header)
    watcher.start()
    print_query(stream, console)
    feeder.join()
    watcher.join()
    assert out.getvalue().splitlines() == ["+----+", "|V   |", "+----+", "|late|", "+----+", "Query terminated"]


def test_a_query_that_fails_while_running_raises_after_its_rows() -> None:
    stream = QueryStream(QueryHeader("q1", "`V` INTEGER", ("V",), ("INTEGER",)))
    stream._put(QueryRow((1,)))
    stream._finish(error=RuntimeError("boom"))
    console, out, _ = _console()
    try:
        print_query(stream, console)
    except RuntimeError as error:
        assert str(error) == "boom"
    else:
        raise AssertionError("the failure was swallowed")
    assert "|1   |" in out.getvalue()


def test_json_output_prints_ksqldb_query_messages() -> None:
    stream = QueryStream(QueryHeader("q1", "`V` INTEGER", ("V",), ("INTEGER",)))
    stream._put(QueryRow((7,)))
    stream._finish("Query Completed")
    console, out, _ = _console()
    print_query(stream, console, QueryOutputOptions(output_format="JSON"))
    assert out.getvalue().splitlines() == [
        '{"header":{"queryId":"q1","schema":"`V` INTEGER"}}',
        '{"row":{"columns":[7]}}',
        '{"finalMessage":"Query Completed"}',
    ]


def test_print_rows_are_lines_of_text() -> None:
    stream = QueryStream(QueryHeader("p", "`TEXT` STRING", ("TEXT",), ("STRING",)))
    stream._put(QueryRow(("Key format: KAFKA_STRING",)))
    stream._put(QueryRow(("rowtime: x, key: k, value: v, partition: 0",)))
    stream._finish("Limit Reached")
    console, out, _ = _console()
    print_query(stream, console, QueryOutputOptions(as_text=True))
    assert out.getvalue().splitlines() == [
        "Key format: KAFKA_STRING",
        "rowtime: x, key: k, value: v, partition: 0",
        "Limit Reached",
        "Topic printing ceased",
    ]

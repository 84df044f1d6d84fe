"""How query results are shown: row limit, timeout, tombstones, wrap and column width, the pager."""

from __future__ import annotations

import io
import time

from headwater.engine.entities import QueryHeader, QueryRow
from headwater.engine.runtime.transient import QueryStream
from headwater.repl.console import Console
from headwater.repl.pager import page_lines
from headwater.repl.query_output import QueryOutputOptions, print_query


def console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(out, io.StringIO(), colour=False), out


def stream_of(*rows: tuple[object, ...], names: tuple[str, ...] = ("ID", "NAME"), final: str | None = None) -> QueryStream:
    stream = QueryStream(QueryHeader("q", "", names, tuple("STRING" for _ in names)))
    for row in rows:
        stream._put(QueryRow(row))
    if final is not None:
        stream._finish(final)
    return stream


def test_the_row_limit_stops_the_query_and_closes_its_stream() -> None:
    stream = stream_of((1, "a"), (2, "b"), (3, "c"))  # a push query: never finishes by itself
    con, out = console()
    shown = print_query(stream, con, QueryOutputOptions(row_limit=2))
    assert shown == 2
    assert stream.closed
    lines = out.getvalue().splitlines()
    assert [line for line in lines if line.startswith("|") and "ID" not in line] == ["|1   |a   |", "|2   |b   |"]
    assert lines[-1] == "Query terminated"


def test_the_timeout_stops_a_quiet_query() -> None:
    stream = stream_of((1, "a"))
    con, out = console()
    started = time.monotonic()
    print_query(stream, con, QueryOutputOptions(timeout_s=0.5))
    assert 0.4 <= time.monotonic() - started < 10
    assert stream.closed
    assert out.getvalue().splitlines()[-2:] == ["+----+----+", "Query terminated"]


def test_tombstones_show_as_ksqldb_shows_them() -> None:
    stream = QueryStream(QueryHeader("q", "", ("ID", "NAME"), ("INTEGER", "STRING")))
    stream._put(QueryRow((1, "a")))
    stream._put(QueryRow((1, None), tombstone=True))
    stream._finish("Query Completed")
    con, out = console()
    print_query(stream, con)
    assert "|1   |<TOMBSTONE>|" in out.getvalue().splitlines()


def test_tombstones_in_json_output_keep_the_flag() -> None:
    stream = QueryStream(QueryHeader("q", "`ID` INTEGER", ("ID",), ("INTEGER",)))
    stream._put(QueryRow((None,), tombstone=True))
    stream._finish(None)
    con, out = console()
    print_query(stream, con, QueryOutputOptions(output_format="JSON"))
    assert out.getvalue().splitlines()[1] == '{"row":{"columns":[null],"tombstone":true}}'


def test_wrap_off_keeps_each_row_on_one_line() -> None:
    long_value = "x" * 100
    con, out = console()
    print_query(stream_of((1, long_value), final="Query Completed"), con, QueryOutputOptions(wrap=False))
    body = [line for line in out.getvalue().splitlines() if line.startswith("|1")]
    assert body == ["|1   |" + "x" * 63 + "…|"]
    con, out = console()
    print_query(stream_of((1, long_value), final="Query Completed"), con)
    assert len([line for line in out.getvalue().splitlines() if line.startswith("|")]) == 3  # header + 2 lines


def test_a_fixed_column_width() -> None:
    con, out = console()
    print_query(stream_of((1, "tea"), final="Query Completed"), con, QueryOutputOptions(column_width=6))
    assert out.getvalue().splitlines()[:4] == ["+------+------+", "|ID    |NAME  |", "+------+------+", "|1     |tea   |"]


def test_paged_results_are_sized_from_every_row() -> None:
    stream = stream_of((1, "a"), (2, "a much longer name"), final="Query Completed")
    con, out = console()
    print_query(stream, con, QueryOutputOptions(paged=True))
    lines = out.getvalue().splitlines()
    assert lines[0] == "+----+------------------+"
    assert lines[-2:] == ["Query Completed", "Query terminated"]


def keys(*presses: bytes):
    pending = list(presses)
    return lambda: pending.pop(0)


def test_the_pager_shows_a_page_then_follows_the_keys() -> None:
    lines = [f"line {n}" for n in range(1, 31)]
    con, out = console()
    shown = page_lines(lines, con, height=10, read_key=keys(b" ", b"\r", b"x", b"q"))
    text = out.getvalue()
    assert shown == 19  # 9, a page of 9 more, one line more; x does nothing; q stops
    assert "line 19\n" in text and "line 20\n" not in text
    assert text.count("-- More -- (lines 1-9 of 30)") == 1
    assert text.rstrip().endswith("(11 more lines not shown)")


def test_the_pager_shows_everything_on_a_or_when_keys_cannot_be_read() -> None:
    lines = [f"line {n}" for n in range(1, 31)]
    con, out = console()
    assert page_lines(lines, con, height=10, read_key=keys(b"a")) == 30
    con, out = console()
    assert page_lines(lines, con, height=10, read_key=lambda: None) == 30
    assert "line 30\n" in out.getvalue()


def test_short_results_are_not_paged() -> None:
    con, out = console()
    assert page_lines(["a", "b"], con, height=10, read_key=lambda: b"q") == 2
    assert out.getvalue() == "a\nb\n"

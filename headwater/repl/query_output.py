"""Printing a query's rows as they arrive, until it ends, reaches a limit, or the user presses Ctrl-C.

A push query never ends by itself, so its rows must be printed as they come and the user must be able
to stop it without losing the shell. The rows are pulled from the query stream (the engine's, or a
server's) on a worker thread and handed over through a queue; the main thread waits on the queue in
short slices, so Ctrl-C (a ``KeyboardInterrupt`` in the main thread) is handled at once whatever the
engine or the network is blocked on. On Ctrl-C the stream is closed, which stops the query where it
runs, and "Query terminated" is printed, as in ksqlDB's CLI, which prints it after every query.

On a terminal a *status line* sits under the rows while a query runs ("Press CTRL-C to interrupt", and
how many rows came so far): it is redrawn below each group of rows and erased when the query ends, so
it never ends up in the scrollback between rows.

Rows that arrive together are printed together, so the first batch sizes the table's columns
(:class:`headwater.repl.table.RowTable`). A *paged* query (a historical SELECT in the interactive shell:
its result is finite) is collected whole first, so every row sizes the columns, and a result longer
than the screen goes through the pager (:mod:`headwater.repl.pager`).

A row the query marks as a tombstone (a table row deleted) shows ``<TOMBSTONE>`` in the cells it has no
value for, as ksqlDB's CLI shows it.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from headwater.repl.console import Console
from headwater.repl.table import RowTable
from headwater.repl.values import cell_text, json_default

__all__ = ["QueryOutputOptions", "print_query"]

_POLL_S = 0.1
# How long to wait for the first rows before printing the header alone: long enough that a query whose
# rows are there at once is sized from them, short enough that a quiet push query shows it is running.
_HEADER_WAIT_S = 0.3
_END = object()
_CURSOR_UP_3 = "\033[3A\r"
_CLEAR_TO_END = "\033[K"
_CLEAR_LINE = "\r\033[K"
TOMBSTONE = "<TOMBSTONE>"
QUERY_TERMINATED = "Query terminated"
PRINT_CEASED = "Topic printing ceased"
STATUS_TEXT = "Press CTRL-C to interrupt"


@dataclass(frozen=True, slots=True)
class QueryOutputOptions:
    """How a query's results are shown.

    Attributes:
        output_format: ``TABULAR`` or ``JSON`` (one ksqlDB ``/query`` JSON document per line).
        as_text: the rows are lines of text to print as they are (``PRINT``), not a table.
        row_limit: stop the query after this many rows (``--query-row-limit``).
        timeout_s: stop the query after this many seconds (``--query-timeout``).
        wrap: long values wrap inside their cells (``set cli wrap``); else rows are cut to one line.
        column_width: a fixed width for every column (``set cli column-width``); 0 sizes from the data.
        status: show the live status line (terminal output only).
        paged: collect the whole result, then page it if it is longer than the screen.
    """

    output_format: str = "TABULAR"
    as_text: bool = False
    row_limit: int | None = None
    timeout_s: float | None = None
    wrap: bool = True
    column_width: int = 0
    status: bool = True
    paged: bool = False


class _Receiver:
    """Rows of a query stream, pulled on a worker thread and handed to the main thread in groups.

    The main thread waits in slices of ``_POLL_S``, so a Ctrl-C (``KeyboardInterrupt``) reaches it at
    once whatever the stream is blocked on.
    """

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.items: queue.Queue[Any] = queue.Queue()
        self.finished = False
        self.failure: BaseException | None = None
        self.worker = threading.Thread(target=self._pump, name="headwater-query-output", daemon=True)
        self.worker.start()

    def _pump(self) -> None:
        try:
            for item in self.stream:
                self.items.put(item)
        except BaseException as error:  # handed to the main thread, which reports it
            self.items.put(_Failure(error))
        finally:
            self.items.put(_END)

    def next_rows(self) -> list[Any] | None:
        """The rows that arrived (all that are there, so they print together), or None if none came
        within one poll interval. Sets ``finished`` (and ``failure``) when the stream ended."""
        try:
            batch = [self.items.get(timeout=_POLL_S)]
        except queue.Empty:
            return None
        while True:
            try:
                batch.append(self.items.get_nowait())
            except queue.Empty:
                break
        rows = []
        for item in batch:
            if item is _END:
                self.finished = True
            elif isinstance(item, _Failure):
                self.failure = item.error
            else:
                rows.append(item)
        return rows

    def stop(self) -> None:
        """Close the stream (stopping the query where it runs) and let the worker finish."""
        self.stream.close()
        self.worker.join(timeout=5)

    def final_message(self) -> str | None:
        final = getattr(self.stream, "final_message", None)
        message = getattr(final, "message", final)
        return str(message) if message else None


class _Failure:
    """An exception raised by the worker thread, handed to the main thread to report."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


class _Limits:
    """The row limit and the deadline of one query run."""

    def __init__(self, options: QueryOutputOptions) -> None:
        self.row_limit = options.row_limit
        self.deadline = None if options.timeout_s is None else time.monotonic() + options.timeout_s

    def take(self, rows: list[Any], seen: int) -> tuple[list[Any], bool]:
        """The rows to show of those that just arrived, and whether the row limit is reached."""
        if self.row_limit is None:
            return rows, False
        room = self.row_limit - seen
        return rows[: max(room, 0)], len(rows) >= room

    def expired(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline


def _arrivals(receiver: _Receiver, limits: _Limits) -> Iterator[list[Any] | None]:
    """The rows of a running query as they arrive, cut to the row limit, and None after each poll
    interval in which none came, for callers that show something while they wait. Stops the query at
    the row limit or the timeout; a Ctrl-C while it waits reaches the caller."""
    taken = 0
    while not receiver.finished:
        if limits.expired():
            receiver.stop()
            return
        rows = receiver.next_rows()
        if rows is None:
            yield None
            continue
        if not rows:
            continue
        rows, limit_reached = limits.take(rows, taken)
        taken += len(rows)
        yield rows
        if limit_reached:
            receiver.stop()
            return


class _StatusLine:
    """The line under a running query's rows; erased before rows are printed and redrawn after."""

    def __init__(self, console: Console, enabled: bool) -> None:
        self.console = console
        self.enabled = enabled and console.is_terminal
        self.visible = False

    def show(self, rows: int) -> None:
        if not self.enabled:
            return
        text = STATUS_TEXT if rows == 0 else f"{STATUS_TEXT} ({rows:,} row{'s' if rows != 1 else ''} so far)"
        width = self.console.width
        if width:
            text = text[: max(width - 1, 1)]
        self.console.write_raw(_CLEAR_LINE + (self.console.emphasis(text) if self.console.colour else text))
        self.visible = True

    def clear(self) -> None:
        """Erase the status line (and a ``^C`` the terminal echoed on it); the cursor is left at the
        start of that line, where the next output goes."""
        if self.enabled and self.visible:
            self.console.write_raw(_CLEAR_LINE)
            self.visible = False


def _columns_of(row: Any) -> list[Any]:
    if isinstance(row, dict):
        return list(row.get("columns", ()))
    return list(getattr(row, "columns", row))


def _is_tombstone(row: Any) -> bool:
    if isinstance(row, dict):
        return bool(row.get("tombstone"))
    return bool(getattr(row, "tombstone", False))


def _cells(row: Any) -> list[str]:
    tombstone = _is_tombstone(row)
    return [TOMBSTONE if value is None and tombstone else cell_text(value) for value in _columns_of(row)]


def _column_names(header: Any) -> list[str]:
    names = list(getattr(header, "column_names", ()) or ())
    if names:
        return names
    # The header's schema text, "`ID` STRING KEY, `NAME` STRING": the names are the quoted parts.
    schema = str(getattr(header, "schema", ""))
    return [part.split("`")[1] for part in schema.split("`,") if part.count("`") >= 2] or ["ROW"]


def _header_json(header: Any) -> Any:
    to_json = getattr(header, "to_json", None)
    if to_json is not None:
        return to_json()
    return {"header": {"queryId": getattr(header, "query_id", None), "schema": getattr(header, "schema", "")}}


def print_query(stream: Any, console: Console, options: QueryOutputOptions | None = None) -> int:
    """Print the rows of ``stream`` until it ends, a limit is reached, or Ctrl-C; returns the number of
    rows shown.

    Args:
        stream: the query stream: ``header``, iteration over rows, ``close()`` and, when the query
            ended by itself, ``final_message``.
        console: where to print.
        options: how to show the rows (default: a table).

    Raises:
        BaseException: what the query raised while running, after the rows it produced are shown.
    """
    options = options or QueryOutputOptions()
    if options.as_text:
        return _print_text(stream, console, options)
    if options.output_format.upper() == "JSON":
        return _print_json(stream, console, options)
    if options.paged:
        return _print_paged(stream, console, options)
    return _print_table(stream, console, options)


def _new_table(stream: Any, console: Console, options: QueryOutputOptions) -> RowTable:
    return RowTable(
        _column_names(stream.header),
        column_width=options.column_width,
        wrap=options.wrap,
        line_width=console.width,
    )


def _print_table(stream: Any, console: Console, options: QueryOutputOptions) -> int:
    table = _new_table(stream, console, options)
    receiver = _Receiver(stream)
    limits = _Limits(options)
    status = _StatusLine(console, options.status)
    printed = 0
    header_shown = False
    waited = 0.0
    status.show(0)
    try:
        for rows in _arrivals(receiver, limits):
            if rows is None:
                waited += _POLL_S
                if not header_shown and waited >= _HEADER_WAIT_S:
                    status.clear()
                    console.lines(table.header_lines())
                    header_shown = True
                    status.show(printed)
                continue
            lines = table.add_rows([_cells(row) for row in rows])
            if lines:
                status.clear()
                if table.header_in_last_lines and header_shown and not printed and console.is_terminal:
                    # The header went out alone, sized from the names; the first rows needed wider
                    # columns: draw the new header over it rather than under it.
                    console.write_raw(_CURSOR_UP_3)
                    lines = [line + _CLEAR_TO_END for line in lines[:3]] + lines[3:]
                console.lines(lines)
                printed += len(rows)
                header_shown = True
                status.show(printed)
    except KeyboardInterrupt:
        receiver.stop()
        status.clear()
        console.lines(_closing(table, printed=printed, header_shown=header_shown))
        console.line(QUERY_TERMINATED)
        return printed
    status.clear()
    if receiver.failure is not None:
        if printed:
            console.line(table.footer_line())
        raise receiver.failure
    console.lines(_closing(table, printed=printed, header_shown=header_shown))
    message = receiver.final_message()
    if message:
        console.line(message)
    console.line(QUERY_TERMINATED)
    return printed


def _print_paged(stream: Any, console: Console, options: QueryOutputOptions) -> int:
    """Collect every row (Ctrl-C stops the query and shows what came), then show the table, through
    the pager when it is longer than the screen."""
    from headwater.repl.pager import page_lines

    receiver = _Receiver(stream)
    limits = _Limits(options)
    status = _StatusLine(console, options.status)
    collected: list[Any] = []
    interrupted = False
    status.show(0)
    try:
        for rows in _arrivals(receiver, limits):
            if rows is not None:
                collected.extend(rows)
                status.show(len(collected))
    except KeyboardInterrupt:
        receiver.stop()
        interrupted = True
    status.clear()
    table = _new_table(stream, console, options)
    lines = table.add_rows([_cells(row) for row in collected]) or table.header_lines()
    lines.append(table.footer_line())
    if receiver.failure is not None and not interrupted:
        if collected:
            console.lines(lines)
        raise receiver.failure
    message = None if interrupted else receiver.final_message()
    if message:
        lines.append(message)
    height = console.height
    if height is None:
        console.lines(lines)
    else:
        page_lines(lines, console, height=height)
    console.line(QUERY_TERMINATED)
    return len(collected)


def _print_json(stream: Any, console: Console, options: QueryOutputOptions) -> int:
    """One ksqlDB ``/query`` JSON document per line: the header, each row, the final message. Nothing
    else goes to stdout, so every line parses."""

    def row_line(row: Any) -> str:
        document: dict[str, Any] = {"columns": _columns_of(row)}
        if _is_tombstone(row):
            document["tombstone"] = True
        return orjson.dumps({"row": document}, default=json_default).decode()

    console.line(orjson.dumps(_header_json(stream.header), default=json_default).decode())
    return _print_lines(
        stream,
        console,
        options,
        row_line=row_line,
        final_line=lambda message: orjson.dumps({"finalMessage": message}).decode(),
        closing=None,
    )


def _print_text(stream: Any, console: Console, options: QueryOutputOptions) -> int:
    """PRINT's output: each row is one line of text; "Topic printing ceased" at the end, as in ksqlDB."""
    return _print_lines(
        stream,
        console,
        options,
        row_line=lambda row: str(_columns_of(row)[0]),
        final_line=lambda message: message,
        closing=PRINT_CEASED,
    )


def _print_lines(
    stream: Any,
    console: Console,
    options: QueryOutputOptions,
    *,
    row_line: Callable[[Any], str],
    final_line: Callable[[str], str],
    closing: str | None,
) -> int:
    """Print one line per row as rows arrive, then the final message and ``closing``; Ctrl-C, the row
    limit or the timeout stop the query."""
    receiver = _Receiver(stream)
    limits = _Limits(options)
    status = _StatusLine(console, options.status and options.output_format.upper() != "JSON")
    printed = 0
    status.show(0)
    try:
        for rows in _arrivals(receiver, limits):
            if rows is None:
                continue
            status.clear()
            console.lines(row_line(row) for row in rows)
            printed += len(rows)
            status.show(printed)
    except KeyboardInterrupt:
        receiver.stop()
        status.clear()
        if closing:
            console.line(closing)
        return printed
    status.clear()
    if receiver.failure is not None:
        raise receiver.failure
    message = receiver.final_message()
    if message:
        console.line(final_line(message))
    if closing:
        console.line(closing)
    return printed


def _closing(table: RowTable, *, printed: int, header_shown: bool) -> list[str]:
    """The lines that close a result table: the bottom border after rows, nothing after a lone header,
    and the header itself if nothing was shown yet (a query that ended with no rows)."""
    if printed:
        return [table.footer_line()]
    if header_shown:
        return []
    return table.header_lines()

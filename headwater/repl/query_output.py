"""Printing a query's rows as they arrive, until it ends or the user presses Ctrl-C.

A push query never ends by itself, so its rows must be printed as they come and the user must be able
to stop it without losing the shell. The rows are pulled from the engine's query stream on a worker
thread and handed over through a queue; the main thread waits on the queue in short slices, so Ctrl-C
(a ``KeyboardInterrupt`` in the main thread) is handled at once whatever the engine is blocked on. On
Ctrl-C the stream is closed, which stops the query in the engine, and "Query terminated" is printed, as
in ksqlDB's CLI.

Rows that arrive together are printed together, so the first batch sizes the table's columns
(:class:`headwater.repl.table.RowTable`).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

import orjson

from headwater.repl.console import Console
from headwater.repl.table import RowTable
from headwater.repl.values import cell_text, json_default

__all__ = ["print_query"]

_POLL_S = 0.1
# How long to wait for the first rows before printing the header alone: long enough that a query whose
# rows are there at once is sized from them, short enough that a quiet push query shows it is running.
_HEADER_WAIT_S = 0.3
_END = object()
_CURSOR_UP_3 = "\033[3A\r"
_CLEAR_TO_END = "\033[K"


class _Receiver:
    """Rows of a query stream, pulled on a worker thread and handed to the main thread in groups.

    The main thread waits in slices of ``_POLL_S``, so a Ctrl-C (``KeyboardInterrupt``) reaches it at
    once whatever the engine is blocked on.
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
        """Close the stream (stopping the query in the engine) and let the worker finish."""
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


def _columns_of(row: Any) -> list[Any]:
    return list(getattr(row, "columns", row))


def _column_names(header: Any) -> list[str]:
    names = list(getattr(header, "column_names", ()) or ())
    if names:
        return names
    # The header's schema text, "`ID` STRING KEY, `NAME` STRING": the names are the quoted parts.
    schema = str(getattr(header, "schema", ""))
    return [part.split("`")[1] for part in schema.split("`,") if part.count("`") >= 2] or ["ROW"]


def print_query(stream: Any, console: Console, *, output_format: str = "TABULAR", as_text: bool = False) -> None:
    """Print the rows of ``stream`` until it ends; Ctrl-C closes it.

    Args:
        stream: the engine's query stream: ``header``, iteration over rows, ``close()`` and, when the
            query ended by itself, ``final_message``.
        console: where to print.
        output_format: ``TABULAR`` or ``JSON`` (one ksqlDB ``/query`` JSON document per line).
        as_text: the rows are lines of text to print as they are (``PRINT``), not a table.

    Raises:
        BaseException: what the query raised while running, after the rows it produced are shown.
    """
    if as_text:
        _print_text(stream, console)
    elif output_format.upper() == "JSON":
        _print_json(stream, console)
    else:
        _print_table(stream, console)


def _print_table(stream: Any, console: Console) -> None:
    table = RowTable(_column_names(stream.header))
    receiver = _Receiver(stream)
    printed_rows = header_shown = False
    waited = 0.0
    try:
        while not receiver.finished:
            rows = receiver.next_rows()
            if rows is None:
                waited += _POLL_S
                if not header_shown and waited >= _HEADER_WAIT_S:
                    console.lines(table.header_lines())
                    header_shown = True
                continue
            lines = table.add_rows([[cell_text(value) for value in _columns_of(row)] for row in rows])
            if not lines:
                continue
            if table.header_in_last_lines and header_shown and not printed_rows and console.is_terminal:
                # The header went out alone, sized from the names; the first rows needed wider columns:
                # draw the new header over it rather than under it.
                console.out.write(_CURSOR_UP_3)
                lines = [line + _CLEAR_TO_END for line in lines[:3]] + lines[3:]
            console.lines(lines)
            printed_rows = header_shown = True
    except KeyboardInterrupt:
        receiver.stop()
        _after_interrupt(console)
        console.lines(_closing(table, printed_rows=printed_rows, header_shown=header_shown))
        console.line("Query terminated")
        return
    if receiver.failure is not None:
        if printed_rows:
            console.line(table.footer_line())
        raise receiver.failure
    console.lines(_closing(table, printed_rows=printed_rows, header_shown=header_shown))
    message = receiver.final_message()
    if message:
        console.line(message)


def _print_json(stream: Any, console: Console) -> None:
    """One ksqlDB ``/query`` JSON document per line: the header, each row, the final message."""
    console.line(orjson.dumps(stream.header.to_json(), default=json_default).decode())
    _print_lines(
        stream,
        console,
        row_line=lambda row: orjson.dumps({"row": {"columns": _columns_of(row)}}, default=json_default).decode(),
        final_line=lambda message: orjson.dumps({"finalMessage": message}).decode(),
        interrupted="Query terminated",
    )


def _print_text(stream: Any, console: Console) -> None:
    """PRINT's output: each row is one line of text."""
    _print_lines(
        stream,
        console,
        row_line=lambda row: str(_columns_of(row)[0]),
        final_line=lambda message: message,
        interrupted="Topic printing ceased",
    )


def _print_lines(
    stream: Any,
    console: Console,
    *,
    row_line: Callable[[Any], str],
    final_line: Callable[[str], str],
    interrupted: str,
) -> None:
    """Print one line per row as rows arrive, then the final message; Ctrl-C stops the query."""
    receiver = _Receiver(stream)
    try:
        while not receiver.finished:
            console.lines(row_line(row) for row in receiver.next_rows() or [])
    except KeyboardInterrupt:
        receiver.stop()
        _after_interrupt(console)
        console.line(interrupted)
        return
    if receiver.failure is not None:
        raise receiver.failure
    message = receiver.final_message()
    if message:
        console.line(final_line(message))


def _after_interrupt(console: Console) -> None:
    """Back to the start of the line, over the ``^C`` the terminal echoed, so what follows lines up."""
    if console.is_terminal:
        console.out.write("\r")


def _closing(table: RowTable, *, printed_rows: bool, header_shown: bool) -> list[str]:
    """The lines that close a result table: the bottom border after rows, nothing after a lone header,
    and the header itself if nothing was shown yet (a query that ended with no rows)."""
    if printed_rows:
        return [table.footer_line()]
    if header_shown:
        return []
    return table.header_lines()

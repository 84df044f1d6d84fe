"""Text tables: the two layouts the shell prints, both sized from the data they show.

*Listings* (``SHOW STREAMS``, ``DESCRIBE``, status messages) use ksqlDB's CLI layout, so that people who
know ksqlDB read them without thinking::

     Stream Name | Kafka Topic | Key Format | Value Format | Windowed
    ------------------------------------------------------------------
     PAGEVIEWS   | pageviews   | KAFKA      | JSON         | false
    ------------------------------------------------------------------

*Query results* use ksqlDB's bordered row layout. A query's rows arrive over time, so the widths cannot
be known up front: :class:`RowTable` sizes each column from its name and the rows it has seen, and when
a later row needs a wider column it widens it and prints the header again, rather than cutting the value.
A value longer than the widest a column may grow (so that one long string does not push every other
column off the screen) wraps onto further lines inside its cell::

    +--------+--------+
    |PAGEID  |USERID  |
    +--------+--------+
    |Page_1  |User_3  |

Cells are plain strings here; :mod:`headwater.repl.values` turns values into cell text.

Example:
    >>> print("\\n".join(listing(["Name", "Partitions"], [["orders", "4"]])))
     Name   | Partitions
    ---------------------
     orders | 4
    ---------------------
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["RowTable", "listing"]

# The narrowest a query-result column may be, and the widest it may grow before values wrap. A column
# is never narrower than its name.
MIN_CELL_WIDTH = 4
MAX_CELL_WIDTH = 64


def _text_width(cell: str) -> int:
    """Display width of a cell: its longest line."""
    return max((len(line) for line in cell.split("\n")), default=0)


def listing(headers: Sequence[str], rows: Sequence[Sequence[str]], *, max_width: int | None = None) -> list[str]:
    """Lines of a ksqlDB-style listing table: header, separator, rows, separator.

    Args:
        headers: column titles.
        rows: the cells, one sequence per row, as many cells as ``headers``. A cell may hold several
            lines; each line is laid out in the column.
        max_width: the terminal width, if known; separators are never longer (as in ksqlDB).

    Returns:
        The lines, without newlines; no trailing spaces, so the output greps and diffs cleanly.
    """
    widths = [
        max([len(title)] + [_text_width(row[index]) for row in rows]) for index, title in enumerate(headers)
    ]
    separator_length = sum(widths) + 3 * len(widths) - 1
    if max_width is not None:
        separator_length = min(separator_length, max_width)
    separator = "-" * separator_length

    def render(cells: Sequence[str]) -> list[str]:
        split = [cell.split("\n") for cell in cells]
        height = max((len(parts) for parts in split), default=1)
        lines = []
        for line_index in range(height):
            parts = [
                (parts[line_index] if line_index < len(parts) else "").ljust(width)
                for parts, width in zip(split, widths, strict=True)
            ]
            lines.append((" " + " | ".join(parts)).rstrip())
        return lines

    out = render(headers)
    out.append(separator)
    for row in rows:
        out.extend(render(row))
    out.append(separator)
    return out


class RowTable:
    """The bordered layout of query results, printed a row at a time as rows arrive.

    Call :meth:`add_rows` with each group of rows the query yields; it returns the lines to print now.
    The first call sizes the columns from the header and the rows given, so giving the first rows
    together (as a query's first batch arrives) gives the best widths.

    Example:
        >>> table = RowTable(["ID", "NAME"])
        >>> print("\\n".join(table.add_rows([["1", "tea"]])))
        +----+----+
        |ID  |NAME|
        +----+----+
        |1   |tea |
        >>> print("\\n".join(table.add_rows([["2", "biscuits"]])))
        +----+--------+
        |ID  |NAME    |
        +----+--------+
        |2   |biscuits|
    """

    def __init__(self, headers: Sequence[str], *, max_cell_width: int = MAX_CELL_WIDTH) -> None:
        self.headers = list(headers)
        self.max_cell_width = max(max_cell_width, MIN_CELL_WIDTH)
        self.widths: list[int] | None = None
        self.header_in_last_lines = False

    def header_lines(self) -> list[str]:
        """The header block at the current widths (sized from the names alone if no row came yet)."""
        if self.widths is None:
            self.widths = [max(len(title), MIN_CELL_WIDTH) for title in self.headers]
        border = self.border()
        return [border, *self._render(self.headers, wrap=False), border]

    def border(self) -> str:
        """The ``+----+----+`` line at the current widths."""
        assert self.widths is not None
        return "+" + "+".join("-" * width for width in self.widths) + "+"

    def add_rows(self, rows: Sequence[Sequence[str]]) -> list[str]:
        """Lines that show ``rows``, preceded by a header block (and ``header_in_last_lines`` set) when
        this is the first output or a column had to widen."""
        if not rows:
            return []
        wanted = [
            min(max([width] + [_text_width(row[index]) for row in rows]), max(width, self.max_cell_width))
            for index, width in enumerate(self._starting_widths())
        ]
        lines: list[str] = []
        self.header_in_last_lines = wanted != self.widths
        if self.header_in_last_lines:
            self.widths = wanted
            lines.extend(self.header_lines())
        for row in rows:
            lines.extend(self._render(row, wrap=True))
        return lines

    def footer_line(self) -> str:
        """The closing border, printed when a query ends."""
        if self.widths is None:
            self.widths = [max(len(title), MIN_CELL_WIDTH) for title in self.headers]
        return self.border()

    def _starting_widths(self) -> list[int]:
        if self.widths is not None:
            return self.widths
        return [max(len(title), MIN_CELL_WIDTH) for title in self.headers]

    def _render(self, cells: Sequence[str], *, wrap: bool) -> list[str]:
        """One logical row as one or more physical lines; long or multi-line cells wrap inside their
        column."""
        assert self.widths is not None
        columns: list[list[str]] = []
        for cell, width in zip(cells, self.widths, strict=True):
            pieces: list[str] = []
            for line in cell.split("\n") if wrap else [cell]:
                if not wrap or len(line) <= width:
                    pieces.append(line)
                else:
                    pieces.extend(line[start : start + width] for start in range(0, len(line), width))
            columns.append(pieces or [""])
        height = max(len(pieces) for pieces in columns)
        return [
            "|"
            + "|".join(
                (pieces[line_index] if line_index < len(pieces) else "").ljust(width)
                for pieces, width in zip(columns, self.widths, strict=True)
            )
            + "|"
            for line_index in range(height)
        ]

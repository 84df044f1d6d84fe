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

    def __init__(
        self,
        headers: Sequence[str],
        *,
        max_cell_width: int = MAX_CELL_WIDTH,
        column_width: int = 0,
        wrap: bool = True,
        line_width: int | None = None,
    ) -> None:
        """
        Args:
            headers: the column names.
            max_cell_width: the widest a column grows from its data before long values wrap.
            column_width: every column exactly this wide (ksqlDB's ``set cli column-width``); 0 sizes
                the columns from the data.
            wrap: long values wrap onto further lines inside their cell (ksqlDB's ``set cli wrap ON``);
                when False each row is one line: a long value is cut, marked with ``…``, and the line is
                cut at ``line_width``.
            line_width: the terminal width, used only when ``wrap`` is False.
        """
        self.headers = list(headers)
        self.max_cell_width = max(max_cell_width, MIN_CELL_WIDTH)
        self.column_width = max(column_width, 0)
        self.wrap = wrap
        self.line_width = line_width
        self.widths: list[int] | None = None
        self.header_in_last_lines = False

    def header_lines(self) -> list[str]:
        """The header block at the current widths (sized from the names alone if no row came yet)."""
        if self.widths is None:
            self.widths = self._starting_widths()
        border = self.border()
        return [border, *self._render(self.headers, wrap=False), border]

    def border(self) -> str:
        """The ``+----+----+`` line at the current widths."""
        assert self.widths is not None
        return self._clip_line("+" + "+".join("-" * width for width in self.widths) + "+")

    def add_rows(self, rows: Sequence[Sequence[str]]) -> list[str]:
        """Lines that show ``rows``, preceded by a header block (and ``header_in_last_lines`` set) when
        this is the first output or a column had to widen."""
        if not rows:
            return []
        if self.column_width:
            wanted = self._starting_widths()
        else:
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
            self.widths = self._starting_widths()
        return self.border()

    def _starting_widths(self) -> list[int]:
        if self.widths is not None:
            return self.widths
        if self.column_width:
            return [self.column_width] * len(self.headers)
        return [max(len(title), MIN_CELL_WIDTH) for title in self.headers]

    def _render(self, cells: Sequence[str], *, wrap: bool) -> list[str]:
        """One logical row as one or more physical lines; long or multi-line cells wrap inside their
        column (or, with wrapping off, are cut to it)."""
        assert self.widths is not None
        columns: list[list[str]] = []
        for cell, width in zip(cells, self.widths, strict=True):
            pieces: list[str] = []
            if not self.wrap:
                flat = cell.replace("\n", " ")
                pieces.append(flat if len(flat) <= width else flat[: max(width - 1, 0)] + "…")
            else:
                for line in cell.split("\n") if wrap else [cell]:
                    if len(line) <= width:
                        pieces.append(line)
                    elif not wrap:
                        pieces.append(line[: max(width - 1, 0)] + "…")
                    else:
                        pieces.extend(line[start : start + width] for start in range(0, len(line), width))
            columns.append(pieces or [""])
        height = max(len(pieces) for pieces in columns)
        return [
            self._clip_line(
                "|"
                + "|".join(
                    (pieces[line_index] if line_index < len(pieces) else "").ljust(width)
                    for pieces, width in zip(columns, self.widths, strict=True)
                )
                + "|"
            )
            for line_index in range(height)
        ]

    def _clip_line(self, line: str) -> str:
        """With wrapping off, a line no wider than the terminal (so every row stays on one line)."""
        if self.wrap or self.line_width is None or len(line) <= self.line_width:
            return line
        return line[: self.line_width]

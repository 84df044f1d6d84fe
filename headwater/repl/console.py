"""Where the shell writes: results to stdout, errors to stderr, colour only on a terminal.

One object decides, once, whether output goes to a person or a program. On a terminal errors are red and
listings are bounded by the terminal's width; when stdout is a pipe or a file everything is plain text
(no colour, no escape sequences, no prompt), so ``headwater -e "..." | grep x`` sees exactly the table
lines.

The console also keeps the shell's *spool* (ksqlDB's ``spool <file>``): while one is open, every line
written (results, messages and errors) is copied to the file as plain text, colour codes removed.
Cursor movements and the live status line (:meth:`write_raw`) are for the screen only and are not
copied.

Example:
    >>> import io
    >>> out, err = io.StringIO(), io.StringIO()
    >>> console = Console(out, err)
    >>> console.lines(["a", "b"]); console.error("Bad thing")
    >>> out.getvalue(), err.getvalue()
    ('a\\nb\\n', 'Bad thing\\n')
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

__all__ = ["Console", "plain"]

_RED = "\033[31m"
_BOLD = "\033[1m"
_RESET = "\033[0m"
_ESCAPE_SEQUENCE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def plain(text: str) -> str:
    """``text`` without terminal escape sequences (colours, cursor movement)."""
    return _ESCAPE_SEQUENCE.sub("", text)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Console:
    """The shell's output.

    Args:
        out: where results go (stdout).
        err: where errors go (stderr).
        colour: force colour on or off; by default on when ``out`` is a terminal and ``NO_COLOR`` is unset.
    """

    def __init__(self, out: TextIO | None = None, err: TextIO | None = None, *, colour: bool | None = None) -> None:
        self.out = out if out is not None else sys.stdout
        self.err = err if err is not None else sys.stderr
        self.is_terminal = _is_terminal(self.out)
        self.colour = (self.is_terminal and "NO_COLOR" not in os.environ) if colour is None else colour
        self.spool: TextIO | None = None
        self.spool_path: Path | None = None

    @property
    def width(self) -> int | None:
        """The terminal's width in columns, or None when output is not a terminal (no limit)."""
        if not self.is_terminal:
            return None
        return shutil.get_terminal_size((100, 24)).columns

    @property
    def height(self) -> int | None:
        """The terminal's height in lines, or None when output is not a terminal."""
        if not self.is_terminal:
            return None
        return shutil.get_terminal_size((100, 24)).lines

    def line(self, text: str = "") -> None:
        """Write one line and flush, so rows of a running query appear as they arrive."""
        self.out.write(text + "\n")
        self.out.flush()
        self._to_spool(text + "\n")

    def lines(self, lines: Iterable[str]) -> None:
        """Write several lines and flush once."""
        text = "".join(line + "\n" for line in lines)
        self.out.write(text)
        self.out.flush()
        self._to_spool(text)

    def write_raw(self, text: str) -> None:
        """Write screen-only text (a status line, cursor movement): not a line, and not spooled."""
        self.out.write(text)
        self.out.flush()

    def start_spool(self, path: Path) -> None:
        """Copy everything written from now on to ``path`` (replacing what it held).

        Raises:
            OSError: the file cannot be opened for writing.
        """
        self.stop_spool()
        self.spool = path.open("w", encoding="utf-8")
        self.spool_path = path

    def stop_spool(self) -> Path | None:
        """Close the spool, if one is open; returns its path."""
        path = self.spool_path
        if self.spool is not None:
            self.spool.close()
        self.spool = None
        self.spool_path = None
        return path

    def spool_only(self, text: str) -> None:
        """Write a line to the spool alone (the statements the user typed, which the terminal already
        shows)."""
        self._to_spool(text + "\n")

    def _to_spool(self, text: str) -> None:
        if self.spool is not None:
            self.spool.write(plain(text))
            self.spool.flush()

    def emphasis(self, text: str) -> str:
        """``text`` in bold on a colour terminal, unchanged otherwise."""
        return f"{_BOLD}{text}{_RESET}" if self.colour else text

    def error(self, message: str) -> None:
        """Write an error message to stderr (red on a colour terminal)."""
        self.out.flush()
        text = f"{_RED}{message}{_RESET}" if self.colour and _is_terminal(self.err) else message
        self.err.write(text + "\n")
        self.err.flush()
        self._to_spool(message + "\n")

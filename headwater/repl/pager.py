"""A ``more``-style pager for long results in the interactive shell.

A historical query can return thousands of rows; printed at once they scroll past faster than anyone can
read and push everything before them out of sight. On a terminal, a result longer than the screen is
shown a screenful at a time, with a prompt line under it:

    -- More -- (rows 1-47 of 1,200)  Space: next page  Enter: next line  a: all  q: stop

The lines stay in the terminal's scrollback as they are shown (no alternate screen, unlike ``less``),
so what was read is still there after the pager ends. Keys: Space, ``f`` or Page Down for the next
page; Enter, ``j`` or Down for the next line; ``a``, ``G`` or End for all the rest; ``q``, Escape or
Ctrl-C to stop, after which one line says how much was not shown.

Keys are read one at a time in raw mode from the terminal (POSIX ``termios``). Where that is not
possible (no terminal, no termios) the lines are printed whole: paging is a convenience, never a
condition for seeing a result.
"""

from __future__ import annotations

import os
import select
import sys
from collections.abc import Callable, Sequence
from enum import Enum

from headwater.repl.console import Console

__all__ = ["PagerKey", "page_lines", "read_terminal_key"]

_REVERSE = "\033[7m"
_RESET = "\033[0m"
_CLEAR_LINE = "\r\033[K"


class PagerKey(Enum):
    """What a key press asks the pager to do."""

    PAGE = "page"
    LINE = "line"
    ALL = "all"
    QUIT = "quit"
    NOTHING = "nothing"


_KEYS: dict[bytes, PagerKey] = {
    b" ": PagerKey.PAGE,
    b"f": PagerKey.PAGE,
    b"\x1b[6~": PagerKey.PAGE,
    b"\r": PagerKey.LINE,
    b"\n": PagerKey.LINE,
    b"j": PagerKey.LINE,
    b"\x1b[B": PagerKey.LINE,
    b"\x1bOB": PagerKey.LINE,
    b"a": PagerKey.ALL,
    b"G": PagerKey.ALL,
    b"\x1b[F": PagerKey.ALL,
    b"\x1b[4~": PagerKey.ALL,
    b"q": PagerKey.QUIT,
    b"Q": PagerKey.QUIT,
    b"\x1b": PagerKey.QUIT,
    b"\x03": PagerKey.QUIT,
    b"\x04": PagerKey.QUIT,
}


def key_action(key: bytes) -> PagerKey:
    """The pager action of one key press (its bytes, an escape sequence for special keys)."""
    return _KEYS.get(key, PagerKey.NOTHING)


def read_terminal_key() -> bytes | None:
    """One key press from the terminal on stdin, in raw mode; None when stdin is not a terminal or the
    platform has no termios (the caller then prints without paging)."""
    try:
        import termios
        import tty
    except ImportError:
        return None
    fd = sys.stdin.fileno()
    if not os.isatty(fd):
        return None
    saved = termios.tcgetattr(fd)
    try:
        tty.setraw(fd)
        key = os.read(fd, 1)
        if key == b"\x1b":
            # An escape sequence (arrows, Page Down) arrives at once; Escape alone is followed by nothing.
            while select.select([fd], [], [], 0.03)[0]:
                key += os.read(fd, 1)
                if len(key) >= 6 or key[-1:].isalpha() or key[-1:] == b"~":
                    break
        return key
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def page_lines(
    lines: Sequence[str],
    console: Console,
    *,
    height: int,
    read_key: Callable[[], bytes | None] = read_terminal_key,
    unit: str = "lines",
) -> int:
    """Show ``lines`` a screenful at a time; returns how many were shown.

    Args:
        lines: everything to show.
        console: where to write.
        height: the terminal's height; a page is one line less (the prompt line).
        read_key: reads one key press (bytes); None means keys cannot be read, so the rest is printed.
        unit: what the prompt counts (``lines``).
    """
    page = max(height - 1, 1)
    if len(lines) <= page:
        console.lines(lines)
        return len(lines)
    shown = page
    console.lines(lines[:shown])
    total = len(lines)
    while shown < total:
        prompt = (
            f"-- More -- ({unit} 1-{shown} of {total:,})  Space: next page  Enter: next line  a: all  q: stop"
        )
        if console.width:
            prompt = prompt[: max(console.width - 1, 10)]
        console.write_raw(f"{_REVERSE}{prompt}{_RESET}" if console.colour else prompt)
        key = read_key()
        console.write_raw(_CLEAR_LINE)
        action = PagerKey.ALL if key is None else key_action(key)
        if action is PagerKey.NOTHING:
            continue
        if action is PagerKey.QUIT:
            console.line(f"({total - shown:,} more {unit} not shown)")
            return shown
        step = {PagerKey.PAGE: page, PagerKey.LINE: 1, PagerKey.ALL: total}[action]
        console.lines(lines[shown : shown + step])
        shown = min(shown + step, total)
    return shown

"""A one-line progress bar for long loads, redrawn in place on a terminal.

``headwater produce`` can read gigabytes; without a sign of life a user cannot tell a slow load from a
hung one. The bar shows how much input has been read (and, when the input is a file of known size, what
fraction), how many records were taken, and the rate. It redraws at most ten times a second, so drawing
costs nothing next to the load, and writes to stderr, so stdout stays clean for pipes.

Example:
    >>> import io
    >>> out = io.StringIO()
    >>> bar = ProgressBar(out, total_bytes=1000, clock=iter([0.0, 1.0, 2.0]).__next__)
    >>> bar.update(bytes_done=500, records=10)
    >>> bar.finish()
    >>> out.getvalue().split("\\r")[-1].strip()
    '[####################] 100%  1,000 B  10 records  (5 records/s)'
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

__all__ = ["ProgressBar", "human_bytes"]

_BAR_WIDTH = 20
_REDRAW_INTERVAL_S = 0.1


def human_bytes(count: float) -> str:
    """A byte count with a binary unit, e.g. ``12.5 MiB``."""
    if count < 1024:
        return f"{int(count):,} B"
    for unit in ("KiB", "MiB", "GiB"):
        count /= 1024
        if count < 1024:
            return f"{count:.1f} {unit}"
    return f"{count / 1024:.1f} TiB"


class ProgressBar:
    """Progress of a load, drawn on one line of ``out``.

    Args:
        out: where to draw (a terminal's stderr, usually).
        total_bytes: the input's size if known (a regular file), for a percentage; None for pipes.
        clock: seconds as a float; a parameter so the bar can be tested without waiting.
    """

    def __init__(
        self,
        out: TextIO,
        *,
        total_bytes: int | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.out = out
        self.total_bytes = total_bytes
        self.clock = clock
        self.started = clock()
        self.last_drawn = float("-inf")
        self.bytes_done = 0
        self.records = 0
        self.drawn_width = 0

    def update(self, *, bytes_done: int, records: int) -> None:
        """Record progress and redraw if the last drawing is old enough."""
        self.bytes_done = bytes_done
        self.records = records
        now = self.clock()
        if now - self.last_drawn >= _REDRAW_INTERVAL_S:
            self.last_drawn = now
            self._draw(now)

    def finish(self) -> None:
        """Draw the final state and end the line."""
        if self.total_bytes is not None:
            self.bytes_done = self.total_bytes
        self._draw(self.clock())
        self.out.write("\n")
        self.out.flush()

    def _draw(self, now: float) -> None:
        elapsed = max(now - self.started, 1e-9)
        rate = f"({self.records / elapsed:,.0f} records/s)"
        size = human_bytes(self.bytes_done)
        if self.total_bytes:
            fraction = min(self.bytes_done / self.total_bytes, 1.0)
            filled = round(fraction * _BAR_WIDTH)
            bar = "[" + "#" * filled + "." * (_BAR_WIDTH - filled) + f"] {fraction:4.0%}"
            text = f"{bar}  {size}  {self.records:,} records  {rate}"
        else:
            text = f"{size}  {self.records:,} records  {rate}"
        # Spaces over the rest of a longer previous drawing, instead of a terminal escape, so the bar
        # reads the same in a log file.
        self.out.write("\r" + text.ljust(self.drawn_width))
        self.drawn_width = len(text)
        self.out.flush()

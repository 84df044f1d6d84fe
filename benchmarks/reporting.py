"""What the benchmarks share in their reports: the machine they ran on, and the plotting library.

Each benchmark writes its numbers as JSON and, when matplotlib is there, a plot; these read the CPU and
load matplotlib the same way for all of them.
"""

from __future__ import annotations

import platform
import sys
from pathlib import Path
from typing import Any

__all__ = ["cpu_model", "pyplot"]


def cpu_model() -> str:
    """The CPU's model name from ``/proc/cpuinfo`` (Linux), else what :mod:`platform` knows, else
    ``unknown``: a benchmark result is only comparable with others from the same CPU."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def pyplot() -> Any | None:
    """``matplotlib.pyplot`` drawing to files only (no display needed), or None, said on stderr, when
    matplotlib is not installed: it is optional, and the JSON results do not need it."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot written", file=sys.stderr)
        return None
    return plt

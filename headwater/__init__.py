"""Headwater: a streaming SQL engine that speaks ksqlDB's dialect on a vectorized Arrow core.

The public Python API is deliberately small; see docs/ for the tour. ``headwater.connect(data_dir)``
(:mod:`headwater.api`) opens a data directory; it is imported on first use, so that ``import headwater``
(and the command line) stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from headwater.api import connect

__version__ = "0.1.0"

__all__ = ["__version__", "connect"]


def __getattr__(name: str) -> Any:
    if name == "connect":
        from headwater.api import connect

        return connect
    raise AttributeError(f"module 'headwater' has no attribute {name!r}")

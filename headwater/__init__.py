"""Headwater: a streaming SQL engine that speaks ksqlDB's dialect on a vectorized Arrow core.

The public Python API is deliberately small; see docs/ for the tour.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]

"""The SQL function library: scalar and table functions, with the aggregates of
:mod:`headwater.engine.aggregates` in the same registry.

:func:`default_registry` returns the registry of every built-in function (each family module is
imported on first use, see :mod:`.catalog`); the contract between the library and the expression
compiler is in :mod:`.registry` and :mod:`.resolution`.
"""

from __future__ import annotations

from headwater.engine.functions.registry import FunctionRegistry

__all__ = ["build_registry", "default_registry"]


def default_registry() -> FunctionRegistry:
    """The shared registry of every built-in function (built on first use)."""
    from headwater.engine.functions.catalog import default_registry as build_once

    return build_once()


def build_registry() -> FunctionRegistry:
    """A fresh registry of every built-in function, for callers that register more."""
    from headwater.engine.functions.catalog import build_registry as build

    return build()

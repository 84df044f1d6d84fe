"""The product's function library: every family module's functions in one registry.

Example:
    >>> registry = default_registry()
    >>> registry.lookup("substring").category, "EXPLODE" in registry.names()
    ('STRING', True)
"""

from __future__ import annotations

from functools import lru_cache

from headwater.engine.functions import (
    arrays,
    conditional,
    encoding,
    json_functions,
    lambdas,
    maps,
    numeric,
    other,
    regexp,
    strings,
    table,
    url,
)
from headwater.engine.functions import datetime_functions as datetime_functions
from headwater.engine.functions.registry import FunctionRegistry, ScalarFunction, TableFunction

__all__ = ["FAMILIES", "build_registry", "default_registry"]

FAMILIES = (
    numeric,
    conditional,
    strings,
    regexp,
    encoding,
    arrays,
    maps,
    lambdas,
    json_functions,
    url,
    datetime_functions,
    other,
    table,
)
"""The modules that define functions, each with a ``FUNCTIONS`` tuple."""


def build_registry() -> FunctionRegistry:
    """A new registry holding every function of the library (for callers that add their own, such
    as the conformance runner's test-only functions)."""
    registry = FunctionRegistry()
    for family in FAMILIES:
        functions: tuple[ScalarFunction | TableFunction, ...] = family.FUNCTIONS
        for function in functions:
            registry.register(function)
    return registry


@lru_cache(maxsize=1)
def default_registry() -> FunctionRegistry:
    """The shared registry of every built-in function, built once. Treat it as read-only; call
    :func:`build_registry` for one to extend."""
    return build_registry()

"""The product's function library: every family module's functions, and the aggregates, in one registry.

The registry is built without importing the family modules: :data:`FAMILY_FUNCTIONS` names the
functions of each family, and a family is imported the first time one of its functions is looked up
(the shell starts before any query needs, say, the URL or date-time functions; importing every family
costs 100-250 ms). The aggregates of :mod:`headwater.engine.aggregates` are deferred the same way,
loaded when a name is not found among the scalar functions' aggregates or when every name is listed.
``tests/functions/test_catalog.py`` checks that the index matches the modules.

Example:
    >>> registry = default_registry()
    >>> registry.lookup("substring").category, "EXPLODE" in registry.names()
    ('STRING', True)
    >>> registry.aggregate("count").name
    'COUNT'
"""

from __future__ import annotations

from functools import lru_cache
from importlib import import_module
from typing import Any

from headwater.engine.functions.registry import FunctionRegistry, ScalarFunction, TableFunction

__all__ = ["FAMILIES", "FAMILY_FUNCTIONS", "build_registry", "default_registry"]

FAMILY_FUNCTIONS: dict[str, tuple[str, ...]] = {
    "numeric": (
        "ABS", "ACOS", "ASIN", "ATAN", "ATAN2", "CBRT", "CEIL", "COS", "COSH", "COT", "DEGREES", "EXP",
        "FLOOR", "GEO_DISTANCE", "LN", "LOG", "PI", "POWER", "RADIANS", "RANDOM", "ROUND", "SIGN", "SIN",
        "SINH", "SQRT", "TAN", "TANH", "TRUNC",
    ),
    "conditional": ("COALESCE", "GREATEST", "IFNULL", "LEAST", "NULLIF"),
    "strings": (
        "CHR", "CONCAT", "CONCAT_WS", "ELT", "FIELD", "INITCAP", "INSTR", "LCASE", "LEN", "LPAD", "MASK",
        "MASK_KEEP_LEFT", "MASK_KEEP_RIGHT", "MASK_LEFT", "MASK_RIGHT", "MD5", "REPLACE", "RPAD", "SPLIT",
        "SPLIT_TO_MAP", "SUBSTRING", "TRIM", "UCASE", "UUID",
    ),
    "regexp": ("REGEXP_EXTRACT", "REGEXP_EXTRACT_ALL", "REGEXP_REPLACE", "REGEXP_SPLIT_TO_ARRAY"),
    "encoding": ("BIGINT_FROM_BYTES", "DOUBLE_FROM_BYTES", "ENCODE", "FROM_BYTES", "INT_FROM_BYTES", "TO_BYTES"),
    "arrays": (
        "ARRAY_CONCAT", "ARRAY_CONTAINS", "ARRAY_DISTINCT", "ARRAY_EXCEPT", "ARRAY_INTERSECT", "ARRAY_JOIN",
        "ARRAY_LENGTH", "ARRAY_MAX", "ARRAY_MIN", "ARRAY_REMOVE", "ARRAY_SORT", "ARRAY_UNION",
        "GENERATE_SERIES", "SLICE",
    ),
    "maps": ("AS_MAP", "ENTRIES", "MAP_KEYS", "MAP_UNION", "MAP_VALUES"),
    "lambdas": ("FILTER", "REDUCE", "TRANSFORM"),
    "json_functions": (
        "EXTRACTJSONFIELD", "IS_JSON_STRING", "JSON_ARRAY_CONTAINS", "JSON_ARRAY_LENGTH", "JSON_CONCAT",
        "JSON_ITEMS", "JSON_KEYS", "JSON_RECORDS", "TO_JSON_STRING",
    ),
    "url": (
        "URL_DECODE_PARAM", "URL_ENCODE_PARAM", "URL_EXTRACT_FRAGMENT", "URL_EXTRACT_HOST",
        "URL_EXTRACT_PARAMETER", "URL_EXTRACT_PATH", "URL_EXTRACT_PORT", "URL_EXTRACT_PROTOCOL",
        "URL_EXTRACT_QUERY",
    ),
    "datetime_functions": (
        "CONVERT_TZ", "DATEADD", "DATESUB", "DATETOSTRING", "FORMAT_DATE", "FORMAT_TIME", "FORMAT_TIMESTAMP",
        "FROM_DAYS", "FROM_UNIXTIME", "PARSE_DATE", "PARSE_TIME", "PARSE_TIMESTAMP", "STRINGTODATE",
        "STRINGTOTIMESTAMP", "TIMEADD", "TIMESTAMPADD", "TIMESTAMPSUB", "TIMESTAMPTOSTRING", "TIMESUB",
        "UNIX_DATE", "UNIX_TIMESTAMP",
    ),
    "other": ("AS_VALUE",),
    "table": ("CUBE_EXPLODE", "EXPLODE"),
}  # fmt: skip
"""The functions each family module of this package defines (in its ``FUNCTIONS`` tuple), by module."""

FAMILIES = tuple(FAMILY_FUNCTIONS)
"""The modules of this package that define functions, each with a ``FUNCTIONS`` tuple."""


def _family_loader(module: str) -> Any:
    def load() -> tuple[ScalarFunction | TableFunction, ...]:
        functions: tuple[ScalarFunction | TableFunction, ...] = import_module(
            f"headwater.engine.functions.{module}"
        ).FUNCTIONS
        return functions

    return load


def _aggregates() -> list[Any]:
    """The aggregates ``register_aggregates`` registers (into a scratch registry, then handed over)."""
    from headwater.engine.aggregates import register_aggregates

    return register_aggregates(FunctionRegistry()).aggregates()


def build_registry() -> FunctionRegistry:
    """A new registry holding every function of the library and every aggregate, each family
    imported on first use (for callers that add their own, such as the conformance runner's
    test-only functions)."""
    registry = FunctionRegistry()
    for module, names in FAMILY_FUNCTIONS.items():
        registry.defer(_family_loader(module), names=names)
    registry.defer(_aggregates, aggregates=True)
    return registry


@lru_cache(maxsize=1)
def default_registry() -> FunctionRegistry:
    """The shared registry of every built-in function, built once. Treat it as read-only; call
    :func:`build_registry` for one to extend."""
    return build_registry()

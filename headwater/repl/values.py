"""Cell text for query result values.

Query rows reach the shell as JSON-ready values (``None``, booleans, numbers, strings, lists, dicts), as
ksqlDB's ``/query`` endpoint sends them. A table cell shows each as a reader of ksqlDB's CLI expects:
``null`` for a missing value, ``true``/``false``, numbers as written, strings without quotes, and nested
values (ARRAY, MAP, STRUCT) as compact JSON so that the structure and the types inside stay visible.

Example:
    >>> [cell_text(v) for v in (None, True, 3, 2.5, "tea", [1, None], {"A": "x"})]
    ['null', 'true', '3', '2.5', 'tea', '[1,null]', '{"A":"x"}']
"""

from __future__ import annotations

import base64
import decimal
from typing import Any

import orjson

__all__ = ["cell_text", "json_default"]


def json_default(value: Any) -> Any:
    """orjson's fallback for values JSON has no type for: exact decimals as numbers in text form would
    lose nothing, but orjson cannot emit raw numbers, so they become strings; bytes become base64, as
    ksqlDB's REST API sends BYTES."""
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def cell_text(value: Any) -> str:
    """The text of one value in a result table."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float | decimal.Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    return orjson.dumps(value, default=json_default, option=orjson.OPT_NON_STR_KEYS).decode()

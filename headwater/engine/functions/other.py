"""Functions that fit no family: AS_VALUE.

Example:
    >>> import pyarrow as pa
    >>> from headwater.engine.functions.registry import CallContext
    >>> from headwater.parser import types as t
    >>> _as_value([pa.array([1, None])], CallContext((t.INT,), t.INT, 2)).to_pylist()
    [1, None]
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from headwater.engine.functions.columns import as_array
from headwater.engine.functions.registry import CallContext, Datum, Generic, Param, ScalarFunction, Signature

__all__ = ["FUNCTIONS"]

_T = Generic("T")


def _as_value(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    return as_array(args[0], ctx.length)


FUNCTIONS: tuple[ScalarFunction, ...] = (
    ScalarFunction(
        "AS_VALUE",
        "OTHER",
        "Used exclusively in the projection of a query to copy a key column into the value.",
        (Signature((Param("keyColumn", _T, "The key column to copy into the value."),), _T, _as_value),),
    ),
)

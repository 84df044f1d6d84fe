"""The CAST entry points: pick the kernel for a pair of types, run it, report or raise row failures."""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa

from headwater.engine.casts import nested, numeric, temporal, text
from headwater.engine.casts.outcome import CastResult, as_array
from headwater.engine.casts.rules import base_name, check_cast
from headwater.engine.functions.registry import FunctionError
from headwater.engine.types import to_arrow
from headwater.parser import types as t

__all__ = ["cast", "try_cast"]

Kernel = Callable[[pa.Array, t.SqlType, t.SqlType], CastResult]

_KERNELS: dict[tuple[str, str], Kernel] = {
    ("INTEGER", "BIGINT"): numeric.integral_to_integral,
    ("BIGINT", "INTEGER"): numeric.integral_to_integral,
    ("INTEGER", "DOUBLE"): numeric.number_to_double,
    ("BIGINT", "DOUBLE"): numeric.number_to_double,
    ("INTEGER", "DECIMAL"): numeric.integral_to_decimal,
    ("BIGINT", "DECIMAL"): numeric.integral_to_decimal,
    ("DOUBLE", "INTEGER"): numeric.double_to_integral,
    ("DOUBLE", "BIGINT"): numeric.double_to_integral,
    ("DOUBLE", "DECIMAL"): numeric.double_to_decimal,
    ("DECIMAL", "INTEGER"): numeric.decimal_to_integral,
    ("DECIMAL", "BIGINT"): numeric.decimal_to_integral,
    ("DECIMAL", "DOUBLE"): numeric.decimal_to_double,
    ("DECIMAL", "DECIMAL"): numeric.decimal_to_decimal,
    ("STRING", "BOOLEAN"): text.string_to_boolean,
    ("STRING", "INTEGER"): text.string_to_integral,
    ("STRING", "BIGINT"): text.string_to_integral,
    ("STRING", "DOUBLE"): text.string_to_double,
    ("STRING", "DECIMAL"): text.string_to_decimal,
    ("STRING", "BYTES"): text.string_to_bytes,
    ("STRING", "TIMESTAMP"): temporal.string_to_timestamp,
    ("STRING", "TIME"): temporal.string_to_time,
    ("STRING", "DATE"): temporal.string_to_date,
    ("TIMESTAMP", "TIME"): temporal.timestamp_to_time,
    ("TIMESTAMP", "DATE"): temporal.timestamp_to_date,
    ("DATE", "TIMESTAMP"): temporal.date_to_timestamp,
    ("ARRAY", "ARRAY"): nested.array_to_array,
    ("MAP", "MAP"): nested.map_to_map,
    ("STRUCT", "STRUCT"): nested.struct_to_struct,
}
for _source in (
    "BOOLEAN",
    "INTEGER",
    "BIGINT",
    "DOUBLE",
    "DECIMAL",
    "TIMESTAMP",
    "TIME",
    "DATE",
    "ARRAY",
    "MAP",
    "STRUCT",
):
    _KERNELS[(_source, "STRING")] = text.to_string


def try_cast(
    values: pa.Array | pa.ChunkedArray, from_type: t.SqlType | None, to_type: t.SqlType
) -> CastResult:
    """Cast a column, returning the values (null where a row failed) and each failure's message.

    ``from_type`` None stands for an untyped NULL literal: the result is all null.

    Raises:
        PlanError: the cast is not allowed at all (``Cast of X to Y is not supported``).
    """
    array = as_array(values)
    if from_type is None:
        return CastResult(pa.nulls(len(array), to_arrow(to_type)))
    check_cast(from_type, to_type)
    if from_type == to_type:
        return CastResult(array)
    kernel = _KERNELS[(base_name(from_type), base_name(to_type))]
    return kernel(array, from_type, to_type)


def cast(
    values: pa.Array | pa.ChunkedArray | pa.Scalar, from_type: t.SqlType | None, to_type: t.SqlType
) -> pa.Array | pa.Scalar:
    """``CAST(values AS to_type)`` with ksqlDB's semantics, over a whole column.

    A scalar (a literal) gives a scalar; a column gives an array of ``to_arrow(to_type)``.

    Raises:
        PlanError: the cast is not allowed (``Cast of X to Y is not supported``); check this when
            planning with :func:`~headwater.engine.casts.check_cast`.
        FunctionError: some row cannot be converted (``For input string: "abc"``, ``Numeric field
            overflow...``); the expression compiler then retries row by row and NULLs those rows, as
            ksqlDB does. Use :func:`try_cast` to get every failure in one pass instead.
    """
    if isinstance(values, pa.Scalar):
        arrow_type = values.type if from_type is not None else to_arrow(to_type)
        result = cast(pa.array([values.as_py()], arrow_type), from_type, to_type)
        return result[0]
    outcome = try_cast(values, from_type, to_type)
    if outcome.failures:
        first = min(outcome.failures)
        raise FunctionError(outcome.failures[first])
    return outcome.values

"""NULL handling and comparisons across arguments: COALESCE, IFNULL, NULLIF, GREATEST and LEAST.

COALESCE, IFNULL and NULLIF are generic (``T``): every argument must have the same type, as ksqlDB
binds the type variable to the first argument and accepts no cast for the others. GREATEST and LEAST
have one overload per comparable type (INT, BIGINT, DOUBLE, DECIMAL, STRING, BYTES, DATE, TIME,
TIMESTAMP), so mixed numeric arguments resolve only when a single overload accepts them all after
widening; their DECIMAL result is wide enough for every argument. NULL arguments are ignored; the
result is NULL only when all are. As in Java, NaN is the greatest DOUBLE.

Example:
    >>> import pyarrow as pa
    >>> from headwater.engine.functions.registry import CallContext
    >>> from headwater.parser import types as t
    >>> ctx = CallContext((t.INT, t.INT), t.INT, 3)
    >>> _greatest([pa.array([1, None, None]), pa.array([5, 2, None])], ctx).to_pylist()
    [5, 2, None]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.functions.columns import as_array, as_numpy, choose_rows, valid_mask, with_nulls
from headwater.engine.functions.numeric import as_decimal
from headwater.engine.functions.registry import (
    AnyDecimal,
    CallContext,
    ComputedType,
    Datum,
    Generic,
    Kernel,
    Param,
    ScalarFunction,
    Signature,
)
from headwater.engine.types import to_arrow
from headwater.parser import types as t

__all__ = ["FUNCTIONS", "widen_decimals"]

_T = Generic("T")
_NESTED = (pa.types.is_list, pa.types.is_map, pa.types.is_struct, pa.types.is_large_list)


def _is_nested(arrow_type: pa.DataType) -> bool:
    return any(check(arrow_type) for check in _NESTED)


def _coalesce(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    out_type = to_arrow(ctx.return_type)
    columns = [as_array(a, ctx.length).cast(out_type) for a in args]
    if not _is_nested(out_type):
        return pc.coalesce(*columns)
    # Arrow's coalesce has no nested-type kernel; choose the first valid argument per row instead.
    choice = np.full(ctx.length, -1, dtype=np.int64)
    for index, column in enumerate(columns):
        choice = np.where((choice < 0) & valid_mask(column), index, choice)
    return choose_rows(choice, columns)


def _equal_values(left: pa.Array, right: pa.Array) -> np.ndarray:
    """Java's ``left.equals(right)`` per row (False where either side is NULL)."""
    if _is_nested(left.type):
        # Arrow compares no nested values; ``as_py`` equality is Java's List/Map/Struct equality.
        return np.array(
            [a is not None and a == b for a, b in zip(left.to_pylist(), right.to_pylist())], dtype=bool
        )
    equal = as_numpy(pc.equal(left, right), fill=False).astype(bool)
    if pa.types.is_floating(left.type):
        both_nan = as_numpy(pc.and_(pc.is_nan(left), pc.is_nan(right)), fill=False).astype(bool)
        equal |= both_nan  # Double.equals: NaN equals NaN
    return equal


def _nullif(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    out_type = to_arrow(ctx.return_type)
    first = as_array(args[0], ctx.length).cast(out_type)
    second = as_array(args[1], ctx.length).cast(out_type)
    return with_nulls(first, _equal_values(first, second))


def _extreme(greatest: bool) -> Kernel:
    def kernel(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
        out_type = to_arrow(ctx.return_type)
        columns = [as_array(a, ctx.length).cast(out_type) for a in args]
        combine = pc.max_element_wise if greatest else pc.min_element_wise
        result = combine(*columns, skip_nulls=True) if len(columns) > 1 else columns[0]
        if greatest and pa.types.is_floating(out_type):
            any_nan = np.zeros(ctx.length, dtype=bool)
            for column in columns:
                any_nan |= as_numpy(pc.is_nan(column), fill=False).astype(bool)
            if any_nan.any():
                result = pc.if_else(pa.array(any_nan), pa.scalar(float("nan")), result)
        return result

    kernel.__name__ = "greatest" if greatest else "least"
    return kernel


_greatest = _extreme(True)
_least = _extreme(False)


def widen_decimals(types: Sequence[t.SqlType | None]) -> t.SqlType:
    """ksqlDB's ``DecimalUtil.widen`` over the typed arguments (untyped NULLs are left out; INT and
    BIGINT count as DECIMAL(10, 0) and DECIMAL(19, 0)): enough integer digits for the widest integer
    part and enough scale for the widest fraction."""
    decimals = [as_decimal(d) for d in types if d is not None] or [as_decimal(None)]
    integer_digits = max(d.precision - d.scale for d in decimals)
    scale = max(d.scale for d in decimals)
    return t.Decimal(integer_digits + scale, scale)


def _extreme_function(name: str, greatest: bool) -> ScalarFunction:
    kernel = _greatest if greatest else _least
    word = "highest" if greatest else "lowest"
    signatures = [
        Signature((Param("val", sql_type), Param("vals", sql_type)), sql_type, kernel, variadic=True)
        for sql_type in (t.INT, t.BIGINT, t.DOUBLE, t.STRING, t.BYTES, t.DATE, t.TIME, t.TIMESTAMP)
    ]
    signatures.append(
        Signature(
            (Param("val", AnyDecimal()), Param("vals", AnyDecimal())),
            ComputedType("DECIMAL", widen_decimals),
            kernel,
            variadic=True,
        )
    )
    return ScalarFunction(
        name,
        "MATHEMATICAL",
        f"Returns the {word} non-null value among a variable number of comparable columns.",
        tuple(signatures),
    )


FUNCTIONS: tuple[ScalarFunction, ...] = (
    ScalarFunction(
        "COALESCE",
        "NULL",
        "Returns the first non-null value of its arguments, all of the same type.",
        (
            Signature(
                (Param("first", _T, "The first value."), Param("others", _T, "The fallback values.")),
                _T,
                _coalesce,
                variadic=True,
            ),
        ),
    ),
    ScalarFunction(
        "IFNULL",
        "NULL",
        "Returns expression if it is not NULL, otherwise altValue.",
        (
            Signature(
                (Param("expression", _T, "The value."), Param("altValue", _T, "The value used when it is NULL.")),
                _T,
                _coalesce,
            ),
        ),
    ),
    ScalarFunction(
        "NULLIF",
        "CONDITIONAL",
        "Returns NULL if value1 and value2 are equal. Otherwise it returns value1.",
        (Signature((Param("expr1", _T, "expression 1"), Param("expr2", _T, "expression 2")), _T, _nullif),),
    ),
    _extreme_function("greatest", True),
    _extreme_function("least", False),
)

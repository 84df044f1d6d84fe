"""Array functions: ARRAY_LENGTH, ARRAY_CONTAINS, ARRAY_CONCAT, ARRAY_DISTINCT, ARRAY_UNION,
ARRAY_INTERSECT, ARRAY_EXCEPT, ARRAY_REMOVE, ARRAY_MAX, ARRAY_MIN, ARRAY_SORT, ARRAY_JOIN, SLICE and
GENERATE_SERIES.

Every kernel works on the flattened elements of the whole batch at once. Set operations identify
each (row, element) pair by one integer, the row number combined with the element's code in a
dictionary encoding of the batch's elements, so "distinct within a row" becomes ``np.unique`` over
integers. Elements compare like Java's ``equals``: NULL equals NULL, and elements of nested types
(arrays of arrays, maps, structs) fall back to comparing Python values row by row.

Example:
    >>> import pyarrow as pa
    >>> from headwater.engine.functions.registry import CallContext
    >>> from headwater.parser import types as t
    >>> ctx = CallContext((t.Array(t.INT),), t.Array(t.INT), 2)
    >>> _distinct([pa.array([[1, 1, None, 2, None], None])], ctx).to_pylist()
    [[1, None, 2], None]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.functions.columns import (
    as_array,
    as_numpy,
    list_parts,
    rebuild_list,
    valid_mask,
)
from headwater.engine.functions.javafmt import java_decimal_str, java_double_str
from headwater.engine.functions.registry import (
    CallContext,
    Datum,
    FunctionError,
    Generic,
    Kernel,
    Param,
    ScalarFunction,
    Signature,
)
from headwater.engine.types import to_arrow
from headwater.parser import types as t

__all__ = ["FUNCTIONS", "element_keys", "parent_indices"]

CATEGORY = "ARRAY"
_T = Generic("T")
_ARRAY_T = t.Array(_T)


def parent_indices(lengths: np.ndarray) -> np.ndarray:
    """For flat elements laid out row after row, the row each element belongs to."""
    return np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)


def _is_nested(arrow_type: pa.DataType) -> bool:
    return (
        pa.types.is_list(arrow_type)
        or pa.types.is_large_list(arrow_type)
        or pa.types.is_map(arrow_type)
        or pa.types.is_struct(arrow_type)
    )


def element_keys(values: pa.Array, parents: np.ndarray) -> np.ndarray:
    """One int64 per element identifying the pair (row, element value); NULL elements share a value.

    Elements of nested types are identified through their Python values (the per-row exception)."""
    if _is_nested(values.type):
        seen: dict[object, int] = {}
        codes = np.array([seen.setdefault(_hashable(v), len(seen)) for v in values.to_pylist()], dtype=np.int64)
        distinct = max(len(seen), 1)
    else:
        encoded = pc.dictionary_encode(values)
        codes = as_numpy(encoded.indices, fill=-1).astype(np.int64) + 1
        distinct = len(encoded.dictionary) + 1
    return parents * distinct + codes


def _hashable(value: object) -> object:
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    return value


def _first_occurrences(keys: np.ndarray) -> np.ndarray:
    """Positions of the first element of each distinct key, in element order."""
    _, first = np.unique(keys, return_index=True)
    return np.sort(first)


def _equals_row_value(values: pa.Array, parents: np.ndarray, given: Datum, rows: int) -> np.ndarray:
    """Per flat element, whether it equals its row's ``given`` value, NULL matching NULL (Java's
    ``Objects.equals``), as ARRAY_CONTAINS and ARRAY_REMOVE compare. Elements of nested types are
    compared through their Python values (the per-row exception)."""
    wanted = as_array(given, rows).cast(values.type).take(pa.array(parents))
    if _is_nested(values.type):
        return np.array([a == b for a, b in zip(values.to_pylist(), wanted.to_pylist())], dtype=bool)
    equal = as_numpy(pc.equal(values, wanted), fill=False).astype(bool)
    return equal | (~valid_mask(values) & ~valid_mask(wanted))


def _rebuild(values: pa.Array, keep: np.ndarray, parents: np.ndarray, rows: int, validity: np.ndarray,
             list_type: pa.DataType) -> pa.Array:
    """A list column of the kept elements (positions ``keep`` into ``values``) for ``rows`` rows."""
    lengths = np.bincount(parents[keep], minlength=rows).astype(np.int64) if len(keep) else np.zeros(rows, np.int64)
    return rebuild_list(lengths, values.take(pa.array(keep, pa.int64())), validity, list_type)


# --------------------------------------------------------------------------------------------------------
# Kernels


def _length(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    return pc.list_value_length(as_array(args[0], ctx.length)).cast(pa.int32())


def _contains(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    arrays = as_array(args[0], ctx.length)
    lengths, values, validity = list_parts(arrays)
    parents = parent_indices(lengths)
    hits = _equals_row_value(values, parents, args[1], ctx.length)
    found = np.zeros(ctx.length, dtype=bool)
    found[parents[hits]] = True
    return pa.array(found & validity, pa.bool_())


def _concat(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    first = as_array(args[0], ctx.length)
    second = as_array(args[1], ctx.length)
    len_a, values_a, valid_a = list_parts(first)
    len_b, values_b, valid_b = list_parts(second)
    parents = np.concatenate([parent_indices(len_a), parent_indices(len_b)])
    order = np.argsort(parents, kind="stable")
    values = pa.concat_arrays([values_a, values_b.cast(values_a.type)]).take(pa.array(order))
    return rebuild_list(len_a + len_b, values, valid_a | valid_b, first.type)


def _distinct(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    arrays = as_array(args[0], ctx.length)
    lengths, values, validity = list_parts(arrays)
    parents = parent_indices(lengths)
    keep = _first_occurrences(element_keys(values, parents))
    return _rebuild(values, keep, parents, ctx.length, validity, arrays.type)


def _set_operation(kind: str) -> Kernel:
    """ARRAY_UNION, ARRAY_INTERSECT or ARRAY_EXCEPT: distinct elements in first-seen order."""

    def kernel(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
        first = as_array(args[0], ctx.length)
        second = as_array(args[1], ctx.length)
        len_a, values_a, valid_a = list_parts(first)
        len_b, values_b, valid_b = list_parts(second)
        parents_a, parents_b = parent_indices(len_a), parent_indices(len_b)
        both = pa.concat_arrays([values_a, values_b.cast(values_a.type)])
        keys = element_keys(both, np.concatenate([parents_a, parents_b]))
        keys_a, keys_b = keys[: len(values_a)], keys[len(values_a) :]
        validity = valid_a & valid_b
        if kind == "union":
            order = np.argsort(np.concatenate([parents_a, parents_b]), kind="stable")
            keep = order[_first_occurrences(keys[order])]
            parents = np.concatenate([parents_a, parents_b])
            return _rebuild(both, keep, parents, ctx.length, validity, first.type)
        member = np.isin(keys_a, keys_b)
        selected = np.flatnonzero(member if kind == "intersect" else ~member)
        keep = selected[_first_occurrences(keys_a[selected])] if len(selected) else selected
        keep = keep[validity[parents_a[keep]]] if len(keep) else keep
        return _rebuild(values_a, keep, parents_a, ctx.length, validity, first.type)

    kernel.__name__ = f"array_{kind}"
    return kernel


def _remove(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    arrays = as_array(args[0], ctx.length)
    lengths, values, validity = list_parts(arrays)
    parents = parent_indices(lengths)
    drop = _equals_row_value(values, parents, args[1], ctx.length)
    keep = np.flatnonzero(~drop)
    return _rebuild(values, keep, parents, ctx.length, validity, arrays.type)


def _extreme(function: str) -> Kernel:
    def kernel(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
        arrays = as_array(args[0], ctx.length)
        lengths, values, _ = list_parts(arrays)
        out_type = to_arrow(ctx.return_type)
        if _is_nested(values.type):
            raise FunctionError(f"{function.upper()} only supports arrays of primitive values")
        table = pa.table({"row": pa.array(parent_indices(lengths)), "value": values})
        grouped = table.group_by("row", use_threads=False).aggregate([("value", function)])
        rows = as_numpy(grouped.column("row").combine_chunks()).astype(np.int64)
        found = grouped.column(f"value_{function}").combine_chunks()
        position = np.full(ctx.length, len(found), dtype=np.int64)
        position[rows] = np.arange(len(rows))
        padded = pa.concat_arrays([found.cast(out_type), pa.nulls(1, out_type)])
        return padded.take(pa.array(position))

    kernel.__name__ = f"array_{function}"
    return kernel


def _sort(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    arrays = as_array(args[0], ctx.length)
    lengths, values, validity = list_parts(arrays)
    if _is_nested(values.type):
        raise FunctionError("ARRAY_SORT only supports arrays of primitive values")
    direction_arg = args[1] if len(args) > 1 else pa.scalar("ASC")
    directions = as_array(direction_arg, ctx.length)
    upper = pc.utf8_upper(directions)
    ascending = as_numpy(pc.is_in(upper, pa.array(["ASC", "ASCENDING"])), fill=False).astype(bool)
    descending = as_numpy(pc.is_in(upper, pa.array(["DESC", "DESCENDING"])), fill=False).astype(bool)
    parents = parent_indices(lengths)
    element_descending = descending[parents]
    # sort by row, then by value in the row's direction; NULLs last either way
    table = pa.table(
        {
            "row": pa.array(parents),
            "asc_value": values,
            "desc_value": values,
            "flag": pa.array(element_descending),
        }
    )
    ascending_order = pc.sort_indices(
        table, sort_keys=[("row", "ascending", "at_end"), ("asc_value", "ascending", "at_end")]
    )
    descending_order = pc.sort_indices(
        table, sort_keys=[("row", "ascending", "at_end"), ("desc_value", "descending", "at_end")]
    )
    asc_np = as_numpy(ascending_order).astype(np.int64)
    desc_np = as_numpy(descending_order).astype(np.int64)
    # both orders keep rows contiguous and in row order, so pick per position by the row's direction
    order = np.where(element_descending[asc_np], desc_np, asc_np) if len(asc_np) else asc_np
    sorted_values = values.take(pa.array(order, pa.int64()))
    return rebuild_list(lengths, sorted_values, validity & (ascending | descending), arrays.type)


def _element_strings(values: pa.Array) -> pa.Array:
    """Each element as Java's ``toString`` would write it; NULL as ``null``."""
    if pa.types.is_floating(values.type):
        texts = [None if v is None else java_double_str(v) for v in values.to_pylist()]
        strings = pa.array(texts, pa.string())
    elif pa.types.is_decimal(values.type):
        strings = pa.array([None if v is None else java_decimal_str(v) for v in values.to_pylist()], pa.string())
    elif _is_nested(values.type) or pa.types.is_binary(values.type) or pa.types.is_temporal(values.type):
        raise FunctionError(f"error: hit element of type {values.type} which is currently not supported")
    else:
        strings = values.cast(pa.string())
    return pc.fill_null(strings, "null")


def _join(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    arrays = as_array(args[0], ctx.length)
    lengths, values, validity = list_parts(arrays)
    strings = rebuild_list(lengths, _element_strings(values), validity, pa.list_(pa.string()))
    delimiter = pc.fill_null(as_array(args[1], ctx.length), "") if len(args) > 1 else pa.scalar(",")
    return pc.binary_join(strings, delimiter)


def _slice(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    arrays = as_array(args[0], ctx.length)
    lengths, values, validity = list_parts(arrays)
    start_array = as_array(args[1], ctx.length)
    stop_array = as_array(args[2], ctx.length)
    start = np.where(valid_mask(start_array), as_numpy(start_array.cast(pa.int64()), fill=0) - 1, 0)
    stop = np.where(valid_mask(stop_array), as_numpy(stop_array.cast(pa.int64()), fill=0), lengths)
    ok = validity & (start >= 0) & (stop <= lengths) & (start <= stop)
    new_lengths = np.where(ok, stop - start, 0).astype(np.int64)
    row_offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    index = np.repeat(row_offsets + start - np.concatenate([[0], np.cumsum(new_lengths)[:-1]]), new_lengths)
    index = index + np.arange(int(new_lengths.sum()), dtype=np.int64)
    return rebuild_list(new_lengths, values.take(pa.array(index, pa.int64())), ok, arrays.type)


def _generate_series(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    out_type = to_arrow(ctx.return_type)
    start_array, end_array = as_array(args[0], ctx.length), as_array(args[1], ctx.length)
    valid = valid_mask(start_array) & valid_mask(end_array)
    start = as_numpy(start_array.cast(pa.int64()), fill=0).astype(np.int64)
    end = as_numpy(end_array.cast(pa.int64()), fill=0).astype(np.int64)
    diff = end - start
    if len(args) > 2:
        step_array = as_array(args[2], ctx.length)
        valid &= valid_mask(step_array)
        step = as_numpy(step_array.cast(pa.int64()), fill=1).astype(np.int64)
    else:
        step = np.where(diff > 0, 1, -1)
    if (valid & (step == 0)).any():
        raise FunctionError("GENERATE_SERIES step cannot be zero")
    if (valid & (((diff > 0) & (step < 0)) | ((diff < 0) & (step > 0)))).any():
        raise FunctionError("GENERATE_SERIES step has wrong sign")
    safe_step = np.where(step == 0, 1, step)
    sizes = np.where(valid, 1 + np.abs(diff) // np.abs(safe_step), 0).astype(np.int64)
    parents = parent_indices(sizes)
    local = np.arange(int(sizes.sum()), dtype=np.int64) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    flat = start[parents] + safe_step[parents] * local
    element = out_type.value_type
    flat = flat.astype(np.int32) if element == pa.int32() else flat
    return rebuild_list(sizes, pa.array(flat, element), valid, out_type)


# --------------------------------------------------------------------------------------------------------
# The catalog


def _p(name: str, sql_type: t.SqlType, description: str = "") -> Param:
    return Param(name, sql_type, description)


_ARRAY = _p("array", _ARRAY_T, "The array.")

FUNCTIONS: tuple[ScalarFunction, ...] = (
    ScalarFunction(
        "ARRAY_LENGTH",
        CATEGORY,
        "Returns the length of an array, or NULL if it is NULL.",
        (Signature((_ARRAY,), t.INT, _length),),
    ),
    ScalarFunction(
        "ARRAY_CONTAINS",
        CATEGORY,
        "Returns true if the array is non-null and contains the supplied value.",
        (Signature((_ARRAY, _p("val", _T, "The value to find.")), t.BOOLEAN, _contains),),
    ),
    ScalarFunction(
        "array_concat",
        CATEGORY,
        "Returns the concatenation of two arrays; NULL only when both are NULL.",
        (Signature((_p("left", _ARRAY_T), _p("right", _ARRAY_T)), _ARRAY_T, _concat),),
    ),
    ScalarFunction(
        "array_distinct",
        CATEGORY,
        "Returns the distinct values of an array, NULL included, in order of first occurrence.",
        (Signature((_ARRAY,), _ARRAY_T, _distinct),),
    ),
    ScalarFunction(
        "array_union",
        CATEGORY,
        "Returns the distinct elements of both arrays, in the order met; NULL if either is NULL.",
        (Signature((_p("left", _ARRAY_T), _p("right", _ARRAY_T)), _ARRAY_T, _set_operation("union")),),
    ),
    ScalarFunction(
        "array_intersect",
        CATEGORY,
        "Returns the distinct elements of the first array that are also in the second.",
        (Signature((_p("left", _ARRAY_T), _p("right", _ARRAY_T)), _ARRAY_T, _set_operation("intersect")),),
    ),
    ScalarFunction(
        "array_except",
        CATEGORY,
        "Returns the distinct elements of the first array that are not in the second.",
        (Signature((_p("left", _ARRAY_T), _p("right", _ARRAY_T)), _ARRAY_T, _set_operation("except")),),
    ),
    ScalarFunction(
        "array_remove",
        CATEGORY,
        "Removes all the elements equal to a specific value from an array. Returns NULL if the input "
        "array is NULL.",
        (Signature((_ARRAY, _p("victim", _T, "Value to remove.")), _ARRAY_T, _remove),),
    ),
    ScalarFunction(
        "array_max",
        CATEGORY,
        "Return the maximum value from within an array of primitive values, according to their natural "
        "sort order. If the array is NULL, or contains only NULLs, return NULL.",
        (Signature((_ARRAY,), _T, _extreme("max")),),
    ),
    ScalarFunction(
        "array_min",
        CATEGORY,
        "Return the minimum value from within an array of primitive values, according to their natural "
        "sort order. If the array is NULL, or contains only NULLs, return NULL.",
        (Signature((_ARRAY,), _T, _extreme("min")),),
    ),
    ScalarFunction(
        "array_sort",
        CATEGORY,
        "Sort an array of primitive values, according to their natural sort order. Any NULLs in the "
        "array will be placed at the end.",
        (
            Signature((_ARRAY,), _ARRAY_T, _sort),
            Signature((_ARRAY, _p("direction", t.STRING, "ASC or DESC.")), _ARRAY_T, _sort),
        ),
    ),
    ScalarFunction(
        "ARRAY_JOIN",
        CATEGORY,
        "Joins the array elements into a flat string representation.",
        (
            Signature((_ARRAY,), t.STRING, _join, description="Joins with the default delimiter ','."),
            Signature(
                (_ARRAY, _p("delimiter", t.STRING, "The string to be used as element delimiter.")),
                t.STRING,
                _join,
            ),
        ),
    ),
    ScalarFunction(
        "slice",
        CATEGORY,
        "Returns the elements from position `from` to position `to` (1-based, inclusive).",
        (Signature((_ARRAY, _p("from", t.INT, "Start index."), _p("to", t.INT, "End index.")), _ARRAY_T, _slice),),
    ),
    ScalarFunction(
        "GENERATE_SERIES",
        CATEGORY,
        "Construct an array of a range of values, from start to end inclusive.",
        (
            Signature((_p("start", t.INT), _p("end", t.INT)), t.Array(t.INT), _generate_series),
            Signature((_p("start", t.INT), _p("end", t.INT), _p("step", t.INT)), t.Array(t.INT), _generate_series),
            Signature((_p("start", t.BIGINT), _p("end", t.BIGINT)), t.Array(t.BIGINT), _generate_series),
            Signature(
                (_p("start", t.BIGINT), _p("end", t.BIGINT), _p("step", t.INT)), t.Array(t.BIGINT), _generate_series
            ),
        ),
    ),
)


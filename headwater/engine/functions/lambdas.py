"""Functions taking lambdas: TRANSFORM, FILTER and REDUCE, over arrays and maps.

A lambda reaches the kernel as a :class:`~.registry.CompiledLambda` in ``ctx.lambdas``. The kernels
call it once per batch with the flattened elements of every row (and, for each element, the row it
came from, so the body can read the row's other columns), never once per element:

* TRANSFORM and FILTER: one call over all elements of the batch;
* REDUCE: the state of element ``j`` depends on element ``j - 1``, so the kernel calls the lambda
  once per element *position*, each time over every row that still has an element at that position
  (as many calls as the longest collection has elements).

Semantics follow ksqlDB: a NULL collection gives NULL (REDUCE gives its initial state), a NULL
initial state gives NULL, a FILTER predicate must not be NULL (Java unboxes it), and a TRANSFORM of a
map that maps two entries to one key fails the row ("Duplicate key").

Example:
    >>> import pyarrow as pa, pyarrow.compute as pc
    >>> from headwater.engine.functions.registry import CallContext, CompiledLambda, LambdaType
    >>> from headwater.parser import types as t
    >>> class Double(CompiledLambda):
    ...     def __call__(self, params, parent_index):
    ...         return pc.multiply(params[0], 2)
    >>> arg_types = (t.Array(t.INT), LambdaType((t.INT,), t.INT))
    >>> ctx = CallContext(arg_types, t.Array(t.INT), 2, lambdas=(Double(),))
    >>> _transform_array([pa.array([[1, 2], None]), None], ctx).to_pylist()
    [[2, 4], None]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from headwater.engine.functions.arrays import element_keys, parent_indices
from headwater.engine.functions.columns import (
    as_array,
    as_numpy,
    list_parts,
    map_parts,
    rebuild_list,
    rebuild_map,
    valid_mask,
)
from headwater.engine.functions.maps import iteration_order
from headwater.engine.functions.registry import (
    CallContext,
    Datum,
    FunctionError,
    Generic,
    LambdaType,
    Param,
    ScalarFunction,
    Signature,
)
from headwater.engine.types import to_arrow
from headwater.parser import types as t

__all__ = ["FUNCTIONS"]

CATEGORY = "LAMBDA"
_T, _O, _S = Generic("T"), Generic("O"), Generic("S")
_K, _V, _K1, _V1 = Generic("K"), Generic("V"), Generic("K1"), Generic("V1")


def _parents(lengths: np.ndarray) -> pa.Array:
    return pa.array(parent_indices(lengths), pa.int64())


def _result(ctx: CallContext, index: int, values: pa.Array) -> pa.Array:
    """The lambda's result as its declared Arrow type (the compiler may hand back a wider one)."""
    lambdas = [a for a in ctx.arg_types if isinstance(a, LambdaType)]
    output = lambdas[index].output if index < len(lambdas) else None
    target = to_arrow(output) if output is not None else values.type
    return values if values.type == target else values.cast(target)


def _transform_array(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    arrays = as_array(args[0], ctx.length)
    lengths, values, validity = list_parts(arrays)
    mapped = _result(ctx, 0, ctx.lambdas[0]([values], _parents(lengths)))
    return rebuild_list(lengths, mapped, validity, to_arrow(ctx.return_type))


def _filter_array(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    arrays = as_array(args[0], ctx.length)
    lengths, values, validity = list_parts(arrays)
    parents = parent_indices(lengths)
    keep = _predicate(ctx.lambdas[0]([values], pa.array(parents)))
    kept = np.flatnonzero(keep)
    new_lengths = np.bincount(parents[kept], minlength=ctx.length).astype(np.int64)
    return rebuild_list(new_lengths, values.take(pa.array(kept, pa.int64())), validity, arrays.type)


def _predicate(result: pa.Array) -> np.ndarray:
    if result.null_count:
        raise FunctionError("The FILTER lambda returned NULL, which cannot be used as a condition")
    return as_numpy(result, fill=False).astype(bool)


def _transform_map(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    maps = as_array(args[0], ctx.length)
    lengths, keys, items, validity = map_parts(maps)
    parents = _parents(lengths)
    new_keys = _result(ctx, 0, ctx.lambdas[0]([keys, items], parents))
    new_items = _result(ctx, 1, ctx.lambdas[1]([keys, items], parents))
    if new_keys.null_count:
        raise FunctionError("The TRANSFORM key lambda returned a NULL map key")
    codes = element_keys(new_keys, parent_indices(lengths))
    if len(np.unique(codes)) != len(codes):
        raise FunctionError("Duplicate key: TRANSFORM mapped two entries of a map to the same key")
    return rebuild_map(lengths, new_keys, new_items, validity, to_arrow(ctx.return_type))


def _filter_map(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    maps = as_array(args[0], ctx.length)
    lengths, keys, items, validity = map_parts(maps)
    parents = parent_indices(lengths)
    keep = _predicate(ctx.lambdas[0]([keys, items], pa.array(parents)))
    kept = np.flatnonzero(keep)
    taken = pa.array(kept, pa.int64())
    new_lengths = np.bincount(parents[kept], minlength=ctx.length).astype(np.int64)
    return rebuild_map(new_lengths, keys.take(taken), items.take(taken), validity, maps.type)


def _reduce(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    collection = as_array(args[0], ctx.length)
    state_type = to_arrow(ctx.return_type)
    state = as_array(args[1], ctx.length).cast(state_type)
    if pa.types.is_map(collection.type):
        lengths, keys, items, _ = map_parts(collection)
        columns = list(iteration_order(keys, items, lengths))
    else:
        lengths, values, _ = list_parts(collection)
        columns = [values]
    starts = np.cumsum(lengths) - lengths
    state_valid = valid_mask(state)
    function = ctx.lambdas[0]
    for position in range(int(lengths.max()) if len(lengths) else 0):
        rows = np.flatnonzero((lengths > position) & state_valid)
        if not len(rows):
            break
        element = pa.array(starts[rows] + position, pa.int64())
        result = function([state.take(pa.array(rows)), *[c.take(element) for c in columns]], pa.array(rows))
        result = result if result.type == state_type else result.cast(state_type)
        index = np.arange(ctx.length, dtype=np.int64)
        index[rows] = ctx.length + np.arange(len(rows))
        state = pa.concat_arrays([state, result]).take(pa.array(index))
    return state


FUNCTIONS: tuple[ScalarFunction, ...] = (
    ScalarFunction(
        "transform",
        CATEGORY,
        "Apply a function to each element in a collection. The transformed collection is returned.",
        (
            Signature(
                (Param("array", t.Array(_T), "The array."), Param("function", LambdaType((_T,), _O), "The lambda.")),
                t.Array(_O),
                _transform_array,
                description="Transforms each element of an array.",
            ),
            Signature(
                (
                    Param("map", t.Map(_K, _V), "The map."),
                    Param("key_function", LambdaType((_K, _V), _K1), "The lambda computing the new key."),
                    Param("value_function", LambdaType((_K, _V), _V1), "The lambda computing the new value."),
                ),
                t.Map(_K1, _V1),
                _transform_map,
                description="Transforms each entry of a map with one function for keys, one for values.",
            ),
        ),
    ),
    ScalarFunction(
        "filter",
        CATEGORY,
        "Filter the input collection through a given lambda function. The filtered collection is "
        "returned.",
        (
            Signature(
                (Param("array", t.Array(_T), "The array."),
                 Param("function", LambdaType((_T,), t.BOOLEAN), "The lambda function.")),
                t.Array(_T),
                _filter_array,
                description="Keeps the elements of an array for which the function is true.",
            ),
            Signature(
                (Param("map", t.Map(_K, _V), "The map."),
                 Param("function", LambdaType((_K, _V), t.BOOLEAN), "The lambda function.")),
                t.Map(_K, _V),
                _filter_map,
                description="Keeps the entries of a map for which the function of key and value is true.",
            ),
        ),
    ),
    ScalarFunction(
        "reduce",
        CATEGORY,
        "Reduce the input collection down to a single value using an initial state and a function. The "
        "final value for s is returned.",
        (
            Signature(
                (
                    Param("array", t.Array(_T), "The array."),
                    Param("initialState", _S, "The initial state."),
                    Param("function", LambdaType((_S, _T), _S), "The reduce function (state, element)."),
                ),
                _S,
                _reduce,
                description="Reduces an array.",
            ),
            Signature(
                (
                    Param("map", t.Map(_K, _V), "The map."),
                    Param("initialState", _S, "The initial state."),
                    Param("function", LambdaType((_S, _K, _V), _S), "The reduce function (state, key, value)."),
                ),
                _S,
                _reduce,
                description="Reduces a map.",
            ),
        ),
    ),
)

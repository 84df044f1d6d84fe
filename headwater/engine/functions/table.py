"""Table functions: EXPLODE and CUBE_EXPLODE. Each input row produces zero or more output rows.

A table kernel returns ``(values, parent_index)``: one output row per value, ``parent_index[i]`` the
input row it came from, in non-decreasing order. When a SELECT holds several table functions, the
flat-map operator zips their outputs row by row (the shorter ones padded with NULL), as ksqlDB does;
each kernel only ever sees its own arguments.

Example:
    >>> import pyarrow as pa
    >>> from headwater.engine.functions.registry import CallContext
    >>> from headwater.parser import types as t
    >>> ctx = CallContext((t.Array(t.INT),), t.INT, 3)
    >>> values, parents = _explode([pa.array([[1, 2], None, [3]])], ctx)
    >>> values.to_pylist(), parents.to_pylist()
    ([1, 2, 3], [0, 0, 2])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from headwater.engine.functions.arrays import parent_indices
from headwater.engine.functions.columns import as_array, list_parts, rebuild_list, valid_mask
from headwater.engine.functions.registry import (
    CallContext,
    Datum,
    FunctionError,
    Generic,
    Param,
    Signature,
    TableFunction,
)
from headwater.engine.types import to_arrow
from headwater.parser import types as t

__all__ = ["CUBE_MAX_COLUMNS", "FUNCTIONS"]

_T = Generic("T")
CUBE_MAX_COLUMNS = 20


def _explode(args: Sequence[Datum], ctx: CallContext) -> tuple[pa.Array, pa.Array]:
    arrays = as_array(args[0], ctx.length)
    lengths, values, _ = list_parts(arrays)
    return values, pa.array(parent_indices(lengths), pa.int64())


def _cube(args: Sequence[Datum], ctx: CallContext) -> tuple[pa.Array, pa.Array]:
    """Every combination of keeping or nulling each element, in ksqlDB's order (the bit mask counting
    up, the first element being the highest bit), skipping the duplicates that nulling an already
    NULL element would make."""
    arrays = as_array(args[0], ctx.length)
    lengths, values, _ = list_parts(arrays)
    if (lengths > CUBE_MAX_COLUMNS).any():
        size = int(lengths.max())
        raise FunctionError(
            f"CUBE_EXPLODE input size ({size}) exceeds the maximum of {CUBE_MAX_COLUMNS} columns. The "
            "output cardinality is 2^N rows and would exhaust server memory."
        )
    starts = np.cumsum(lengths) - lengths
    present = valid_mask(values)
    out_rows: list[np.ndarray] = []
    out_masks: list[np.ndarray] = []
    for size in np.unique(lengths[valid_mask(arrays)]):
        size = int(size)
        rows = np.flatnonzero((lengths == size) & valid_mask(arrays))
        masks = np.arange(1 << size, dtype=np.int64)
        if size == 0:
            out_rows.append(rows)
            out_masks.append(np.zeros(len(rows), dtype=np.int64))
            continue
        shifts = np.arange(size - 1, -1, -1, dtype=np.int64)
        element_present = present[starts[rows][:, None] + np.arange(size)]
        non_null = (element_present.astype(np.int64) << shifts).sum(axis=1)
        keep = (masks[None, :] & ~non_null[:, None]) == 0
        row_index, mask_index = np.nonzero(keep)
        out_rows.append(rows[row_index])
        out_masks.append(masks[mask_index])
    if not out_rows:
        list_type = to_arrow(ctx.return_type)
        return pa.array([], list_type), pa.array([], pa.int64())
    rows = np.concatenate(out_rows)
    masks = np.concatenate(out_masks)
    order = np.lexsort((masks, rows))
    rows, masks = rows[order], masks[order]
    sizes = lengths[rows]
    element_row = np.repeat(np.arange(len(rows)), sizes)
    position = np.arange(int(sizes.sum()), dtype=np.int64) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    kept = (masks[element_row] >> (sizes[element_row] - 1 - position)) & 1 == 1
    index = np.where(kept, starts[rows][element_row] + position, len(values))
    padded = pa.concat_arrays([values, pa.nulls(1, values.type)])
    flat = padded.take(pa.array(index, pa.int64()))
    list_type = to_arrow(ctx.return_type)
    return rebuild_list(sizes, flat, None, list_type), pa.array(rows, pa.int64())


FUNCTIONS: tuple[TableFunction, ...] = (
    TableFunction(
        "explode",
        "TABLE",
        "Explodes an array. This function outputs one value for each element of the array.",
        (Signature((Param("list", t.Array(_T), "The array to explode."),), _T, _explode),),
    ),
    TableFunction(
        "cube_explode",
        "TABLE",
        "Takes as argument a list of columns and outputs all possible combinations of them. It produces "
        "2^d new rows where d is the number of columns given as parameter. Duplicate entries for columns "
        "with null value are skipped.",
        (Signature((Param("columns", t.Array(_T), "The columns to combine."),), t.Array(_T), _cube),),
    ),
)

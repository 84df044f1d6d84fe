"""Helpers shared by the encoders: the input columns as arrays, the null-record mask."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.formats.base import Columns
from headwater.engine.types import to_arrow
from headwater.errors import PlanError

__all__ = ["column_arrays", "null_record_mask", "row_count"]


def column_arrays(
    columns: pa.Table | pa.RecordBatch | Sequence[pa.Array | pa.ChunkedArray], declared: Columns
) -> list[pa.Array]:
    """The columns to encode as contiguous arrays of the declared Arrow types, matched by position.

    Raises:
        PlanError: the number of columns differs from the declaration.
    """
    if isinstance(columns, (pa.Table, pa.RecordBatch)):
        given: list[pa.Array | pa.ChunkedArray] = [columns.column(i) for i in range(columns.num_columns)]
    else:
        given = list(columns)
    if len(given) != len(declared):
        raise PlanError(f"The encoder was declared with {len(declared)} columns but given {len(given)}")
    arrays = []
    for array, (_, sql_type) in zip(given, declared):
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
        target = to_arrow(sql_type)
        if array.type != target:
            array = array.cast(target)
        arrays.append(array)
    return arrays


def null_record_mask(null_record: np.ndarray | pa.Array | pa.ChunkedArray | None, length: int) -> np.ndarray:
    """Which rows are null records (written as null bytes)."""
    if null_record is None:
        return np.zeros(length, dtype=bool)
    if isinstance(null_record, np.ndarray):
        return null_record.astype(bool, copy=False)
    filled = pc.fill_null(null_record, False)
    return np.asarray(filled.to_numpy(zero_copy_only=False), dtype=bool)


def row_count(
    columns: pa.Table | pa.RecordBatch | Sequence[pa.Array | pa.ChunkedArray],
    arrays: Sequence[pa.Array],
    null_record: np.ndarray | pa.Array | pa.ChunkedArray | None,
) -> int:
    """How many rows are being encoded (a table without columns still has rows)."""
    if isinstance(columns, (pa.Table, pa.RecordBatch)):
        return columns.num_rows
    if arrays:
        return len(arrays[0])
    return 0 if null_record is None else len(null_record)

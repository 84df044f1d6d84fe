"""The result of converting a column: the converted values and the rows that could not be converted.

Every cast kernel returns a :class:`CastResult` instead of raising at the first bad row, so one pass
over a batch yields both the good values and the ksqlDB message for each bad row. :func:`cast
<headwater.engine.casts.cast>` turns the first failure into a ``FunctionError``; the format decoders
turn each into a per-record error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["CastResult", "as_array", "null_array", "true_rows", "with_nulls"]


@dataclass(frozen=True, slots=True)
class CastResult:
    """Converted values (null where the row failed) and, for each failed row, ksqlDB's message."""

    values: pa.Array
    failures: Mapping[int, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures

    def failed_mask(self) -> np.ndarray:
        mask = np.zeros(len(self.values), dtype=bool)
        if self.failures:
            mask[np.fromiter(self.failures.keys(), dtype=np.int64)] = True
        return mask


def as_array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One contiguous array (kernels work on arrays, batches arrive as either)."""
    if isinstance(values, pa.ChunkedArray):
        if values.num_chunks == 1:
            return values.chunk(0)
        if values.num_chunks == 0:
            return pa.array([], values.type)
        return values.combine_chunks()
    return values


def null_array(arrow_type: pa.DataType, length: int) -> pa.Array:
    return pa.nulls(length, arrow_type)


def true_rows(mask: pa.Array | pa.ChunkedArray | np.ndarray) -> np.ndarray:
    """Indices where a boolean mask is true (null counts as false)."""
    if isinstance(mask, np.ndarray):
        return np.flatnonzero(mask)
    filled = pc.fill_null(mask, False)
    return np.flatnonzero(np.asarray(filled.to_numpy(zero_copy_only=False), dtype=bool))


def with_nulls(values: pa.Array, rows: np.ndarray) -> pa.Array:
    """``values`` with the given rows set to null."""
    if len(rows) == 0:
        return values
    mask = np.zeros(len(values), dtype=bool)
    mask[rows] = True
    return pc.if_else(pa.array(mask), pa.scalar(None, values.type), values)

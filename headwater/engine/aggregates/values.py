"""Argument columns as numpy values, with Java's integer semantics and exact decimals.

* :func:`numeric` gives the values and validity of an INT, BIGINT or DOUBLE column.
* :func:`wrap_int` / :func:`wrap_long` reduce exact integer results to Java ``int`` / ``long``
  (two's-complement wrap-around, which is what ksqlDB's ``Integer`` and ``Long`` sums do).
* :func:`decimal_unscaled` reads a DECIMAL column's unscaled integers straight from the Arrow buffer
  (int64 when the precision is at most 18, Python ints otherwise) and :func:`decimal_array` builds a
  DECIMAL column back from unscaled integers, so decimal aggregates are exact.

Example:
    >>> import pyarrow as pa, decimal
    >>> values, valid = decimal_unscaled(pa.array([decimal.Decimal("1.5"), None], pa.decimal128(4, 1)))
    >>> values.tolist(), valid.tolist()
    ([15, 0], [True, False])
    >>> decimal_array([15, -3], 4, 1).to_pylist()
    [Decimal('1.5'), Decimal('-0.3')]
    >>> wrap_int(np.array([2**31])).tolist()
    [-2147483648]
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa

__all__ = ["decimal_array", "decimal_unscaled", "numeric", "valid_mask", "wrap_int", "wrap_long"]


def _array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def valid_mask(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """True where ``values`` is not null."""
    values = _array(values)
    if values.null_count == 0:
        return np.ones(len(values), dtype=bool)
    return np.asarray(values.is_valid().to_numpy(zero_copy_only=False), dtype=bool)


def numeric(values: pa.Array | pa.ChunkedArray, dtype: Any) -> tuple[np.ndarray, np.ndarray]:
    """(values as ``dtype`` with nulls as 0, validity) of a numeric column."""
    values = _array(values)
    valid = valid_mask(values)
    if values.null_count:
        values = values.fill_null(0)
    return np.asarray(values.to_numpy(zero_copy_only=False)).astype(dtype, copy=False), valid


def wrap_int(values: np.ndarray) -> np.ndarray:
    """Exact integers reduced to Java ``int`` (32-bit two's complement), as int64."""
    return np.asarray(values, dtype=np.int64).astype(np.int32).astype(np.int64)


def wrap_long(values: np.ndarray) -> np.ndarray:
    """Integers reduced to Java ``long``: numpy int64 arithmetic already wraps; Python ints are reduced."""
    if values.dtype == object:
        return np.array([((int(v) + (1 << 63)) % (1 << 64)) - (1 << 63) for v in values], dtype=np.int64)
    return values.astype(np.int64, copy=False)


def decimal_unscaled(values: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """(unscaled integers, validity) of a DECIMAL column; nulls read as 0.

    Precision up to 18 gives int64 read from the 128-bit little-endian buffer; larger precisions give
    an object array of Python ints (one conversion per row, the exception).
    """
    values = _array(values)
    valid = valid_mask(values)
    arrow_type = values.type
    if pa.types.is_decimal128(arrow_type) and arrow_type.precision <= 18:
        buffer = values.buffers()[1]
        words = np.frombuffer(buffer, dtype="<i8", count=2 * (values.offset + len(values)))
        low = words[2 * values.offset :: 2].copy()
        low[~valid] = 0
        return low, valid
    scale = arrow_type.scale
    python = values.to_pylist()
    out = np.empty(len(python), dtype=object)
    out[:] = [0 if v is None else int(v.scaleb(scale)) for v in python]
    return out, valid


def decimal_array(unscaled: Sequence[int] | np.ndarray, precision: int, scale: int, valid: np.ndarray | None = None) -> pa.Array:
    """A DECIMAL(precision, scale) column from unscaled integers (None where ``valid`` is false)."""
    items = [int(v) for v in np.asarray(unscaled, dtype=object).tolist()]
    python: list[Decimal | None]
    if valid is None:
        python = [Decimal(v).scaleb(-scale) for v in items]
    else:
        python = [Decimal(v).scaleb(-scale) if ok else None for v, ok in zip(items, valid.tolist())]
    arrow_type = pa.decimal128(precision, scale) if precision <= 38 else pa.decimal256(precision, scale)
    return pa.array(python, type=arrow_type)

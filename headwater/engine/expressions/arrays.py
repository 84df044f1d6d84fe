"""Small vectorized helpers shared by the compiled operators: scalars and arrays, masks, scatter."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "Datum",
    "broadcast",
    "collection_lengths",
    "element_positions",
    "is_scalar",
    "map_entries",
    "null_mask",
    "parent_indices",
    "scatter",
    "true_mask",
    "valid_mask",
    "with_nulls",
]

Datum: TypeAlias = pa.Array | pa.Scalar
"""What an evaluator returns: a column of the frame's length, or a scalar standing for every row."""


def is_scalar(value: Datum) -> bool:
    return isinstance(value, pa.Scalar)


def broadcast(value: Datum | pa.ChunkedArray, length: int) -> pa.Array:
    """``value`` as an array of ``length`` rows (a scalar repeated, chunks joined).

    Example:
        >>> broadcast(pa.scalar(1), 2).to_pylist()
        [1, 1]
    """
    if isinstance(value, pa.Scalar):
        return pa.repeat(value, length)
    if isinstance(value, pa.ChunkedArray):
        return value.combine_chunks()
    return value


def true_mask(value: Datum, length: int) -> np.ndarray:
    """Rows where a BOOLEAN value is TRUE (NULL counts as not TRUE), as a numpy bool array."""
    if isinstance(value, pa.Scalar):
        return np.full(length, bool(value.is_valid and value.as_py()), dtype=bool)
    filled = pc.fill_null(value, False)
    return np.asarray(filled.to_numpy(zero_copy_only=False), dtype=bool)


def valid_mask(value: Datum, length: int) -> np.ndarray:
    """Rows where ``value`` is not NULL."""
    if isinstance(value, pa.Scalar):
        return np.full(length, value.is_valid, dtype=bool)
    if value.null_count == 0:
        return np.ones(length, dtype=bool)
    return np.asarray(pc.is_valid(value).to_numpy(zero_copy_only=False), dtype=bool)


def null_mask(value: Datum, length: int) -> np.ndarray:
    """Rows where ``value`` is NULL."""
    return ~valid_mask(value, length)


def with_nulls(values: pa.Array, nulls: np.ndarray) -> pa.Array:
    """``values`` with the rows of ``nulls`` made NULL (other rows unchanged)."""
    if not nulls.any():
        return values
    return pc.if_else(pa.array(nulls), pa.nulls(len(values), values.type), values)


def scatter(pieces: Sequence[tuple[np.ndarray, pa.Array]], length: int, arrow_type: pa.DataType) -> pa.Array:
    """An array of ``length`` rows from pieces computed on row subsets: ``(indexes, values)`` puts
    ``values[k]`` at row ``indexes[k]``; rows no piece covers are NULL.

    Example:
        >>> scatter([(np.array([2]), pa.array([7]))], 3, pa.int64()).to_pylist()
        [None, None, 7]
    """
    arrays = [values.cast(arrow_type) if values.type != arrow_type else values for _, values in pieces]
    total = sum(len(a) for a in arrays)
    combined = pa.concat_arrays([*arrays, pa.nulls(1, arrow_type)])
    gather = np.full(length, total, dtype=np.int64)
    offset = 0
    for (indexes, _), values in zip(pieces, arrays):
        gather[indexes] = np.arange(offset, offset + len(values), dtype=np.int64)
        offset += len(values)
    return combined.take(pa.array(gather))


def collection_lengths(values: pa.Array) -> np.ndarray:
    """Element counts of a LIST or MAP column (0 for a NULL row), from its offsets."""
    offsets = np.asarray(values.offsets.to_numpy(zero_copy_only=False), dtype=np.int64)
    lengths = np.diff(offsets)
    if values.null_count:
        lengths[~valid_mask(values, len(values))] = 0
    return lengths


def parent_indices(values: pa.Array) -> np.ndarray:
    """For each element of a LIST or MAP column, flattened (NULL rows contribute none), its row."""
    lengths = collection_lengths(values)
    return np.repeat(np.arange(len(values), dtype=np.int64), lengths)


def element_positions(values: pa.Array) -> np.ndarray:
    """Positions, in the unsliced child array of a LIST or MAP column, of its elements row by row
    (NULL rows contribute none): ``values.values.take(element_positions(values))`` flattens a list."""
    lengths = collection_lengths(values)
    starts = np.asarray(values.offsets.to_numpy(zero_copy_only=False), dtype=np.int64)[:-1]
    before = np.concatenate([[0], np.cumsum(lengths)[:-1]]) if len(lengths) else lengths
    return np.arange(int(lengths.sum()), dtype=np.int64) + np.repeat(starts - before, lengths)


def map_entries(maps: pa.Array) -> tuple[pa.Array, pa.Array]:
    """The keys and the values of a MAP column, flattened row by row (NULL rows contribute none)."""
    positions = pa.array(element_positions(maps))
    return maps.keys.take(positions), maps.items.take(positions)

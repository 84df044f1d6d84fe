"""Small vectorized building blocks the function kernels share.

Kernels receive each argument as a column (``pa.Array`` or ``pa.ChunkedArray``) or, for a literal, as a
``pa.Scalar``; these helpers turn that mix into plain arrays, combine null masks, rebuild list and map
columns from flat values, and run a computation once per distinct value of an argument (a format
pattern, a regular expression, a time zone) when that argument is a column rather than a literal.

Example:
    >>> import pyarrow as pa
    >>> as_array(pa.scalar(3), 2).to_pylist()
    [3, 3]
    >>> rebuild_list(np.array([2, 0]), pa.array([1, 2]), None, pa.list_(pa.int64())).to_pylist()
    [[1, 2], []]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.functions.registry import Datum

__all__ = [
    "any_null",
    "apply_by_distinct",
    "as_array",
    "as_numpy",
    "is_scalar",
    "list_parts",
    "map_parts",
    "null_array",
    "rebuild_list",
    "rebuild_map",
    "scalar_value",
    "valid_mask",
    "with_nulls",
]


def is_scalar(datum: Datum | None) -> bool:
    """Whether ``datum`` is a literal (a ``pa.Scalar``)."""
    return isinstance(datum, pa.Scalar)


def scalar_value(datum: Datum) -> Any:
    """The Python value of a literal argument."""
    assert isinstance(datum, pa.Scalar)
    return datum.as_py()


def as_array(datum: Datum, length: int) -> pa.Array:
    """``datum`` as one contiguous array of ``length`` rows (a scalar is repeated)."""
    if isinstance(datum, pa.Scalar):
        if not datum.is_valid:
            return pa.nulls(length, datum.type)
        return pa.repeat(datum, length)
    if isinstance(datum, pa.ChunkedArray):
        if datum.num_chunks == 1:
            return datum.chunk(0)
        return datum.combine_chunks() if datum.num_chunks else pa.array([], datum.type)
    return datum


def null_array(length: int, arrow_type: pa.DataType) -> pa.Array:
    """An all-NULL column."""
    return pa.nulls(length, arrow_type)


def valid_mask(array: pa.Array) -> np.ndarray:
    """A boolean numpy mask, True where ``array`` is not NULL."""
    if array.null_count == 0:
        return np.ones(len(array), dtype=bool)
    return np.asarray(array.is_valid().to_numpy(zero_copy_only=False), dtype=bool)


def any_null(arrays: Sequence[pa.Array], length: int) -> np.ndarray:
    """True for each row where at least one of ``arrays`` is NULL."""
    mask = np.zeros(length, dtype=bool)
    for array in arrays:
        if array.null_count:
            mask |= ~valid_mask(array)
    return mask


def with_nulls(array: pa.Array, null_rows: np.ndarray) -> pa.Array:
    """``array`` with the rows flagged in ``null_rows`` set to NULL (other NULLs are kept)."""
    if not null_rows.any():
        return array
    return pc.if_else(pa.array(null_rows), pa.nulls(len(array), array.type), array)


def as_numpy(array: pa.Array, fill: Any = 0) -> np.ndarray:
    """The values of a numeric or boolean array as numpy, NULLs replaced by ``fill``."""
    if array.null_count:
        array = pc.fill_null(array, pa.scalar(fill, array.type))
    return np.asarray(array.to_numpy(zero_copy_only=False))


def list_parts(array: pa.Array) -> tuple[np.ndarray, pa.Array, np.ndarray]:
    """Split a list column into (lengths per row, flat values of the valid rows, validity mask).

    NULL rows have length 0 and contribute no values, whatever their offsets say."""
    validity = valid_mask(array)
    lengths = np.asarray(pc.fill_null(pc.list_value_length(array), 0).to_numpy(), dtype=np.int64)
    values = pc.list_flatten(array)
    return lengths, values, validity


def map_parts(array: pa.Array) -> tuple[np.ndarray, pa.Array, pa.Array, np.ndarray]:
    """Split a map column into (lengths per row, flat keys, flat values, validity mask)."""
    if pa.types.is_map(array.type):
        entry = pa.struct([pa.field("key", array.type.key_type), pa.field("value", array.type.item_type)])
        array = array.cast(pa.list_(entry))
    lengths, entries, validity = list_parts(array)
    return lengths, entries.field(0), entries.field(1), validity


def _offsets(lengths: np.ndarray) -> pa.Array:
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    if offsets[-1] < 2**31:
        return pa.array(offsets.astype(np.int32))
    raise ValueError("a list column of more than 2**31 elements in one batch")


def rebuild_list(
    lengths: np.ndarray, values: pa.Array, validity: np.ndarray | None, list_type: pa.DataType
) -> pa.Array:
    """A list column whose row ``i`` holds the next ``lengths[i]`` items of ``values``; rows where
    ``validity`` is False are NULL (their length must be 0)."""
    offsets = _offsets(lengths)
    values = values.cast(list_type.value_type) if values.type != list_type.value_type else values
    mask = None if validity is None or validity.all() else pa.array(~validity)
    return pa.ListArray.from_arrays(offsets, values, type=list_type, mask=mask)


def rebuild_map(
    lengths: np.ndarray,
    keys: pa.Array,
    values: pa.Array,
    validity: np.ndarray | None,
    map_type: pa.DataType,
) -> pa.Array:
    """A map column built like :func:`rebuild_list`, from flat keys and values."""
    offsets = _offsets(lengths)
    keys = keys.cast(map_type.key_type) if keys.type != map_type.key_type else keys
    values = values.cast(map_type.item_type) if values.type != map_type.item_type else values
    mask = None if validity is None or validity.all() else pa.array(~validity)
    return pa.MapArray.from_arrays(offsets, keys, values, type=map_type, mask=mask)


def _codes(datum: Datum, length: int) -> tuple[np.ndarray, list[Any]]:
    """Dictionary codes of an argument (-1 for NULL) and the distinct values they index."""
    if isinstance(datum, pa.Scalar):
        if not datum.is_valid:
            return np.full(length, -1, dtype=np.int64), []
        return np.zeros(length, dtype=np.int64), [datum.as_py()]
    encoded = pc.dictionary_encode(as_array(datum, length))
    return as_numpy(encoded.indices, fill=-1).astype(np.int64), encoded.dictionary.to_pylist()


def apply_by_distinct(
    key: Datum | Sequence[Datum],
    length: int,
    out_type: pa.DataType,
    compute: Callable[[Any, np.ndarray], pa.Array],
) -> pa.Array:
    """Run ``compute(value, rows)`` once per distinct non-NULL value of the ``key`` argument.

    ``rows`` are the row numbers holding that value; ``compute`` returns one result per row in that
    order. Rows whose key is NULL get NULL. A literal key calls ``compute`` once for all rows. This is
    how a kernel vectorizes over a column of format patterns or regular expressions: the patterns of a
    batch are few, the rows many. With a sequence of keys, ``value`` is the tuple of their values and a
    row is NULL when any of them is.
    """
    keys: list[Datum] = [key] if not isinstance(key, (list, tuple)) else list(key)
    single = not isinstance(key, (list, tuple))
    if all(isinstance(k, pa.Scalar) for k in keys):
        scalars = [k.as_py() for k in keys]
        if any(not k.is_valid for k in keys):
            return pa.nulls(length, out_type)
        return compute(scalars[0] if single else tuple(scalars), np.arange(length))
    coded = [_codes(k, length) for k in keys]
    stacked = np.stack([codes for codes, _ in coded], axis=1)
    null_rows = (stacked < 0).any(axis=1)
    groups, inverse = np.unique(stacked, axis=0, return_inverse=True)
    inverse = np.where(null_rows, -1, inverse.reshape(-1))
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(-1, len(groups) + 1))
    pieces: list[pa.Array] = []
    if bounds[1] > bounds[0]:
        pieces.append(pa.nulls(int(bounds[1] - bounds[0]), out_type))
    for group_index, group in enumerate(groups):
        rows = order[bounds[group_index + 1] : bounds[group_index + 2]]
        if not len(rows) or (group < 0).any():
            continue
        values = tuple(dictionary[c] for c, (_, dictionary) in zip(group, coded))
        piece = compute(values[0] if single else values, rows)
        pieces.append(piece.cast(out_type) if piece.type != out_type else piece)
    combined = pa.concat_arrays(pieces) if pieces else pa.nulls(0, out_type)
    position = np.empty(length, dtype=np.int64)
    position[order] = np.arange(length)
    return combined.take(pa.array(position))


def choose_rows(choice: np.ndarray, columns: Sequence[pa.Array]) -> pa.Array:
    """Row ``i`` of the result is row ``i`` of ``columns[choice[i]]``, for columns of any type (Arrow's
    ``choose`` has no kernel for nested types); ``choice`` -1 gives NULL."""
    length = len(choice)
    combined = pa.concat_arrays([*columns, pa.nulls(1, columns[0].type)])
    index = np.where(choice < 0, len(combined) - 1, choice.astype(np.int64) * length + np.arange(length))
    return combined.take(pa.array(index, pa.int64()))

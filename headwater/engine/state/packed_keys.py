"""Integer keys to slots without a per-key Python loop: the key index's packed mode.

Keys made of one to three integer-like columns (INT, BIGINT, BOOLEAN, DATE, TIME, TIMESTAMP: a window
start, an id, a count) are the common keys of aggregations and joins. :class:`PackedKeys` finds the slots
of a batch's distinct keys with numpy alone:

* each column's values get dense *codes* (a value seen first gets the next code; NULL has a code of its
  own), kept in a sorted int64 array looked up with ``searchsorted``;
* a key's codes are packed into one int64 (63 / columns bits each), and the packed keys live in another
  sorted array mapping them to slots (-1 once a key is removed; it gets a new slot if it comes back).

A lookup costs a binary search per distinct key and a sorted merge per batch of new keys (a memory move
of the arrays, far cheaper than hashing them again), whatever the number of keys held. A column with
more distinct values than its bits can number cannot be packed: :meth:`PackedKeys.find` then answers
None and the index falls back to looking keys up in a dictionary.

Example:
    >>> import pyarrow as pa
    >>> keys = PackedKeys(2)
    >>> keys.find([pa.array([5, 5, 9]), pa.array([1, 2, 1])], insert=True, next_slot=0).tolist()
    [0, 1, 2]
    >>> keys.find([pa.array([9, 7]), pa.array([1, 1])], insert=False, next_slot=3).tolist()
    [2, -1]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["PackedKeys", "packable"]

MAX_COLUMNS = 3


def _integer_like(arrow_type: pa.DataType) -> bool:
    return bool(
        pa.types.is_integer(arrow_type)
        or pa.types.is_boolean(arrow_type)
        or pa.types.is_date(arrow_type)
        or pa.types.is_time(arrow_type)
        or pa.types.is_timestamp(arrow_type)
    )


def packable(fields: Sequence[pa.Field]) -> bool:
    """Whether keys of these columns can be looked up packed: one to three integer-like columns."""
    return 0 < len(fields) <= MAX_COLUMNS and all(_integer_like(f.type) for f in fields)


def _int64_values(column: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(values as int64, valid mask) of an integer-like column; NULL positions hold 0."""
    arrow_type = column.type
    if pa.types.is_boolean(arrow_type):
        column = column.cast(pa.int8())
    elif not pa.types.is_integer(arrow_type):
        column = column.view(pa.int32() if arrow_type.bit_width == 32 else pa.int64())
    valid = (
        np.ones(len(column), dtype=bool)
        if column.null_count == 0
        else np.asarray(column.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    )
    if column.null_count:
        column = column.fill_null(0)
    return np.asarray(column.to_numpy(zero_copy_only=False)).astype(np.int64, copy=False), valid


class _SortedMap:
    """int64 -> int64, as two arrays sorted by key (vectorized find, add, set)."""

    def __init__(self) -> None:
        self.keys = np.zeros(0, dtype=np.int64)
        self.values = np.zeros(0, dtype=np.int64)

    def find(self, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(value of each query or -1, position of each found query in the arrays or -1)."""
        positions = np.searchsorted(self.keys, queries)
        inside = positions < len(self.keys)
        found = np.zeros(len(queries), dtype=bool)
        found[inside] = self.keys[positions[inside]] == queries[inside]
        values = np.full(len(queries), -1, dtype=np.int64)
        values[found] = self.values[positions[found]]
        return values, np.where(found, positions, -1)

    def add(self, keys: np.ndarray, values: np.ndarray) -> None:
        """Add keys not in the map (distinct)."""
        order = np.argsort(keys, kind="stable")
        keys, values = keys[order], values[order]
        at = np.searchsorted(self.keys, keys)
        self.keys = np.insert(self.keys, at, keys)
        self.values = np.insert(self.values, at, values)


class _ColumnCodes:
    """Dense codes of one column's values (NULL included)."""

    def __init__(self) -> None:
        self.map = _SortedMap()
        self.null_code = -1
        self.count = 0

    def codes(self, column: pa.Array, insert: bool) -> np.ndarray:
        """Each value's code; -1 for a value without one when not ``insert``."""
        values, valid = _int64_values(column)
        codes, _ = self.map.find(values)
        if not valid.all():
            if self.null_code < 0 and insert:
                self.null_code = self.count
                self.count += 1
            codes[~valid] = self.null_code
        missing = valid & (codes < 0)
        if insert and missing.any():
            # the new values, hashed (no sort of the rows): codes follow their first appearance
            encoded = pc.dictionary_encode(pa.array(values[missing], pa.int64()))
            fresh = np.asarray(encoded.dictionary.to_numpy(zero_copy_only=False), dtype=np.int64)
            new_codes = self.count + np.arange(len(fresh), dtype=np.int64)
            self.map.add(fresh, new_codes)
            self.count += len(fresh)
            codes[missing] = new_codes[np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)]
        return codes


class PackedKeys:
    """Packed keys to slots (see the module docstring).

    Args:
        columns: the number of key columns (1 to 3).
    """

    def __init__(self, columns: int) -> None:
        self.bits = 63 // columns
        self.columns = [_ColumnCodes() for _ in range(columns)]
        self.slots = _SortedMap()
        self.packed_of_slot = np.zeros(0, dtype=np.int64)

    def _fits(self) -> bool:
        return all(column.count <= (1 << self.bits) for column in self.columns)

    def _pack(self, key_columns: Sequence[pa.Array], insert: bool) -> np.ndarray | None:
        """Each row's packed key (-1 where a value has no code); None when a column outgrew its bits."""
        codes = [codes.codes(column, insert) for codes, column in zip(self.columns, key_columns)]
        if not self._fits():
            return None
        packed = codes[0].copy()
        unknown = codes[0] < 0
        for column_codes in codes[1:]:
            packed = (packed << self.bits) | np.maximum(column_codes, 0)
            unknown |= column_codes < 0
        packed[unknown] = -1
        return packed

    def find(self, uniques: Sequence[pa.Array], *, insert: bool, next_slot: int) -> np.ndarray | None:
        """The slot of each distinct key (``uniques``, in first-appearance order); new keys get slots
        ``next_slot``, ``next_slot + 1``, ... in that order when ``insert``, else -1. None when the keys
        cannot be packed any more (nothing was assigned)."""
        packed = self._pack(uniques, insert)
        if packed is None:
            return None
        known = packed >= 0
        slots = np.full(len(packed), -1, dtype=np.int64)
        positions = np.full(len(packed), -1, dtype=np.int64)
        slots[known], positions[known] = self.slots.find(packed[known])
        new = np.flatnonzero(known & (slots < 0))
        if insert and len(new):
            fresh = next_slot + np.arange(len(new), dtype=np.int64)
            slots[new] = fresh
            returning = positions[new] >= 0  # removed keys that come back keep their map entry
            self.slots.values[positions[new][returning]] = fresh[returning]
            if (~returning).any():
                self.slots.add(packed[new][~returning], fresh[~returning])
            self.packed_of_slot = np.concatenate([self.packed_of_slot, packed[new]])
        return slots

    def remove(self, slots: np.ndarray) -> None:
        """Forget the keys of ``slots`` (live slots, distinct)."""
        _, positions = self.slots.find(self.packed_of_slot[slots])
        self.slots.values[positions[positions >= 0]] = -1

    def rebuild(self, key_columns: Sequence[pa.Array], live: np.ndarray) -> bool:
        """Start again from the stored keys of every slot (``live`` marks the slots with a key), so
        values of removed keys do not pile up in the codes. False when they cannot be packed."""
        self.columns = [_ColumnCodes() for _ in key_columns]
        self.slots = _SortedMap()
        mask = pa.array(live)
        packed = self._pack([column.filter(mask) for column in key_columns], True)
        if packed is None:
            return False
        self.packed_of_slot = np.full(len(live), -1, dtype=np.int64)
        self.packed_of_slot[live] = packed
        self.slots.add(packed, np.flatnonzero(live).astype(np.int64))
        return True

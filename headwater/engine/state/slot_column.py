"""One value per slot, growable, with vectorized gather and scatter: the storage unit of operator state.

Keyed state in Headwater is *slotted*: a :class:`~headwater.engine.state.key_index.KeyIndex` gives each
distinct key (a GROUP BY key, a window, a join key) a dense integer slot, and every piece of per-key state
is a column indexed by slot. A :class:`SlotColumn` is such a column for values of one Arrow type:

* fixed-width types (BOOLEAN, INTEGER, BIGINT, DOUBLE, DATE, TIME, TIMESTAMP) live in a numpy array plus a
  validity mask, so arithmetic on state is numpy arithmetic;
* every other type (strings, bytes, decimals, arrays, maps, structs) lives in a numpy object array of
  Python values (None for null), which is what per-key collection states need anyway.

A *dense* column has no NULLs (counters, sums): new slots start at zero and are valid.

``gather(slots)`` returns an Arrow array of the values at ``slots``; ``scatter(slots, values)`` writes an
Arrow array (or numpy values) at ``slots``. :meth:`to_arrow` / :meth:`from_arrow` convert the whole column
for snapshots.

:class:`GrowableArray` is the plain numpy array appended to in place (key indexes keep their per-slot
keys and flags in them).

Example:
    >>> import pyarrow as pa, numpy as np
    >>> column = SlotColumn(pa.int64())
    >>> column.resize(3)
    >>> column.scatter(np.array([2, 0]), pa.array([7, None]))
    >>> column.gather(np.array([0, 1, 2])).to_pylist()
    [None, None, 7]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

__all__ = ["GrowableArray", "SlotColumn", "numpy_storage"]

_FIXED: dict[pa.DataType, tuple[np.dtype[Any], pa.DataType]] = {
    pa.bool_(): (np.dtype(bool), pa.bool_()),
    pa.int8(): (np.dtype(np.int8), pa.int8()),
    pa.int16(): (np.dtype(np.int16), pa.int16()),
    pa.int32(): (np.dtype(np.int32), pa.int32()),
    pa.int64(): (np.dtype(np.int64), pa.int64()),
    pa.float64(): (np.dtype(np.float64), pa.float64()),
    pa.date32(): (np.dtype(np.int32), pa.int32()),
    pa.time32("ms"): (np.dtype(np.int32), pa.int32()),
    pa.timestamp("ms"): (np.dtype(np.int64), pa.int64()),
}


def numpy_storage(arrow_type: pa.DataType) -> np.dtype[Any] | None:
    """The numpy dtype a fixed-width Arrow type is stored as, or None for types kept as Python objects."""
    found = _FIXED.get(arrow_type)
    return None if found is None else found[0]


def _fixed_values(values: pa.Array, storage: pa.DataType, dtype: np.dtype[Any]) -> tuple[np.ndarray, np.ndarray]:
    """(values, valid) of a fixed-width Arrow array; null positions hold zero."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    valid = (
        np.ones(len(values), dtype=bool)
        if values.null_count == 0
        else np.asarray(values.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    )
    if values.type != storage and values.type.bit_width == storage.bit_width and storage != pa.bool_():
        values = values.view(storage)
    if values.null_count:
        values = values.fill_null(False if storage == pa.bool_() else 0)
    data = np.asarray(values.to_numpy(zero_copy_only=False), dtype=dtype)
    return data, valid


class GrowableArray:
    """A numpy array appended to in place: it grows into spare capacity (by half again when full), so a
    state that gains a few entries per batch pays for what it adds, not for a copy of all it holds.

    Example:
        >>> grown = GrowableArray(np.int64, np.array([1, 2]))
        >>> grown.append(np.array([3]))
        >>> grown.values.tolist(), grown.length
        ([1, 2, 3], 3)
    """

    def __init__(self, dtype: type, values: np.ndarray | None = None) -> None:
        initial: np.ndarray = np.zeros(0, dtype=dtype) if values is None else np.asarray(values, dtype=dtype)
        self._buffer: np.ndarray = np.zeros(max(16, len(initial)), dtype=dtype)
        self._buffer[: len(initial)] = initial
        self.length = len(initial)

    @property
    def values(self) -> np.ndarray:
        """The entries (a view: writes to it change them)."""
        return self._buffer[: self.length]

    def append(self, values: np.ndarray) -> None:
        needed = self.length + len(values)
        if needed > len(self._buffer):
            grown = np.zeros(max(needed, len(self._buffer) * 3 // 2), dtype=self._buffer.dtype)
            grown[: self.length] = self.values
            self._buffer = grown
        self._buffer[self.length : needed] = values
        self.length = needed


class SlotColumn:
    """A growable column of ``arrow_type`` values indexed by slot (see the module docstring).

    Attributes:
        arrow_type: the Arrow type of the values.
        data: numpy values (fixed-width types) or Python objects (other types).
        valid: validity per slot (fixed-width types; object columns use None for null).
    """

    def __init__(self, arrow_type: pa.DataType, size: int = 0, *, dense: bool = False) -> None:
        self.arrow_type = arrow_type
        self.dense = dense
        found = _FIXED.get(arrow_type)
        self.fixed = found is not None
        self._dtype: np.dtype[Any] = found[0] if found is not None else np.dtype(object)
        self._storage: pa.DataType | None = found[1] if found is not None else None
        self.data: np.ndarray = np.zeros(size, dtype=self._dtype) if self.fixed else np.full(size, None, object)
        self.valid: np.ndarray = np.full(size, dense, dtype=bool)
        self._data_buffer: np.ndarray | None = None
        self._valid_buffer: np.ndarray | None = None
        self._data_view: np.ndarray | None = None
        self._valid_view: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.data)

    # -- shape --------------------------------------------------------------------------------------------
    def resize(self, size: int) -> None:
        """Grow to ``size`` slots; new slots are null. Never shrinks (see :meth:`take`).

        :attr:`data` and :attr:`valid` are views of the first ``size`` entries of buffers that grow by
        half again when full: a state that gains a few keys per call (a join step cut into many small
        groups) would otherwise copy every column once per call."""
        old = len(self.data)
        grow = size - old
        if grow <= 0:
            return
        # the buffers are reused only while data/valid are still the views made of them (take() and
        # snapshots' restores make new arrays)
        if (
            self._data_buffer is None
            or len(self._data_buffer) < size
            or self.data is not self._data_view
            or self.valid is not self._valid_view
        ):
            capacity = max(size, old + old // 2, 16)
            data_buffer = np.zeros(capacity, dtype=self._dtype) if self.fixed else np.full(capacity, None, object)
            valid_buffer = np.zeros(capacity, dtype=bool)
            data_buffer[:old] = self.data
            valid_buffer[:old] = self.valid
            self._data_buffer, self._valid_buffer = data_buffer, valid_buffer
        assert self._valid_buffer is not None
        self.data = self._data_view = self._data_buffer[:size]
        self.valid = self._valid_view = self._valid_buffer[:size]
        self.data[old:] = 0 if self.fixed else None
        self.valid[old:] = self.dense

    def take(self, slots: np.ndarray) -> None:
        """Keep only ``slots``, renumbered 0..len(slots)-1 in that order (compaction)."""
        self.data = self.data[slots]
        self.valid = self.valid[slots]

    def clear(self, slots: np.ndarray) -> None:
        """Set ``slots`` to null."""
        self.valid[slots] = False
        if not self.fixed:
            self.data[slots] = None

    # -- access -------------------------------------------------------------------------------------------
    def gather(self, slots: np.ndarray) -> pa.Array:
        """The values at ``slots`` as an Arrow array of :attr:`arrow_type`."""
        if self.fixed:
            assert self._storage is not None
            valid = self.valid[slots]
            raw = pa.array(self.data[slots], type=self._storage, mask=~valid if not valid.all() else None)
            return raw if self._storage == self.arrow_type else raw.view(self.arrow_type)
        values = self.data[slots]
        return pa.array(values.tolist(), type=self.arrow_type)

    def gather_python(self, slots: np.ndarray) -> list[Any]:
        """The values at ``slots`` as Python objects (None for null)."""
        if self.fixed:
            return self.gather(slots).to_pylist()
        return list(self.data[slots])

    def scatter(self, slots: np.ndarray, values: pa.Array | pa.ChunkedArray) -> None:
        """Write ``values`` (an Arrow array of :attr:`arrow_type`, one per slot) at ``slots``."""
        if self.fixed:
            assert self._storage is not None
            data, valid = _fixed_values(values, self._storage, self._dtype)
            self.data[slots] = data
            self.valid[slots] = valid
            return
        if values.null_count:
            self.scatter_python(slots, values.to_pylist())
            return
        holder = np.empty(len(values), dtype=object)
        holder[:] = values.to_pylist()
        self.data[slots] = holder
        self.valid[slots] = True

    def scatter_numpy(self, slots: np.ndarray, data: np.ndarray, valid: np.ndarray | bool = True) -> None:
        """Write numpy values at ``slots`` (fixed-width columns only)."""
        if not self.fixed:
            raise TypeError(f"{self.arrow_type} state is not stored as numpy values")
        self.data[slots] = data
        self.valid[slots] = valid

    def scatter_python(self, slots: np.ndarray, values: list[Any]) -> None:
        """Write Python values (None for null) at ``slots``."""
        if self.fixed:
            self.scatter(slots, pa.array(values, type=self.arrow_type))
            return
        holder = np.empty(len(values), dtype=object)
        holder[:] = values
        self.data[slots] = holder
        self.valid[slots] = np.fromiter((v is not None for v in values), dtype=bool, count=len(values))

    # -- snapshots ----------------------------------------------------------------------------------------
    def to_arrow(self) -> pa.Array:
        """Every slot's value, as an Arrow array of its own (fixed-width values are copied whole rather
        than gathered: Arrow would share a numpy array's memory, which later writes to state change)."""
        if not self.fixed:
            return self.gather(np.arange(len(self.data)))
        assert self._storage is not None
        valid = self.valid
        raw = pa.array(self.data.copy(), type=self._storage, mask=None if valid.all() else ~valid)
        return raw if self._storage == self.arrow_type else raw.view(self.arrow_type)

    @classmethod
    def from_arrow(cls, values: pa.Array | pa.ChunkedArray, *, dense: bool = False) -> SlotColumn:
        """The column saved by :meth:`to_arrow`."""
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        column = cls(values.type, len(values), dense=dense)
        column.scatter(np.arange(len(values)), values)
        return column

"""ARRAY, MAP and STRUCT values over whole columns: element access, field access and constructors.

* ``a[i]`` is 1-based, a negative index counts from the end (-1 is the last element), an index out of
  range (0 included) or a NULL array gives NULL (ksqlDB's ArrayAccess);
* ``m[k]`` is the value of key ``k``, NULL when absent;
* ``s->f`` is NULL when the struct is;
* ``ARRAY[...]``, ``MAP(...)``, ``STRUCT(...)`` build one value per row from their items; a MAP drops
  entries whose key is NULL (Arrow maps have no NULL keys) and keeps the last value of a repeated
  constant key.

All of it is offset arithmetic in numpy plus Arrow ``take``: no per-row Python.

Example:
    >>> import pyarrow as pa
    >>> lists = pa.array([[1, 2, 3], [4], None])
    >>> array_element(lists, pa.scalar(-1), 3).to_pylist()
    [3, 4, None]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.expressions.arrays import (
    Datum,
    broadcast,
    is_scalar,
    map_entries,
    parent_indices,
    scatter,
    valid_mask,
)
from headwater.engine.types import to_arrow
from headwater.parser import types as t

__all__ = ["array_element", "array_of", "field_of", "map_of", "map_value", "struct_of"]


def _numpy(values: pa.Array, fill: int) -> np.ndarray:
    return np.asarray(pc.fill_null(values, fill).to_numpy(zero_copy_only=False), dtype=np.int64)


def field_of(struct: Datum, index: int) -> Datum:
    """Field ``index`` of each struct (NULL for a NULL struct)."""
    if is_scalar(struct):
        return pc.struct_field(pa.repeat(struct, 1), [index])[0]
    return pc.struct_field(struct, [index])


def array_element(lists: Datum, index: Datum, length: int) -> Datum:
    """``lists[index]`` with ksqlDB's 1-based and from-the-end indexing (see the module docstring)."""
    scalar = is_scalar(lists) and is_scalar(index)
    n = 1 if scalar else length
    arrays = broadcast(lists, n)
    offsets = np.asarray(arrays.offsets.to_numpy(zero_copy_only=False), dtype=np.int64)
    lengths = np.diff(offsets)
    ok = valid_mask(arrays, n)
    if is_scalar(index):
        if not index.is_valid:
            return pa.scalar(None, arrays.type.value_type) if scalar else pa.nulls(n, arrays.type.value_type)
        wanted = int(index.as_py())
        position = np.full(n, wanted - 1, dtype=np.int64) if wanted >= 0 else lengths + wanted
    else:
        indexes = broadcast(index, n)
        ok &= valid_mask(indexes, n)
        wanted_column = _numpy(pc.cast(indexes, pa.int64()), 0)
        position = np.where(wanted_column >= 0, wanted_column - 1, lengths + wanted_column)
    ok &= (position >= 0) & (position < lengths)
    element_type = arrays.type.value_type
    if not ok.any():
        return pa.scalar(None, element_type) if scalar else pa.nulls(n, element_type)
    # take without NULL indices (Arrow's masked take is several times slower), then blank the misses
    taken = arrays.values.take(pa.array((offsets[:-1] + position) * ok))
    result = taken if ok.all() else pc.if_else(pa.array(ok), taken, pa.scalar(None, element_type))
    return result[0] if scalar else result


def map_value(maps: Datum, key: Datum, length: int) -> Datum:
    """``maps[key]``: the value of the first entry with that key, NULL when there is none."""
    if is_scalar(key):
        if not key.is_valid:
            return (
                pa.scalar(None, maps.type.item_type)
                if is_scalar(maps)
                else pa.nulls(length, maps.type.item_type)
            )
        if is_scalar(maps):
            return pc.map_lookup(pa.repeat(maps, 1), query_key=key, occurrence="first")[0]
        return pc.map_lookup(maps, query_key=key, occurrence="first")
    arrays = broadcast(maps, length)
    parents = parent_indices(arrays)
    keys, values = map_entries(arrays)
    wanted = key.take(pa.array(parents))
    hits = np.flatnonzero(np.asarray(pc.fill_null(pc.equal(keys, wanted), False), dtype=bool))
    rows, first = np.unique(parents[hits], return_index=True)
    return scatter([(rows, values.take(pa.array(hits[first])))], length, arrays.type.item_type)


def array_of(items: Sequence[Datum], sql_type: t.Array, length: int) -> Datum:
    """One array per row holding the items' values for that row."""
    arrow_type = to_arrow(sql_type)
    if all(is_scalar(i) for i in items):
        return pa.scalar([i.as_py() for i in items], type=arrow_type)
    count = len(items)
    values = pa.concat_arrays([broadcast(i, length).cast(arrow_type.value_type) for i in items])
    order = (
        np.arange(count, dtype=np.int64)[None, :] * length + np.arange(length, dtype=np.int64)[:, None]
    ).ravel()
    offsets = pa.array(np.arange(0, length * count + 1, count, dtype=np.int32))
    return pa.ListArray.from_arrays(offsets, values.take(pa.array(order)), type=arrow_type)


def map_of(keys: Sequence[Datum], values: Sequence[Datum], sql_type: t.Map, length: int) -> Datum:
    """One map per row from the (key, value) items (see the module docstring for NULL and repeated keys)."""
    arrow_type = to_arrow(sql_type)
    entries = list(zip(keys, values))
    constant_keys = [k.as_py() for k in keys if is_scalar(k)]
    if len(constant_keys) == len(keys):
        last = {k: i for i, k in enumerate(constant_keys) if k is not None}
        entries = [entries[i] for i in sorted(last.values())]
    if not entries:
        return pa.scalar([], type=arrow_type) if length == 1 else pa.array([[]] * length, type=arrow_type)
    if all(is_scalar(k) and is_scalar(v) for k, v in entries):
        return pa.scalar([(k.as_py(), v.as_py()) for k, v in entries], type=arrow_type)
    count = len(entries)
    all_keys = pa.concat_arrays([broadcast(k, length).cast(arrow_type.key_type) for k, _ in entries])
    all_values = pa.concat_arrays([broadcast(v, length).cast(arrow_type.item_type) for _, v in entries])
    order = (
        np.arange(count, dtype=np.int64)[None, :] * length + np.arange(length, dtype=np.int64)[:, None]
    ).ravel()
    ordered_keys = all_keys.take(pa.array(order))
    keep = valid_mask(ordered_keys, len(ordered_keys))
    per_row = keep.reshape(length, count).sum(axis=1)
    offsets = pa.array(np.concatenate([[0], np.cumsum(per_row)]).astype(np.int32))
    kept = pa.array(np.flatnonzero(keep))
    return pa.MapArray.from_arrays(
        offsets, ordered_keys.take(kept), all_values.take(pa.array(order)).take(kept), type=arrow_type
    )


def struct_of(fields: Sequence[tuple[str, Datum]], sql_type: t.Struct, length: int) -> Datum:
    """One struct per row; never NULL itself."""
    arrow_type = to_arrow(sql_type)
    if all(is_scalar(v) for _, v in fields):
        return pa.scalar({name: v.as_py() for name, v in fields}, type=arrow_type)
    arrays = [broadcast(v, length).cast(arrow_type.field(i).type) for i, (_, v) in enumerate(fields)]
    return pa.StructArray.from_arrays(arrays, fields=list(arrow_type))

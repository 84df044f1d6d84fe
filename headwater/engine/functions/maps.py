"""Map functions: AS_MAP, MAP_KEYS, MAP_VALUES, MAP_UNION and ENTRIES.

ksqlDB's maps are Java ``HashMap``\\ s: a key appears once, a later value for a key replaces the
earlier one, and functions that list entries (MAP_KEYS, MAP_VALUES, unsorted ENTRIES, REDUCE) see
them in HashMap order, which :func:`hashmap_order` reproduces. The kernels work on the
flattened entries of the batch and keep the last entry of each (row, key) pair with integer keys, as
in :mod:`.arrays`.

Example:
    >>> import pyarrow as pa
    >>> from headwater.engine.functions.registry import CallContext
    >>> from headwater.parser import types as t
    >>> ctx = CallContext((t.Array(t.STRING), t.Array(t.INT)), t.Map(t.STRING, t.INT), 1)
    >>> _as_map([pa.array([["a", "b", "a"]]), pa.array([[1, 2, 3]])], ctx).to_pylist()
    [[('b', 2), ('a', 3)]]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

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
from headwater.engine.functions.registry import (
    CallContext,
    Datum,
    FunctionError,
    Generic,
    Param,
    ScalarFunction,
    Signature,
)
from headwater.engine.functions.text import buffers
from headwater.engine.types import to_arrow
from headwater.parser import types as t

__all__ = ["FUNCTIONS", "hashmap_order", "iteration_order"]

CATEGORY = "MAP"
_K = Generic("K")
_V = Generic("V")
_T = Generic("T")


def _last_per_key(keys: pa.Array, parents: np.ndarray) -> np.ndarray:
    """Positions of the last entry of each (row, key), in order of those last entries."""
    codes = element_keys(keys, parents)
    reversed_codes = codes[::-1]
    _, first_from_end = np.unique(reversed_codes, return_index=True)
    return np.sort(len(codes) - 1 - first_from_end)


def _build_map(keys: pa.Array, items: pa.Array, parents: np.ndarray, rows: int, validity: np.ndarray,
               map_type: pa.DataType) -> pa.Array:
    keep = _last_per_key(keys, parents) if len(keys) else np.zeros(0, dtype=np.int64)
    lengths = np.bincount(parents[keep], minlength=rows).astype(np.int64) if len(keep) else np.zeros(rows, np.int64)
    taken = pa.array(keep, pa.int64())
    return rebuild_map(lengths, keys.take(taken), items.take(taken), validity, map_type)


def _as_map(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    key_lists = as_array(args[0], ctx.length)
    value_lists = as_array(args[1], ctx.length)
    if key_lists.null_count or value_lists.null_count:
        raise FunctionError("AS_MAP keys and values must not be NULL")
    key_lengths, keys, _ = list_parts(key_lists)
    value_lengths, values, _ = list_parts(value_lists)
    parents = parent_indices(key_lengths)
    position = np.arange(len(keys), dtype=np.int64) - np.repeat(np.cumsum(key_lengths) - key_lengths, key_lengths)
    value_starts = np.cumsum(value_lengths) - value_lengths
    has_value = position < value_lengths[parents]
    index = np.where(has_value, value_starts[parents] + position, len(values))
    padded = pa.concat_arrays([values, pa.nulls(1, values.type)])
    items = padded.take(pa.array(index, pa.int64()))
    map_type = to_arrow(ctx.return_type)
    return _build_map(keys, items, parents, ctx.length, np.ones(ctx.length, dtype=bool), map_type)


def _map_keys(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    maps = as_array(args[0], ctx.length)
    lengths, keys, items, validity = map_parts(maps)
    keys, _ = iteration_order(keys, items, lengths)
    return rebuild_list(lengths, keys, validity, to_arrow(ctx.return_type))


def _map_values(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    maps = as_array(args[0], ctx.length)
    lengths, keys, items, validity = map_parts(maps)
    _, items = iteration_order(keys, items, lengths)
    return rebuild_list(lengths, items, validity, to_arrow(ctx.return_type))


def _map_union(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    map_type = to_arrow(ctx.return_type)
    first = as_array(args[0], ctx.length).cast(map_type)
    second = as_array(args[1], ctx.length).cast(map_type)
    len_a, keys_a, items_a, valid_a = map_parts(first)
    len_b, keys_b, items_b, valid_b = map_parts(second)
    parents = np.concatenate([parent_indices(len_a), parent_indices(len_b)])
    order = pa.array(np.argsort(parents, kind="stable"))
    keys = pa.concat_arrays([keys_a, keys_b]).take(order)
    items = pa.concat_arrays([items_a, items_b]).take(order)
    return _build_map(keys, items, np.sort(parents, kind="stable"), ctx.length, valid_a | valid_b, map_type)


def _entries(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    maps = as_array(args[0], ctx.length)
    lengths, keys, items, validity = map_parts(maps)
    keys, items = iteration_order(keys, items, lengths)
    sorted_arg = as_array(args[1], ctx.length)
    sort_rows = as_numpy(sorted_arg, fill=False).astype(bool)
    parents = parent_indices(lengths)
    if sort_rows.any() and len(keys):
        table = pa.table({"row": pa.array(parents), "key": keys})
        by_key = as_numpy(pc.sort_indices(table, sort_keys=[("row", "ascending"), ("key", "ascending")]))
        by_key = by_key.astype(np.int64)
        natural = np.arange(len(keys), dtype=np.int64)
        order = np.where(sort_rows[parents[by_key]], by_key, natural)
        keys, items = keys.take(pa.array(order)), items.take(pa.array(order))
    list_type = to_arrow(ctx.return_type)
    struct_type = list_type.value_type
    structs = pa.StructArray.from_arrays([keys.cast(struct_type.field(0).type), items.cast(struct_type.field(1).type)],
                                         fields=list(struct_type))
    return rebuild_list(lengths, structs, validity & valid_mask(sorted_arg), list_type)


# --------------------------------------------------------------------------------------------------------
# Java's HashMap iteration order


def _java_string_hashes(keys: pa.Array) -> np.ndarray:
    """``String.hashCode()`` of each key (over UTF-16 code units), as uint32 in uint64."""
    offsets, data = buffers(keys)
    lengths = offsets[1:] - offsets[:-1]
    hashes = np.zeros(len(keys), dtype=np.uint64)
    if not len(keys):
        return hashes
    chunk = data[offsets[0] : offsets[-1]].astype(np.uint64)
    ascii_rows = np.ones(len(keys), dtype=bool)
    if (chunk >= 0x80).any():
        cumulative = np.concatenate([[0], np.cumsum(chunk >= 0x80)])
        ascii_rows = (cumulative[offsets[1:] - offsets[0]] - cumulative[offsets[:-1] - offsets[0]]) == 0
    if len(chunk):
        max_length = int(lengths.max())
        powers = np.ones(max_length + 1, dtype=np.uint64)
        for k in range(1, max_length + 1):
            powers[k] = (powers[k - 1] * np.uint64(31)) & np.uint64(0xFFFFFFFF)
        row = np.repeat(np.arange(len(keys)), lengths)
        position = np.arange(len(chunk)) - np.repeat(offsets[:-1] - offsets[0], lengths)
        exponent = lengths[row] - 1 - position
        terms = chunk * powers[exponent]
        np.add.at(hashes, row, terms)
        hashes &= np.uint64(0xFFFFFFFF)
    for index in np.flatnonzero(~ascii_rows):
        raw = keys[int(index)].as_py().encode("utf-16-be")
        value = 0
        for position in range(0, len(raw), 2):
            value = (31 * value + (raw[position] << 8 | raw[position + 1])) & 0xFFFFFFFF
        hashes[index] = value
    return hashes


def _java_hashes(keys: pa.Array) -> np.ndarray | None:
    """Java's ``hashCode()`` of each key, or None for key types whose order is not reproduced."""
    if pa.types.is_string(keys.type) or pa.types.is_large_string(keys.type):
        return _java_string_hashes(keys)
    if pa.types.is_integer(keys.type):
        values = as_numpy(keys.cast(pa.int64()), fill=0).astype(np.int64)
        if pa.types.is_int64(keys.type):
            values = values ^ (values >> 32)
        return values.astype(np.uint64) & np.uint64(0xFFFFFFFF)
    if pa.types.is_boolean(keys.type):
        return np.where(as_numpy(keys, fill=False).astype(bool), 1231, 1237).astype(np.uint64)
    return None


def hashmap_order(keys: pa.Array, lengths: np.ndarray) -> np.ndarray:
    """The order in which Java iterates each row's entries, for a ``HashMap`` filled in entry order
    after ``new HashMap<>(size)``, which is how ksqlDB deserializes a map: entries grouped by hash
    bucket, buckets in index order, insertion order within a bucket. Returns positions into the flat
    entries; rows keep their entry ranges."""
    hashes = _java_hashes(keys)
    if hashes is None or not len(keys):
        return np.arange(len(keys), dtype=np.int64)
    capacity = np.maximum(1, 2 ** np.ceil(np.log2(np.maximum(lengths, 1))).astype(np.int64))
    while True:
        grow = lengths > np.floor(capacity * 0.75)
        if not grow.any():
            break
        capacity = np.where(grow, capacity * 2, capacity)
    spread = (hashes ^ (hashes >> np.uint64(16))) & np.uint64(0xFFFFFFFF)
    parents = parent_indices(lengths)
    buckets = (spread & (capacity[parents].astype(np.uint64) - np.uint64(1))).astype(np.int64)
    return np.lexsort((np.arange(len(keys)), buckets, parents)).astype(np.int64)


def iteration_order(keys: pa.Array, items: pa.Array, lengths: np.ndarray) -> tuple[pa.Array, pa.Array]:
    """Keys and values of a map column rearranged in Java's iteration order (:func:`hashmap_order`)."""
    order = pa.array(hashmap_order(keys, lengths))
    return keys.take(order), items.take(order)


FUNCTIONS: tuple[ScalarFunction, ...] = (
    ScalarFunction(
        "AS_MAP",
        CATEGORY,
        "Construct a map from a list of keys and a list of values; a missing value is NULL and the "
        "last value of a repeated key wins.",
        (
            Signature(
                (Param("keys", t.Array(t.STRING), "The keys."), Param("values", t.Array(_T), "The values.")),
                t.Map(t.STRING, _T),
                _as_map,
            ),
        ),
    ),
    ScalarFunction(
        "map_keys",
        CATEGORY,
        "Returns an array of all the keys of a map, or NULL for a NULL map.",
        (Signature((Param("input", t.Map(_K, _V), "The map."),), t.Array(_K), _map_keys),),
    ),
    ScalarFunction(
        "map_values",
        CATEGORY,
        "Returns an array of all the values of a map, or NULL for a NULL map.",
        (Signature((Param("input", t.Map(_K, _V), "The map."),), t.Array(_V), _map_values),),
    ),
    ScalarFunction(
        "map_union",
        CATEGORY,
        "Returns a new map containing the union of all entries from both input maps. If a key is "
        "present in both input maps then the value from map2 is the one which appears in the result. "
        "Returns NULL if all of the input maps are NULL.",
        (
            Signature(
                (Param("map1", t.Map(t.STRING, _T), "First map to union."),
                 Param("map2", t.Map(t.STRING, _T), "Second map to union.")),
                t.Map(t.STRING, _T),
                _map_union,
            ),
        ),
    ),
    ScalarFunction(
        "ENTRIES",
        CATEGORY,
        "Construct an array of K/V structs from the entries in a map, optionally sorted by key.",
        (
            Signature(
                (Param("map", t.Map(t.STRING, _T), "The map to create entries from."),
                 Param("sorted", t.BOOLEAN, "If true then the resulting entries are sorted by key.")),
                t.Array(t.Struct((("K", t.STRING), ("V", _T)))),
                _entries,
            ),
        ),
    ),
)

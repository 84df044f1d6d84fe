"""Element-wise casts of ARRAY, MAP and STRUCT values.

The elements of every row are cast together, as one flat column (a list's values, a map's keys and
items, a struct's fields), and the containers are rebuilt around the results with their original
offsets and nulls. An element that cannot be cast fails its whole row, as in ksqlDB, where the cast
of the element throws out of the cast of the container.

STRUCT to STRUCT matches fields by exact name: a target field the source lacks is null; a source field
the target lacks is dropped (ksqlDB's ``CastEvaluator.castStruct``).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.casts.outcome import CastResult
from headwater.engine.types import to_arrow
from headwater.parser import types as t

__all__ = ["array_to_array", "map_to_map", "struct_to_struct"]


def _offsets(values: pa.Array) -> np.ndarray:
    return np.asarray(values.offsets.to_numpy(zero_copy_only=False), dtype=np.int64)


def _parent_failures(offsets: np.ndarray, child_failures: dict[int, str], base: int) -> dict[int, str]:
    """Map failed element positions (relative to ``base``) to the rows owning them."""
    failures: dict[int, str] = {}
    if not child_failures:
        return failures
    positions = np.fromiter(child_failures.keys(), dtype=np.int64) + base
    owners = np.searchsorted(offsets, positions, side="right") - 1
    for position, owner in zip(positions, owners):
        failures.setdefault(int(owner), child_failures[int(position - base)])
    return failures


def _cast(values: pa.Array, from_type: t.SqlType, to_type: t.SqlType) -> CastResult:
    from headwater.engine.casts.dispatch import try_cast

    return try_cast(values, from_type, to_type)


def _under_valid_parents(children: pa.Array, offsets: np.ndarray, parents: pa.Array) -> pa.Array:
    """``children`` with the elements of null parents set to null, so that whatever bytes sit under a
    null row are never converted (and never reported as failures)."""
    if parents.null_count == 0:
        return children
    valid = np.asarray(parents.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    keep = np.repeat(valid, np.diff(offsets))
    return pc.if_else(pa.array(keep), children, pa.scalar(None, children.type))


def _rebuild_offsets(offsets: np.ndarray) -> pa.Array:
    relative = offsets - offsets[0]
    return pa.array(relative, pa.int32() if relative[-1] < 2**31 else pa.int64())


def array_to_array(values: pa.Array, from_type: t.SqlType, to_type: t.SqlType) -> CastResult:
    assert isinstance(from_type, t.Array) and isinstance(to_type, t.Array)
    offsets = _offsets(values)
    start, stop = int(offsets[0]), int(offsets[-1])
    children = _under_valid_parents(values.values.slice(start, stop - start), offsets, values)
    elements = _cast(children, from_type.element, to_type.element)
    failures = _parent_failures(offsets, dict(elements.failures), start)
    mask = values.is_null()
    if failures:
        failed = np.zeros(len(values), dtype=bool)
        failed[list(failures)] = True
        mask = pc.or_(mask, pa.array(failed))
    rebuilt = pa.ListArray.from_arrays(_rebuild_offsets(offsets), elements.values, mask=mask)
    return CastResult(rebuilt.cast(to_arrow(to_type)), failures)


def map_to_map(values: pa.Array, from_type: t.SqlType, to_type: t.SqlType) -> CastResult:
    assert isinstance(from_type, t.Map) and isinstance(to_type, t.Map)
    offsets = _offsets(values)
    start, stop = int(offsets[0]), int(offsets[-1])
    keys = _cast(
        _under_valid_parents(values.keys.slice(start, stop - start), offsets, values),
        from_type.key,
        to_type.key,
    )
    items = _cast(
        _under_valid_parents(values.items.slice(start, stop - start), offsets, values),
        from_type.value,
        to_type.value,
    )
    failures = _parent_failures(offsets, dict(keys.failures), start)
    for row, message in _parent_failures(offsets, dict(items.failures), start).items():
        failures.setdefault(row, message)
    key_values, item_values = keys.values, items.values
    failed = np.zeros(len(values), dtype=bool)
    if failures:
        failed[list(failures)] = True
        # Drop the entries of failed rows: a map may not hold a null key, even under a null row.
        lengths = np.diff(offsets)
        keep_entries = np.repeat(~failed, lengths)
        key_values = key_values.filter(pa.array(keep_entries))
        item_values = item_values.filter(pa.array(keep_entries))
        lengths = np.where(failed, 0, lengths)
        offsets = np.concatenate([[0], np.cumsum(lengths)])
    mask = pc.or_(values.is_null(), pa.array(failed))
    rebuilt = pa.MapArray.from_arrays(_rebuild_offsets(offsets), key_values, item_values, mask=mask)
    return CastResult(rebuilt.cast(to_arrow(to_type)), failures)


def struct_to_struct(values: pa.Array, from_type: t.SqlType, to_type: t.SqlType) -> CastResult:
    assert isinstance(from_type, t.Struct) and isinstance(to_type, t.Struct)
    source_index = {name: i for i, (name, _) in enumerate(from_type.fields)}
    children: list[pa.Array] = []
    failures: dict[int, str] = {}
    for name, field_type in to_type.fields:
        index = source_index.get(name)
        if index is None:
            children.append(pa.nulls(len(values), to_arrow(field_type)))
            continue
        field_values = values.field(index)
        if values.null_count:
            field_values = pc.if_else(values.is_valid(), field_values, pa.scalar(None, field_values.type))
        child = _cast(field_values, from_type.fields[index][1], field_type)
        for row, message in child.failures.items():
            failures.setdefault(row, message)
        children.append(child.values)
    mask = values.is_null()
    if failures:
        failed = np.zeros(len(values), dtype=bool)
        failed[list(failures)] = True
        mask = pc.or_(mask, pa.array(failed))
    target = to_arrow(to_type)
    rebuilt = pa.StructArray.from_arrays(children, fields=list(target), mask=mask)
    return CastResult(rebuilt, failures)

"""Collection-valued aggregates: COLLECT_LIST, COLLECT_SET, HISTOGRAM, COUNT_DISTINCT and ATTR.

Their state per group is a collection, held as Python values in object slot columns (and saved as Arrow
lists and maps). A batch is split into groups once (vectorized); each touched group's collection is then
updated with that group's values in batch order, which is per-group Python work, not per-row. When a
batch carries undo rows (a table source), COLLECT_LIST, HISTOGRAM and ATTR replay its rows one at a time,
because ksqlDB's ``undo`` of these functions depends on the exact interleaving (the measured exception).

ksqlDB semantics kept:

* COLLECT_LIST keeps NULLs and insertion order; ``ksql.functions.collect_list.limit`` caps the size
  (negative or absent: unlimited), later values being ignored. Undo removes the *last* occurrence of the
  value (ksqlDB's simplification), or nothing if it was dropped by the limit.
* COLLECT_SET (streams only) keeps distinct values (NULL included) in order of first appearance, capped by
  ``ksql.functions.collect_set.limit``.
* HISTOGRAM(STRING) maps each distinct value to its count, at most 1000 distinct values; undo decrements
  and removes a value whose count falls below 1. NULL values are not counted (a map key cannot be NULL).
* COUNT_DISTINCT (streams only) counts distinct non-NULL values. ksqlDB estimates with a HyperLogLog
  sketch (under 1% error); Headwater counts exactly, which is within that accuracy.
* ATTR returns the value when exactly one distinct value (NULL counts as a value) has a positive count,
  and NULL otherwise; undo decrements a value's count, never below zero.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from headwater.engine.aggregates.contract import (
    AggregateFunction,
    AggregateSignature,
    ColumnarAccumulator,
    ResolvedAggregate,
    config_int,
)
from headwater.engine.aggregates.grouping import Grouping
from headwater.engine.functions.registry import Generic, Param
from headwater.engine.state.key_index import hashable
from headwater.engine.types import to_arrow
from headwater.parser import types as t

__all__ = ["ATTR", "COLLECT_LIST", "COLLECT_SET", "COUNT_DISTINCT", "HISTOGRAM", "grouped_python"]

_T = Generic("T")
COLLECT_LIST_LIMIT = "ksql.functions.collect_list.limit"
COLLECT_SET_LIMIT = "ksql.functions.collect_set.limit"
HISTOGRAM_LIMIT = 1000


def grouped_python(grouping: Grouping, values: pa.Array, keep: np.ndarray | None = None) -> list[list[Any]]:
    """For each group of ``grouping`` (ascending slot), its rows' values as Python objects in batch
    order; rows where ``keep`` is false are left out."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    python = values.take(pa.array(grouping.order, pa.int64())).to_pylist()
    kept = None if keep is None else keep[grouping.order].tolist()
    out: list[list[Any]] = []
    for start, count in zip(grouping.starts.tolist(), grouping.counts.tolist()):
        if kept is None:
            out.append(python[start : start + count])
        else:
            out.append([v for v, k in zip(python[start : start + count], kept[start : start + count]) if k])
    return out


def _limit(config: Mapping[str, Any], name: str) -> int | None:
    limit = config_int(config, name, -1)
    return None if limit < 0 else limit


class CollectList(ColumnarAccumulator):
    def __init__(self, resolved: ResolvedAggregate, limit: int | None) -> None:
        super().__init__(resolved, {"LIST": to_arrow(resolved.return_type)})
        self.limit = limit

    def update(self, grouping: Grouping, args: Sequence[pa.Array], signs: np.ndarray | None) -> None:
        column = self.columns["LIST"]
        slots = grouping.group_slots
        current = column.gather_python(slots)
        per_group = grouped_python(grouping, args[0])
        sign_groups = None if signs is None else [signs[grouping.order][s : s + c].tolist() for s, c in zip(grouping.starts, grouping.counts)]
        updated = []
        for index, (existing, values) in enumerate(zip(current, per_group)):
            items = list(existing or [])
            if sign_groups is None:
                room = len(values) if self.limit is None else max(0, self.limit - len(items))
                items.extend(values[:room])
            else:
                for value, sign in zip(values, sign_groups[index]):
                    if sign > 0:
                        if self.limit is None or len(items) < self.limit:
                            items.append(value)
                    else:
                        _remove_last(items, value)
            updated.append(items)
        column.scatter_python(slots, updated)

    def result(self, slots: np.ndarray) -> pa.Array:
        return pa.array([v or [] for v in self.columns["LIST"].gather_python(slots)], self.arrow_type)

    def merge(self, target: int, sources: Sequence[int]) -> None:
        column = self.columns["LIST"]
        merged: list[Any] = []
        for items in column.gather_python(np.asarray(sources, dtype=np.int64)):
            room = len(items or []) if self.limit is None else max(0, self.limit - len(merged))
            merged.extend((items or [])[:room])
        column.scatter_python(np.array([target]), [merged])


def _remove_last(items: list[Any], value: Any) -> None:
    wanted = hashable(value)
    for position in range(len(items) - 1, -1, -1):
        if hashable(items[position]) == wanted:
            del items[position]
            return


COLLECT_LIST = AggregateFunction(
    name="COLLECT_LIST",
    description="Gather all of the values from an input grouping into a single Array field.\n"
    "Although this aggregate works on both Stream and Table inputs, the order of entries in the result "
    "array is not guaranteed when working on Table input data.\nYou may limit the size of the resultant "
    "Array to N entries, beyond which any further values will be silently ignored, by setting the "
    "ksql.functions.collect_list.limit configuration to N.",
    supports_undo=True,
    signatures=(
        AggregateSignature(
            params=(Param("val", _T),),
            returns=t.Array(_T),
            factory=lambda resolved, literals, config: CollectList(resolved, _limit(config, COLLECT_LIST_LIMIT)),
            intermediate=lambda types: t.Array(types[0]),
            description="collect values of a field into a single Array",
        ),
    ),
)


class CollectSet(ColumnarAccumulator):
    def __init__(self, resolved: ResolvedAggregate, limit: int | None) -> None:
        super().__init__(resolved, {"SET": to_arrow(resolved.return_type)})
        self.limit = limit

    def update(self, grouping: Grouping, args: Sequence[pa.Array], signs: np.ndarray | None) -> None:
        if signs is not None and (signs < 0).any():
            raise ValueError("COLLECT_SET cannot undo a value (it cannot aggregate a table)")
        column = self.columns["SET"]
        slots = grouping.group_slots
        updated = []
        for existing, values in zip(column.gather_python(slots), grouped_python(grouping, args[0])):
            items = list(existing or [])
            seen = {hashable(v) for v in items}
            for value in values:
                if self.limit is not None and len(items) >= self.limit:
                    break
                key = hashable(value)
                if key not in seen:
                    seen.add(key)
                    items.append(value)
            updated.append(items)
        column.scatter_python(slots, updated)

    def result(self, slots: np.ndarray) -> pa.Array:
        return pa.array([v or [] for v in self.columns["SET"].gather_python(slots)], self.arrow_type)

    def merge(self, target: int, sources: Sequence[int]) -> None:
        column = self.columns["SET"]
        merged: list[Any] = []
        seen: set[Any] = set()
        for items in column.gather_python(np.asarray(sources, dtype=np.int64)):
            for value in items or []:
                if self.limit is not None and len(merged) >= self.limit:
                    break
                if hashable(value) not in seen:
                    seen.add(hashable(value))
                    merged.append(value)
        column.scatter_python(np.array([target]), [merged])


COLLECT_SET = AggregateFunction(
    name="COLLECT_SET",
    description="Gather all of the distinct values from an input grouping into a single Array.\n"
    "Not available for aggregating values from an input Table.\nYou may limit the size of the resultant "
    "Array to N entries, beyond which any further values will be silently ignored, by setting the "
    "ksql.functions.collect_set.limit configuration to N.",
    supports_undo=False,
    signatures=(
        AggregateSignature(
            params=(Param("val", _T),),
            returns=t.Array(_T),
            factory=lambda resolved, literals, config: CollectSet(resolved, _limit(config, COLLECT_SET_LIMIT)),
            intermediate=lambda types: t.Array(types[0]),
            description="collect distinct values of a field into a single Array",
        ),
    ),
)


class Histogram(ColumnarAccumulator):
    def __init__(self, resolved: ResolvedAggregate) -> None:
        super().__init__(resolved, {"COUNTS": pa.map_(pa.string(), pa.int64())})

    def update(self, grouping: Grouping, args: Sequence[pa.Array], signs: np.ndarray | None) -> None:
        column = self.columns["COUNTS"]
        slots = grouping.group_slots
        sign_rows = None if signs is None else signs[grouping.order].tolist()
        updated = []
        offset = 0
        for existing, values in zip(column.gather_python(slots), grouped_python(grouping, args[0])):
            counts: dict[str, int] = dict(existing or [])
            for position, value in enumerate(values):
                sign = 1 if sign_rows is None else sign_rows[offset + position]
                if value is None:
                    continue
                if sign > 0:
                    if value in counts or len(counts) < HISTOGRAM_LIMIT:
                        counts[value] = counts.get(value, 0) + 1
                elif value in counts:
                    remaining = counts[value] - 1
                    if remaining < 1:
                        del counts[value]
                    else:
                        counts[value] = remaining
            offset += len(values)
            updated.append(list(counts.items()))
        column.scatter_python(slots, updated)

    def result(self, slots: np.ndarray) -> pa.Array:
        return pa.array([v or [] for v in self.columns["COUNTS"].gather_python(slots)], self.arrow_type)

    def merge(self, target: int, sources: Sequence[int]) -> None:
        column = self.columns["COUNTS"]
        merged: dict[str, int] = {}
        for items in column.gather_python(np.asarray(sources, dtype=np.int64)):
            for value, count in items or []:
                if value in merged or len(merged) < HISTOGRAM_LIMIT:
                    merged[value] = merged.get(value, 0) + count
        column.scatter_python(np.array([target]), [list(merged.items())])


HISTOGRAM = AggregateFunction(
    name="HISTOGRAM",
    description="Returns a map of each distinct String from the input Stream or Table and how many times "
    "each occurs. \nThis version limits the size of the resultant Map to 1000 entries. Any entries added "
    "beyond this limit will be ignored.",
    supports_undo=True,
    signatures=(
        AggregateSignature(
            params=(Param("val", t.STRING),),
            returns=t.Map(t.STRING, t.BIGINT),
            factory=lambda resolved, literals, config: Histogram(resolved),
            intermediate=lambda types: t.Map(t.STRING, t.BIGINT),
            description="Build a value-to-count histogram of input Strings",
        ),
    ),
)


class CountDistinct(ColumnarAccumulator):
    def __init__(self, resolved: ResolvedAggregate) -> None:
        super().__init__(resolved, {"VALUES": pa.list_(to_arrow(resolved.param_types[0]))})
        self._sets: dict[int, set[Any]] = {}

    def _set(self, slot: int, stored: list[Any] | None) -> set[Any]:
        found = self._sets.get(slot)
        if found is None:
            found = {hashable(v) for v in stored or []}
            self._sets[slot] = found
        return found

    def update(self, grouping: Grouping, args: Sequence[pa.Array], signs: np.ndarray | None) -> None:
        if signs is not None and (signs < 0).any():
            raise ValueError("COUNT_DISTINCT cannot undo a value (it cannot aggregate a table)")
        column = self.columns["VALUES"]
        slots = grouping.group_slots
        updated = []
        for slot, existing, values in zip(slots.tolist(), column.gather_python(slots), grouped_python(grouping, args[0])):
            items = list(existing or [])
            seen = self._set(slot, items)
            for value in values:
                key = hashable(value)
                if value is not None and key not in seen:
                    seen.add(key)
                    items.append(value)
            updated.append(items)
        column.scatter_python(slots, updated)

    def result(self, slots: np.ndarray) -> pa.Array:
        return pa.array([len(v or []) for v in self.columns["VALUES"].gather_python(slots)], pa.int64())

    def take(self, slots: np.ndarray) -> None:
        super().take(slots)
        self._sets = {}

    def load(self, table: pa.Table) -> None:
        super().load(table)
        self._sets = {}

    def merge(self, target: int, sources: Sequence[int]) -> None:
        column = self.columns["VALUES"]
        merged: list[Any] = []
        seen: set[Any] = set()
        for items in column.gather_python(np.asarray(sources, dtype=np.int64)):
            for value in items or []:
                if hashable(value) not in seen:
                    seen.add(hashable(value))
                    merged.append(value)
        self._sets.pop(target, None)
        column.scatter_python(np.array([target]), [merged])


COUNT_DISTINCT = AggregateFunction(
    name="COUNT_DISTINCT",
    description="This function returns the number of items found in a group. The implementation is "
    "probabilistic with a typical accuracy (standard error) of less than 1%.",
    supports_undo=False,
    signatures=(
        AggregateSignature(
            params=(Param("val", _T),),
            returns=t.BIGINT,
            factory=lambda resolved, literals, config: CountDistinct(resolved),
            intermediate=lambda types: t.Array(t.INT),
            description="Count distinct",
        ),
    ),
)


class Attr(ColumnarAccumulator):
    def __init__(self, resolved: ResolvedAggregate) -> None:
        entry = pa.struct([pa.field("VALUE", to_arrow(resolved.return_type)), pa.field("COUNT", pa.int32())])
        super().__init__(resolved, {"ENTRIES": pa.list_(entry)})

    def update(self, grouping: Grouping, args: Sequence[pa.Array], signs: np.ndarray | None) -> None:
        column = self.columns["ENTRIES"]
        slots = grouping.group_slots
        sign_rows = None if signs is None else signs[grouping.order].tolist()
        updated = []
        offset = 0
        for existing, values in zip(column.gather_python(slots), grouped_python(grouping, args[0])):
            entries = [dict(e) for e in existing or []]
            index = {hashable(e["VALUE"]): e for e in entries}
            for position, value in enumerate(values):
                sign = 1 if sign_rows is None else sign_rows[offset + position]
                key = hashable(value)
                entry = index.get(key)
                if entry is not None:
                    entry["COUNT"] = max(0, entry["COUNT"] + sign)
                elif sign > 0:
                    entry = {"VALUE": value, "COUNT": 1}
                    entries.append(entry)
                    index[key] = entry
            offset += len(values)
            updated.append(entries)
        column.scatter_python(slots, updated)

    def result(self, slots: np.ndarray) -> pa.Array:
        out = []
        for entries in self.columns["ENTRIES"].gather_python(slots):
            positive = [e for e in entries or [] if e["COUNT"] > 0]
            out.append(positive[0]["VALUE"] if len(positive) == 1 else None)
        return pa.array(out, self.arrow_type)

    def merge(self, target: int, sources: Sequence[int]) -> None:
        column = self.columns["ENTRIES"]
        merged: list[dict[str, Any]] = []
        index: dict[Any, dict[str, Any]] = {}
        for entries in column.gather_python(np.asarray(sources, dtype=np.int64)):
            for entry in entries or []:
                key = hashable(entry["VALUE"])
                found = index.get(key)
                if found is not None:
                    found["COUNT"] = max(0, found["COUNT"] + entry["COUNT"])
                elif entry["COUNT"] > 0:
                    copy = dict(entry)
                    merged.append(copy)
                    index[key] = copy
        column.scatter_python(np.array([target]), [merged])


ATTR = AggregateFunction(
    name="ATTR",
    description="The ATTR() aggregation indicates there are multiple values, but only one was expected. "
    "For example, if aggregating against a table that semantically should have only one value for a "
    "column given a key, this aggregation enables users to indicate that they expect only a single "
    "value.\n\nIf the aggregation encounters more than a single value for the expected singular column, "
    "the entire aggregation will return null.",
    supports_undo=True,
    signatures=(
        AggregateSignature(
            params=(Param("val", _T),),
            returns=_T,
            factory=lambda resolved, literals, config: Attr(resolved),
            intermediate=lambda types: t.Array(t.Struct((("VALUE", types[0]), ("COUNT", t.INT)))),
            description="Collect as a singleton",
        ),
    ),
)

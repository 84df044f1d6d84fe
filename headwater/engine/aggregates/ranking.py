"""TOPK and TOPKDISTINCT (streams only): the ``k`` largest values of a group, largest first.

``k`` must be a literal INTEGER. NULL values are ignored. TOPK keeps duplicates; TOPKDISTINCT keeps each
value once. Types are ksqlDB's: INTEGER, BIGINT, DOUBLE and STRING for TOPK, the same plus DECIMAL for
TOPKDISTINCT. Doubles order as Java's ``Double.compareTo`` (NaN above everything).

A batch's candidates are cut down with one Arrow sort (group ascending, value descending) to at most
``k`` per group before the per-group merge with the stored top values.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from headwater.engine.aggregates.contract import (
    AggregateFunction,
    AggregateSignature,
    ColumnarAccumulator,
    ResolvedAggregate,
    decimal_argument_array,
)
from headwater.engine.aggregates.grouping import Grouping
from headwater.engine.aggregates.values import valid_mask
from headwater.engine.functions.registry import AnyDecimal, Param
from headwater.engine.types import to_arrow
from headwater.parser import types as t

__all__ = ["TOPK", "TOPKDISTINCT"]


def _order_key(value: Any) -> Any:
    """Java's ordering of doubles: NaN is the largest value."""
    if isinstance(value, float) and math.isnan(value):
        return (1, 0.0)
    return (0, value)


class TopK(ColumnarAccumulator):
    def __init__(self, resolved: ResolvedAggregate, k: int, distinct: bool) -> None:
        super().__init__(resolved, {"TOP": pa.list_(to_arrow(resolved.param_types[0]))})
        self.k = max(0, k)
        self.distinct = distinct

    def update(self, grouping: Grouping, args: Sequence[pa.Array], signs: np.ndarray | None) -> None:
        if signs is not None and (signs < 0).any():
            raise ValueError(f"{self.resolved.name} cannot undo a value (it cannot aggregate a table)")
        values = args[0].combine_chunks() if isinstance(args[0], pa.ChunkedArray) else args[0]
        valid = valid_mask(values)
        if not valid.any() or self.k == 0:
            return
        sub = grouping.subset(valid)
        kept = values if valid.all() else values.filter(pa.array(valid))
        group_of_row = np.empty(sub.row_count, dtype=np.int64)
        group_of_row[sub.order] = sub.group_of_sorted
        table = pa.table({"g": pa.array(group_of_row), "v": kept})
        ordered = table.sort_by([("g", "ascending"), ("v", "descending")])
        groups = np.asarray(ordered.column("g").to_numpy(), dtype=np.int64)
        starts = np.searchsorted(groups, np.arange(sub.group_count))
        # Arrow sorts NaN last even descending, so DOUBLE candidates are not cut to k here
        cut = not self.distinct and self.resolved.param_types[0] != t.DOUBLE
        python = ordered.column("v").to_pylist()
        column = self.columns["TOP"]
        slots = sub.group_slots
        current = column.gather_python(slots)
        updated = []
        for group, existing in enumerate(current):
            lo = int(starts[group])
            hi = int(starts[group + 1]) if group + 1 < sub.group_count else len(groups)
            candidates = python[lo : min(hi, lo + self.k)] if cut else python[lo:hi]
            updated.append(self._combine(list(existing or []), candidates))
        column.scatter_python(slots, updated)

    def _combine(self, current: list[Any], candidates: list[Any]) -> list[Any]:
        merged = current + candidates
        if self.distinct:
            unique: dict[Any, Any] = {}
            for value in merged:
                unique.setdefault(_order_key(value), value)
            merged = list(unique.values())
        merged.sort(key=_order_key, reverse=True)
        return merged[: self.k]

    def result(self, slots: np.ndarray) -> pa.Array:
        return pa.array([v or [] for v in self.columns["TOP"].gather_python(slots)], self.arrow_type)

    def merge(self, target: int, sources: Sequence[int]) -> None:
        column = self.columns["TOP"]
        merged: list[Any] = []
        for items in column.gather_python(np.asarray(sources, dtype=np.int64)):
            merged = self._combine(merged, list(items or []))
        column.scatter_python(np.array([target]), [merged])


def _function(name: str, distinct: bool, types: tuple[t.SqlType, ...], description: str) -> AggregateFunction:
    def factory(resolved: ResolvedAggregate, literals: tuple[Any, ...], config: Mapping[str, Any]) -> TopK:
        return TopK(resolved, int(literals[1]), distinct)

    return AggregateFunction(
        name=name,
        description=description,
        supports_undo=False,
        signatures=tuple(
            AggregateSignature(
                params=(Param("val", param), Param("k", t.INT)),
                returns=decimal_argument_array if isinstance(param, AnyDecimal) else t.Array(param),
                factory=factory,
                intermediate=lambda ts: t.Array(ts[0]),
                literals=(1,),
                description=f"Calculates the top{' distinct' if distinct else ''} k values for a "
                f"{param.sql()} column, per key.",
            )
            for param in types
        ),
    )


TOPK = _function(
    "TOPK", False, (t.INT, t.BIGINT, t.DOUBLE, t.STRING), "Computes the top k values for a column, per key."
)
TOPKDISTINCT = _function(
    "TOPKDISTINCT",
    True,
    (t.INT, t.BIGINT, t.DOUBLE, t.STRING, AnyDecimal()),
    "Calculates the Topk distinct values for a column, per key.",
)

"""MIN and MAX (streams only: ksqlDB's comparable aggregates cannot undo).

NULL values are ignored; a group with no non-NULL value gives NULL. Supported types are ksqlDB's:
INTEGER, BIGINT, DOUBLE, DECIMAL, DATE, TIME, TIMESTAMP, STRING and BYTES. Doubles compare as Java's
``Double.compareTo``: NaN is the largest value, so MAX is NaN once a NaN was seen and MIN ignores NaN
unless every value was NaN. Strings compare by code point (Java compares UTF-16 units; the two orders
differ only between supplementary characters and U+E000..U+FFFF) and bytes as unsigned (Java's
``ByteBuffer`` compares signed bytes).

A batch's per-group extreme comes from ``numpy.{minimum,maximum}.reduceat`` for fixed-width types and
from Arrow's hash aggregation for the others; it is then combined with the stored value.
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
    decimal_argument,
)
from headwater.engine.aggregates.grouping import Grouping
from headwater.engine.aggregates.values import valid_mask
from headwater.engine.functions.registry import AnyDecimal, Param
from headwater.engine.state.slot_column import numpy_storage
from headwater.parser import types as t

__all__ = ["MAX", "MIN"]


class Extreme(ColumnarAccumulator):
    """MIN (``largest=False``) or MAX of the non-NULL values."""

    def __init__(self, resolved: ResolvedAggregate, largest: bool) -> None:
        super().__init__(resolved, {"VALUE": self_type(resolved)})
        self.largest = largest
        self.is_double = resolved.param_types[0] == t.DOUBLE

    def _numpy_op(self) -> Any:
        if self.largest:
            return np.maximum  # propagates NaN: NaN is the largest double
        return np.fmin if self.is_double else np.minimum  # fmin skips NaN unless all are NaN

    def update(self, grouping: Grouping, args: Sequence[pa.Array], signs: np.ndarray | None) -> None:
        if signs is not None and (signs < 0).any():
            raise ValueError(f"{self.resolved.name} cannot undo a value (it cannot aggregate a table)")
        values = args[0].combine_chunks() if isinstance(args[0], pa.ChunkedArray) else args[0]
        valid = valid_mask(values)
        if not valid.any():
            return
        sub = grouping.subset(valid)
        kept = values if valid.all() else values.filter(pa.array(valid))
        column = self.columns["VALUE"]
        if column.fixed:
            data, _ = _numpy_values(kept, column.arrow_type)
            partial = self._numpy_op().reduceat(data[sub.order], sub.starts)
            slots = sub.group_slots
            had = column.valid[slots]
            current = column.data[slots]
            combined = np.where(had, self._numpy_op()(current, partial), partial)
            column.scatter_numpy(slots, combined.astype(column.data.dtype, copy=False), True)
            return
        table = pa.table({"g": pa.array(sub.group_of_sorted, pa.int64()), "v": kept.take(pa.array(sub.order))})
        grouped = table.group_by("g", use_threads=False).aggregate([("v", "max" if self.largest else "min")])
        groups = np.asarray(grouped.column("g").to_numpy(), dtype=np.int64)
        partial_values = grouped.column(1).to_pylist()
        slots = sub.group_slots[groups]
        current_values = column.gather_python(slots)
        merged = []
        for now, new in zip(current_values, partial_values):
            if now is None:
                merged.append(new)
            elif self.largest:
                merged.append(new if new > now else now)
            else:
                merged.append(new if new < now else now)
        column.scatter_python(slots, merged)

    def result(self, slots: np.ndarray) -> pa.Array:
        return self.columns["VALUE"].gather(slots)

    def merge(self, target: int, sources: Sequence[int]) -> None:
        column = self.columns["VALUE"]
        picked = np.asarray(sources, dtype=np.int64)
        present = picked[column.valid[picked]]
        if len(present) == 0:
            column.clear(np.array([target]))
            return
        if column.fixed:
            chosen = self._numpy_op().reduce(column.data[present])
            column.scatter_numpy(np.array([target]), np.array([chosen], dtype=column.data.dtype), True)
            return
        values = column.gather_python(present)
        column.scatter_python(np.array([target]), [max(values) if self.largest else min(values)])


def _numpy_values(values: pa.Array, arrow_type: pa.DataType) -> tuple[np.ndarray, np.ndarray]:
    dtype = numpy_storage(arrow_type)
    assert dtype is not None
    raw = values
    if raw.type != arrow_type:
        raw = raw.cast(arrow_type)
    storage = pa.int32() if dtype == np.int32 else (pa.int64() if dtype == np.int64 else raw.type)
    if storage != raw.type:
        raw = raw.view(storage)
    return np.asarray(raw.to_numpy(zero_copy_only=False), dtype=dtype), valid_mask(values)


def self_type(resolved: ResolvedAggregate) -> pa.DataType:
    from headwater.engine.types import to_arrow

    return to_arrow(resolved.param_types[0])


_TYPES: tuple[t.SqlType, ...] = (
    t.INT,
    t.BIGINT,
    t.DOUBLE,
    AnyDecimal(),
    t.DATE,
    t.TIME,
    t.TIMESTAMP,
    t.STRING,
    t.BYTES,
)


def _function(name: str, largest: bool, description: str) -> AggregateFunction:
    def factory(resolved: ResolvedAggregate, literals: tuple[Any, ...], config: Mapping[str, Any]) -> Extreme:
        return Extreme(resolved, largest)

    return AggregateFunction(
        name=name,
        description=description,
        supports_undo=False,
        signatures=tuple(
            AggregateSignature(
                params=(Param("val", param),),
                returns=decimal_argument if isinstance(param, AnyDecimal) else param,
                factory=factory,
                intermediate=lambda types: types[0],
                description=f"Computes the {'maximum' if largest else 'minimum'} value for a "
                f"{param.sql()} key.",
            )
            for param in _TYPES
        ),
    )


MAX = _function("MAX", True, "Computes the maximum value for a key.")
MIN = _function("MIN", False, "Computes the minimum value for a key.")

"""The aggregate function library: every ksqlDB aggregate, vectorized over batches.

The contract is in :mod:`.contract` (resolution, accumulators, undo, literals); the functions are in one
module per family: :mod:`.sums` (COUNT, SUM, AVG, SUM_LIST), :mod:`.extremes` (MIN, MAX),
:mod:`.statistics` (STDDEV_SAMP, STDDEV_SAMPLE, CORRELATION), :mod:`.offsets` (EARLIEST_BY_OFFSET,
LATEST_BY_OFFSET), :mod:`.collections` (COLLECT_LIST, COLLECT_SET, HISTOGRAM, COUNT_DISTINCT, ATTR) and
:mod:`.ranking` (TOPK, TOPKDISTINCT).

:func:`register_aggregates` adds them to a :class:`~headwater.engine.functions.registry.FunctionRegistry`
through its ``register_aggregate`` slot, so SHOW FUNCTIONS lists them and the planner finds them with
``registry.aggregate(name).resolve(arg_types)``.

Example:
    >>> from headwater.engine.functions.registry import FunctionRegistry
    >>> registry = register_aggregates(FunctionRegistry())
    >>> from headwater.parser import types as t
    >>> registry.aggregate("topk").resolve((t.DOUBLE, t.INT)).return_type
    Array(element=Primitive(kind=<PrimitiveKind.DOUBLE: 'DOUBLE'>))
"""

from __future__ import annotations

from headwater.engine.aggregates.collections import ATTR, COLLECT_LIST, COLLECT_SET, COUNT_DISTINCT, HISTOGRAM
from headwater.engine.aggregates.contract import (
    Accumulator,
    AggregateFunction,
    AggregateSignature,
    ColumnarAccumulator,
    ResolvedAggregate,
)
from headwater.engine.aggregates.extremes import MAX, MIN
from headwater.engine.aggregates.grouping import Grouping, group_rows
from headwater.engine.aggregates.offsets import EARLIEST_BY_OFFSET, LATEST_BY_OFFSET
from headwater.engine.aggregates.ranking import TOPK, TOPKDISTINCT
from headwater.engine.aggregates.statistics import CORRELATION, STDDEV_SAMP, STDDEV_SAMPLE
from headwater.engine.aggregates.sums import AVG, COUNT, SUM, SUM_LIST
from headwater.engine.functions.registry import FunctionRegistry

__all__ = [
    "AGGREGATES",
    "Accumulator",
    "AggregateFunction",
    "AggregateSignature",
    "ColumnarAccumulator",
    "Grouping",
    "ResolvedAggregate",
    "build_aggregates",
    "group_rows",
    "register_aggregates",
]

AGGREGATES: tuple[AggregateFunction, ...] = (
    ATTR,
    AVG,
    COLLECT_LIST,
    COLLECT_SET,
    CORRELATION,
    COUNT,
    COUNT_DISTINCT,
    EARLIEST_BY_OFFSET,
    HISTOGRAM,
    LATEST_BY_OFFSET,
    MAX,
    MIN,
    STDDEV_SAMP,
    STDDEV_SAMPLE,
    SUM,
    SUM_LIST,
    TOPK,
    TOPKDISTINCT,
)
"""Every built-in aggregate, by name."""


def build_aggregates() -> dict[str, AggregateFunction]:
    """The built-in aggregates by upper-case name."""
    return {function.name: function for function in AGGREGATES}


def register_aggregates(registry: FunctionRegistry) -> FunctionRegistry:
    """Register every built-in aggregate in ``registry`` (returned, for chaining)."""
    for function in AGGREGATES:
        registry.register_aggregate(function.name, function)
    return registry

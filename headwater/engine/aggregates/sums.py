"""COUNT, SUM, AVG and SUM_LIST: additive aggregates, all able to undo (so they aggregate tables).

ksqlDB semantics kept here:

* NULL arguments contribute nothing; COUNT counts non-NULL values (``COUNT(*)`` and ``COUNT()`` are
  planned as ``COUNT(ROWTIME)``, which is never NULL).
* SUM starts at 0, so a group of only NULLs sums to 0, not NULL. INTEGER and BIGINT sums wrap around like
  Java's ``int`` / ``long``; DOUBLE sums add left to right, one row at a time.
* SUM of DECIMAL(p, s) is DECIMAL(p, s); a running sum whose absolute value reaches 10^(p-s) stops the
  query with ksqlDB's "Numeric field overflow" (exactly at the row where one-row processing would fail).
* AVG of INTEGER / BIGINT / DOUBLE is DOUBLE: the sum (wrapping like SUM) divided by the count; an empty
  group averages to 0.0. DECIMAL arguments widen to DOUBLE by the resolution rules.
* SUM_LIST(ARRAY<T>) adds the non-NULL elements of each array (T INTEGER, BIGINT or DOUBLE).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.aggregates.contract import (
    AggregateFunction,
    AggregateSignature,
    ColumnarAccumulator,
    ResolvedAggregate,
    decimal_argument,
)
from headwater.engine.aggregates.grouping import Grouping, group_sums, sequential_prefix
from headwater.engine.aggregates.values import (
    decimal_array,
    decimal_unscaled,
    numeric,
    valid_mask,
    wrap_int,
    wrap_long,
)
from headwater.engine.functions.registry import AnyDecimal, AnyType, FunctionError, Param
from headwater.errors import ExecutionError
from headwater.parser import types as t

__all__ = ["AVG", "COUNT", "SUM", "SUM_LIST"]


def _signed(values: np.ndarray, valid: np.ndarray, signs: np.ndarray | None) -> np.ndarray:
    """Values with undo rows negated and NULL rows zeroed."""
    out = np.where(valid, values, np.zeros(1, dtype=values.dtype))
    if signs is not None:
        out = out * signs.astype(out.dtype)
    return out


def _counts(valid: np.ndarray, signs: np.ndarray | None, grouping: Grouping) -> np.ndarray:
    weights = valid.astype(np.int64)
    if signs is not None:
        weights = weights * signs
    return group_sums(weights[grouping.order], grouping)


# --------------------------------------------------------------------------------------------------------
# COUNT


class CountAccumulator(ColumnarAccumulator):
    def __init__(self, resolved: ResolvedAggregate) -> None:
        super().__init__(resolved, {"COUNT": pa.int64()}, dense=("COUNT",))

    def update(self, grouping: Grouping, args: Sequence[pa.Array], signs: np.ndarray | None) -> None:
        column = self.columns["COUNT"]
        column.data[grouping.group_slots] += _counts(valid_mask(args[0]), signs, grouping)

    def result(self, slots: np.ndarray) -> pa.Array:
        return pa.array(self.columns["COUNT"].data[slots], pa.int64())

    def merge(self, target: int, sources: Sequence[int]) -> None:
        data = self.columns["COUNT"].data
        data[target] = data[list(sources)].sum()


COUNT = AggregateFunction(
    name="COUNT",
    description="Counts records by key.",
    supports_undo=True,
    signatures=(
        AggregateSignature(
            params=(Param("key", AnyType()),),
            returns=t.BIGINT,
            factory=lambda resolved, literals, config: CountAccumulator(resolved),
            intermediate=lambda types: t.BIGINT,
            description="Counts the non-NULL values of the argument (COUNT(*) counts rows).",
        ),
    ),
)


# --------------------------------------------------------------------------------------------------------
# SUM


class IntegerSum(ColumnarAccumulator):
    """SUM of INTEGER (wrapping at 32 bits) or BIGINT (wrapping at 64 bits)."""

    def __init__(self, resolved: ResolvedAggregate, bits: int) -> None:
        super().__init__(resolved, {"SUM": pa.int64()}, dense=("SUM",))
        self.bits = bits

    def _wrap(self, values: np.ndarray) -> np.ndarray:
        return wrap_int(values) if self.bits == 32 else values

    def update(self, grouping: Grouping, args: Sequence[pa.Array], signs: np.ndarray | None) -> None:
        values, valid = numeric(args[0], np.int64)
        sums = group_sums(_signed(values, valid, signs)[grouping.order], grouping)
        data = self.columns["SUM"].data
        data[grouping.group_slots] = self._wrap(data[grouping.group_slots] + sums)

    def result(self, slots: np.ndarray) -> pa.Array:
        data = self.columns["SUM"].data[slots]
        return pa.array(data.astype(np.int32) if self.bits == 32 else data, self.arrow_type)

    def merge(self, target: int, sources: Sequence[int]) -> None:
        data = self.columns["SUM"].data
        data[target] = self._wrap(np.array([data[list(sources)].sum()]))[0]


class DoubleSum(ColumnarAccumulator):
    """SUM of DOUBLE, added left to right."""

    def __init__(self, resolved: ResolvedAggregate) -> None:
        super().__init__(resolved, {"SUM": pa.float64()}, dense=("SUM",))

    def update(self, grouping: Grouping, args: Sequence[pa.Array], signs: np.ndarray | None) -> None:
        values, valid = numeric(args[0], np.float64)
        add_doubles(self.columns["SUM"].data, grouping, _signed(values, valid, signs), valid)

    def result(self, slots: np.ndarray) -> pa.Array:
        return pa.array(self.columns["SUM"].data[slots], pa.float64())

    def merge(self, target: int, sources: Sequence[int]) -> None:
        data = self.columns["SUM"].data
        total = 0.0
        for source in sources:
            total = total + data[source]
        data[target] = total


def add_doubles(state: np.ndarray, grouping: Grouping, contributions: np.ndarray, valid: np.ndarray) -> None:
    """``state[slot] += v`` for each valid row, in batch order, left to right (exact sequential sums).

    NULL rows are skipped rather than added as 0.0, so ``-0.0 + 0.0`` cannot change a sign.
    """
    rows = np.flatnonzero(valid)
    if len(rows) == len(valid):
        sub, values = grouping, contributions[grouping.order]
    else:
        sub = grouping.subset(valid)
        values = contributions[rows][sub.order]
    if sub.group_count == 0:
        return
    running = sequential_prefix(state[sub.group_slots], values, sub)
    state[sub.group_slots] = running[sub.starts + sub.counts - 1]


class DecimalSum(ColumnarAccumulator):
    """SUM of DECIMAL(p, s), exact, failing on overflow as ksqlDB does."""

    def __init__(self, resolved: ResolvedAggregate) -> None:
        super().__init__(resolved, {"SUM": pa.decimal128(38, 0)})
        decimal = resolved.return_type
        assert isinstance(decimal, t.Decimal)
        self.precision = decimal.precision
        self.scale = decimal.scale
        self.limit = 10 ** (decimal.precision)  # |unscaled| must stay below 10^(p-s) * 10^s
        self.sums = np.zeros(0, dtype=object)

    def resize(self, size: int) -> None:
        if size > len(self.sums):
            grown = np.zeros(size, dtype=object)
            grown[: len(self.sums)] = self.sums
            grown[len(self.sums) :] = 0
            self.sums = grown

    def take(self, slots: np.ndarray) -> None:
        self.sums = self.sums[slots]

    def state(self) -> pa.Table:
        return pa.table({"SUM": pa.array([str(int(v)) for v in self.sums], pa.string())})

    def load(self, table: pa.Table) -> None:
        self.sums = np.array([int(v) for v in table.column("SUM").to_pylist()] or [], dtype=object)

    def update(self, grouping: Grouping, args: Sequence[pa.Array], signs: np.ndarray | None) -> None:
        unscaled, valid = decimal_unscaled(args[0])
        contributions = unscaled if signs is None else unscaled * signs
        contributions = np.where(valid, contributions, 0)
        ordered = contributions[grouping.order]
        base = self.sums[grouping.group_slots]
        if ordered.dtype != object and all(abs(int(b)) < (1 << 61) for b in base):
            running = np.cumsum(ordered.astype(np.int64))
            group_base = np.repeat(running[grouping.starts] - ordered[grouping.starts], grouping.counts)
            within = running - group_base  # exact: modular arithmetic, see _check
            totals = within + np.repeat(base.astype(np.int64), grouping.counts)
        else:
            totals = np.empty(len(ordered), dtype=object)
            for group in range(grouping.group_count):
                start, count = grouping.starts[group], grouping.counts[group]
                acc = int(base[group])
                for i in range(start, start + count):
                    acc += int(ordered[i])
                    totals[i] = acc
        self._check(totals, ordered, grouping, signs)
        last = grouping.starts + grouping.counts - 1
        self.sums[grouping.group_slots] = [int(v) for v in totals[last]]

    def _check(self, totals: np.ndarray, ordered: np.ndarray, grouping: Grouping, signs: np.ndarray | None) -> None:
        """Fail at the first running sum of an *added* row whose magnitude reaches the limit (ksqlDB checks
        in ``aggregate`` only, not in ``undo``). Running sums before the first violation are exact even in
        int64: each step adds less than 10^18."""
        check = np.ones(len(ordered), dtype=bool) if signs is None else (signs[grouping.order] > 0)
        check &= ordered != 0
        if not check.any():
            return
        candidates = totals[check]
        over = np.abs(candidates.astype(object) if candidates.dtype == object else candidates) >= self.limit
        if not np.any(over):
            return
        # report the violation one-row processing meets first: the earliest batch row among the
        # first violation of each group (later running sums of a group may have wrapped in int64)
        violating = np.flatnonzero(over)
        groups = grouping.group_of_sorted[np.flatnonzero(check)][violating]
        _, first_of_group = np.unique(groups, return_index=True)
        candidates_rows = grouping.order[np.flatnonzero(check)][violating[first_of_group]]
        first = int(violating[first_of_group][np.argmin(candidates_rows)])
        value = Decimal(int(candidates[first])).scaleb(-self.scale)
        shown = Context(prec=self.precision, rounding=ROUND_HALF_UP).plus(value)
        message = (
            f"Numeric field overflow: A field with precision {self.precision} and scale {self.scale} "
            f"must round to an absolute value less than 10^{self.precision - self.scale}. "
            f"Got {format(shown, 'f')}"
        )
        raise ExecutionError(message) from FunctionError(message)

    def result(self, slots: np.ndarray) -> pa.Array:
        return decimal_array(self.sums[slots], self.precision, self.scale)

    def merge(self, target: int, sources: Sequence[int]) -> None:
        self.sums[target] = sum(int(self.sums[s]) for s in sources)


def _sum_factory(resolved: ResolvedAggregate, literals: tuple[Any, ...], config: Mapping[str, Any]) -> Any:
    arg = resolved.param_types[0]
    if arg == t.INT:
        return IntegerSum(resolved, 32)
    if arg == t.BIGINT:
        return IntegerSum(resolved, 64)
    if arg == t.DOUBLE:
        return DoubleSum(resolved)
    return DecimalSum(resolved)


SUM = AggregateFunction(
    name="SUM",
    description="Computes the sum for a key.",
    supports_undo=True,
    signatures=tuple(
        AggregateSignature(
            params=(Param("val", param),),
            returns=decimal_argument if isinstance(param, AnyDecimal) else param,
            factory=_sum_factory,
            intermediate=lambda types: types[0],
            description=f"Computes the sum of {param.sql()} values for a key.",
        )
        for param in (t.INT, t.BIGINT, t.DOUBLE, AnyDecimal())
    ),
)


# --------------------------------------------------------------------------------------------------------
# AVG


class Average(ColumnarAccumulator):
    """AVG: a sum (integer sums wrap like SUM's) and a count; the result is sum / count, 0.0 if empty."""

    def __init__(self, resolved: ResolvedAggregate) -> None:
        arg = resolved.param_types[0]
        self.kind = "double" if arg == t.DOUBLE else ("int" if arg == t.INT else "long")
        super().__init__(
            resolved,
            {"SUM": pa.float64() if self.kind == "double" else pa.int64(), "COUNT": pa.int64()},
            dense=("SUM", "COUNT"),
        )

    def update(self, grouping: Grouping, args: Sequence[pa.Array], signs: np.ndarray | None) -> None:
        counts = self.columns["COUNT"].data
        sums = self.columns["SUM"].data
        if self.kind == "double":
            values, valid = numeric(args[0], np.float64)
            add_doubles(sums, grouping, _signed(values, valid, signs), valid)
        else:
            values, valid = numeric(args[0], np.int64)
            added = group_sums(_signed(values, valid, signs)[grouping.order], grouping)
            total = sums[grouping.group_slots] + added
            sums[grouping.group_slots] = wrap_int(total) if self.kind == "int" else total
        counts[grouping.group_slots] += _counts(valid, signs, grouping)

    def result(self, slots: np.ndarray) -> pa.Array:
        counts = self.columns["COUNT"].data[slots]
        sums = self.columns["SUM"].data[slots].astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            averages = np.where(counts == 0, 0.0, sums / np.where(counts == 0, 1, counts))
        return pa.array(averages, pa.float64())

    def merge(self, target: int, sources: Sequence[int]) -> None:
        counts = self.columns["COUNT"].data
        sums = self.columns["SUM"].data
        counts[target] = counts[list(sources)].sum()
        if self.kind == "double":
            total = 0.0
            for source in sources:
                total = total + sums[source]
            sums[target] = total
        else:
            total_int = np.array([sums[list(sources)].sum()])
            sums[target] = (wrap_int(total_int) if self.kind == "int" else total_int)[0]


def _avg_intermediate(types: tuple[t.SqlType, ...]) -> t.SqlType:
    return t.Struct((("SUM", types[0]), ("COUNT", t.BIGINT)))


AVG = AggregateFunction(
    name="AVG",
    description="Returns the average value of the column computed as the sum divided by the count. "
    "Applicable only to numeric types.",
    supports_undo=True,
    signatures=tuple(
        AggregateSignature(
            params=(Param("val", param),),
            returns=t.DOUBLE,
            factory=lambda resolved, literals, config: Average(resolved),
            intermediate=_avg_intermediate,
            description=f"Compute average of column with type {param.sql()}.",
        )
        for param in (t.BIGINT, t.INT, t.DOUBLE)
    ),
)


# --------------------------------------------------------------------------------------------------------
# SUM_LIST


class ListSum(ColumnarAccumulator):
    """SUM_LIST: each array's non-NULL elements summed, then summed per group like SUM."""

    def __init__(self, resolved: ResolvedAggregate) -> None:
        element = resolved.return_type
        self.kind = "double" if element == t.DOUBLE else ("int" if element == t.INT else "long")
        super().__init__(resolved, {"SUM": pa.float64() if self.kind == "double" else pa.int64()}, dense=("SUM",))

    def update(self, grouping: Grouping, args: Sequence[pa.Array], signs: np.ndarray | None) -> None:
        lists = args[0]
        if isinstance(lists, pa.ChunkedArray):
            lists = lists.combine_chunks()
        valid = valid_mask(lists)
        flat = pc.list_flatten(lists)
        parents = np.asarray(pc.list_parent_indices(lists).to_numpy(zero_copy_only=False), dtype=np.int64)
        sums = self.columns["SUM"].data
        if self.kind == "double":
            elements, element_valid = numeric(flat, np.float64)
            # per-row sums, element by element left to right, then per group left to right
            per_row = np.zeros(len(lists), dtype=np.float64)
            if len(elements):
                row_grouping = Grouping(parents[element_valid])
                running = sequential_prefix(
                    per_row[row_grouping.group_slots], elements[element_valid][row_grouping.order], row_grouping
                )
                per_row[row_grouping.group_slots] = running[row_grouping.starts + row_grouping.counts - 1]
            add_doubles(sums, grouping, _signed(per_row, valid, signs), valid)
        else:
            elements_int, element_valid = numeric(flat, np.int64)
            per_row_int = np.zeros(len(lists), dtype=np.int64)
            np.add.at(per_row_int, parents[element_valid], elements_int[element_valid])
            if self.kind == "int":
                per_row_int = wrap_int(per_row_int)
            added = group_sums(_signed(per_row_int, valid, signs)[grouping.order], grouping)
            total = sums[grouping.group_slots] + added
            sums[grouping.group_slots] = wrap_int(total) if self.kind == "int" else wrap_long(total)

    def result(self, slots: np.ndarray) -> pa.Array:
        data = self.columns["SUM"].data[slots]
        if self.kind == "int":
            return pa.array(data.astype(np.int32), pa.int32())
        return pa.array(data, self.arrow_type)

    def merge(self, target: int, sources: Sequence[int]) -> None:
        data = self.columns["SUM"].data
        if self.kind == "double":
            total = 0.0
            for source in sources:
                total = total + data[source]
            data[target] = total
        else:
            combined = np.array([data[list(sources)].sum()])
            data[target] = (wrap_int(combined) if self.kind == "int" else combined)[0]


SUM_LIST = AggregateFunction(
    name="SUM_LIST",
    description="Returns the sum of elements contained in the list.",
    supports_undo=True,
    signatures=tuple(
        AggregateSignature(
            params=(Param("list", t.Array(element)),),
            returns=element,
            factory=lambda resolved, literals, config: ListSum(resolved),
            intermediate=lambda types: types[0].element if isinstance(types[0], t.Array) else types[0],
            description=f"sum {element.sql()} values in a list into a single {element.sql()}",
        )
        for element in (t.DOUBLE, t.INT, t.BIGINT)
    ),
)

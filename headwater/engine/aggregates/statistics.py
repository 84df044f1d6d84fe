"""STDDEV_SAMP, STDDEV_SAMPLE and CORRELATION, with ksqlDB's exact arithmetic (all can undo).

ksqlDB has two standard-deviation aggregates, both keeping (SUM, COUNT, M2) and updating M2 one value
at a time with the Youngs-Cramer step ``delta = x * (n + 1) - (sum + x)``, ``M2 += delta^2 / (n' (n'-1))``:

* ``STDDEV_SAMPLE`` returns ``sqrt(M2 / (n - 1))``, the sample standard deviation;
* ``STDDEV_SAMP`` returns ``M2 / (n - 1)``, the sample *variance* (that is what ksqlDB computes under this
  name), and keeps its count as a Java ``int``.

Both return 0.0 below two values. The integer arithmetic of ``delta`` is Java's (INTEGER inputs wrap at
32 bits, the count's width differs between the two functions), so results match ksqlDB to the last bit.
The per-row running count and sum come from grouped prefix sums and M2 is added left to right
(:func:`~headwater.engine.aggregates.grouping.sequential_prefix`), so a batch gives exactly what one-row
processing gives. ksqlDB's ``undo`` and session ``merge`` formulas are reproduced as written.

ksqlDB has no STDDEV_POP or VARIANCE aggregate, so neither is provided.

CORRELATION(x, y) is Pearson's coefficient from five running DOUBLE sums; rows where either argument is
NULL are skipped, and a group whose variance is zero gives NaN, as in ksqlDB.
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
)
from headwater.engine.aggregates.grouping import Grouping, sequential_prefix
from headwater.engine.aggregates.sums import add_doubles
from headwater.engine.aggregates.values import numeric, wrap_int
from headwater.engine.functions.registry import Param
from headwater.parser import types as t

__all__ = ["CORRELATION", "STDDEV_SAMP", "STDDEV_SAMPLE"]


def _prefix_exclusive(values_sorted: np.ndarray, initial: np.ndarray, grouping: Grouping) -> np.ndarray:
    """For each sorted row, ``initial[g]`` plus the sum of the earlier rows of its group (integers)."""
    running = np.cumsum(values_sorted)
    start_running = np.repeat(running[grouping.starts] - values_sorted[grouping.starts], grouping.counts)
    return np.repeat(initial, grouping.counts) + (running - values_sorted - start_running)


class StandardDeviation(ColumnarAccumulator):
    """STDDEV_SAMP (``variance=True``) or STDDEV_SAMPLE (see the module docstring)."""

    def __init__(self, resolved: ResolvedAggregate, variance: bool) -> None:
        arg = resolved.param_types[0]
        self.kind = "double" if arg == t.DOUBLE else ("int" if arg == t.INT else "long")
        self.variance = variance  # STDDEV_SAMP: result is M2/(n-1), count is a Java int
        super().__init__(
            resolved,
            {
                "SUM": pa.float64() if self.kind == "double" else pa.int64(),
                "COUNT": pa.int64(),
                "M2": pa.float64(),
            },
            dense=("SUM", "COUNT", "M2"),
        )

    # Java arithmetic ----------------------------------------------------------------------------------
    def _wrap_count(self, values: np.ndarray) -> np.ndarray:
        return wrap_int(values) if self.variance else values

    def _wrap_sum(self, values: np.ndarray) -> np.ndarray:
        return wrap_int(values) if self.kind == "int" else values

    def _delta(self, x: np.ndarray, count: np.ndarray, total: np.ndarray) -> np.ndarray:
        """``x * (count + 1) - (sum + x)`` with the operand widths of ksqlDB's Java code."""
        if self.kind == "double":
            return x * (count + 1).astype(np.float64) - (total + x)
        with np.errstate(over="ignore"):
            grown = self._wrap_count(count + 1)
            scaled = x * grown
            if self.kind == "int" and self.variance:
                scaled = wrap_int(scaled)  # int * int
            added = self._wrap_sum(total + x)  # int + int for INTEGER input, long + long for BIGINT
            difference = scaled - added
            if self.kind == "int" and self.variance:
                difference = wrap_int(difference)
        return difference.astype(np.float64)

    def _pairs(self, count: np.ndarray, other: np.ndarray) -> np.ndarray:
        """``count * other`` as Java computes it (int for STDDEV_SAMP, long otherwise), as a double."""
        with np.errstate(over="ignore"):
            product = count * other
        return (wrap_int(product) if self.variance else product).astype(np.float64)

    # Accumulator -------------------------------------------------------------------------------------
    def update(self, grouping: Grouping, args: Sequence[pa.Array], signs: np.ndarray | None) -> None:
        dtype = np.float64 if self.kind == "double" else np.int64
        values, valid = numeric(args[0], dtype)
        if not valid.any():
            return
        sub = grouping.subset(valid)
        x = values[valid][sub.order]
        sign = np.ones(len(x), dtype=np.int64) if signs is None else signs[valid][sub.order].astype(np.int64)
        sums = self.columns["SUM"].data
        counts = self.columns["COUNT"].data
        m2 = self.columns["M2"].data
        slots = sub.group_slots
        count_before = _prefix_exclusive(sign, counts[slots], sub)
        signed_x = x * sign.astype(x.dtype)
        if self.kind == "double":
            inclusive = sequential_prefix(sums[slots], signed_x, sub)
            sum_before = np.where(
                sub.rank_in_group() == 0, np.repeat(sums[slots], sub.counts), np.roll(inclusive, 1)
            )
        else:
            sum_before = self._wrap_sum(_prefix_exclusive(signed_x, sums[slots], sub))
        delta = self._delta(x, count_before, sum_before)
        adding = sign > 0
        new_count = count_before + sign
        divisor = np.where(adding, self._pairs(new_count, new_count - 1), self._pairs(new_count, new_count + 1))
        applies = np.where(adding, count_before > 0, new_count > 0)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            terms = np.where(applies, delta * delta / np.where(applies, divisor, 1.0), 0.0)
        terms = np.where(adding, terms, -terms)
        running_m2 = sequential_prefix(m2[slots], terms, sub)
        last = sub.starts + sub.counts - 1
        m2[slots] = running_m2[last]
        counts[slots] = self._wrap_count(count_before[last] + sign[last])
        if self.kind == "double":
            sums[slots] = inclusive[last]
        else:
            sums[slots] = self._wrap_sum(sum_before[last] + signed_x[last])

    def result(self, slots: np.ndarray) -> pa.Array:
        counts = self.columns["COUNT"].data[slots].astype(np.float64)
        m2 = self.columns["M2"].data[slots]
        with np.errstate(divide="ignore", invalid="ignore"):
            variance = m2 / (counts - 1.0)
            out = variance if self.variance else np.sqrt(variance)
        return pa.array(np.where(counts < 2, 0.0, out), pa.float64())

    def merge(self, target: int, sources: Sequence[int]) -> None:
        sums = self.columns["SUM"].data
        counts = self.columns["COUNT"].data
        m2 = self.columns["M2"].data
        total: Any = 0.0 if self.kind == "double" else 0
        count, moment = 0, 0.0
        for source in sources:
            other_total, other_count, other_m2 = sums[source], int(counts[source]), float(m2[source])
            new_count = count + other_count
            if count == 0 or other_count == 0:
                moment = moment + other_m2
            else:
                if self.kind == "double":
                    inner = total / count - other_total / other_count
                elif self.variance:  # Java integer division in STDDEV_SAMP's merge
                    inner = float(_java_div(int(total), count) - _java_div(int(other_total), other_count))
                else:
                    inner = float(total) / count - float(other_total) / other_count
                pairs = self._pairs(np.array([count]), np.array([other_count]))[0]
                moment = moment + other_m2 + pairs * inner * inner / new_count
            total = total + other_total
            if self.kind == "int":
                total = int(wrap_int(np.array([total]))[0])
            count = int(self._wrap_count(np.array([new_count]))[0])
        sums[target] = total
        counts[target] = count
        m2[target] = moment


def _java_div(numerator: int, denominator: int) -> int:
    """Java's integer division (truncates toward zero)."""
    quotient = abs(numerator) // abs(denominator)
    return quotient if (numerator >= 0) == (denominator >= 0) else -quotient


def _stddev(name: str, variance: bool, description: str) -> AggregateFunction:
    def factory(resolved: ResolvedAggregate, literals: tuple[Any, ...], config: Mapping[str, Any]) -> Any:
        return StandardDeviation(resolved, variance)

    count_type = t.INT if variance else t.BIGINT

    def intermediate(types: tuple[t.SqlType, ...]) -> t.SqlType:
        return t.Struct((("SUM", types[0]), ("COUNT", count_type), ("M2", t.DOUBLE)))

    return AggregateFunction(
        name=name,
        description=description,
        supports_undo=True,
        signatures=tuple(
            AggregateSignature(
                params=(Param("val", param),),
                returns=t.DOUBLE,
                factory=factory,
                intermediate=intermediate,
                description=f"Compute sample standard deviation of column with type {param.sql()}.",
            )
            for param in (t.BIGINT, t.INT, t.DOUBLE)
        ),
    )


STDDEV_SAMP = _stddev(
    "STDDEV_SAMP",
    True,
    "Returns the sample standard deviation of the column. Applicable only to numeric types.",
)
STDDEV_SAMPLE = _stddev(
    "STDDEV_SAMPLE",
    False,
    "Returns the sample standard deviation of the column. Applicable only to numeric types.",
)


class Correlation(ColumnarAccumulator):
    """CORRELATION: Pearson's coefficient from running sums (see the module docstring)."""

    _SUMS = ("X_SUM", "Y_SUM", "X_SQUARED_SUM", "Y_SQUARED_SUM", "XY_SUM")

    def __init__(self, resolved: ResolvedAggregate) -> None:
        columns: dict[str, pa.DataType] = {name: pa.float64() for name in self._SUMS}
        columns["COUNT"] = pa.int64()
        super().__init__(resolved, columns, dense=tuple(columns))

    def update(self, grouping: Grouping, args: Sequence[pa.Array], signs: np.ndarray | None) -> None:
        x, x_valid = numeric(args[0], np.float64)
        y, y_valid = numeric(args[1], np.float64)
        valid = x_valid & y_valid
        if not valid.any():
            return
        sign = np.ones(len(x)) if signs is None else signs.astype(np.float64)
        terms = (x, y, x * x, y * y, x * y)
        for name, term in zip(self._SUMS, terms):
            add_doubles(self.columns[name].data, grouping, term * sign, valid)
        weights = valid.astype(np.int64) * (1 if signs is None else signs)
        counts = self.columns["COUNT"].data
        np.add.at(counts, grouping.slots, weights)

    def result(self, slots: np.ndarray) -> pa.Array:
        count = self.columns["COUNT"].data[slots].astype(np.float64)
        sx, sy, sxx, syy, sxy = (self.columns[name].data[slots] for name in self._SUMS)
        with np.errstate(divide="ignore", invalid="ignore"):
            numerator = count * sxy - sx * sy
            denominator = np.sqrt((count * sxx - sx * sx) * (count * syy - sy * sy))
            return pa.array(numerator / denominator, pa.float64())

    def merge(self, target: int, sources: Sequence[int]) -> None:
        for name in self._SUMS:
            data = self.columns[name].data
            total = 0.0
            for source in sources:
                total = total + data[source]
            data[target] = total
        counts = self.columns["COUNT"].data
        counts[target] = counts[list(sources)].sum()


CORRELATION = AggregateFunction(
    name="CORRELATION",
    description="Computes the Pearson correlation coefficient between two columns of data.",
    supports_undo=True,
    signatures=(
        AggregateSignature(
            params=(Param("x", t.DOUBLE), Param("y", t.DOUBLE)),
            returns=t.DOUBLE,
            factory=lambda resolved, literals, config: Correlation(resolved),
            intermediate=lambda types: t.Struct(
                (*((name, t.DOUBLE) for name in Correlation._SUMS), ("COUNT", t.BIGINT))
            ),
            description="Computes the Pearson correlation coefficient between two DOUBLE columns.",
        ),
    ),
)


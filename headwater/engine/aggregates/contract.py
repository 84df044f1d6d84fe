"""The aggregate function contract: how the planner resolves an aggregate and how an operator runs it.

**Resolution.** An :class:`AggregateFunction` is registered in the function registry with
``registry.register_aggregate(name, function)`` and shares the namespace of scalar functions. It has the
same shape as a scalar function (``name``, ``category``, ``description``, ``kind``, ``signatures`` whose
``params`` / ``returns`` / ``variadic`` / ``description`` are read by DESCRIBE FUNCTION), and
:meth:`AggregateFunction.resolve` picks an overload with ksqlDB's UDF rules (exact match first, then
implicit widening; generics), giving a :class:`ResolvedAggregate`: the argument types, the return type,
the *intermediate* type (what ksqlDB would serialise into its state store; a value format that cannot
hold it, such as DELIMITED for a STRUCT, makes ksqlDB refuse the query), whether it can ``undo`` (only
then may it aggregate a table), and which parameters must be literals (TOPK's ``k``, EARLIEST_BY_OFFSET's
``n`` and ``ignoreNulls``).

**Running.** :meth:`ResolvedAggregate.create` gives an :class:`Accumulator`: the state of one aggregate
call for *all* groups, indexed by slot (:mod:`headwater.engine.state`). An operator feeds it whole
batches: :meth:`Accumulator.update` receives the rows grouped by slot
(:class:`~headwater.engine.aggregates.grouping.Grouping`), the argument columns and, for table input,
a sign per row (+1 add, -1 undo); it computes the batch's partial aggregate per group with Arrow/numpy
and merges it into the state. :meth:`Accumulator.result` maps the state of some slots to result values
(ksqlDB's ``map``); :meth:`Accumulator.merge` merges sessions (ksqlDB's ``merge``). State converts to and
from an Arrow table for checkpoints.

Semantics are ksqlDB's: each aggregate's module states its null handling, overflow behaviour and limits.
Rows are applied in batch order, so a batch of n rows leaves exactly the state n one-row batches leave
(DOUBLE sums included, see :func:`~headwater.engine.aggregates.grouping.sequential_prefix`).

Example:
    >>> import pyarrow as pa
    >>> from headwater.parser import types as t
    >>> from headwater.engine.aggregates import build_aggregates
    >>> count = build_aggregates()["COUNT"].resolve((t.STRING,))
    >>> count.return_type, count.supports_undo
    (Primitive(kind=<PrimitiveKind.BIGINT: 'BIGINT'>), True)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pyarrow as pa

from headwater.engine.aggregates.grouping import Grouping
from headwater.engine.functions.registry import ComputedType, FunctionKind, Param, ReturnType
from headwater.engine.state.slot_column import SlotColumn
from headwater.engine.types import to_arrow
from headwater.errors import PlanError
from headwater.parser import types as t

__all__ = [
    "Accumulator",
    "AggregateFunction",
    "AggregateSignature",
    "ColumnarAccumulator",
    "Factory",
    "ResolvedAggregate",
    "config_int",
    "decimal_argument",
    "decimal_argument_array",
]

Factory = Callable[["ResolvedAggregate", tuple[Any, ...], Mapping[str, Any]], "Accumulator"]
"""Builds an accumulator from the resolved call, the literal parameters (in parameter order, None at
column positions) and the query configuration."""


@dataclass(frozen=True, slots=True)
class AggregateSignature:
    """One overload of an aggregate.

    Attributes:
        params: declared parameters (names and types for DESCRIBE FUNCTION and resolution).
        returns: the return type, possibly with generics, or a function of the argument types.
        factory: builds the accumulator.
        intermediate: the state type ksqlDB stores, from the argument types.
        literals: indexes of parameters that must be literal constants.
        variadic: the last parameter repeats (unused by ksqlDB's built-in aggregates).
        description: the overload's description.
    """

    params: tuple[Param, ...]
    returns: ReturnType
    factory: Factory
    intermediate: Callable[[tuple[t.SqlType, ...]], t.SqlType]
    literals: tuple[int, ...] = ()
    variadic: bool = False
    description: str = ""


@dataclass(frozen=True, slots=True)
class AggregateFunction:
    """An aggregate function (a UDAF): a name with overloads.

    Attributes:
        supports_undo: ksqlDB's ``TableUdaf``: the function can retract a value, so it may aggregate a
            table (an update retracts the old row's contribution).
    """

    name: str
    description: str
    signatures: tuple[AggregateSignature, ...]
    supports_undo: bool
    category: str = "AGGREGATE"
    kind: FunctionKind = FunctionKind.AGGREGATE

    def resolve(self, arg_types: Sequence[t.SqlType | None]) -> ResolvedAggregate:
        """Pick the overload for arguments of ``arg_types`` (None for an untyped NULL literal).

        Raises:
            PlanError: no overload accepts the arguments (ksqlDB's "Function 'X' does not accept
                parameters (...)").
        """
        from headwater.engine.functions.resolution import resolve_signature

        # The resolution rules only read name, signatures and each signature's params / variadic /
        # returns, which an aggregate has in the same shape as a scalar function.
        resolved = resolve_signature(cast(Any, self), tuple(arg_types))
        signature = cast(AggregateSignature, resolved.signature)
        return ResolvedAggregate(
            function=self,
            signature=signature,
            param_types=resolved.param_types,
            return_type=resolved.return_type,
            intermediate_type=signature.intermediate(resolved.param_types),
        )


@dataclass(frozen=True, slots=True)
class ResolvedAggregate:
    """An aggregate call with its overload chosen (see the module docstring)."""

    function: AggregateFunction
    signature: AggregateSignature
    param_types: tuple[t.SqlType, ...]
    return_type: t.SqlType
    intermediate_type: t.SqlType

    @property
    def name(self) -> str:
        return self.function.name

    @property
    def supports_undo(self) -> bool:
        return self.function.supports_undo

    @property
    def literal_positions(self) -> tuple[int, ...]:
        """Indexes of the arguments that must be literal constants."""
        return self.signature.literals

    @property
    def column_positions(self) -> tuple[int, ...]:
        """Indexes of the arguments evaluated per row (the others are literals)."""
        return tuple(i for i in range(len(self.param_types)) if i not in self.signature.literals)

    def create(self, literals: Sequence[Any] = (), config: Mapping[str, Any] | None = None) -> Accumulator:
        """A fresh accumulator. ``literals`` holds the value of each literal parameter, in
        :attr:`literal_positions` order.

        Raises:
            PlanError: a literal parameter is missing or NULL.
        """
        positions = self.literal_positions
        if len(literals) != len(positions):
            raise PlanError(f"Function {self.name} expects {len(positions)} literal parameter(s)")
        by_position: list[Any] = [None] * len(self.param_types)
        for position, value in zip(positions, literals):
            if value is None:
                raise PlanError(f"Parameter {position + 1} of {self.name} must not be NULL")
            by_position[position] = value
        return self.signature.factory(self, tuple(by_position), config or {})


def _decimal_of(arg_types: tuple[t.SqlType | None, ...]) -> t.SqlType:
    """The DECIMAL an AnyDecimal parameter takes for its argument (INTEGER and BIGINT widen)."""
    arg = arg_types[0]
    if isinstance(arg, t.Decimal):
        return arg
    return t.Decimal(19, 0) if arg == t.BIGINT else t.Decimal(10, 0)


decimal_argument = ComputedType("DECIMAL", _decimal_of)
"""Return type of DECIMAL overloads that return their argument's own DECIMAL type."""

decimal_argument_array = ComputedType("ARRAY<DECIMAL>", lambda types: t.Array(_decimal_of(types)))
"""Return type of DECIMAL overloads that return an ARRAY of their argument's DECIMAL type."""


def config_int(config: Mapping[str, Any], name: str, default: int) -> int:
    """An integer configuration value (ksqlDB accepts numbers or numeric strings)."""
    value = config.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise PlanError(f"Invalid value {value!r} for configuration {name}: an integer is expected") from None


class Accumulator:
    """One aggregate call's state for every group, indexed by slot (see the module docstring).

    Attributes:
        resolved: the resolved call.
        arrow_type: the Arrow type of results.
    """

    def __init__(self, resolved: ResolvedAggregate) -> None:
        self.resolved = resolved
        self.arrow_type = to_arrow(resolved.return_type)

    def resize(self, size: int) -> None:
        """Make room for slots ``0..size-1``; new slots hold the initial aggregate."""
        raise NotImplementedError

    def update(self, grouping: Grouping, args: Sequence[pa.Array], signs: np.ndarray | None) -> None:
        """Apply a batch: ``args`` are the column arguments (one array per column parameter, batch
        order); ``signs`` (+1 / -1 per row, batch order) marks undo rows, None meaning all +1."""
        raise NotImplementedError

    def result(self, slots: np.ndarray) -> pa.Array:
        """The aggregate's value for ``slots`` (ksqlDB's ``map``)."""
        raise NotImplementedError

    def merge(self, target: int, sources: Sequence[int]) -> None:
        """Session merge: ``target`` (a fresh slot) becomes ``merge(...merge(init, s0)..., sn)``."""
        raise NotImplementedError

    def take(self, slots: np.ndarray) -> None:
        """Keep only ``slots``, renumbered in that order (compaction)."""
        raise NotImplementedError

    def state(self) -> pa.Table:
        """All slots' state as an Arrow table, one row per slot."""
        raise NotImplementedError

    def load(self, table: pa.Table) -> None:
        """Restore :meth:`state`."""
        raise NotImplementedError


class ColumnarAccumulator(Accumulator):
    """An accumulator whose state is a set of named :class:`SlotColumn` s; it gets resize, take,
    state and load for free. Subclasses call ``super().__init__`` with their columns."""

    columns: dict[str, SlotColumn]

    def __init__(
        self, resolved: ResolvedAggregate, columns: Mapping[str, pa.DataType], dense: Sequence[str] = ()
    ) -> None:
        """``dense`` names the columns that are never NULL (counters and sums start at 0)."""
        Accumulator.__init__(self, resolved)
        self.columns = {name: SlotColumn(arrow_type, dense=name in dense) for name, arrow_type in columns.items()}

    @property
    def size(self) -> int:
        first = next(iter(self.columns.values()))
        return len(first)

    def resize(self, size: int) -> None:
        for column in self.columns.values():
            column.resize(size)

    def take(self, slots: np.ndarray) -> None:
        for column in self.columns.values():
            column.take(slots)

    def state(self) -> pa.Table:
        return pa.table({name: column.to_arrow() for name, column in self.columns.items()})

    def load(self, table: pa.Table) -> None:
        self.columns = {
            name: SlotColumn.from_arrow(table.column(name), dense=column.dense) for name, column in self.columns.items()
        }

    def merge(self, target: int, sources: Sequence[int]) -> None:
        raise NotImplementedError(f"{self.resolved.name} cannot merge sessions")

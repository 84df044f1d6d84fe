"""ksqlDB's test-only aggregate functions (UDAFs), registered by the conformance runner only.

They follow ksqlDB's ``ksqldb-engine/src/test/java/io/confluent/ksql/function/udaf`` classes:

============== ===========================================================================================
TEST_UDAF      sums BIGINT, INT (into BIGINT; undo for tables) or DOUBLE; sums string lengths from an
               initial literal string's length; sums the fields of a ``STRUCT<A INT, B INT>``
VAR_ARG        BIGINT plus the lengths of any number of trailing strings (NULLs count 0)
MID_VAR_ARG    the same with two INT literals after the strings, added to the result
MULTI_ARG      BIGINT plus one string's length, from an initial value: an INT literal plus the lengths of
               any number of trailing string literals
FOUR_ARG       the same over three string columns
FIVE_ARG       the same over three string columns and an INT column
GENERIC_VAR_ARG collects the first argument of each row whose arguments are all non-NULL
OBJ_COL_ARG    the same with an INT first argument and trailing arguments of any type
============== ===========================================================================================

The function registry's variadic parameters can only be the last one, while ksqlDB's UDAFs have varargs
in the middle (MID_VAR_ARG's strings before its literals) or literal varargs (MULTI_ARG's initial
strings). Those are registered as one overload per count of repeated arguments, up to
:data:`MAX_REPEATED`, which gives the same resolution and the same "does not accept parameters" messages
for the calls the tests make.

Per-row Python: each accumulator applies Java's ``aggregate`` to one row at a time, in batch order; these
functions exist only for the test corpus, where batches hold one record.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from headwater.engine.aggregates.contract import (
    Accumulator,
    AggregateFunction,
    AggregateSignature,
    ResolvedAggregate,
)
from headwater.engine.aggregates.grouping import Grouping
from headwater.engine.functions.registry import AnyType, Generic, Param
from headwater.engine.types import to_arrow
from headwater.parser import types as t

__all__ = ["MAX_REPEATED", "test_aggregates"]

MAX_REPEATED = 8
"""How many repeated arguments the expanded overloads of middle and literal varargs accept."""

_INT_STRUCT = t.Struct((("A", t.INT), ("B", t.INT)))


def _long(value: int) -> int:
    """Java ``long`` arithmetic: wrap to 64 bits."""
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >> 63 else value


def _int(value: int) -> int:
    """Java ``int`` arithmetic: wrap to 32 bits."""
    value &= (1 << 32) - 1
    return value - (1 << 32) if value >> 31 else value


def _length(text: str | None) -> int:
    return 0 if text is None else len(text)


@dataclass(frozen=True, slots=True)
class _JavaUdaf:
    """A UDAF as Java writes it: initialize, aggregate (one row's arguments), undo, merge, map. Functions
    receive the call's literal arguments (by position, None at column positions) where they need them."""

    initialize: Callable[[Sequence[Any], Mapping[str, Any]], Any]
    aggregate: Callable[[tuple[Any, ...], Any], Any]
    merge: Callable[[Any, Any], Any]
    map: Callable[[Any, Sequence[Any]], Any] = lambda agg, literals: agg
    undo: Callable[[tuple[Any, ...], Any], Any] | None = None


class _RowwiseAccumulator(Accumulator):
    """Holds each slot's Java aggregate as a Python value and applies the UDAF row by row."""

    def __init__(
        self, resolved: ResolvedAggregate, udaf: _JavaUdaf, literals: Sequence[Any], config: Mapping[str, Any]
    ) -> None:
        super().__init__(resolved)
        self.udaf = udaf
        self.literals = tuple(literals)
        self.config = dict(config)
        self.values: list[Any] = []
        self.state_type = to_arrow(resolved.intermediate_type)

    def _initial(self) -> Any:
        return self.udaf.initialize(self.literals, self.config)

    def resize(self, size: int) -> None:
        while len(self.values) < size:
            self.values.append(self._initial())

    def update(self, grouping: Grouping, args: Sequence[pa.Array], signs: np.ndarray | None) -> None:
        columns = [a.to_pylist() for a in args]
        for row, slot in enumerate(grouping.slots.tolist()):
            arguments = tuple(column[row] for column in columns)
            if signs is not None and signs[row] < 0:
                if self.udaf.undo is None:
                    raise ValueError(f"{self.resolved.name} cannot undo")
                self.values[slot] = self.udaf.undo(arguments, self.values[slot])
            else:
                self.values[slot] = self.udaf.aggregate(arguments, self.values[slot])

    def result(self, slots: np.ndarray) -> pa.Array:
        return pa.array(
            [self.udaf.map(self.values[s], self.literals) for s in slots.tolist()], self.arrow_type
        )

    def merge(self, target: int, sources: Sequence[int]) -> None:
        merged = self._initial()
        for source in sources:
            merged = self.udaf.merge(merged, self.values[source])
        self.values[target] = merged

    def take(self, slots: np.ndarray) -> None:
        self.values = [self.values[s] for s in slots.tolist()]

    def state(self) -> pa.Table:
        return pa.table({"STATE": pa.array(self.values, self.state_type)})

    def load(self, table: pa.Table) -> None:
        self.values = table.column("STATE").to_pylist()


def _signature(
    params: Sequence[tuple[str, t.SqlType]],
    returns: Any,
    udaf: _JavaUdaf,
    *,
    intermediate: Callable[[tuple[t.SqlType, ...]], t.SqlType] | None = None,
    literals: Sequence[int] = (),
    variadic: bool = False,
    description: str = "",
) -> AggregateSignature:
    def factory(
        resolved: ResolvedAggregate, values: tuple[Any, ...], config: Mapping[str, Any]
    ) -> Accumulator:
        return _RowwiseAccumulator(resolved, udaf, values, config)

    def same_as_return(types: tuple[t.SqlType, ...]) -> t.SqlType:
        return returns if isinstance(returns, t.SqlType) and not isinstance(returns, Generic) else types[0]

    return AggregateSignature(
        params=tuple(Param(name, sql_type) for name, sql_type in params),
        returns=returns,
        factory=factory,
        intermediate=intermediate or same_as_return,
        literals=tuple(literals),
        variadic=variadic,
        description=description,
    )


# --------------------------------------------------------------------------------------------------------
# TEST_UDAF


def _skip_nulls(step: Callable[[Any, Any], Any]) -> Callable[[tuple[Any, ...], Any], Any]:
    """Java would throw on a NULL argument; the row then changes nothing."""

    def aggregate(arguments: tuple[Any, ...], agg: Any) -> Any:
        return agg if arguments[0] is None else step(arguments[0], agg)

    return aggregate


_SUM_LONG = _JavaUdaf(
    initialize=lambda literals, config: 0,
    aggregate=_skip_nulls(lambda value, agg: _long(agg + value)),
    merge=lambda a, b: _long(a + b),
    undo=_skip_nulls(lambda value, agg: _long(agg - value)),
)
_SUM_INT = _JavaUdaf(
    initialize=lambda literals, config: int(config.get("ksql.functions.test_udaf.init") or 0),
    aggregate=_skip_nulls(lambda value, agg: _long(agg + value)),
    merge=lambda a, b: _long(a + b),
    undo=_skip_nulls(lambda value, agg: _long(agg - value)),
)
_SUM_DOUBLE = _JavaUdaf(
    initialize=lambda literals, config: 0.0,
    aggregate=_skip_nulls(lambda value, agg: agg + value),
    merge=lambda a, b: a + b,
)
_SUM_LENGTH = _JavaUdaf(
    initialize=lambda literals, config: len(literals[1]),
    aggregate=_skip_nulls(lambda value, agg: _long(agg + len(value))),
    merge=lambda a, b: _long(a + b),
)


def _add_struct(value: dict[str, Any], agg: dict[str, Any]) -> dict[str, Any]:
    if value.get("A") is None or value.get("B") is None:
        return agg
    return {"A": _int(value["A"] + agg["A"]), "B": _int(value["B"] + agg["B"])}


_SUM_STRUCT = _JavaUdaf(
    initialize=lambda literals, config: {"A": 0, "B": 0},
    aggregate=_skip_nulls(_add_struct),
    merge=lambda a, b: _add_struct(b, a),
)

TEST_UDAF = AggregateFunction(
    name="TEST_UDAF",
    description="test_udaf",
    supports_undo=True,
    signatures=(
        _signature([("val", t.BIGINT)], t.BIGINT, _SUM_LONG, description="sums longs"),
        _signature([("val", t.INT)], t.BIGINT, _SUM_INT, description="sums int"),
        _signature([("val", t.DOUBLE)], t.DOUBLE, _SUM_DOUBLE, description="sums double"),
        _signature(
            [("val", t.STRING), ("initialString", t.STRING)],
            t.BIGINT,
            _SUM_LENGTH,
            literals=(1,),
            description="sums the length of strings",
        ),
        _signature(
            [("val", _INT_STRUCT)],
            _INT_STRUCT,
            _SUM_STRUCT,
            description="returns a struct with {SUM(in->A), SUM(in->B)}",
        ),
    ),
)


# --------------------------------------------------------------------------------------------------------
# multi-argument and variadic UDAFs


def _sum_long_and_lengths(arguments: tuple[Any, ...], agg: int) -> int:
    """VAR_ARG / MID_VAR_ARG: the long (NULL as 0) plus the lengths of the strings (NULLs as 0)."""
    first = arguments[0] or 0
    return _long(agg + first + sum(_length(s) for s in arguments[1:]))


def _columns_only(count: int) -> Callable[[tuple[Any, ...], int], int]:
    """Aggregate over the first ``count`` arguments only (the rest are the factory's literals)."""

    def aggregate(arguments: tuple[Any, ...], agg: int) -> int:
        return _sum_long_and_lengths(arguments[:count], agg)

    return aggregate


def _initial_from_literals(first_literal: int) -> Callable[[Sequence[Any], Mapping[str, Any]], int]:
    """MULTI_ARG / FOUR_ARG / FIVE_ARG: an INT literal plus the lengths of the string literals after it."""

    def initialize(literals: Sequence[Any], config: Mapping[str, Any]) -> int:
        return _long(int(literals[first_literal]) + sum(len(s) for s in literals[first_literal + 1 :]))

    return initialize


VAR_ARG = AggregateFunction(
    name="VAR_ARG",
    description="Returns the sum of the provided longs and lengths of strings.",
    supports_undo=False,
    signatures=(
        _signature(
            [("first", t.BIGINT), ("strings", t.STRING)],
            t.BIGINT,
            _JavaUdaf(
                initialize=lambda literals, config: 0,
                aggregate=_sum_long_and_lengths,
                merge=lambda a, b: _long(a + b),
            ),
            variadic=True,
        ),
    ),
)


def _add_literals(first: int) -> Callable[[Any, Sequence[Any]], Any]:
    """MID_VAR_ARG's ``map``: the aggregate plus its two INT literals (at ``first`` and ``first + 1``)."""

    def finish(agg: Any, literals: Sequence[Any]) -> Any:
        return _long(agg + int(literals[first]) + int(literals[first + 1]))

    return finish


def _mid_var_arg_signatures() -> tuple[AggregateSignature, ...]:
    signatures = []
    for repeated in range(MAX_REPEATED + 1):
        params = [("first", t.BIGINT), *((f"string{i + 1}", t.STRING) for i in range(repeated))]
        params += [("first_init", t.INT), ("second_init", t.INT)]
        columns = 1 + repeated
        signatures.append(
            _signature(
                params,
                t.BIGINT,
                _JavaUdaf(
                    initialize=lambda literals, config: 0,
                    aggregate=_columns_only(columns),
                    merge=lambda a, b: _long(a + b),
                    map=_add_literals(columns),
                ),
                literals=(columns, columns + 1),
            )
        )
    return tuple(signatures)


MID_VAR_ARG = AggregateFunction(
    name="MID_VAR_ARG",
    description="Returns the sum of the provided longs, lengths of strings, and initial arguments.",
    supports_undo=False,
    signatures=_mid_var_arg_signatures(),
)


def _initialised_sum_signatures(columns: Sequence[tuple[str, t.SqlType]]) -> tuple[AggregateSignature, ...]:
    """Overloads for (columns..., INT literal, STRING literal x n) summing the long, string lengths and
    integers of the columns onto the initial value."""
    count = len(columns)

    def aggregate(arguments: tuple[Any, ...], agg: int) -> int:
        total = agg
        for value, (_, sql_type) in zip(arguments[:count], columns):
            if value is None:
                continue
            total += len(value) if sql_type == t.STRING else int(value)
        return _long(total)

    udaf = _JavaUdaf(
        initialize=_initial_from_literals(count),
        aggregate=aggregate,
        merge=lambda a, b: _long(a + b),
    )
    signatures = []
    for repeated in range(MAX_REPEATED + 1):
        params = [*columns, ("initArg1", t.INT), *((f"initArg{i + 2}", t.STRING) for i in range(repeated))]
        signatures.append(
            _signature(params, t.BIGINT, udaf, literals=tuple(range(count, count + 1 + repeated)))
        )
    return tuple(signatures)


MULTI_ARG = AggregateFunction(
    name="MULTI_ARG",
    description="Returns the sum of the provided longs and lengths of strings.",
    supports_undo=False,
    signatures=_initialised_sum_signatures([("first", t.BIGINT), ("second", t.STRING)]),
)
FOUR_ARG = AggregateFunction(
    name="FOUR_ARG",
    description="Returns the sum of the provided longs and lengths of strings.",
    supports_undo=False,
    signatures=_initialised_sum_signatures(
        [("first", t.BIGINT), ("second", t.STRING), ("third", t.STRING), ("fourth", t.STRING)]
    ),
)
FIVE_ARG = AggregateFunction(
    name="FIVE_ARG",
    description="Returns the sum of the provided longs, lengths of strings, and integers.",
    supports_undo=False,
    signatures=_initialised_sum_signatures(
        [
            ("first", t.BIGINT),
            ("second", t.STRING),
            ("third", t.STRING),
            ("fourth", t.STRING),
            ("fifth", t.INT),
        ]
    ),
)


def _collect_first_if_all_present(arguments: tuple[Any, ...], agg: list[Any]) -> list[Any]:
    """GENERIC_VAR_ARG / OBJ_COL_ARG: keep the first argument of rows whose arguments are all non-NULL."""
    if all(a is not None for a in arguments):
        return [*agg, arguments[0]]
    return agg


_COLLECT = _JavaUdaf(
    initialize=lambda literals, config: [],
    aggregate=_collect_first_if_all_present,
    merge=lambda a, b: [*a, *b],
)

GENERIC_VAR_ARG = AggregateFunction(
    name="GENERIC_VAR_ARG",
    description="Returns an array of rows where all the given columns are non-null.",
    supports_undo=False,
    signatures=(
        _signature(
            [("first", Generic("A")), ("second", Generic("B")), ("rest", Generic("C"))],
            t.Array(Generic("A")),
            _COLLECT,
            intermediate=lambda types: t.Array(types[0]),
            variadic=True,
        ),
    ),
)

OBJ_COL_ARG = AggregateFunction(
    name="OBJ_COL_ARG",
    description="Returns an array of rows where all the given columns are non-null.",
    supports_undo=False,
    signatures=(
        _signature(
            [("first", t.INT), ("rest", AnyType())],
            t.Array(t.INT),
            _COLLECT,
            intermediate=lambda types: t.Array(t.INT),
            variadic=True,
        ),
    ),
)


def test_aggregates() -> tuple[AggregateFunction, ...]:
    """Every test-only aggregate function."""
    return (TEST_UDAF, VAR_ARG, MID_VAR_ARG, MULTI_ARG, FOUR_ARG, FIVE_ARG, GENERIC_VAR_ARG, OBJ_COL_ARG)


test_aggregates.__test__ = False  # type: ignore[attr-defined]  # not a pytest test

"""ksqlDB's test-only aggregates through the aggregate contract: resolution, results, undo, state."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from headwater.conformance.aggregates import MAX_REPEATED
from headwater.conformance.functions import test_function_registry
from headwater.engine.aggregates.grouping import group_rows
from headwater.engine.functions.registry import FunctionRegistry
from headwater.errors import PlanError
from headwater.parser import types as t


@pytest.fixture
def registry() -> FunctionRegistry:
    return test_function_registry(FunctionRegistry())


def _aggregate(registry: FunctionRegistry, name: str) -> Any:
    found = registry.aggregate(name)
    assert found is not None, f"no aggregate named {name}"
    return found


def _run(
    registry: FunctionRegistry,
    name: str,
    types: tuple[t.SqlType, ...],
    rows: list[tuple[Any, ...]],
    literals: tuple[Any, ...] = (),
    slots: list[int] | None = None,
    config: dict[str, Any] | None = None,
) -> list[Any]:
    """Feed rows one per batch (as the runner does) and return the result after each."""
    resolved = _aggregate(registry, name).resolve(types)
    accumulator = resolved.create(literals, config or {})
    slots = slots or [0] * len(rows)
    accumulator.resize(max(slots) + 1)
    out = []
    for row, slot in zip(rows, slots):
        args = [pa.array([row[i]]) for i in resolved.column_positions]
        accumulator.update(group_rows(np.array([slot])), args, None)
        out.append(accumulator.result(np.array([slot])).to_pylist()[0])
    return out


def test_test_udaf_sums_each_type(registry: FunctionRegistry) -> None:
    assert _aggregate(registry, "test_udaf").resolve((t.INT,)).return_type == t.BIGINT
    assert _run(registry, "TEST_UDAF", (t.INT,), [(-2147483647,), (5,), (None,)]) == [
        -2147483647,
        -2147483642,
        -2147483642,
    ]
    assert _run(registry, "TEST_UDAF", (t.BIGINT,), [(2**63 - 1,), (1,)]) == [2**63 - 1, -(2**63)]
    assert _run(registry, "TEST_UDAF", (t.DOUBLE,), [(1.5,), (2.25,)]) == [1.5, 3.75]
    assert _run(registry, "TEST_UDAF", (t.INT,), [(1,)], config={"ksql.functions.test_udaf.init": 10}) == [11]


def test_test_udaf_string_lengths_start_from_a_literal(registry: FunctionRegistry) -> None:
    resolved = _aggregate(registry, "TEST_UDAF").resolve((t.STRING, t.STRING))
    assert resolved.literal_positions == (1,) and resolved.column_positions == (0,)
    assert _run(
        registry, "TEST_UDAF", (t.STRING, t.STRING), [("ab", None), ("cde", None)], literals=("init",)
    ) == [6, 9]


def test_test_udaf_struct(registry: FunctionRegistry) -> None:
    struct = t.Struct((("A", t.INT), ("B", t.INT)))
    rows = [({"A": 1, "B": 2},), ({"A": 2, "B": 3},)]
    assert _run(registry, "TEST_UDAF", (struct,), rows) == [{"A": 1, "B": 2}, {"A": 3, "B": 5}]


def test_test_udaf_undoes_for_tables(registry: FunctionRegistry) -> None:
    resolved = _aggregate(registry, "TEST_UDAF").resolve((t.BIGINT,))
    assert resolved.supports_undo
    accumulator = resolved.create((), {})
    accumulator.resize(1)
    grouping = group_rows(np.array([0, 0, 0]))
    accumulator.update(grouping, [pa.array([2, 3, 2], pa.int64())], np.array([1, 1, -1]))
    assert accumulator.result(np.array([0])).to_pylist() == [3]


def test_var_arg_and_its_resolution_errors(registry: FunctionRegistry) -> None:
    rows = [(6, "hi", None), (None, "hello", "x")]
    assert _run(registry, "VAR_ARG", (t.BIGINT, t.STRING, t.STRING), rows) == [8, 14]
    assert _run(registry, "VAR_ARG", (t.BIGINT,), [(21,)]) == [21]
    with pytest.raises(
        PlanError, match=r"Function 'VAR_ARG' does not accept parameters \(BIGINT, INTEGER\)\."
    ):
        _aggregate(registry, "VAR_ARG").resolve((t.BIGINT, t.INT))
    with pytest.raises(PlanError, match=r"does not accept parameters \(STRING, STRING\)\."):
        _aggregate(registry, "VAR_ARG").resolve((t.STRING, t.STRING))


def test_mid_var_arg_adds_its_literals_at_the_end(registry: FunctionRegistry) -> None:
    types = (t.BIGINT, t.STRING, t.STRING, t.STRING, t.INT, t.INT)
    resolved = _aggregate(registry, "MID_VAR_ARG").resolve(types)
    assert resolved.literal_positions == (4, 5)
    rows = [(6, "hi", "hello", "world", None, None), (None, "hello", "hello", "world", None, None)]
    assert _run(registry, "MID_VAR_ARG", types, rows, literals=(7, 3)) == [28, 43]
    with pytest.raises(PlanError, match=r"does not accept parameters \(BIGINT, STRING, STRING, INTEGER\)\."):
        _aggregate(registry, "MID_VAR_ARG").resolve((t.BIGINT, t.STRING, t.STRING, t.INT))
    too_many = (t.BIGINT, *([t.STRING] * (MAX_REPEATED + 1)), t.INT, t.INT)
    with pytest.raises(PlanError):
        _aggregate(registry, "MID_VAR_ARG").resolve(too_many)


def test_multi_arg_family_starts_from_literals(registry: FunctionRegistry) -> None:
    types = (t.BIGINT, t.STRING, t.INT, t.STRING, t.STRING, t.STRING)
    resolved = _aggregate(registry, "MULTI_ARG").resolve(types)
    assert resolved.literal_positions == (2, 3, 4, 5)
    assert _run(
        registry, "MULTI_ARG", types, [(6, "hi", None, None, None, None)], literals=(5, "10", "20", "3")
    ) == [5 + 5 + 6 + 2]
    with pytest.raises(
        PlanError, match=r"Function 'MULTI_ARG' does not accept parameters \(BIGINT, STRING\)\."
    ):
        _aggregate(registry, "MULTI_ARG").resolve((t.BIGINT, t.STRING))
    five = (t.BIGINT, t.STRING, t.STRING, t.STRING, t.INT, t.INT)
    assert _run(registry, "FIVE_ARG", five, [(1, "a", None, "bc", 4, None)], literals=(5,)) == [
        5 + 1 + 1 + 2 + 4
    ]


def test_generic_var_arg_collects_complete_rows(registry: FunctionRegistry) -> None:
    types = (t.Decimal(2, 1), t.INT, t.DOUBLE, t.DOUBLE)
    resolved = _aggregate(registry, "GENERIC_VAR_ARG").resolve(types)
    assert resolved.return_type == t.Array(t.Decimal(2, 1))
    from decimal import Decimal

    rows = [(Decimal("2.3"), 1, 1.0, 2.0), (Decimal("5.7"), None, 1.0, 2.0), (Decimal("3.2"), 1, 1.0, 2.0)]
    accumulator = resolved.create((), {})
    accumulator.resize(1)
    for row in rows:
        arrays = [
            pa.array([row[0]], pa.decimal128(2, 1)),
            pa.array([row[1]], pa.int32()),
            pa.array([row[2]]),
            pa.array([row[3]]),
        ]
        accumulator.update(group_rows(np.array([0])), arrays, None)
    assert accumulator.result(np.array([0])).to_pylist() == [[Decimal("2.3"), Decimal("3.2")]]
    with pytest.raises(
        PlanError, match=r"does not accept parameters \(DECIMAL\(5, 1\), INTEGER, DOUBLE, STRING, DOUBLE\)"
    ):
        _aggregate(registry, "GENERIC_VAR_ARG").resolve(
            (t.Decimal(5, 1), t.INT, t.DOUBLE, t.STRING, t.DOUBLE)
        )


def test_obj_col_arg_accepts_any_trailing_types(registry: FunctionRegistry) -> None:
    types = (t.INT, t.Map(t.STRING, t.INT), t.Array(t.STRING))
    assert _aggregate(registry, "OBJ_COL_ARG").resolve(types).return_type == t.Array(t.INT)
    assert _run(registry, "OBJ_COL_ARG", (t.INT,), [(2,), (None,), (3,)]) == [[2], [2], [2, 3]]


def test_state_survives_a_checkpoint(registry: FunctionRegistry) -> None:
    resolved = _aggregate(registry, "GENERIC_VAR_ARG").resolve((t.STRING, t.INT))
    first = resolved.create((), {})
    first.resize(2)
    first.update(group_rows(np.array([1, 0])), [pa.array(["a", "b"]), pa.array([1, 2], pa.int32())], None)
    second = resolved.create((), {})
    second.load(first.state())
    second.update(group_rows(np.array([1])), [pa.array(["c"]), pa.array([3], pa.int32())], None)
    assert second.result(np.array([0, 1])).to_pylist() == [["b"], ["a", "c"]]
    second.merge(0, [0, 1])
    assert second.result(np.array([0])).to_pylist() == [["b", "a", "c"]]

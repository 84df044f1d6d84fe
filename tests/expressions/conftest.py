"""Fixtures for the expression tests: a function registry with a few real functions, a one-call
evaluator (SQL text -> values over a batch), and DuckDB as an oracle over the same Arrow data."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from headwater.engine.expressions import Scope, ScopeColumn, bind, compile
from headwater.engine.functions.registry import (
    INTERVAL_UNIT,
    CallContext,
    FunctionError,
    FunctionRegistry,
    Generic,
    LambdaType,
    Param,
    ScalarFunction,
    Signature,
    TableFunction,
)
from headwater.engine.types import from_arrow
from headwater.parser import parse_expression
from headwater.parser import types as t


def _safe_sqrt(args: Sequence[Any], ctx: CallContext) -> pa.Array:
    values = args[0]
    if pc.any(pc.less(values, 0.0)).as_py():
        raise FunctionError("cannot take the square root of a negative number")
    return pc.sqrt(values)


def _transform(args: Sequence[Any], ctx: CallContext) -> pa.Array:
    lists = args[0]
    if isinstance(lists, pa.Scalar):
        lists = pa.repeat(lists, ctx.length)
    parents = pc.list_parent_indices(lists)
    mapped = ctx.lambdas[0]([pc.list_flatten(lists)], parents)
    lengths = pc.fill_null(pc.list_value_length(lists), 0).to_numpy(zero_copy_only=False)
    offsets = pa.array(np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32), mask=None)
    from headwater.engine.types import to_arrow

    result = pa.ListArray.from_arrays(offsets, mapped, type=to_arrow(ctx.return_type))
    return pc.if_else(pc.is_null(lists), pa.nulls(len(lists), result.type), result)


def _explode(args: Sequence[Any], ctx: CallContext) -> tuple[pa.Array, pa.Array]:
    lists = args[0]
    return pc.list_flatten(lists), pc.list_parent_indices(lists)


def _unit_text(args: Sequence[Any], ctx: CallContext) -> pa.Array:
    unit = args[0].as_py()
    return pc.binary_join_element_wise(
        pa.repeat(pa.scalar(unit + ":"), ctx.length), pc.cast(args[1], pa.string()), ""
    )


def make_registry() -> FunctionRegistry:
    registry = FunctionRegistry()

    def scalar(name: str, params: tuple[Param, ...], returns: Any, kernel: Any) -> None:
        registry.register(ScalarFunction(name, "test", name, (Signature(params, returns, kernel),)))

    scalar("SAFE_SQRT", (Param("x", t.DOUBLE),), t.DOUBLE, _safe_sqrt)
    scalar("TWICE", (Param("x", t.BIGINT),), t.BIGINT, lambda args, ctx: pc.multiply(args[0], 2))
    scalar(
        "STRLEN",
        (Param("s", t.STRING),),
        t.INT,
        lambda args, ctx: pc.cast(pc.utf8_length(args[0]), pa.int32()),
    )
    scalar("UNIT_TEXT", (Param("unit", INTERVAL_UNIT), Param("n", t.INT)), t.STRING, _unit_text)
    scalar(
        "TRANSFORM",
        (Param("array", t.Array(Generic("T"))), Param("fn", LambdaType((Generic("T"),), Generic("U")))),
        t.Array(Generic("U")),
        _transform,
    )
    registry.register(
        TableFunction(
            "EXPLODE",
            "test",
            "EXPLODE",
            (Signature((Param("a", t.Array(Generic("T"))),), Generic("T"), _explode),),
        )
    )
    registry.register_aggregate("SUM", object())
    registry.register_aggregate("COUNT", object())
    return registry


@pytest.fixture(scope="session")
def registry() -> FunctionRegistry:
    return make_registry()


def scope_of(batch: pa.RecordBatch | pa.Table, types: dict[str, t.SqlType] | None = None) -> Scope:
    """A scope with one column per batch column, typed from Arrow unless given."""
    types = types or {}
    return Scope(tuple(ScopeColumn(f.name, types.get(f.name) or from_arrow(f.type)) for f in batch.schema))


@pytest.fixture(name="scope_of")
def scope_of_fixture() -> Callable[..., Scope]:
    """The :func:`scope_of` helper, for tests that bind by hand."""
    return scope_of


Evaluator = Callable[..., list[Any]]


@pytest.fixture
def evaluate(registry: FunctionRegistry) -> Evaluator:
    """evaluate(sql, batch, types=None, errors=None) -> Python values of the expression per row."""

    def run(
        sql: str, batch: pa.RecordBatch, types: dict[str, t.SqlType] | None = None, errors: list | None = None
    ) -> list[Any]:
        bound = bind(parse_expression(sql), scope_of(batch, types), registry)
        sink = errors if errors is not None else []
        values = compile(bound).evaluate(batch, on_error=lambda row, message: sink.append((row, message)))
        assert len(values) == batch.num_rows
        return values.to_pylist()

    return run


@pytest.fixture
def duck() -> Callable[[str, pa.RecordBatch], list[Any]]:
    """duck(sql, batch) -> the same expression computed by DuckDB over the same Arrow data."""

    def run(sql: str, batch: pa.RecordBatch) -> list[Any]:
        connection = duckdb.connect()
        connection.register("t", pa.Table.from_batches([batch]))
        rows = connection.execute(f"SELECT {sql} AS v FROM t").fetchall()
        connection.close()
        return [row[0] for row in rows]

    return run

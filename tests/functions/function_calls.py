"""Helpers for calling library functions the way the expression compiler does.

``call("SUBSTRING", col(t.STRING, ["abc"]), lit(t.INT, 2))`` resolves the overload from the argument
types through the real registry, casts the arguments to the resolved parameter types, runs the
kernel and returns the result as Python values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from headwater.engine.functions import default_registry
from headwater.engine.functions.registry import (
    CompiledLambda,
    IntervalUnitType,
    LambdaType,
    ResolvedFunction,
    TableFunction,
)
from headwater.engine.types import to_arrow
from headwater.parser import types as t


@dataclass(frozen=True)
class Arg:
    sql_type: t.SqlType | None
    value: Any
    literal: bool


def col(sql_type: t.SqlType, values: Sequence[Any]) -> Arg:
    """A column argument."""
    return Arg(sql_type, list(values), False)


def lit(sql_type: t.SqlType | None, value: Any) -> Arg:
    """A literal argument (a pa.Scalar at run time); a None type is an untyped NULL."""
    return Arg(sql_type, value, True)


def unit(name: str) -> Arg:
    """A time-unit argument (``SECONDS``), as the binder passes it."""
    return Arg(IntervalUnitType(), name, True)


class PyLambda(CompiledLambda):
    """A lambda over Python values, applied element by element (tests only)."""

    def __init__(self, fn: Callable[..., Any], inputs: tuple[t.SqlType, ...], output: t.SqlType) -> None:
        self.fn, self.inputs, self.output = fn, inputs, output
        self.calls = 0

    def __call__(self, params: Sequence[pa.Array], parent_index: pa.Array) -> pa.Array:
        self.calls += 1
        columns = [p.to_pylist() for p in params]
        return pa.array([self.fn(*row) for row in zip(*columns)], to_arrow(self.output))


def lam(fn: Callable[..., Any], inputs: tuple[t.SqlType, ...], output: t.SqlType) -> Arg:
    return Arg(LambdaType(inputs, output), PyLambda(fn, inputs, output), True)


def resolve(name: str, *args: Arg) -> ResolvedFunction:
    return default_registry().resolve(name, tuple(a.sql_type for a in args))


def _datum(arg: Arg, param: t.SqlType, length: int) -> Any:
    if isinstance(arg.sql_type, IntervalUnitType):
        return pa.scalar(arg.value)
    arrow_type = to_arrow(param)
    source_type = to_arrow(arg.sql_type) if arg.sql_type is not None else arrow_type
    if arg.literal:
        return pa.scalar(arg.value, source_type).cast(arrow_type)
    return pa.array(arg.value, source_type).cast(arrow_type)


def run(name: str, *args: Arg, config: dict[str, Any] | None = None, length: int | None = None) -> pa.Array:
    resolved = resolve(name, *args)
    if length is None:
        length = next((len(a.value) for a in args if not a.literal), 1)
    datums: list[Any] = []
    lambdas = []
    for arg, param in zip(args, resolved.param_types):
        if isinstance(arg.sql_type, LambdaType):
            datums.append(None)
            lambdas.append(arg.value)
        else:
            datums.append(_datum(arg, param, length))
    ctx = resolved.context(length, config or {}, tuple(lambdas))
    result = resolved.kernel(datums, ctx)
    if isinstance(resolved.function, TableFunction):
        return result
    assert len(result) == length, f"{name} returned {len(result)} rows for {length}"
    assert result.type == to_arrow(resolved.return_type), (result.type, resolved.return_type)
    return result


def call(name: str, *args: Arg, config: dict[str, Any] | None = None, length: int | None = None) -> list[Any]:
    return run(name, *args, config=config, length=length).to_pylist()


def call_rows(name: str, *args: Arg, config: dict[str, Any] | None = None) -> list[Any]:
    """Call a function one row at a time, as the compiler's retry does, with failing rows NULL."""
    from headwater.engine.functions.registry import FunctionError

    length = next(len(a.value) for a in args if not a.literal)
    out = []
    for row in range(length):
        row_args = [a if a.literal else Arg(a.sql_type, [a.value[row]], False) for a in args]
        try:
            out.extend(call(name, *row_args, config=config))
        except FunctionError:
            out.append(None)
    return out

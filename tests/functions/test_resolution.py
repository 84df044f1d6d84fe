"""Overload resolution beyond the catalog's functions: DECIMALs of any precision inside ARRAY and MAP
parameters, a repeating parameter in the middle of a signature, and the argument positions."""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import pytest

from headwater.engine.functions.registry import (
    AnyDecimal,
    CallContext,
    Datum,
    FunctionRegistry,
    Param,
    ScalarFunction,
    Signature,
)
from headwater.engine.functions.resolution import signature_text, variadic_position
from headwater.errors import PlanError
from headwater.parser import types as t


def _kernel(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    return pa.nulls(ctx.length, pa.string())


def _registry(*signatures: Signature) -> FunctionRegistry:
    registry = FunctionRegistry()
    registry.register(ScalarFunction("F", "test", "test", signatures))
    return registry


def test_any_decimal_inside_arrays_and_maps_takes_the_arguments_own_type() -> None:
    registry = _registry(
        Signature((Param("a", t.Array(AnyDecimal())),), t.STRING, _kernel),
        Signature((Param("m", t.Map(t.STRING, AnyDecimal())),), t.STRING, _kernel),
    )
    resolved = registry.resolve("F", (t.Array(t.Decimal(20, 10)),))
    assert resolved.param_types == (t.Array(t.Decimal(20, 10)),)
    resolved = registry.resolve("F", (t.Map(t.STRING, t.Decimal(4, 2)),))
    assert resolved.param_types == (t.Map(t.STRING, t.Decimal(4, 2)),)
    # integers widen to the DECIMAL that holds them, as at the top level
    assert registry.resolve("F", (t.Array(t.BIGINT),)).param_types == (t.Array(t.Decimal(19, 0)),)
    with pytest.raises(PlanError, match=r"does not accept parameters \(ARRAY<STRING>\)"):
        registry.resolve("F", (t.Array(t.STRING),))
    with pytest.raises(PlanError, match=r"does not accept parameters \(MAP<INTEGER, DECIMAL\(4, 2\)>\)"):
        registry.resolve("F", (t.Map(t.INT, t.Decimal(4, 2)),))
    function = registry.lookup("F")
    assert function is not None
    assert signature_text(function, function.signatures[0]) == "F(ARRAY<DECIMAL> a)"


def _mid_varargs() -> Signature:
    params = (Param("first", t.BIGINT), Param("rest", t.STRING), Param("a", t.INT), Param("b", t.INT))
    return Signature(params, t.BIGINT, _kernel, variadic=True, variadic_index=1)


def test_a_repeating_parameter_in_the_middle() -> None:
    registry = _registry(_mid_varargs())
    resolved = registry.resolve("F", (t.BIGINT, t.STRING, t.STRING, t.STRING, t.INT, t.INT))
    assert resolved.positions == (0, 1, 1, 1, 2, 3)
    assert resolved.param_types == (t.BIGINT, t.STRING, t.STRING, t.STRING, t.INT, t.INT)
    assert registry.resolve("F", (t.BIGINT, t.INT, t.INT)).positions == (0, 2, 3)  # zero repetitions
    assert registry.resolve("F", (t.INT, t.STRING, t.INT, t.INT)).param_types[0] == t.BIGINT  # widened
    with pytest.raises(PlanError, match=r"does not accept parameters \(BIGINT, STRING, STRING, INTEGER\)"):
        registry.resolve("F", (t.BIGINT, t.STRING, t.STRING, t.INT))
    with pytest.raises(PlanError, match=r"F\(BIGINT first, STRING\.\.\. rest, INTEGER a, INTEGER b\)"):
        registry.resolve("F", (t.BIGINT,))
    assert variadic_position(_mid_varargs()) == 1


def test_trailing_varargs_and_fixed_signatures_report_positions() -> None:
    trailing = Signature(
        (Param("init", t.INT), Param("more", t.STRING)), t.BIGINT, _kernel, variadic=True
    )
    registry = _registry(trailing)
    assert registry.resolve("F", (t.INT, t.STRING, t.STRING)).positions == (0, 1, 1)
    assert registry.resolve("F", (t.INT,)).positions == (0,)
    assert variadic_position(trailing) == 1
    fixed = _registry(Signature((Param("x", t.INT), Param("y", t.INT)), t.INT, _kernel))
    assert fixed.resolve("F", (t.INT, t.INT)).positions == (0, 1)

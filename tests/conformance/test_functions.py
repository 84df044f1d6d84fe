"""ksqlDB's test-only functions, registered by the runner only."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest

from headwater.conformance.functions import test_function_registry
from headwater.conformance.java_text import java_double_text, java_string_of
from headwater.engine.functions.registry import FunctionError, FunctionRegistry
from headwater.parser import types as t

STRUCT_A = t.Struct((("A", t.STRING),))


@pytest.fixture
def registry() -> FunctionRegistry:
    return test_function_registry(FunctionRegistry())


def _call(registry: FunctionRegistry, name: str, types: tuple[t.SqlType | None, ...], *args: object) -> Any:
    resolved = registry.resolve(name, types)
    length = max((len(a) for a in args if isinstance(a, pa.Array)), default=1)
    return resolved.kernel(list(args), resolved.context(length))


def test_test_udf_overloads_name_the_java_method(registry: FunctionRegistry) -> None:
    ids = pa.array([1, 2], pa.int64())
    assert (
        _call(registry, "test_udf", (t.BIGINT, None), ids, pa.scalar(None, pa.string())).to_pylist()
        == ["doStuffLongString"] * 2
    )
    assert _call(
        registry, "TEST_UDF", (t.INT, t.STRING), pa.array([1], pa.int32()), pa.scalar("x")
    ).to_pylist() == ["doStuffIntString"]
    assert (
        _call(
            registry, "TEST_UDF", (t.BIGINT, t.BIGINT, None), ids, ids, pa.scalar(None, pa.string())
        ).to_pylist()
        == ["doStuffLongLongString"] * 2
    )
    assert (
        _call(registry, "TEST_UDF", (t.BIGINT,) * 5, *([ids] * 5)).to_pylist() == ["doStuffLongVarargs"] * 2
    )


def test_test_udf_struct_in_and_out(registry: FunctionRegistry) -> None:
    structs = pa.array([{"A": "x"}, None], pa.struct([("A", pa.string())]))
    assert _call(registry, "TEST_UDF", (STRUCT_A,), structs).to_pylist() == ["x", None]
    resolved = registry.resolve("TEST_UDF", ())
    assert resolved.return_type == STRUCT_A
    assert resolved.kernel([], resolved.context(2)).to_pylist() == [{"A": "foo"}] * 2


def test_to_struct_wraps_a_string_as_field_a(registry: FunctionRegistry) -> None:
    assert registry.resolve("TOSTRUCT", (t.STRING,)).return_type == STRUCT_A
    values = pa.array(["a", None], pa.string())
    assert _call(registry, "tostruct", (t.STRING,), values).to_pylist() == [{"A": "a"}, {"A": None}]


def test_bad_udf(registry: FunctionRegistry) -> None:
    with pytest.raises(FunctionError, match="boom!"):
        _call(registry, "BAD_UDF", (t.INT,), pa.array([1], pa.int32()))
    with pytest.raises(FunctionError, match="You asked me to throw"):
        _call(registry, "BAD_UDF", (t.BOOLEAN,), pa.array([False, True]))
    assert _call(registry, "BAD_UDF", (t.BOOLEAN,), pa.array([False, None])).to_pylist() == [0, None]


def test_bad_udf_returns_null_every_other_call_across_batches(registry: FunctionRegistry) -> None:
    resolved = registry.resolve("BAD_UDF", (t.STRING,))
    first = resolved.kernel([pa.array(["a", "b", "c"])], resolved.context(3)).to_pylist()
    second = resolved.kernel([pa.array(["d"])], resolved.context(1)).to_pylist()
    assert first + second == [None, "b", None, "d"]
    fresh = test_function_registry(FunctionRegistry()).resolve("BAD_UDF", (t.STRING,))
    assert fresh.kernel([pa.array(["a"])], fresh.context(1)).to_pylist() == [None]


def test_lazy_evaluation_probes(registry: FunctionRegistry) -> None:
    assert _call(
        registry, "WhenCondition", (t.BOOLEAN, t.BOOLEAN), pa.array([True, False]), pa.scalar(True)
    ).to_pylist() == [
        True,
        False,
    ]
    with pytest.raises(FunctionError, match="When condition in case is not running lazily!"):
        _call(registry, "WHENCONDITION", (t.BOOLEAN, t.BOOLEAN), pa.array([True]), pa.array([False]))
    with pytest.raises(FunctionError, match="Then expression in case is not running lazily!"):
        _call(registry, "WHENRESULT", (t.INT, t.BOOLEAN), pa.array([1], pa.int32()), pa.array([False]))


def test_test_udtf_describes_its_arguments(registry: FunctionRegistry) -> None:
    types = (t.INT, t.BIGINT, t.DOUBLE, t.BOOLEAN, t.STRING, t.Decimal(20, 10), STRUCT_A)
    args = [
        pa.array([1, None], pa.int32()),
        pa.array([2, 2], pa.int64()),
        pa.array([3.1, 3.1]),
        pa.array([True, True]),
        pa.array(["foo", "foo"]),
        pa.array([Decimal("123.4560000000")] * 2, pa.decimal128(20, 10)),
        pa.array([{"A": "bar"}] * 2, pa.struct([("A", pa.string())])),
    ]
    resolved = registry.resolve("TEST_UDTF", types)
    values, parents = resolved.kernel(args, resolved.context(2))
    assert values.to_pylist() == ["1", "2", "3.1", "true", "foo", "123.4560000000", "Struct{A=bar}"]
    assert parents.to_pylist() == [0] * 7  # the row with a NULL for a Java primitive emits nothing


def test_test_udtf_collections_use_their_first_element(registry: FunctionRegistry) -> None:
    types = tuple(
        t.Array(x) for x in (t.INT, t.BIGINT, t.DOUBLE, t.BOOLEAN, t.STRING, t.Decimal(20, 10), STRUCT_A)
    )
    resolved = registry.resolve("TEST_UDTF", types)
    args = [
        pa.array([[1]], pa.list_(pa.int32())),
        pa.array([[2]], pa.list_(pa.int64())),
        pa.array([[3.1]]),
        pa.array([[True]]),
        pa.array([["foo"]]),
        pa.array([[Decimal("123.4560000000")]], pa.list_(pa.decimal128(20, 10))),
        pa.array([[{"A": "bar"}]], pa.list_(pa.struct([("A", pa.string())]))),
    ]
    values, _ = resolved.kernel(args, resolved.context(1))
    assert values.to_pylist()[-2:] == ["123.4560000000", "Struct{A=bar}"]
    map_types = tuple(t.Map(t.STRING, x.element) for x in types)
    assert registry.resolve("TEST_UDTF", map_types).return_type == t.STRING


def test_test_udtf_single_returns_keep_types(registry: FunctionRegistry) -> None:
    resolved = registry.resolve("TEST_UDTF", (t.INT,))
    assert resolved.return_type == t.INT
    values, parents = resolved.kernel([pa.array([10, None, 11], pa.int32())], resolved.context(3))
    assert values.to_pylist() == [10, 11] and parents.to_pylist() == [0, 2]
    decimal = registry.resolve("TEST_UDTF", (t.Decimal(20, 10),))
    assert decimal.return_type == t.Decimal(30, 10)


def test_throwing_udtf(registry: FunctionRegistry) -> None:
    resolved = registry.resolve("THROWING_UDTF", (t.BOOLEAN,))
    values, parents = resolved.kernel([pa.array([False])], resolved.context(1))
    assert values.to_pylist() == [False] and parents.to_pylist() == [0]
    with pytest.raises(FunctionError, match="You asked me to throw"):
        resolved.kernel([pa.array([False, True])], resolved.context(2))


def test_base_registry_is_copied_not_changed() -> None:
    base = FunctionRegistry()
    registry = test_function_registry(base)
    assert base.lookup("TEST_UDF") is None
    assert registry.lookup("TEST_UDF") is not None


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (3.1, "3.1"),
        (1.0, "1.0"),
        (1e7, "1.0E7"),
        (1.5e-4, "1.5E-4"),
        (0.001, "0.001"),
        (-0.0, "-0.0"),
        (123456.5, "123456.5"),
    ],
)
def test_java_double_text(value: float, text: str) -> None:
    assert java_double_text(value) == text


def test_java_string_of_struct_skips_nulls() -> None:
    struct = t.Struct((("A", t.STRING), ("B", t.INT), ("C", t.DOUBLE)))
    assert java_string_of({"A": None, "B": 1, "C": 2.0}, struct) == "Struct{B=1,C=2.0}"

"""ksqlDB's test-only functions, which its functional tests call (FORMAT.md §5.1).

ksqlDB's test harness loads the UDFs and UDTFs of its engine's *test* sources next to the product's
functions, and several QTT cases call them. Headwater registers them here, in the runner only: they are
never part of the product's registry. :func:`test_function_registry` builds a fresh registry holding the
product's functions plus these; a fresh one per case, because ``BAD_UDF(STRING)`` keeps a call counter,
as the Java class does.

Each function follows its Java original in ksqlDB's ``ksqldb-engine/src/test/java/io/confluent/ksql/
function/udf`` (``TestUdf``, ``BadUdf``, ``WhenCondition``, ``WhenResult``, ``TestUdtf``,
``ThrowingUdtf``, and ``ToStruct`` of its udf-example.jar): same overloads, same results, same failures. A Java primitive parameter given a NULL
fails the call in ksqlDB (the row's result becomes NULL, or a table function emits nothing); these kernels
give the same outcome without raising.

The test-only aggregates (``TEST_UDAF``, ``VAR_ARG``, ``MID_VAR_ARG``, ``GENERIC_VAR_ARG``, ``MULTI_ARG``,
``FOUR_ARG``, ``FIVE_ARG``, ``OBJ_COL_ARG``) are in :mod:`headwater.conformance.aggregates` and are
registered with them.

Example:
    >>> reg = test_function_registry()
    >>> reg.resolve("TEST_UDF", (t.BIGINT, t.STRING)).return_type
    Primitive(kind=<PrimitiveKind.STRING: 'STRING'>)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.conformance.java_text import java_string_of
from headwater.engine.functions.columns import as_array
from headwater.engine.functions.registry import (
    AnyDecimal,
    CallContext,
    Datum,
    FunctionError,
    FunctionRegistry,
    Param,
    ScalarFunction,
    Signature,
    TableFunction,
)
from headwater.engine.types import to_arrow
from headwater.parser import types as t

__all__ = ["test_function_registry", "test_functions"]

_STRUCT_A = t.Struct((("A", t.STRING),))


def _constant(value: Any) -> Any:
    """A kernel returning ``value`` for every row, whatever the arguments (TEST_UDF reports which Java
    overload ran by returning its method name)."""

    def kernel(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
        return pa.repeat(pa.scalar(value, type=to_arrow(ctx.return_type)), ctx.length)

    return kernel


def _struct_field_a(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    """``TestUdf.doStuffStruct``: the struct's field ``A``."""
    column = as_array(args[0], ctx.length)
    return pc.struct_field(column, "A")


def _test_udf() -> ScalarFunction:
    return ScalarFunction(
        name="TEST_UDF",
        category="TEST",
        description="test",
        signatures=(
            Signature(
                (Param("arg1", t.INT), Param("arg2", t.STRING)), t.STRING, _constant("doStuffIntString")
            ),
            Signature(
                (Param("arg1", t.BIGINT), Param("arg2", t.STRING)), t.STRING, _constant("doStuffLongString")
            ),
            Signature(
                (Param("arg1", t.BIGINT), Param("arg2", t.BIGINT), Param("arg3", t.STRING)),
                t.STRING,
                _constant("doStuffLongLongString"),
            ),
            Signature((Param("longs", t.BIGINT),), t.STRING, _constant("doStuffLongVarargs"), variadic=True),
            Signature((Param("struct", _STRUCT_A),), t.STRING, _struct_field_a),
            Signature((), _STRUCT_A, _constant({"A": "foo"})),
        ),
    )


class _EveryOtherNull:
    """``BadUdf.returnNull``: NULL on the 1st, 3rd, 5th... call, the argument otherwise. The counter
    lives in the instance, as in Java, and counts every row evaluated."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, args: Sequence[Datum], ctx: CallContext) -> pa.Array:
        column = as_array(args[0], ctx.length)
        call_numbers = np.arange(self.calls, self.calls + ctx.length)
        self.calls += ctx.length
        return pc.if_else(pa.array(call_numbers % 2 == 0), pa.nulls(ctx.length, pa.string()), column)


def _blow_up(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    """``BadUdf.blowUp``: always fails."""
    raise FunctionError("boom!")


def _might_throw(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    """``BadUdf.mightThrow``: fails when the argument is true, returns 0 otherwise."""
    column = as_array(args[0], ctx.length)
    if pc.any(column).as_py():
        raise FunctionError("You asked me to throw...")
    return pc.if_else(column.is_null(), pa.scalar(None, pa.int32()), pa.scalar(0, pa.int32()))


def _bad_udf() -> ScalarFunction:
    return ScalarFunction(
        name="BAD_UDF",
        category="TEST",
        description="throws exceptions when called",
        signatures=(
            Signature((Param("arg1", t.INT),), t.STRING, _blow_up),
            Signature((Param("arg", t.BOOLEAN),), t.INT, _might_throw),
            Signature((Param("arg", t.STRING),), t.STRING, _EveryOtherNull()),
        ),
    )


def _lazy_check(message: str) -> Any:
    """``WhenCondition``/``WhenResult``: return the first argument, but fail if the second is false,
    which proves the engine evaluated a CASE branch it should have skipped."""

    def kernel(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
        value = as_array(args[0], ctx.length)
        should_be_evaluated = as_array(args[1], ctx.length)
        if pc.any(pc.invert(should_be_evaluated)).as_py():
            raise FunctionError(message)
        nulls = pc.or_(value.is_null(), should_be_evaluated.is_null())
        return pc.if_else(nulls, pa.scalar(None, value.type), value)

    return kernel


def _when_condition() -> ScalarFunction:
    return ScalarFunction(
        name="WHENCONDITION",
        category="TEST",
        description="UDF used in case-expression.json",
        signatures=(
            Signature(
                (Param("retValue", t.BOOLEAN), Param("shouldBeEvaluated", t.BOOLEAN)),
                t.BOOLEAN,
                _lazy_check("When condition in case is not running lazily!"),
            ),
        ),
    )


def _when_result() -> ScalarFunction:
    return ScalarFunction(
        name="WHENRESULT",
        category="TEST",
        description="UDF used in case-expression.json",
        signatures=(
            Signature(
                (Param("retVal", t.INT), Param("shouldBeEvaluated", t.BOOLEAN)),
                t.INT,
                _lazy_check("Then expression in case is not running lazily!"),
            ),
        ),
    )


_TO_STRUCT_TYPE = t.Struct((("A", t.STRING),))


def _to_struct(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    """``ToStruct.fromString`` (udf-example.jar): the string as the one field ``A`` of a struct; a NULL
    string still gives a struct (whose field is NULL), as the Java builds one unconditionally."""
    column = as_array(args[0], ctx.length)
    return pa.StructArray.from_arrays([column], fields=[pa.field("A", pa.string())])


def _to_struct_function() -> ScalarFunction:
    return ScalarFunction(
        name="TOSTRUCT",
        category="TEST",
        description="converts things to a struct",
        signatures=(Signature((Param("value", t.STRING),), _TO_STRUCT_TYPE, _to_struct),),
    )


# --------------------------------------------------------------------------------------------------------
# table functions


def _first_element(value: Any, sql_type: t.SqlType) -> tuple[Any, t.SqlType]:
    if isinstance(sql_type, t.Array):
        return value[0], sql_type.element
    if isinstance(sql_type, t.Map):
        # Java iterates a HashMap; with the single entry the cases use, the first value is the value.
        return next(iter(value))[1], sql_type.value
    raise TypeError(sql_type)


def _describe_args(first_of_collections: bool) -> Any:
    """``TestUdtf.standardParams`` and its list/map variants: the seven arguments (or the first element
    of each collection argument) as strings, one output row each.

    Per-row Python: the output is Java's text of each value (``Double.toString``, ``BigDecimal``,
    Connect's ``Struct.toString``), which has no vectorized form; only test cases call it.
    """

    def kernel(args: Sequence[Datum], ctx: CallContext) -> tuple[pa.Array, pa.Array]:
        columns = [as_array(a, ctx.length).to_pylist() for a in args]
        values: list[str] = []
        parents: list[int] = []
        for row in range(ctx.length):
            row_values = [column[row] for column in columns]
            if any(v is None for v in row_values):
                continue  # a NULL for a Java primitive or collection fails the call: no rows
            texts = []
            for value, sql_type in zip(row_values, ctx.arg_types):
                if first_of_collections:
                    value, sql_type = _first_element(value, sql_type)
                texts.append(java_string_of(value, sql_type))
            values.extend(texts)
            parents.extend([row] * len(texts))
        return pa.array(values, pa.string()), pa.array(parents, pa.int64())

    return kernel


def _single_element(args: Sequence[Datum], ctx: CallContext) -> tuple[pa.Array, pa.Array]:
    """``TestUdtf.list*Return``: the argument itself as the only output row (none for a NULL)."""
    column = as_array(args[0], ctx.length)
    parents = pc.indices_nonzero(column.is_valid())
    return pc.take(column, parents).cast(to_arrow(ctx.return_type)), parents.cast(pa.int64())


def _throw_if_true(args: Sequence[Datum], ctx: CallContext) -> tuple[pa.Array, pa.Array]:
    """``ThrowingUdtf.throwIfTrue``: fails on true, else emits the argument."""
    column = as_array(args[0], ctx.length)
    if pc.any(column).as_py():
        raise FunctionError("You asked me to throw...")
    return _single_element(args, ctx)


def _test_udtf() -> TableFunction:
    scalars = (t.INT, t.BIGINT, t.DOUBLE, t.BOOLEAN, t.STRING, AnyDecimal(), _STRUCT_A)
    names = ("i", "l", "d", "b", "s", "bd", "struct")

    def params(types: Sequence[t.SqlType]) -> tuple[Param, ...]:
        return tuple(Param(n, ty) for n, ty in zip(names, types))

    describe_scalars = _describe_args(first_of_collections=False)
    describe_collections = _describe_args(first_of_collections=True)
    return TableFunction(
        name="TEST_UDTF",
        category="TEST",
        description="test",
        signatures=(
            Signature(params(scalars), t.STRING, describe_scalars),
            Signature(params([t.Array(s) for s in scalars]), t.STRING, describe_collections),
            Signature(params([t.Map(t.STRING, s) for s in scalars]), t.STRING, describe_collections),
            Signature(
                params([t.Map(t.BIGINT, scalars[0]), *[t.Map(t.STRING, s) for s in scalars[1:]]]),
                t.STRING,
                describe_collections,
            ),
            Signature((Param("i", t.INT),), t.INT, _single_element),
            Signature((Param("l", t.BIGINT),), t.BIGINT, _single_element),
            Signature((Param("d", t.DOUBLE),), t.DOUBLE, _single_element),
            Signature((Param("b", t.BOOLEAN),), t.BOOLEAN, _single_element),
            Signature((Param("s", t.STRING),), t.STRING, _single_element),
            Signature((Param("bd", AnyDecimal()),), t.Decimal(30, 10), _single_element),
            Signature((Param("struct", _STRUCT_A),), _STRUCT_A, _single_element),
        ),
    )


def _throwing_udtf() -> TableFunction:
    return TableFunction(
        name="THROWING_UDTF",
        category="TEST",
        description="test UDTF that throws if param is true",
        signatures=(Signature((Param("shouldThrow", t.BOOLEAN),), t.BOOLEAN, _throw_if_true),),
    )


def test_functions() -> list[ScalarFunction | TableFunction]:
    """Fresh instances of every test-only scalar and table function."""
    return [
        _test_udf(),
        _bad_udf(),
        _when_condition(),
        _when_result(),
        _to_struct_function(),
        _test_udtf(),
        _throwing_udtf(),
    ]


test_functions.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


def test_function_registry(base: FunctionRegistry | None = None) -> FunctionRegistry:
    """A new registry with every function of ``base`` (the product's default registry when None) plus
    ksqlDB's test-only functions. ``base`` is not modified.

    Raises:
        ValueError: ``base`` already has a function of one of the test functions' names.
    """
    if base is None:
        from headwater.engine.functions import default_registry

        base = default_registry()
    registry = FunctionRegistry()
    for function in base.functions():
        registry.register(function)
    for name in base.names():
        aggregate = base.aggregate(name)
        if aggregate is not None:
            registry.register_aggregate(name, aggregate)
    for function in test_functions():
        registry.register(function)
    from headwater.conformance.aggregates import test_aggregates

    for aggregate in test_aggregates():
        registry.register_aggregate(aggregate.name, aggregate)
    return registry


test_function_registry.__test__ = False  # type: ignore[attr-defined]  # not a pytest test

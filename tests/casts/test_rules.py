"""Which casts ksqlDB allows, implicit widening, and common types (ksqlDB's CastEvaluator,
SqlBaseType.canImplicitlyCast and DefaultSqlValueCoercer tables, checked pair by pair)."""

from __future__ import annotations

import pytest

from headwater.engine.casts import (
    IncompatibleTypesError,
    can_cast,
    check_cast,
    common_super_type,
    implicit_cast_allowed,
    super_type,
    type_text,
)
from headwater.errors import PlanError
from headwater.parser import types as t

DEC = t.Decimal(10, 2)
ARR = t.Array(t.INT)
MAP = t.Map(t.STRING, t.INT)
STRUCT = t.Struct((("A", t.INT),))
ALL = {
    "BOOLEAN": t.BOOLEAN,
    "INTEGER": t.INT,
    "BIGINT": t.BIGINT,
    "DECIMAL": DEC,
    "DOUBLE": t.DOUBLE,
    "STRING": t.STRING,
    "TIMESTAMP": t.TIMESTAMP,
    "DATE": t.DATE,
    "TIME": t.TIME,
    "BYTES": t.BYTES,
    "ARRAY": ARR,
    "MAP": MAP,
    "STRUCT": STRUCT,
}
# Every allowed (from, to) pair of distinct base types, from ksqlDB's CastEvaluator.
ALLOWED = {
    ("BOOLEAN", "STRING"),
    *{("INTEGER", x) for x in ("BIGINT", "DECIMAL", "DOUBLE", "STRING")},
    *{("BIGINT", x) for x in ("INTEGER", "DECIMAL", "DOUBLE", "STRING")},
    *{("DECIMAL", x) for x in ("INTEGER", "BIGINT", "DOUBLE", "STRING")},
    *{("DOUBLE", x) for x in ("INTEGER", "BIGINT", "DECIMAL", "STRING")},
    *{
        ("STRING", x)
        for x in ("BOOLEAN", "INTEGER", "BIGINT", "DECIMAL", "DOUBLE", "TIMESTAMP", "TIME", "DATE", "BYTES")
    },
    ("TIMESTAMP", "STRING"),
    ("TIMESTAMP", "TIME"),
    ("TIMESTAMP", "DATE"),
    ("DATE", "TIMESTAMP"),
    ("DATE", "STRING"),
    ("TIME", "STRING"),
    ("ARRAY", "STRING"),
    ("MAP", "STRING"),
    ("STRUCT", "STRING"),
}


@pytest.mark.parametrize("source", sorted(ALL))
@pytest.mark.parametrize("target", sorted(ALL))
def test_cast_matrix(source: str, target: str) -> None:
    expected = source == target or (source, target) in ALLOWED
    assert can_cast(ALL[source], ALL[target]) is expected


def test_unsupported_cast_message() -> None:
    with pytest.raises(PlanError, match=r"^Cast of BOOLEAN to INTEGER is not supported$"):
        check_cast(t.BOOLEAN, t.INT)
    with pytest.raises(PlanError, match=r"Cast of ARRAY<BOOLEAN> to ARRAY<INTEGER> is not supported"):
        check_cast(t.Array(t.BOOLEAN), t.Array(t.INT))
    with pytest.raises(
        PlanError, match=r"Cast of STRUCT<`A` BOOLEAN> to STRUCT<`A` INTEGER> is not supported"
    ):
        check_cast(t.Struct((("A", t.BOOLEAN),)), t.Struct((("A", t.INT),)))
    check_cast(None, t.INT)  # an untyped NULL casts to anything


def test_container_casts_follow_their_elements() -> None:
    assert can_cast(t.Array(t.STRING), t.Array(t.INT))
    assert not can_cast(t.Array(t.BOOLEAN), t.Array(t.INT))
    assert can_cast(t.Map(t.STRING, t.STRING), t.Map(t.STRING, t.DOUBLE))
    assert not can_cast(t.Map(t.STRING, t.TIME), t.Map(t.STRING, t.DATE))
    # only fields present in both are cast, so an unsupported field the target lacks does not matter
    assert can_cast(t.Struct((("A", t.BOOLEAN), ("B", t.STRING))), t.Struct((("B", t.INT),)))


def test_type_text_quotes_struct_fields() -> None:
    assert (
        type_text(t.Struct((("A", t.INT), ("b", t.Array(t.Decimal(4, 2))))))
        == "STRUCT<`A` INTEGER, `b` ARRAY<DECIMAL(4, 2)>>"
    )
    assert type_text(t.Map(t.STRING, t.BIGINT)) == "MAP<STRING, BIGINT>"


@pytest.mark.parametrize(
    ("source", "target", "allowed"),
    [
        (t.INT, t.BIGINT, True),
        (t.INT, t.Decimal(2, 1), True),
        (t.BIGINT, t.DOUBLE, True),
        (t.Decimal(4, 2), t.DOUBLE, True),
        (t.DOUBLE, t.INT, False),
        (t.BIGINT, t.INT, False),
        (t.DOUBLE, t.Decimal(4, 2), False),
        (t.STRING, t.TIMESTAMP, True),
        (t.STRING, t.BYTES, True),
        (t.STRING, t.INT, False),
        (t.INT, t.STRING, False),
        (t.DATE, t.TIMESTAMP, False),
        (t.Array(t.INT), t.Array(t.BIGINT), True),
        (t.Array(t.BIGINT), t.Array(t.INT), False),
        (t.Struct((("A", t.INT),)), t.Struct((("A", t.DOUBLE),)), True),
        (t.Struct((("A", t.INT),)), t.Struct((("B", t.INT),)), False),
        (None, t.BOOLEAN, True),
    ],
)
def test_implicit_casts(source: t.SqlType | None, target: t.SqlType, allowed: bool) -> None:
    assert implicit_cast_allowed(source, target) is allowed


def test_registry_parameter_kinds_are_not_castable_to() -> None:
    from headwater.engine.functions.registry import AnyDecimal

    assert not implicit_cast_allowed(t.Array(t.INT), t.Array(AnyDecimal()))
    assert implicit_cast_allowed(AnyDecimal(), AnyDecimal())


def test_common_types_widen_numbers() -> None:
    assert common_super_type([t.INT, t.BIGINT]) == t.BIGINT
    assert common_super_type([t.BIGINT, t.INT]) == t.BIGINT
    assert common_super_type([t.INT, t.DOUBLE]) == t.DOUBLE
    assert common_super_type([t.INT, t.Decimal(4, 2)]) == t.Decimal(12, 2)  # INT is DECIMAL(10, 0)
    assert common_super_type([t.BIGINT, t.Decimal(4, 2)]) == t.Decimal(21, 2)  # BIGINT is DECIMAL(19, 0)
    assert common_super_type([t.Decimal(4, 2), t.Decimal(10, 5)]) == t.Decimal(10, 5)
    assert common_super_type([t.Decimal(4, 2), t.DOUBLE]) == t.DOUBLE
    assert common_super_type([None, None]) is None
    assert common_super_type([None, t.STRING, None]) == t.STRING


def test_common_types_of_containers() -> None:
    assert common_super_type([t.Array(t.INT), t.Array(t.BIGINT)]) == t.Array(t.BIGINT)
    assert common_super_type([t.Map(t.STRING, t.INT), t.Map(t.STRING, t.DOUBLE)]) == t.Map(t.STRING, t.DOUBLE)
    merged = common_super_type([t.Struct((("A", t.INT),)), t.Struct((("B", t.STRING), ("A", t.BIGINT)))])
    assert merged == t.Struct((("A", t.BIGINT), ("B", t.STRING)))


def test_incompatible_types() -> None:
    with pytest.raises(IncompatibleTypesError) as caught:
        common_super_type([t.INT, t.BOOLEAN, t.STRING])
    assert str(caught.value) == "operator does not exist: INTEGER = BOOLEAN"
    assert caught.value.index == 1
    assert caught.value.with_expression("true") == (
        "operator does not exist: INTEGER = BOOLEAN (true)\nHint: You might need to add explicit type casts."
    )
    assert super_type(t.STRING, t.INT) is None
    assert super_type(t.STRING, t.INT, lax=True) == t.INT  # a string literal among numbers
    assert super_type(t.STRING, t.DATE) == t.DATE


def test_literals_are_coerced_laxly() -> None:
    # ksqlDB's in.json: ID STRING IN (10, VAL0 DOUBLE): the literal fits, the column does not
    with pytest.raises(IncompatibleTypesError) as caught:
        common_super_type([t.STRING, t.INT, t.DOUBLE], lax=[False, True, False])
    assert str(caught.value) == "operator does not exist: STRING = DOUBLE"
    assert common_super_type([t.STRING, t.INT], lax=[False, True]) == t.STRING

"""ksqlDB's generated column names and its expression text."""

from __future__ import annotations

import pytest

from headwater.engine.expressions import (
    ColumnAliasGenerator,
    Scope,
    ScopeColumn,
    error_context,
    format_expression,
    select_column_names,
)
from headwater.engine.expressions.formatting import format_double
from headwater.parser import parse_expression
from headwater.parser import types as t


def names(select: list[str], sources: list[str], aliases: list[str | None] | None = None) -> list[str]:
    aliases = aliases or [None] * len(select)
    return select_column_names([(parse_expression(s), a) for s, a in zip(select, aliases)], sources)


def test_generated_names_count_only_generated_items() -> None:
    # binary-arithmetic.json: SELECT col0, col0+col1, col2+10, col1*25, 12*4+2
    assert names(["col0", "col0+col1", "col2+10", "col1*25", "12*4+2"], ["COL0", "COL1", "COL2"]) == [
        "COL0",
        "KSQL_COL_0",
        "KSQL_COL_1",
        "KSQL_COL_2",
        "KSQL_COL_3",
    ]


def test_struct_fields_are_named_after_the_last_field_made_unique() -> None:
    # simple-struct.json: clashing field name; ITEMID_1; generated name
    assert names(["B", "A->B", "C->B"], ["ROWKEY", "B", "A", "C"]) == ["B", "B_1", "B_2"]
    assert names(["K", "itemid->itemid", "itemid"], ["K", "ORDERTIME", "ITEMID"], [None, None, "IID"]) == [
        "K",
        "ITEMID_1",
        "IID",
    ]
    assert names(["A->B['key$Name[]']->C[1]->D"], ["K", "A"]) == ["D"]
    assert names(["`mixedCase`->`moreMixedCase`"], ["ROWKEY", "mixedCase"]) == ["moreMixedCase"]


def test_generated_names_skip_numbers_the_sources_use() -> None:
    generator = ColumnAliasGenerator(["KSQL_COL_0", "KSQL_COL_2", "X_1"])
    assert [generator.next_generated() for _ in range(3)] == ["KSQL_COL_1", "KSQL_COL_3", "KSQL_COL_4"]
    assert generator.alias_for(parse_expression("S->X")) == "X"  # only X_1 is used, X itself is free


def test_columns_are_named_by_the_batch_column_they_resolve_to() -> None:
    scope = Scope((ScopeColumn("BAR", t.INT, "I1", field="I1_BAR"),))
    assert select_column_names([(parse_expression("I1.BAR"), None)], ["I1_BAR"], scope) == ["I1_BAR"]


@pytest.mark.parametrize(
    ("sql", "text"),
    [
        ("1 + null", "(1 + null)"),
        ("MAP(1 := 'cat') + NULL", "(MAP(1:='cat') + null)"),
        ("Array[1,2,3]", "ARRAY[1, 2, 3]"),
        ("STRUCT(F0 := VAL1)", "STRUCT(F0:=VAL1)"),
        ("RANDOM() + 1.5", "(RANDOM() + 1.5)"),
        ("TRUE + 1.5E0", "(true + 1.5E0)"),
        ("CAST(t.k AS STRING)", "CAST(T.K AS STRING)"),
        ("count(*)", "COUNT(*)"),
        ("a->b[1]", "A->B[1]"),
        ("x NOT BETWEEN 1 AND 2", "(NOT (X BETWEEN 1 AND 2))"),
        ("NOT (a IS NULL)", "(NOT (A IS NULL))"),
        ("s LIKE 'a''b' ESCAPE '!'", "(S LIKE 'a''b' ESCAPE '!')"),
        ("CASE WHEN a THEN 1 ELSE 2 END", "(CASE WHEN A THEN 1 ELSE 2 END)"),
        ("TRANSFORM(arr, x => x + 1)", "TRANSFORM(ARR, (X) => (X + 1))"),
        ("a IN (1, 2)", "(A IN (1, 2))"),
        ("- -a", "- -A"),
    ],
)
def test_expressions_print_as_ksqldb_prints_them(sql: str, text: str) -> None:
    assert format_expression(parse_expression(sql)) == text


def test_doubles_print_in_scientific_notation() -> None:
    assert [format_double(v) for v in (1.5, 0.1, 100.0, -2.5e-7, 1.7976931348623157e308)] == [
        "1.5E0",
        "1E-1",
        "1E2",
        "-2.5E-7",
        "1.7976931348623157E308",
    ]
    assert [format_double(v) for v in (float("nan"), float("inf"))] == ["NaN", "Infinity"]


def test_error_context() -> None:
    assert error_context(parse_expression("a / b"), "KSQL_COL_0", 1) == (
        "Error computing expression (A / B) for column KSQL_COL_0 with index 1"
    )

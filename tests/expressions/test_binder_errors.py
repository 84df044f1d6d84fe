"""Every typing error the binder raises, with ksqlDB's text (quoted from the conformance cases where
they have one)."""

from __future__ import annotations

import pytest

from headwater.engine.expressions import (
    AggregateNotAllowedError,
    CoercionError,
    ExpressionTypeError,
    Scope,
    ScopeColumn,
    bind,
)
from headwater.engine.functions.registry import FunctionRegistry
from headwater.errors import PlanError
from headwater.parser import parse_expression
from headwater.parser import types as t

SCOPE = Scope(
    (
        ScopeColumn("ID", t.INT),
        ScopeColumn("K", t.STRING),
        ScopeColumn("B", t.BOOLEAN),
        ScopeColumn("D", t.Decimal(4, 2)),
        ScopeColumn("BI", t.BIGINT),
        ScopeColumn("DBL", t.DOUBLE),
        ScopeColumn("VAL0", t.STRING),
        ScopeColumn("ARR", t.Array(t.BIGINT)),
        ScopeColumn("M", t.Map(t.STRING, t.BIGINT)),
        ScopeColumn("S", t.Struct((("F0", t.BIGINT),))),
        ScopeColumn("I2_BAR", t.STRING, "I2", field="I2_BAR"),
        ScopeColumn("I1_BAR", t.INT, "I1", field="I1_BAR"),
    )
)


def error_of(sql: str, registry: FunctionRegistry) -> PlanError:
    with pytest.raises(PlanError) as caught:
        bind(parse_expression(sql), SCOPE, registry)
    return caught.value


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        (
            "ID >= 'not an int'",
            "Cannot compare ID (INTEGER) to 'not an int' (STRING) with GREATER_THAN_OR_EQUAL.",
        ),
        ("K = 11", "Cannot compare K (STRING) to 11 (INTEGER) with EQUAL."),
        ("I1.I1_BAR > I2.I2_BAR", "Cannot compare I1_BAR (INTEGER) to I2_BAR (STRING) with GREATER_THAN."),
        ("B < true", "Cannot compare B (BOOLEAN) to true (BOOLEAN) with LESS_THAN."),
        ("ARR < ARR", "Cannot compare ARR (ARRAY<BIGINT>) to ARR (ARRAY<BIGINT>) with LESS_THAN."),
        ("S = ID", "Cannot compare S (STRUCT<`F0` BIGINT>) to ID (INTEGER) with EQUAL."),
        ("ID BETWEEN 'a' AND 2", "Cannot compare ID (INTEGER) to 'a' (STRING) with GREATER_THAN_OR_EQUAL."),
    ],
)
def test_cannot_compare(sql: str, message: str, registry: FunctionRegistry) -> None:
    error = error_of(sql, registry)
    assert isinstance(error, ExpressionTypeError)
    assert error.message == message


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("NULL <> NULL", "Comparison with NULL not supported: NULL <> NULL"),
        (
            "ID = null",
            "Comparison with NULL not supported: INTEGER = NULL\nUse 'IS NULL' or 'IS NOT NULL' instead.",
        ),
    ],
)
def test_comparison_with_null(sql: str, message: str, registry: FunctionRegistry) -> None:
    assert error_of(sql, registry).message.startswith(message)


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        (
            "1 + NULL",
            "Error processing expression: (1 + null). Arithmetic on types INTEGER and null are not supported.",
        ),
        (
            "MAP(1 := 'cat') + NULL",
            "Error processing expression: (MAP(1:='cat') + null). Arithmetic on types MAP<INTEGER, STRING> and null "
            "are not supported.",
        ),
        (
            "Array[1,2,3] + NULL",
            "Error processing expression: (ARRAY[1, 2, 3] + null). Arithmetic on types ARRAY<INTEGER> and null "
            "are not supported.",
        ),
        (
            "5.0 / NULL",
            "Error processing expression: (5.0 / null). Arithmetic on types DECIMAL(2, 1) and null are not supported.",
        ),
        (
            "NULL * NULL",
            "Error processing expression: (null * null). Arithmetic on types null and null are not supported.",
        ),
        (
            "TRUE + 1.5",
            "Error processing expression: (true + 1.5). Unsupported arithmetic types. BOOLEAN DECIMAL",
        ),
        ("K - K", "Error processing expression: (K - K). Unsupported arithmetic types. STRING STRING"),
        ("-K", "Error processing expression: -K. Unsupported arithmetic types. STRING"),
    ],
)
def test_arithmetic_errors(sql: str, message: str, registry: FunctionRegistry) -> None:
    assert error_of(sql, registry).message == message


def test_case_errors(registry: FunctionRegistry) -> None:
    assert (
        error_of("CASE WHEN ID < 2 THEN null ELSE null END", registry).message
        == "Invalid Case expression. All case branches have NULL type"
    )
    assert error_of("CASE WHEN ID = 100 THEN 'one-hundred' WHEN ID = 10 THEN 10 END", registry).message == (
        "Invalid Case expression. Type for all 'THEN' clauses should be the same.\n"
        "THEN expression 'WHEN (ID = 10) THEN 10' has type: INTEGER.\n"
        "Previous THEN expression(s) type: STRING."
    )
    assert error_of("CASE WHEN ID = 10 THEN 'good' ELSE true END", registry).message == (
        "Invalid Case expression. Type for the default clause should be the same as for 'THEN' clauses.\n"
        "THEN type: STRING.\nDEFAULT type: BOOLEAN."
    )
    assert error_of("CASE WHEN ID THEN 1 END", registry).message == (
        "WHEN operand type should be boolean.\nType for 'ID' is INTEGER"
    )


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        (
            "B IN (true, 10)",
            "operator does not exist: BOOLEAN = INTEGER (10)\nHint: You might need to add explicit type casts.",
        ),
        ("ID IN (10, '10 - not a number')", 'invalid input syntax for type INTEGER: "10 - not a number".'),
        ("BI IN (10, '10 - not a number')", 'invalid input syntax for type BIGINT: "10 - not a number".'),
        (
            "D IN (10.0, '10.0 - not a number')",
            'invalid input syntax for type DECIMAL: "10.0 - not a number".',
        ),
        ("ID IN (10, VAL0)", "operator does not exist: INTEGER = STRING (VAL0)"),
        ("DBL IN (10, true)", "operator does not exist: DOUBLE = BOOLEAN (true)"),
        ("D IN (10, true)", "operator does not exist: DECIMAL(12, 2) = BOOLEAN (true)"),
        # the literal 10 meets a STRING with ksqlDB's LAX rules; the DOUBLE column then cannot
        ("K IN (10, DBL)", "operator does not exist: STRING = DOUBLE (DBL)"),
        ("K IN (DBL)", "operator does not exist: STRING = DOUBLE (DBL)"),
        ("ARR IN (ARR, ARRAY[B])", "operator does not exist: ARRAY<BIGINT> = ARRAY<BOOLEAN> (ARRAY[B])"),
        ("ARR IN (ARR, ARRAY['10', 'not 10'])", 'invalid input syntax for type BIGINT: "not 10"'),
        ("ARR IN (ARRAY[1,2], ID)", "operator does not exist: ARRAY<BIGINT> = INTEGER (ID)"),
        ("M IN (M, MAP('10' := 'not 10'))", 'invalid input syntax for type BIGINT: "not 10"'),
        ("M IN (10)", "operator does not exist: MAP<STRING, BIGINT> = INTEGER (10)"),
        (
            "S IN (S, STRUCT(F0 := B))",
            "operator does not exist: STRUCT<`F0` BIGINT> = STRUCT<`F0` BOOLEAN> (STRUCT(F0:=B))",
        ),
        ("B IN (true, 'maybe')", 'invalid input syntax for type BOOLEAN: "maybe".'),
    ],
)
def test_in_list_coercion_errors(sql: str, message: str, registry: FunctionRegistry) -> None:
    error = error_of(sql, registry)
    assert isinstance(error, CoercionError)
    assert message in error.message


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        (
            "NULL",
            "Can't infer a type of null. Please explicitly cast it to a required type, e.g. CAST(null AS VARCHAR).",
        ),
        ("ARRAY[NULL]", "Cannot construct an array with all NULL elements"),
        ("MAP(NULL := 1)", "Cannot construct a map with all NULL keys"),
        ("MAP('a' := NULL)", "Cannot construct a map with all NULL values"),
        ("ARRAY[1, 'a']", 'invalid input syntax for type INTEGER: "a".'),
        ("ARRAY[1, K]", "operator does not exist: INTEGER = STRING (K)"),
        ("S->X", "Could not find field 'X' in 'S'."),
        ("ID->X", "Expected STRUCT type, got: INTEGER"),
        ("ID[1]", "Subscript expression (ID[1]) do not apply to INTEGER."),
        (
            "S['F0']",
            "Subscript expression (S['F0']) do not apply to STRUCT<`F0` BIGINT>. Use the dereference operator for STRUCTS: S->'F0'",
        ),
        ("ARR['x']", "Array index must be an INTEGER"),
        ("M[1]", "Map key 1 (INTEGER) does not match the map's key type STRING."),
        ("K LIKE 1", "LIKE requires STRING operands but 1 is INTEGER."),
        ("K LIKE 'a!' ESCAPE '!'", "LIKE pattern must not end with escape character"),
        ("NOT ID", "NOT requires BOOLEAN operands but ID is INTEGER."),
        ("B AND K", "AND requires BOOLEAN operands but K is STRING."),
        ("STRUCT(A := NULL)", "Can't infer a type of null."),
        ("CAST(ID AS MY_TYPE)", "Cannot resolve unknown type: MY_TYPE"),
    ],
)
def test_other_typing_errors(sql: str, message: str, registry: FunctionRegistry) -> None:
    assert message in error_of(sql, registry).message


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("WONT_FIND_ME(ID)", "Can't find any functions with the name 'WONT_FIND_ME'"),
        ("STRLEN(ID)", "Function 'STRLEN' does not accept parameters (INTEGER)."),
        ("TWICE(DBL)", "Function 'TWICE' does not accept parameters (DOUBLE)."),
        ("UNIT_TEXT('SECONDS', 1)", "Function 'UNIT_TEXT' does not accept parameters (STRING, INTEGER)."),
        ("STRLEN(*)", "Function 'STRLEN' does not accept parameters ()."),
    ],
)
def test_function_resolution_errors(sql: str, message: str, registry: FunctionRegistry) -> None:
    error = error_of(sql, registry)
    assert isinstance(error, ExpressionTypeError)
    assert error.message.startswith(message)


def test_aggregates_are_refused_inside_scalar_expressions(registry: FunctionRegistry) -> None:
    error = error_of("SUM(ID) + 1", registry)
    assert isinstance(error, AggregateNotAllowedError) and error.function == "SUM"


def test_lambda_bodies_are_typed_with_the_element_type(registry: FunctionRegistry) -> None:
    assert error_of("TRANSFORM(ARR, x => x = 'a')", registry).message == (
        "Cannot compare X (BIGINT) to 'a' (STRING) with EQUAL."
    )
    assert (
        "Cannot infer the lambda parameter types of TRANSFORM"
        in error_of("TRANSFORM(NULL, x => x)", registry).message
    )

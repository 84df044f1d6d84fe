"""Arithmetic: DuckDB as the oracle where the semantics coincide, hand-checked tables where ksqlDB
(Java) differs: integer overflow wraps, division by zero, decimal scales, failing rows."""

from __future__ import annotations

from decimal import Decimal as D

import numpy as np
import pyarrow as pa
import pytest

from headwater.parser import types as t


@pytest.fixture(scope="module")
def numbers() -> pa.RecordBatch:
    rng = np.random.default_rng(7)
    n = 2000
    a = rng.integers(-10_000, 10_000, n).astype(np.int32)
    b = rng.integers(-100, 100, n).astype(np.int32)
    b[b == 0] = 3
    mask = rng.random(n) < 0.1
    return pa.record_batch(
        {
            "A": pa.array(a, mask=mask),
            "B": pa.array(b),
            "L": pa.array(rng.integers(-(2**40), 2**40, n), pa.int64()),
            "X": pa.array(rng.normal(0, 1000, n), mask=rng.random(n) < 0.1),
            "Y": pa.array(rng.normal(0, 10, n)),
        }
    )


@pytest.mark.parametrize(
    "sql",
    [
        "A + B",
        "A - B",
        "A * B",
        "A + L",
        "L - A * B",
        "X + Y",
        "X * Y - A",
        "X / Y",
        "-A",
        "-X",
        "A + 1",
        "2 * L",
        "A + X",
    ],
)
def test_matches_duckdb_where_nothing_overflows(sql: str, numbers: pa.RecordBatch, evaluate, duck) -> None:
    ours, theirs = evaluate(sql, numbers), duck(sql, numbers)
    for mine, expected in zip(ours, theirs):
        if expected is None:
            assert mine is None
        else:
            assert mine == pytest.approx(expected, rel=1e-12)


def test_integer_division_and_remainder_truncate_toward_zero(numbers: pa.RecordBatch, evaluate, duck) -> None:
    # DuckDB's // on integers floors; ksqlDB (Java) truncates. trunc(a / b) in DuckDB is Java's a / b.
    assert evaluate("A / B", numbers) == [
        None if v is None else int(v) for v in duck("trunc(A / B)", numbers)
    ]
    # DuckDB's % on integers keeps the dividend's sign, like Java.
    assert evaluate("A % B", numbers) == duck("A % B", numbers)
    assert evaluate("L % B", numbers) == duck("L % B", numbers)


def test_integer_overflow_wraps_as_java_does(evaluate) -> None:
    batch = pa.record_batch(
        {
            "I": pa.array([2**31 - 1, -(2**31), -(2**31), 65536], pa.int32()),
            "L": pa.array([2**63 - 1, -(2**63), -(2**63), 2**62], pa.int64()),
        }
    )
    assert evaluate("I + 1", batch) == [-(2**31), -(2**31) + 1, -(2**31) + 1, 65537]
    assert evaluate("I * I", batch) == [1, 0, 0, 0]  # 65536 * 65536 = 2^32 wraps to 0
    assert evaluate("-I", batch) == [-(2**31) + 1, -(2**31), -(2**31), -65536]
    assert evaluate("I / -1", batch) == [-(2**31) + 1, -(2**31), -(2**31), -65536]  # MIN / -1 wraps to MIN
    assert evaluate("I % -1", batch) == [0, 0, 0, 0]
    assert evaluate("L + 1", batch)[0] == -(2**63)
    assert evaluate("L / -1", batch)[1] == -(2**63)
    assert evaluate("L * 4", batch)[3] == 0


def test_integer_division_by_zero_fails_the_row(evaluate) -> None:
    batch = pa.record_batch(
        {"A": pa.array([7, 8, None, 9], pa.int32()), "B": pa.array([0, 2, 0, 0], pa.int32())}
    )
    errors: list = []
    assert evaluate("A / B", batch, errors=errors) == [None, 4, None, None]
    assert errors == [
        (0, "Error computing expression: / by zero"),
        (3, "Error computing expression: / by zero"),
    ]
    errors.clear()
    assert evaluate("A % B", batch, errors=errors) == [None, 0, None, None]
    assert [row for row, _ in errors] == [0, 3]


def test_a_failure_nulls_the_whole_value(evaluate, registry) -> None:
    batch = pa.record_batch({"A": pa.array([1, 2], pa.int32()), "B": pa.array([0, 1], pa.int32())})
    errors: list = []
    assert evaluate("CASE WHEN A / B IS NULL THEN -1 ELSE A / B END", batch, errors=errors) == [None, 2]
    assert [row for row, _ in errors] == [0]


def test_double_division_by_zero_is_ieee(evaluate) -> None:
    batch = pa.record_batch({"X": [1.0, -1.0, 0.0, 5.5], "Y": [0.0, 0.0, 0.0, 2.0]})
    errors: list = []
    result = evaluate("X / Y", batch, errors=errors)
    assert result[:2] == [float("inf"), float("-inf")] and np.isnan(result[2]) and result[3] == 2.75
    remainder = evaluate("X % Y", batch, errors=errors)
    assert all(np.isnan(v) for v in remainder[:3]) and remainder[3] == 1.5
    assert evaluate("-5.5E0 % 2", batch) == [-1.5] * 4  # fmod: the dividend's sign
    assert errors == []


DECIMALS = {"A": t.Decimal(4, 2), "B": t.Decimal(4, 2)}


def decimals(a: list[str | None], b: list[str | None]) -> pa.RecordBatch:
    def column(values: list[str | None]) -> pa.Array:
        return pa.array([None if v is None else D(v) for v in values], pa.decimal128(4, 2))

    return pa.record_batch({"A": column(a), "B": column(b)})


def test_decimal_arithmetic_keeps_ksqldb_scales(evaluate) -> None:
    # decimal.json: addition, subtraction, multiplication, division, mod
    batch = decimals(["10.01", "10.10", "10.10", "10.10"], ["5.10", "2.00", "-2.00", "0.00"])
    assert evaluate("A + B", batch) == [D("15.11"), D("12.10"), D("8.10"), D("10.10")]
    assert evaluate("A - B", batch) == [D("4.91"), D("8.10"), D("12.10"), D("10.10")]
    assert evaluate("A * B", batch)[1:] == [D("20.2000"), D("-20.2000"), D("0.0000")]
    errors: list = []
    assert evaluate("A / B", batch, errors=errors) == [None, D("5.0500000"), D("-5.0500000"), None]
    assert errors == [  # 10.01 / 5.10 does not terminate: ksqlDB's BigDecimal division refuses to round
        (0, "Error computing expression: Rounding necessary"),
        (3, "Error computing expression: Division by zero"),
    ]
    assert evaluate("A % B", batch)[1:] == [D("0.10"), D("0.10"), None]
    assert evaluate("-A", batch)[0] == D("-10.01")
    assert evaluate("A + A + B", decimals(["10.01"], ["5.10"])) == [D("25.12")]


def test_decimal_quotients_that_need_rounding_fail_the_row(evaluate) -> None:
    # BigDecimal.divide with RoundingMode.UNNECESSARY: 1 / 3 has no exact DECIMAL(11, 7) value
    batch = decimals(["1.00", "1.00", "0.00", "-7.00"], ["3.00", "8.00", "0.00", "2.00"])
    errors: list = []
    assert evaluate("A / B", batch, errors=errors) == [None, D("0.1250000"), None, D("-3.5000000")]
    assert errors == [
        (0, "Error computing expression: Rounding necessary"),
        (2, "Error computing expression: Division undefined"),
    ]


def test_decimal_with_integers_and_doubles(evaluate) -> None:
    batch = pa.record_batch(
        {
            "A": pa.array([D("10.01"), D("10.01")], pa.decimal128(4, 2)),
            "I": pa.array([5, -5], pa.int32()),
            "X": [5.1, -5.0],
        }
    )
    assert evaluate("A + I", batch) == [D("15.01"), D("5.01")]  # DECIMAL(13, 2)
    assert evaluate("A + X", batch) == pytest.approx([15.11, 5.01])  # DOUBLE
    assert evaluate("A % I", batch) == [D("0.01"), D("0.01")]
    exact = pa.record_batch({"A": pa.array([D("2.50")], pa.decimal128(4, 2)), "I": pa.array([5], pa.int32())})
    assert evaluate("I / A", exact) == [D("2.000000")]  # DECIMAL(10, 0) / DECIMAL(4, 2) is DECIMAL(18, 6)


def test_decimal_results_match_duckdb_numerically(duck, evaluate) -> None:
    rng = np.random.default_rng(3)
    a = [D(int(v)).scaleb(-2) for v in rng.integers(-9999, 9999, 500)]
    b = [D(int(v) or 1).scaleb(-2) for v in rng.integers(-9999, 9999, 500)]
    batch = pa.record_batch({"A": pa.array(a, pa.decimal128(4, 2)), "B": pa.array(b, pa.decimal128(4, 2))})
    for sql in ("A + B", "A - B", "A * B", "A % B"):
        assert evaluate(sql, batch) == [D(str(v)) for v in duck(sql, batch)], sql


def test_string_concatenation(evaluate) -> None:
    batch = pa.record_batch({"S": ["s1", None, ""]})
    assert evaluate("'prefix-' + S + '-postfix'", batch) == ["prefix-s1-postfix", None, "prefix--postfix"]


def test_constant_expressions_broadcast(evaluate) -> None:
    batch = pa.record_batch({"A": pa.array([1, 2, 3], pa.int32())})
    assert evaluate("12 * 4 + 2", batch) == [50, 50, 50]
    errors: list = []
    assert evaluate("1 / 0", batch, errors=errors) == [None, None, None]
    assert [row for row, _ in errors] == [0, 1, 2]

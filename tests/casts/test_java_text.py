"""Java's number text: Double.toString, BigDecimal.toString, and the parse grammars.

Expected strings are what the JDK prints (JDK 17's ``Double.toString``, through
tests/fixtures/java/DoubleToString.java, and ksqlDB's conformance outputs, e.g. literals.json's
``4.9E-324`` and ``1.7976931348623157E308``).
"""

from __future__ import annotations

import decimal
import math
import struct

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headwater.engine.casts.java_double_digits import jdk_double_digits
from headwater.engine.casts.java_text import (
    fit_decimal,
    java_decimal_str,
    java_decimal_text,
    java_double_str,
    java_double_text,
    parse_java_bigdecimal,
    parse_java_double,
    parse_java_double_str,
    parse_java_int,
    parse_java_int_str,
)

DOUBLES = [
    (1.0, "1.0"),
    (100.0, "100.0"),
    (0.001, "0.001"),
    (0.0001, "1.0E-4"),
    (1e-5, "1.0E-5"),
    (123.5, "123.5"),
    (9999999.0, "9999999.0"),
    (1e7, "1.0E7"),
    (12345678.9, "1.23456789E7"),
    (123456789.0, "1.23456789E8"),
    (1e16, "1.0E16"),
    (1e21, "1.0E21"),
    (1e23, "9.999999999999999E22"),  # JDK 17 does not print the shortest digits
    (1.5e300, "1.5E300"),
    (-2.5e-10, "-2.5E-10"),
    (0.00012345, "1.2345E-4"),
    (0.1 + 0.2, "0.30000000000000004"),
    (10.1, "10.1"),
    (0.0, "0.0"),
    (-0.0, "-0.0"),
    (float("nan"), "NaN"),
    (float("inf"), "Infinity"),
    (float("-inf"), "-Infinity"),
    (5e-324, "4.9E-324"),
    (1e-323, "1.0E-323"),
    (2.2250738585072014e-308, "2.2250738585072014E-308"),
    (1.7976931348623157e308, "1.7976931348623157E308"),
    (-1.7976931348623157e308, "-1.7976931348623157E308"),
    # whole numbers from 2^53 to 2^63: the JDKs before 19 write the integer rounded half-up at the
    # decimal places its binary exponent makes insignificant (average-udaf.json's AVG of longs)
    (2.0**62, "4.6116860184273879E18"),
    (-(2.0**62), "-4.6116860184273879E18"),
    (2.0**57, "1.44115188075855872E17"),
    (2.0**55, "3.6028797018963968E16"),
    (2.0**61, "2.305843009213694E18"),
    (3.0744573456182584e18, "3.0744573456182584E18"),
    (2.0**53, "9.007199254740992E15"),
    (2.0**63, "9.223372036854776E18"),
]


@pytest.mark.parametrize(("value", "text"), DOUBLES)
def test_double_to_string_per_value(value: float, text: str) -> None:
    assert java_double_str(value) == text


def test_double_to_string_vectorized_matches_table() -> None:
    values = [value for value, _ in DOUBLES] + [None]
    assert java_double_text(pa.array(values, pa.float64())).to_pylist() == [text for _, text in DOUBLES] + [
        None
    ]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.floats(allow_nan=True, allow_infinity=True)
        | st.integers(min_value=-(2**63), max_value=2**63).map(float),
        min_size=1,
        max_size=50,
    )
)
def test_vectorized_double_text_equals_per_value(values: list[float]) -> None:
    assert java_double_text(pa.array(values, pa.float64())).to_pylist() == [
        java_double_str(v) for v in values
    ]


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_double_text_reads_back_as_the_same_double(bits: int) -> None:
    value = struct.unpack("<d", struct.pack("<Q", bits))[0]
    text = java_double_str(value)
    if math.isnan(value):
        assert text == "NaN"
    else:
        assert parse_java_double_str(text) == value
        assert math.copysign(1, parse_java_double_str(text)) == math.copysign(1, value)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("1.50", "1.50"),
        ("0.0001", "0.0001"),
        ("0.0000001", "1E-7"),
        ("0E-8", "0E-8"),
        ("-0.00000012", "-1.2E-7"),
        ("12", "12"),
    ],
)
def test_bigdecimal_to_string(value: str, text: str) -> None:
    assert java_decimal_str(decimal.Decimal(value)) == text


def test_bigdecimal_text_vectorized() -> None:
    values = pa.array(
        [decimal.Decimal("0.00000012"), decimal.Decimal("1.5"), decimal.Decimal("0"), None],
        pa.decimal128(10, 8),
    )
    assert java_decimal_text(values).to_pylist() == ["1.2E-7", "1.50000000", "0E-8", None]
    assert java_decimal_text(values, plain=True).to_pylist() == [
        "0.00000012",
        "1.50000000",
        "0.00000000",
        None,
    ]


def test_parse_int_follows_integer_parse_int() -> None:
    parsed = parse_java_int(
        pa.array(
            ["+7", "-7", " 7", "7 ", "0x7", "2147483647", "2147483648", "-2147483648", "", "-", None, "007"]
        ),
        bits=32,
    )
    assert parsed.values.to_pylist() == [
        7,
        -7,
        None,
        None,
        None,
        2147483647,
        None,
        -2147483648,
        None,
        None,
        None,
        7,
    ]
    assert parsed.invalid.tolist() == [
        False,
        False,
        True,
        True,
        True,
        False,
        True,
        False,
        True,
        True,
        False,
        False,
    ]


def test_parse_long_bounds() -> None:
    parsed = parse_java_int(
        pa.array(["9223372036854775807", "9223372036854775808", "-9223372036854775808", "1" + "0" * 30]),
        bits=64,
    )
    assert parsed.values.to_pylist() == [2**63 - 1, None, -(2**63), None]
    assert parse_java_int_str("-9223372036854775808", 64) == -(2**63)
    with pytest.raises(ValueError, match=r'For input string: "1\.0"'):
        parse_java_int_str("1.0", 32)


def test_parse_double_follows_double_parse_double() -> None:
    texts = [
        "1.5f",
        " 2 ",
        "NaN",
        "-Infinity",
        "inf",
        "nan",
        "0x1p3",
        "1e400",
        ".5",
        "5.",
        "1_0",
        "",
        "abc",
        "+1.5D",
        None,
    ]
    parsed = parse_java_double(pa.array(texts))
    values = parsed.values.to_pylist()
    assert values[0] == 1.5 and values[1] == 2.0 and math.isnan(values[2]) and values[3] == float("-inf")
    assert values[4] is None and values[5] is None
    assert values[6] == 8.0 and values[7] == float("inf") and values[8] == 0.5 and values[9] == 5.0
    assert values[10:14] == [None, None, None, 1.5]
    assert parsed.invalid.tolist() == [
        False,
        False,
        False,
        False,
        True,
        True,
        False,
        False,
        False,
        False,
        True,
        True,
        True,
        False,
        False,
    ]
    with pytest.raises(ValueError, match="empty String"):
        parse_java_double_str("  ")


def test_parse_bigdecimal_exact_and_rounding() -> None:
    texts = pa.array(["1.5", "123.456", "1e2", "abc", None, "99.995", "1000"])
    rounded, overflow = parse_java_bigdecimal(texts, pa.decimal128(5, 2), exact=False)
    assert rounded.values.to_pylist() == [
        decimal.Decimal("1.50"),
        decimal.Decimal("123.46"),
        decimal.Decimal("100.00"),
        None,
        None,
        decimal.Decimal("100.00"),
        None,
    ]
    assert overflow.tolist() == [False, False, False, False, False, False, True]
    exact, overflow = parse_java_bigdecimal(texts, pa.decimal128(5, 2), exact=True)
    assert exact.values.to_pylist() == [
        decimal.Decimal("1.50"),
        None,
        decimal.Decimal("100.00"),
        None,
        None,
        None,
        None,
    ]
    assert exact.invalid.tolist() == [False, True, False, True, False, True, True]


@settings(max_examples=500, deadline=None)
@given(st.integers(min_value=1, max_value=0x7FEFFFFFFFFFFFFF))
def test_jdk_digits_direct_and_stepwise_agree(bits: int) -> None:
    value = struct.unpack("<d", struct.pack("<Q", bits))[0]
    assert jdk_double_digits(value) == jdk_double_digits(value, stepwise=True)


@settings(max_examples=500, deadline=None)
@given(st.floats(min_value=1e-3, max_value=1e19) | st.decimals(0, 10**7, places=4).map(float))
def test_jdk_digits_direct_and_stepwise_agree_where_java_uses_int_and_long(value: float) -> None:
    if value != 0.0:
        assert jdk_double_digits(value) == jdk_double_digits(value, stepwise=True)


def test_a_decimal_of_more_than_28_digits_fits_exactly() -> None:
    # Python's abs() rounds a Decimal to its context's 28 digits: 9.99...95 (31 digits) compared as 10 and
    # was refused by DECIMAL(31, 30), which holds it exactly
    value = decimal.Decimal("9.999999999999999999999999999500")
    assert fit_decimal(value, 31, 30, exact=True) == value
    assert fit_decimal(value, 1, 0, exact=False) is None  # rounds to 10: over DECIMAL(1, 0)'s bound

"""Numeric functions: overload types, Java rounding, IEEE results, DuckDB as the oracle for the
transcendental functions."""

from __future__ import annotations

import decimal
import math

import duckdb
import pytest
from function_calls import call, col, lit, resolve

from headwater.engine.functions.registry import FunctionError
from headwater.parser import types as t

D = decimal.Decimal


@pytest.mark.parametrize(
    ("arg", "expected"),
    [(t.INT, t.INT), (t.BIGINT, t.BIGINT), (t.DOUBLE, t.DOUBLE), (t.Decimal(5, 2), t.Decimal(5, 2))],
)
def test_abs_keeps_the_argument_type(arg: t.SqlType, expected: t.SqlType) -> None:
    assert resolve("ABS", col(arg, [])).return_type == expected


def test_abs_values_and_java_overflow() -> None:
    assert call("ABS", col(t.INT, [-3, None, -(2**31)])) == [3, None, -(2**31)]
    assert call("ABS", col(t.Decimal(4, 2), [D("-3.20"), D("0.00")])) == [D("3.20"), D("0.00")]


def test_round_double_is_java_math_round() -> None:
    values = [1.5, -1.5, -1.7, 2.4999999999999996, 0.49999999999999994, float("nan"), 1e300, None]
    assert call("ROUND", col(t.DOUBLE, values)) == [2, -1, -2, 2, 0, 0, 2**63 - 1, None]


def test_round_double_to_places_uses_the_shortest_decimal() -> None:
    values = [1.005, 2.675, -1.005, 12345.678, -12345.678, 1.234567, None]
    assert call("ROUND", col(t.DOUBLE, values), lit(t.INT, 2)) == [1.01, 2.68, -1.0, 12345.68, -12345.68, 1.23, None]
    assert call("ROUND", col(t.DOUBLE, [12345.678, -12345.678, 111.0]), lit(t.INT, -2)) == [12300.0, -12300.0, 100.0]


def test_round_decimal_types_and_values() -> None:
    source = t.Decimal(33, 16)
    assert resolve("ROUND", col(source, [])).return_type == t.Decimal(17, 0)
    assert resolve("ROUND", col(source, []), lit(t.INT, 1)).return_type == source
    values = [D("1.5000000000000000"), D("-1.5000000000000000"), D("12345.6789000000000000")]
    assert call("ROUND", col(source, values)) == [D("2"), D("-1"), D("12346")]
    assert call("ROUND", col(source, values), lit(t.INT, 2)) == [
        D("1.5000000000000000"),
        D("-1.5000000000000000"),
        D("12345.6800000000000000"),
    ]


def test_round_decimal_overflow_fails_the_row() -> None:
    with pytest.raises(FunctionError, match="overflow"):
        call("ROUND", col(t.Decimal(2, 1), [D("9.9")]), lit(t.INT, 0))


def test_trunc_overloads() -> None:
    assert call("TRUNC", col(t.DOUBLE, [-1.7, 1.7, None])) == [-1, 1, None]
    assert call("TRUNC", col(t.DOUBLE, [1.15, -12345.678]), lit(t.INT, 1)) == [1.1, -12345.6]
    assert call("TRUNC", col(t.Decimal(6, 3), [D("-12.345")])) == [D("-12")]
    assert call("TRUNC", col(t.Decimal(6, 3), [D("-12.345")]), lit(t.INT, 1)) == [D("-12.300")]
    assert resolve("TRUNC", col(t.INT, [])).return_type == t.BIGINT


def test_ceil_that_no_longer_fits_the_decimal_fails_the_row() -> None:
    with pytest.raises(FunctionError, match="overflow"):
        call("CEIL", col(t.Decimal(3, 2), [D("9.99")]))


@pytest.mark.parametrize("name", ["CEIL", "FLOOR"])
def test_ceil_floor_decimal(name: str) -> None:
    values = [D("1.10"), D("-1.10"), None]
    expected = {"CEIL": [D("2.00"), D("-1.00"), None], "FLOOR": [D("1.00"), D("-2.00"), None]}[name]
    assert call(name, col(t.Decimal(4, 2), values)) == expected
    assert call(name, col(t.DOUBLE, [1.5, -1.5])) == ([2.0, -1.0] if name == "CEIL" else [1.0, -2.0])
    assert call(name, col(t.INT, [7])) == [7]


def test_sign_of_each_type() -> None:
    assert call("SIGN", col(t.DOUBLE, [-3.0, 0.0, 2.5, float("nan"), None])) == [-1, 0, 1, 0, None]
    assert call("SIGN", col(t.BIGINT, [-(2**40), 0, 5])) == [-1, 0, 1]
    assert resolve("SIGN", col(t.INT, [])).return_type == t.INT


@pytest.mark.parametrize(
    ("name", "duck"),
    [
        ("ACOS", "acos"), ("ASIN", "asin"), ("ATAN", "atan"), ("COS", "cos"), ("SIN", "sin"), ("TAN", "tan"),
        ("COT", "cot"), ("EXP", "exp"), ("LN", "ln"), ("SQRT", "sqrt"), ("CBRT", "cbrt"), ("DEGREES", "degrees"),
        ("RADIANS", "radians"),
    ],
)
def test_transcendentals_agree_with_duckdb(name: str, duck: str) -> None:
    values = [0.25, 0.5, 0.9, 2.0, 10.0, 123.456]
    expected = [duckdb.execute(f"select {duck}({v}::double)").fetchall()[0][0] for v in values]
    got = call(name, col(t.DOUBLE, values))
    assert got == pytest.approx(expected, rel=1e-12, nan_ok=True)
    assert call(name, col(t.INT, [None])) == [None]


def test_ieee_results_instead_of_errors() -> None:
    got = call("LN", col(t.INT, [-1, 0]))
    assert math.isnan(got[0]) and got[1] == -math.inf
    assert math.isnan(call("SQRT", col(t.BIGINT, [-2]))[0])
    assert call("COT", col(t.DOUBLE, [0.0, -0.0])) == [math.inf, -math.inf]


def test_log_is_natural_with_one_argument_and_nan_for_bad_bases() -> None:
    assert call("LOG", col(t.INT, [13])) == [pytest.approx(math.log(13))]
    got = call("LOG", col(t.DOUBLE, [15.0, 1.0, -15.0, 0.0]), col(t.DOUBLE, [13.0, 13.0, 13.0, 13.0]))
    assert got[0] == pytest.approx(math.log(13) / math.log(15))
    assert all(math.isnan(v) for v in got[1:])


def test_power_and_atan2() -> None:
    assert call("POWER", col(t.INT, [15, 0, None]), col(t.INT, [13, 0, 2])) == [1946195068359375.0, 1.0, None]
    assert call("ATAN2", col(t.DOUBLE, [1.0]), col(t.DOUBLE, [0.0])) == [pytest.approx(math.pi / 2)]


def test_int_arguments_widen_to_double_overload() -> None:
    resolved = resolve("GEO_DISTANCE", col(t.DOUBLE, []), col(t.DOUBLE, []), lit(t.INT, 51), lit(t.INT, 0))
    assert resolved.param_types == (t.DOUBLE,) * 4


def test_geo_distance_units_and_validation() -> None:
    km = call("GEO_DISTANCE", col(t.DOUBLE, [37.4439]), col(t.DOUBLE, [-122.1663]), lit(t.DOUBLE, 51.0), lit(t.DOUBLE, 0.0))
    miles = call(
        "GEO_DISTANCE", col(t.DOUBLE, [37.4439]), col(t.DOUBLE, [-122.1663]), lit(t.DOUBLE, 51.0), lit(t.DOUBLE, 0.0),
        lit(t.STRING, "MI"),
    )
    assert km[0] == pytest.approx(8682.459, rel=1e-6)
    assert miles[0] == pytest.approx(km[0] * 3959 / 6371)
    with pytest.raises(FunctionError, match="latitude"):
        call("GEO_DISTANCE", col(t.DOUBLE, [91.0]), col(t.DOUBLE, [0.0]), lit(t.DOUBLE, 0.0), lit(t.DOUBLE, 0.0))
    with pytest.raises(FunctionError, match="units parameter"):
        call("GEO_DISTANCE", col(t.DOUBLE, [1.0]), col(t.DOUBLE, [0.0]), lit(t.DOUBLE, 0.0), lit(t.DOUBLE, 0.0),
             lit(t.STRING, "parsecs"))


def test_pi_and_random() -> None:
    assert call("PI", length=2) == [math.pi, math.pi]
    values = call("RANDOM", length=1000)
    assert all(0.0 <= v < 1.0 for v in values) and len(set(values)) > 990


@pytest.mark.parametrize("name", ["SIN", "COS", "TAN", "ASIN", "ACOS", "ATAN", "SINH", "COSH", "TANH", "EXP", "SQRT"])
def test_transcendentals_match_the_c_library_bit_for_bit(name: str) -> None:
    """Java's Math gives the C library's results; numpy's SIMD versions may differ in the last bit."""
    values = [-9.1, -7.0, -0.43, 0.43, 0.9, 6.0, 7.0, 9.1]
    function = {"ASIN": math.asin, "ACOS": math.acos, "ATAN": math.atan}.get(name, getattr(math, name.lower()))
    expected = []
    for v in values:
        try:
            expected.append(function(v))
        except ValueError:
            expected.append(math.nan)
    got = call(name, col(t.DOUBLE, values))
    assert [repr(g) for g in got] == [repr(e) for e in expected]


def test_geo_distance_matches_the_c_library() -> None:
    lat1, lon1, lat2, lon2 = 37.4439, -122.1663, 51.0, 0.0
    half_lat = math.sin(math.radians(lat2 - lat1) / 2)
    half_lon = math.sin(math.radians(lon2 - lon1) / 2)
    a = half_lat**2 + half_lon**2 * math.cos(math.radians(lat1)) * math.cos(math.radians(lat2))
    expected = 2 * math.asin(math.sqrt(a)) * 6371
    got = call("GEO_DISTANCE", col(t.DOUBLE, [lat1]), col(t.DOUBLE, [lon1]), lit(t.INT, 51), lit(t.INT, 0))
    assert got == [expected]

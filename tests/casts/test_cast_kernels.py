"""CAST kernels, family by family.

Oracles: hand-checked ksqlDB behaviour (Java's arithmetic and text, the expectations of ksqlDB's
conformance cases date.json, time.json, timestamp.json) and DuckDB where its semantics coincide with
ksqlDB's (exact widening, HALF_UP decimal rounding, date and time arithmetic).
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Sequence
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headwater.engine.casts import cast, try_cast
from headwater.engine.functions.registry import FunctionError
from headwater.errors import PlanError
from headwater.parser import types as t

D = decimal.Decimal


def run(
    values: Sequence[object], arrow_type: pa.DataType, source: t.SqlType, target: t.SqlType
) -> tuple[list[Any], dict[int, str]]:
    outcome = try_cast(pa.array(values, arrow_type), source, target)
    return outcome.values.to_pylist(), dict(outcome.failures)


def duck(sql: str, values: pa.Array) -> list[Any]:
    """DuckDB's answer for ``sql`` over one column ``{x}`` (in row order)."""
    connection = duckdb.connect()
    connection.register("src", pa.table({"x": values, "i": pa.array(range(len(values)))}))
    query = sql.replace("{x}", "x") + " FROM src ORDER BY i"
    return [row[0] for row in connection.execute(query).fetchall()]


# ---------------------------------------------------------------------------------------------------
# numbers


def test_narrowing_integers_wraps_like_java() -> None:
    assert run([3000000000, -3000000000, 2**40 + 5, None], pa.int64(), t.BIGINT, t.INT) == (
        [-1294967296, 1294967296, 5, None],
        {},
    )


def test_double_to_integers_truncates_saturates_and_zeroes_nan() -> None:
    values = [1.9, -1.9, float("nan"), 1e20, -1e20, float("inf"), None]
    assert run(values, pa.float64(), t.DOUBLE, t.INT)[0] == [1, -1, 0, 2**31 - 1, -(2**31), 2**31 - 1, None]
    assert run(values, pa.float64(), t.DOUBLE, t.BIGINT)[0] == [
        1,
        -1,
        0,
        2**63 - 1,
        -(2**63),
        2**63 - 1,
        None,
    ]


def test_decimal_to_integers_truncates_then_keeps_low_bits() -> None:
    values = [D("1.9"), D("-1.9"), D("3000000000.5"), D("-0.5")]
    assert run(values, pa.decimal128(12, 1), t.Decimal(12, 1), t.INT)[0] == [1, -1, -1294967296, 0]
    huge = [D("18446744073709551617")]  # 2^64 + 1: longValue keeps the low 64 bits
    assert run(huge, pa.decimal128(30, 0), t.Decimal(30, 0), t.BIGINT)[0] == [1]


def test_decimal_to_decimal_rounds_half_up_and_checks_overflow() -> None:
    values, failures = run(
        [D("1.005"), D("-1.005"), D("1.004"), D("9.999"), D("100.1")],
        pa.decimal128(10, 3),
        t.Decimal(10, 3),
        t.Decimal(3, 2),
    )
    assert values == [D("1.01"), D("-1.01"), D("1.00"), None, None]
    assert failures[4] == (
        "Numeric field overflow: A field with precision 3 and scale 2 must round to an absolute value less than 10^1. Got 100.100"
    )
    assert failures[3].startswith("Numeric field overflow")
    assert run([D("12.5")], pa.decimal128(3, 1), t.Decimal(3, 1), t.Decimal(5, 3))[0] == [D("12.500")]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.decimals(min_value=-99999, max_value=99999, places=4, allow_nan=False), min_size=1, max_size=40
    )
)
def test_decimal_rescale_matches_duckdb(values: list[D]) -> None:
    source = pa.array(values, pa.decimal128(9, 4))
    ours = cast(source, t.Decimal(9, 4), t.Decimal(8, 2)).to_pylist()
    assert ours == duck("SELECT CAST({x} AS DECIMAL(8, 2))", source)


def test_integers_to_decimal() -> None:
    values, failures = run([1, 123456, -99, None], pa.int32(), t.INT, t.Decimal(4, 2))
    assert values == [D("1.00"), None, D("-99.00"), None]
    # ksqlDB rounds the value to the precision before reporting it
    assert failures == {
        1: "Numeric field overflow: A field with precision 4 and scale 2 must round to an absolute value less than 10^2. Got 123500"
    }
    assert run([2**62], pa.int64(), t.BIGINT, t.Decimal(30, 10))[0] == [D("4611686018427387904.0000000000")]


def test_double_to_decimal_rounds_the_binary_value() -> None:
    values, failures = run(
        [0.125, 1.005, 1e10, float("nan"), 2.5, -2.5], pa.float64(), t.DOUBLE, t.Decimal(4, 2)
    )
    # 1.005 is 1.00499999999999989... in binary: MathContext(4) keeps 1.005, then HALF_UP gives 1.01
    assert values == [D("0.13"), D("1.01"), None, None, D("2.50"), D("-2.50")]
    assert failures[3] == "Infinite or NaN"
    assert failures[2].endswith("Got 10000000000")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=-(2**63), max_value=2**63 - 1), min_size=1, max_size=40))
def test_bigint_to_double_matches_duckdb(values: list[int]) -> None:
    source = pa.array(values, pa.int64())
    assert cast(source, t.BIGINT, t.DOUBLE).to_pylist() == duck("SELECT CAST({x} AS DOUBLE)", source)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.decimals(min_value=-(10**20), max_value=10**20, places=8, allow_nan=False), min_size=1, max_size=40
    )
)
def test_decimal_to_double_is_correctly_rounded(values: list[D]) -> None:
    source = pa.array(values, pa.decimal128(29, 8))
    assert cast(source, t.Decimal(29, 8), t.DOUBLE).to_pylist() == [float(v) for v in values]


# ---------------------------------------------------------------------------------------------------
# STRING


def test_numbers_to_string() -> None:
    assert run([1.5, 1e10, 0.0001, 100.0, None], pa.float64(), t.DOUBLE, t.STRING)[0] == [
        "1.5",
        "1.0E10",
        "1.0E-4",
        "100.0",
        None,
    ]
    assert run([D("1.50"), D("-0.00000010")], pa.decimal128(10, 8), t.Decimal(10, 8), t.STRING)[0] == [
        "1.50000000",
        "-0.00000010",
    ]
    assert run([True, False, None], pa.bool_(), t.BOOLEAN, t.STRING)[0] == ["true", "false", None]
    assert run([-5, 2**40], pa.int64(), t.BIGINT, t.STRING)[0] == ["-5", str(2**40)]


def test_string_to_integers_trims_and_reports_java_messages() -> None:
    values, failures = run(
        [" 12 ", "\t-7\n", "x", "99999999999", "", "1.0", None, "+3"], pa.string(), t.STRING, t.INT
    )
    assert values == [12, -7, None, None, None, None, None, 3]
    assert failures == {
        2: 'For input string: "x"',
        3: 'For input string: "99999999999"',
        4: 'For input string: ""',
        5: 'For input string: "1.0"',
    }


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=-(2**63), max_value=2**63 - 1), min_size=1, max_size=40))
def test_string_to_bigint_matches_duckdb_on_integer_text(values: list[int]) -> None:
    source = pa.array([str(v) for v in values])
    assert cast(source, t.STRING, t.BIGINT).to_pylist() == duck("SELECT CAST({x} AS BIGINT)", source)


def test_string_to_double() -> None:
    values, failures = run(
        [" 12.5 ", "x", "1e400", "", "0x1p4d", "Infinity", "inf"], pa.string(), t.STRING, t.DOUBLE
    )
    assert values == [12.5, None, float("inf"), None, 16.0, float("inf"), None]
    assert failures == {1: 'For input string: "x"', 3: "empty String", 6: 'For input string: "inf"'}


def test_string_to_decimal_rounds_half_up() -> None:
    values, failures = run(
        [" 12.345 ", "x", "1e2", "12345", ".5", "-0.005"], pa.string(), t.STRING, t.Decimal(5, 2)
    )
    assert values == [D("12.35"), None, D("100.00"), None, D("0.50"), D("-0.01")]
    assert (
        failures[1]
        == 'Character x is neither a decimal digit number, decimal point, nor "e" notation exponential mark.'
    )
    assert failures[3] == (
        "Numeric field overflow: A field with precision 5 and scale 2 must round to an absolute value less than 10^3. Got 12345"
    )


def test_string_to_boolean_follows_ksql_prefix_rule() -> None:
    texts = ["true", "T", "tRu", "yes", "Y", "ye", " y ", "no", "false", "truex", "1", "", None]
    assert run(texts, pa.string(), t.STRING, t.BOOLEAN)[0] == [
        True,
        True,
        True,
        True,
        True,
        True,
        True,
        False,
        False,
        False,
        False,
        False,
        None,
    ]


def test_string_to_bytes_is_base64() -> None:
    values, failures = run(["aGk=", "aGk", "a", "!!", None], pa.string(), t.STRING, t.BYTES)
    assert values == [b"hi", b"hi", None, None, None]
    assert failures == {2: "Last unit does not have enough valid bits", 3: "Illegal base64 character 21"}


# ---------------------------------------------------------------------------------------------------
# time types (expectations from ksqlDB's date.json, time.json, timestamp.json)


def test_time_types_to_string() -> None:
    assert run([10, None], pa.timestamp("ms"), t.TIMESTAMP, t.STRING)[0] == ["1970-01-01T00:00:00.010", None]
    assert run([-1, 253402300800000], pa.timestamp("ms"), t.TIMESTAMP, t.STRING)[0] == [
        "1969-12-31T23:59:59.999",
        "+10000-01-01T00:00:00.000",
    ]
    assert run([5000, 60000, 0, 86399999], pa.time32("ms"), t.TIME, t.STRING)[0] == [
        "00:00:05",
        "00:01",
        "00:00",
        "23:59:59",
    ]
    assert run([10, -1, 2932897], pa.date32(), t.DATE, t.STRING)[0] == [
        "1970-01-11",
        "1969-12-31",
        "+10000-01-01",
    ]


def test_string_to_time_types() -> None:
    dates, failures = run(
        ["foo", "1970-01-10", "1970-01", "1969-12-31", None, "2019-02-30", "1990"],
        pa.string(),
        t.STRING,
        t.DATE,
    )
    assert [d if d is None else (d - dt.date(1970, 1, 1)).days for d in dates] == [
        None,
        9,
        0,
        -1,
        None,
        None,
        7305,
    ]
    assert (
        failures[0].startswith("Failed to parse date 'foo'")
        and 'Required format is: "yyyy-MM-dd"' in failures[0]
    )
    times, failures = run(
        ["foo", "00:00:00.010", "00:00:01", "00:01", "24:00"], pa.string(), t.STRING, t.TIME
    )
    assert times[1:4] == [dt.time(0, 0, 0, 10000), dt.time(0, 0, 1), dt.time(0, 1)]
    assert set(failures) == {0, 4}
    stamps = cast(
        pa.array(
            [
                "1970-01-01T00:00:00.010",
                "1970-01-01T00:00:01",
                "2019-03-17T03:00-0700",
                "2017",
                "2019-02-30T00:00",
                "2020-01-02TZ",
            ]
        ),
        t.STRING,
        t.TIMESTAMP,
    )
    assert stamps.cast(pa.int64()).to_pylist() == [
        10,
        1000,
        1552816800000,
        1483228800000,
        1551312000000,
        1577923200000,
    ]
    with pytest.raises(FunctionError, match="Failed to parse timestamp 'foo'"):
        cast(pa.array(["foo"]), t.STRING, t.TIMESTAMP)


def test_timestamp_to_date_and_time_use_utc_floor() -> None:
    stamps = pa.array([5000, -2000, 86400100, None], pa.timestamp("ms"))
    dates = cast(stamps, t.TIMESTAMP, t.DATE).cast(pa.int32()).to_pylist()
    times = cast(stamps, t.TIMESTAMP, t.TIME).cast(pa.int32()).to_pylist()
    assert dates == [0, -1, 1, None]
    assert times == [5000, 86398000, 100, None]
    assert dates[:3] == [(d - dt.date(1970, 1, 1)).days for d in duck("SELECT CAST({x} AS DATE)", stamps)[:3]]
    assert cast(pa.array([5, -1], pa.date32()), t.DATE, t.TIMESTAMP).cast(pa.int64()).to_pylist() == [
        432000000,
        -86400000,
    ]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(min_value=-719162, max_value=2932896), min_size=1, max_size=40))
def test_date_to_string_matches_duckdb(days: list[int]) -> None:
    source = pa.array(days, pa.int32()).cast(pa.date32())
    assert cast(source, t.DATE, t.STRING).to_pylist() == duck("SELECT CAST({x} AS VARCHAR)", source)


# ---------------------------------------------------------------------------------------------------
# containers


def test_arrays_cast_element_wise_and_fail_whole_rows() -> None:
    assert run([[1, None, 3], None, []], pa.list_(pa.int32()), t.Array(t.INT), t.Array(t.STRING))[0] == [
        ["1", None, "3"],
        None,
        [],
    ]
    values, failures = run(
        [["1", "x"], None, ["2"]], pa.list_(pa.string()), t.Array(t.STRING), t.Array(t.INT)
    )
    assert values == [None, None, [2]]
    assert failures == {0: 'For input string: "x"'}


def test_maps_cast_keys_and_values() -> None:
    source = [[("a", "1"), ("b", "x")], None, [("c", "2")]]
    values, failures = run(
        source, pa.map_(pa.string(), pa.string()), t.Map(t.STRING, t.STRING), t.Map(t.STRING, t.INT)
    )
    assert values == [None, None, [("c", 2)]]
    assert failures == {0: 'For input string: "x"'}


def test_structs_cast_by_field_name() -> None:
    source_type = t.Struct((("A", t.INT), ("B", t.STRING)))
    target_type = t.Struct((("B", t.INT), ("C", t.STRING)))
    arrow = pa.struct([("A", pa.int32()), ("B", pa.string())])
    values, failures = run([{"A": 1, "B": "2"}, {"A": None, "B": "x"}, None], arrow, source_type, target_type)
    assert values == [{"B": 2, "C": None}, None, None]
    assert failures == {1: 'For input string: "x"'}


def test_containers_to_string_as_java_prints_them() -> None:
    struct_type = t.Struct((("A", t.INT), ("B", t.STRING)))
    arrow = pa.struct([("A", pa.int32()), ("B", pa.string())])
    assert run([{"A": 1, "B": "2"}, {"A": None, "B": "x"}, None], arrow, struct_type, t.STRING)[0] == [
        "Struct{A=1,B=2}",
        "Struct{B=x}",
        None,
    ]
    assert run([[1.5, None], None], pa.list_(pa.float64()), t.Array(t.DOUBLE), t.STRING)[0] == [
        "[1.5, null]",
        None,
    ]
    decimals = [[("a", D("1.0000001")), ("b", D("0.0000001"))]]
    map_type = t.Map(t.STRING, t.Decimal(10, 7))
    assert run(decimals, pa.map_(pa.string(), pa.decimal128(10, 7)), map_type, t.STRING)[0] == [
        "{a=1.0000001, b=1E-7}"
    ]
    stamps = [[10, None, -1]]
    assert run(stamps, pa.list_(pa.timestamp("ms")), t.Array(t.TIMESTAMP), t.STRING)[0] == [
        "[1970-01-01 00:00:00.01, null, 1969-12-31 23:59:59.999]"
    ]
    assert run([[b"abc"]], pa.list_(pa.binary()), t.Array(t.BYTES), t.STRING)[0] == [
        "[java.nio.HeapByteBuffer[pos=0 lim=3 cap=3]]"
    ]


# ---------------------------------------------------------------------------------------------------
# entry points


def test_cast_raises_function_error_for_the_first_bad_row() -> None:
    with pytest.raises(FunctionError) as caught:
        cast(pa.array(["1", "a", "b"]), t.STRING, t.INT)
    assert caught.value.message == 'For input string: "a"'


def test_cast_of_a_scalar_gives_a_scalar() -> None:
    result = cast(pa.scalar("12"), t.STRING, t.BIGINT)
    assert isinstance(result, pa.Scalar) and result.as_py() == 12
    assert cast(pa.scalar(None, pa.string()), t.STRING, t.INT).as_py() is None


def test_unsupported_and_null_casts() -> None:
    with pytest.raises(PlanError, match="Cast of BOOLEAN to INTEGER is not supported"):
        cast(pa.array([True]), t.BOOLEAN, t.INT)
    assert cast(pa.nulls(2), None, t.Decimal(4, 2)).type == pa.decimal128(4, 2)
    chunked = pa.chunked_array([pa.array([1]), pa.array([2])])
    assert cast(chunked, t.INT, t.BIGINT).to_pylist() == [1, 2]


def test_decimal_rounding_that_fills_the_source_precision_is_an_overflow() -> None:
    # 99.99 fits DECIMAL(3, 1)'s bound unrounded, rounds to 100.0: ksqlDB's overflow, not Arrow's
    # "Rounded value does not fit in precision of decimal128(4, 2)"
    values, failures = run([D("99.99"), D("-99.95"), D("99.94"), None], pa.decimal128(4, 2), t.Decimal(4, 2), t.Decimal(3, 1))
    assert values == [None, None, D("99.9"), None]
    assert failures == {
        0: "Numeric field overflow: A field with precision 3 and scale 1 must round to an absolute value less than 10^2. Got 100.00",
        1: "Numeric field overflow: A field with precision 3 and scale 1 must round to an absolute value less than 10^2. Got -100.00",
    }


def _ksqldb_decimal_cast(value: D | None, precision: int, scale: int) -> tuple[D | None, str | None]:
    """DecimalUtil.cast: the unrounded value checked against 10^(p-s), then HALF_UP to the scale,
    which may carry over the bound."""
    if value is None:
        return None, None
    bound = D(10) ** (precision - scale)
    # abs() rounds to the context's precision (28 digits by default): 9.99...95 with 31 digits would
    # compare as 10; BigDecimal.abs() is exact, so compare in a context wide enough for any value here.
    with decimal.localcontext() as context:
        context.prec = 80
        if abs(value) >= bound:
            return None, f"Got {value:f}"
        rounded = value.quantize(D(1).scaleb(-scale), rounding=decimal.ROUND_HALF_UP)
    if abs(rounded) >= bound:
        return None, "overflow"
    return rounded, None


@settings(max_examples=200, deadline=None)
@given(
    data=st.data(),
    source_precision=st.integers(1, 40),
    target_precision=st.integers(1, 40),
    start=st.integers(0, 3),
)
def test_decimal_to_decimal_matches_ksqldb_on_any_types(
    data: st.DataObject, source_precision: int, target_precision: int, start: int
) -> None:
    source_scale = data.draw(st.integers(0, source_precision))
    target_scale = data.draw(st.integers(0, target_precision))
    digits = st.integers(-(10**source_precision) + 1, 10**source_precision - 1)
    unscaled = data.draw(st.lists(st.one_of(st.none(), digits), min_size=start + 1, max_size=start + 30))
    exact = decimal.Context(prec=100)
    values = [None if u is None else D(u).scaleb(-source_scale, exact) for u in unscaled]
    arrow_type = pa.decimal128(source_precision, source_scale) if source_precision <= 38 else pa.decimal256(
        source_precision, source_scale
    )
    source = pa.array(values, arrow_type).slice(start)
    outcome = try_cast(source, t.Decimal(source_precision, source_scale), t.Decimal(target_precision, target_scale))
    expected = [_ksqldb_decimal_cast(v, target_precision, target_scale) for v in values[start:]]
    assert outcome.values.to_pylist() == [value for value, _ in expected]
    assert sorted(outcome.failures) == [row for row, (_, failure) in enumerate(expected) if failure]
    for row, (_, failure) in enumerate(expected):
        if failure is not None:
            message = outcome.failures[row]
            assert message.startswith(
                f"Numeric field overflow: A field with precision {target_precision} and scale {target_scale} "
            )
            if failure != "overflow":
                assert message.endswith(failure)


def test_decimal_scaled_past_128_bits_is_an_overflow_not_a_wrapped_value() -> None:
    # 35 * 10^37 does not fit Arrow's 128-bit rescale: it must be ksqlDB's overflow, not a wrapped value
    values, failures = run([D(35), D(0), None], pa.decimal128(2, 0), t.Decimal(2, 0), t.Decimal(37, 37))
    assert values == [None, D(0), None]
    assert failures == {
        0: "Numeric field overflow: A field with precision 37 and scale 37 must round to an absolute value less than 10^0. Got 35"
    }

"""ksqlDB prints doubles with Java's ``Double.toString`` (ARRAY_JOIN, TO_JSON_STRING, CAST to STRING...).

The expected texts in tests/fixtures/java/double_to_string.tsv were printed by a JDK 17 (ksqlDB's
runtime) with DoubleToString.java beside it (its comment says how to regenerate them), over random bit
patterns, random magnitudes, short decimals, powers of ten and two with their neighbours, whole numbers
near 2^53 and 2^63, and subnormals: the JDK before 19 does not always print the shortest digits, so
Python's ``repr`` alone is not the oracle.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headwater.engine.casts.java_double_columns import _proven_shortest
from headwater.engine.casts.java_double_digits import jdk_double_digits, jdk_double_string
from headwater.engine.casts.java_text import java_double_str as cast_text
from headwater.engine.casts.java_text import java_double_text
from headwater.engine.functions.javafmt import java_double_str as function_text

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "java" / "double_to_string.tsv"
CASES: list[tuple[str, str]] = [
    (value, java) for value, java in (line.split("\t") for line in FIXTURE.read_text().splitlines() if line)
]


def test_the_fixture_covers_both_notations_and_the_jdk_quirks() -> None:
    texts: dict[str, str] = dict(CASES)
    assert len(CASES) >= 19000
    assert any("E" in t for t in texts.values()) and any("E" not in t for t in texts.values())
    assert texts["1e+23"] == "9.999999999999999E22"  # not the shortest digits
    assert texts["4.611686018427388e+18"] == "4.6116860184273879E18"  # 2^62: the whole-number path
    assert texts["5e-324"] == "4.9E-324"


@pytest.mark.parametrize("text_of", [cast_text, function_text], ids=["casts", "functions"])
def test_doubles_print_as_jdk17_prints_them(text_of: Callable[[float], str]) -> None:
    wrong = [(value, java, text_of(float(value))) for value, java in CASES if text_of(float(value)) != java]
    assert wrong == []


def test_a_column_prints_as_jdk17_prints_each_value() -> None:
    values = pa.array([float(value) for value, _ in CASES] + [None, float("nan"), float("-inf")])
    printed = java_double_text(values).to_pylist()
    wrong = [(value, java, text) for (value, java), text in zip(CASES, printed, strict=False) if text != java]
    assert wrong == []
    assert printed[-3:] == [None, "NaN", "-Infinity"]


def test_a_chunked_column_with_nulls_keeps_its_rows() -> None:
    chunked = pa.chunked_array([[1e23, None], [0.001, -0.0, 2.0**62]], pa.float64())
    assert java_double_text(chunked).to_pylist() == [
        "9.999999999999999E22",
        None,
        "0.001",
        "-0.0",
        "4.6116860184273879E18",
    ]


def test_the_direct_forms_match_the_jdk_loops() -> None:
    """The division paths find their digit count directly; the JDK's literal loops must agree."""
    for value, _ in CASES:
        number = abs(float(value))
        if number != 0.0:
            assert jdk_double_digits(number) == jdk_double_digits(number, stepwise=True), value


# The fast column path: rows proven to print the shortest round-trip digits come from Arrow's cast, the
# rest from the port of dtoa. Both must equal the per-value port (the JDK's digits) on every row.

_PLAIN_BITS = st.integers(min_value=(1023 - 10) << 52, max_value=((1023 + 24) << 52) - 1)
"""Raw bits of every double from about 1e-3 to 1.6e7, both sides of the plain-notation range."""


def _from_bits(bits: int) -> float:
    return float(np.array([bits], dtype=np.int64).view(np.float64)[0])


_FAST_PATH_VALUES = st.lists(
    _PLAIN_BITS.map(_from_bits)
    | st.decimals(0, 10**7, places=2).map(float)
    | st.decimals(0, 1, places=17).map(float)
    | st.integers(min_value=-(10**7), max_value=10**7).map(float)
    | st.builds(
        lambda power, step: 10.0**power * (1 + step * 2.0**-52),
        st.integers(min_value=-4, max_value=8),
        st.integers(min_value=-4, max_value=4),
    )
    | st.builds(lambda power, sign: sign * 2.0**power, st.integers(-12, 24), st.sampled_from([1.0, -1.0]))
    | st.integers(min_value=0, max_value=2**64 - 1).map(lambda bits: _from_bits(bits - 2**63))
    | st.builds(lambda whole, power: whole * 2.0**power, st.integers(1, 2**53), st.integers(30, 80))
    | st.floats(allow_nan=True, allow_infinity=True),
    min_size=1,
    max_size=60,
)


@settings(max_examples=400, deadline=None)
@given(_FAST_PATH_VALUES, st.booleans())
def test_the_fast_column_path_prints_what_the_port_prints(values: list[float], negate: bool) -> None:
    numbers = [-value if negate else value for value in values]
    printed = java_double_text(pa.array(numbers, pa.float64())).to_pylist()
    assert printed == [jdk_double_string(value) for value in numbers]


def _proven(values: list[float]) -> list[bool]:
    numbers = np.array(values, dtype=np.float64)
    finite = np.isfinite(numbers) & (numbers != 0.0)
    magnitudes = np.where(finite, np.abs(numbers), 1.0)
    plain, scientific = _proven_shortest(numbers, magnitudes, finite, pa.array(numbers).cast(pa.string()))
    return (plain | scientific).tolist()


def test_the_fast_path_takes_common_values_and_leaves_the_unproven_ones() -> None:
    taken = [
        1234.56,
        -0.35,
        0.1 + 0.2,
        7.0,
        9999999.0,
        1.0,
        0.0123,
        0.123456789,
        1.5e21,
        -4.64e-203,
        0.0015,
        1.7e12,
        -1e15,
        2.0**53 - 1,
    ]
    left = [
        0.5,  # a power of two: the JDK narrows the interval above it
        0.1,  # one digit: a kept zero rounded up to 1 looks alike
        0.012345678901234567,  # 17 digits below 0.1: M * 10^18 wraps a long
        1e7,  # the JDK writes 1.0E7
        0.000999,  # the JDK writes 9.99E-4
        12345678.9,  # Arrow writes it without an exponent
        2.5e-5,  # so too
        5e-324,
        2.5e-310,  # subnormal
        1e23,
        2.0**70,
        -2.1395081286910736e25,  # long arithmetic wraps: the JDK prints -2.1395081286910735E25
        4.6116860184273879e18,  # developLongDigits with insignificant digits
        1699471159466506.8,  # a decimal of 17 digits could lie exactly M from it
        0.0,
        float("nan"),
    ]
    assert _proven(taken) == [True] * len(taken)
    assert _proven(left) == [False] * len(left)
    column = java_double_text(pa.array(taken + left)).to_pylist()
    assert column == [jdk_double_string(value) for value in taken + left]


def test_whole_prices_and_fractions_all_print_as_the_port_prints() -> None:
    generator = np.random.default_rng(20261127)
    values = np.concatenate(
        [
            np.round(generator.uniform(1, 1e4, 3000), 2),
            generator.uniform(0, 1, 3000),
            np.floor(generator.uniform(0, 1e6, 3000)),
            generator.integers(0, 2**63, 3000, dtype=np.int64).view(np.float64),
        ]
    )
    printed = java_double_text(pa.array(values)).to_pylist()
    assert printed == [jdk_double_string(value) for value in values.tolist()]

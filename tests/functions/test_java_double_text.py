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

import pyarrow as pa
import pytest

from headwater.engine.casts.java_double_digits import jdk_double_digits
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

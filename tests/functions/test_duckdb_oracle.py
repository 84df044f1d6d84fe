"""Randomised comparisons with DuckDB where its semantics coincide with ksqlDB's."""

from __future__ import annotations

import re
from typing import Any

import duckdb
from function_calls import call, col, lit
from hypothesis import given, settings
from hypothesis import strategies as st

from headwater.parser import types as t

TEXT = st.text(alphabet=st.sampled_from("abcXYZ é,._-1 \u00fc"), max_size=12)
TEXTS = st.lists(st.one_of(st.none(), TEXT), min_size=1, max_size=30)
INT_LISTS = st.lists(st.one_of(st.none(), st.lists(st.one_of(st.none(), st.integers(-50, 50)), max_size=8)),
                     min_size=1, max_size=20)


def duck(expression: str, values: list[Any], sql_type: str) -> list[Any]:
    rows = duckdb.execute(
        f"select {expression} from (select unnest(?::{sql_type}) as v, generate_subscripts(?::{sql_type}, 1) as i) "
        "order by i",
        [values, values],
    ).fetchall()
    return [row[0] for row in rows]


@settings(max_examples=60, deadline=None)
@given(TEXTS)
def test_md5_upper_lower_length(values: list[str | None]) -> None:
    strings = col(t.STRING, values)
    assert call("MD5", strings) == duck("md5(v)", values, "varchar[]")
    assert call("UCASE", strings) == duck("upper(v)", values, "varchar[]")
    assert call("LCASE", strings) == duck("lower(v)", values, "varchar[]")
    assert call("LEN", strings) == duck("length(v)", values, "varchar[]")


@settings(max_examples=60, deadline=None)
@given(TEXTS, st.sampled_from([",", ".", " ", "ab", "é"]))
def test_split_matches_string_split(values: list[str | None], delimiter: str) -> None:
    assert call("SPLIT", col(t.STRING, values), lit(t.STRING, delimiter)) == duck(
        f"string_split(v, '{delimiter}')", values, "varchar[]"
    )


@settings(max_examples=60, deadline=None)
@given(TEXTS, st.integers(-15, 15), st.integers(0, 15))
def test_substring_matches_duckdb_for_positive_positions(values: list[str | None], pos: int, length: int) -> None:
    if pos <= 0:
        pos = 1 - pos  # DuckDB counts differently from ksqlDB at and before position 0
    assert call("SUBSTRING", col(t.STRING, values), lit(t.INT, pos), lit(t.INT, length)) == duck(
        f"substring(v, {pos}, {length})", values, "varchar[]"
    )


@settings(max_examples=60, deadline=None)
@given(TEXTS, st.sampled_from(["[aeiou]", "(a|b)+", "\\d", "X.Z", "é+"]))
def test_regexp_replace_and_extract_match_duckdb(values: list[str | None], pattern: str) -> None:
    strings = col(t.STRING, values)
    assert call("REGEXP_REPLACE", strings, lit(t.STRING, pattern), lit(t.STRING, "_")) == duck(
        f"regexp_replace(v, '{pattern}', '_', 'g')", values, "varchar[]"
    )
    found = duck(f"regexp_extract(v, '{pattern}')", values, "varchar[]")
    expected = [m if v is not None and re.search(pattern, v) else None for v, m in zip(values, found)]
    assert call("REGEXP_EXTRACT", lit(t.STRING, pattern), strings) == expected


@settings(max_examples=60, deadline=None)
@given(INT_LISTS)
def test_array_functions_match_duckdb_lists(arrays: list[list[int | None] | None]) -> None:
    ints = col(t.Array(t.INT), arrays)
    assert call("ARRAY_LENGTH", ints) == duck("len(v)", arrays, "int[][]")
    assert call("ARRAY_SORT", ints) == duck("list_sort(v, 'ASC', 'NULLS LAST')", arrays, "int[][]")
    assert call("ARRAY_SORT", ints, lit(t.STRING, "DESC")) == duck("list_sort(v, 'DESC', 'NULLS LAST')", arrays, "int[][]")
    assert call("ARRAY_MAX", ints) == duck("list_max(v)", arrays, "int[][]")
    assert call("ARRAY_MIN", ints) == duck("list_min(v)", arrays, "int[][]")
    assert call("SLICE", ints, lit(t.INT, 1), lit(t.INT, 0)) == [None if a is None else [] for a in arrays]
    assert call("ARRAY_CONTAINS", ints, lit(t.INT, 7)) == [bool(v) for v in duck("list_contains(v, 7)", arrays, "int[][]")]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(-20, 20), st.integers(-20, 20), st.integers(1, 4)), min_size=1, max_size=15))
def test_generate_series_matches_range(triples: list[tuple[int, int, int]]) -> None:
    starts = [a for a, _, _ in triples]
    ends = [b for _, b, _ in triples]
    steps = [s if b >= a else -s for a, b, s in triples]
    got = call("GENERATE_SERIES", col(t.INT, starts), col(t.INT, ends), col(t.INT, steps))
    expected = [duckdb.execute(f"select generate_series({a}, {b}, {s})").fetchall()[0][0]
                for a, b, s in zip(starts, ends, steps)]
    assert got == expected

"""String functions: ksqlDB's positions, NULL rules and Java's string semantics; DuckDB as the oracle
where both agree (case mapping, replace, concatenation)."""

from __future__ import annotations

import hashlib
import re
import unicodedata

import duckdb
import pytest
from function_calls import call, call_rows, col, lit, resolve
from hypothesis import given, settings
from hypothesis import strategies as st

from headwater.engine.functions.registry import FunctionError
from headwater.parser import types as t

WORDS = ["Stream", "ksqlDB", "", "héllo wörld", "x", "MiXeD CaSe 123", None]


def duck(expression: str, values: list[str | None]) -> list[object]:
    table = duckdb.execute(
        f"select {expression} from (select unnest(?) as s, generate_subscripts(?, 1) as i) order by i",
        [values, values],
    ).fetchall()
    return [row[0] for row in table]


@pytest.mark.parametrize(("name", "expression"), [("UCASE", "upper(s)"), ("LCASE", "lower(s)")])
def test_case_mapping_agrees_with_duckdb(name: str, expression: str) -> None:
    assert call(name, col(t.STRING, WORDS)) == duck(expression, WORDS)


def test_replace_agrees_with_duckdb_and_nulls() -> None:
    assert call("REPLACE", col(t.STRING, WORDS), lit(t.STRING, "l"), lit(t.STRING, "LL")) == duck(
        "replace(s, 'l', 'LL')", WORDS
    )
    assert call("REPLACE", col(t.STRING, ["abc"]), lit(t.STRING, ""), lit(t.STRING, "-")) == ["-a-b-c-"]
    assert call("REPLACE", col(t.STRING, ["abc"]), lit(t.STRING, None), lit(t.STRING, "x")) == [None]
    assert call("REPLACE", col(t.STRING, ["abc", "aa"]), col(t.STRING, ["b", "a"]), col(t.STRING, ["B", None])) == [
        "aBc",
        None,
    ]


def test_substring_is_one_based_and_clamps() -> None:
    source = col(t.STRING, ["some_string", "another", "short", "héllo", None])
    assert call("SUBSTRING", source, lit(t.INT, 6)) == ["string", "er", "", "", None]
    assert call("SUBSTRING", source, lit(t.INT, 6), lit(t.INT, 3)) == ["str", "er", "", "", None]
    assert call("SUBSTRING", source, lit(t.INT, -3)) == ["ing", "her", "ort", "llo", None]
    assert call("SUBSTRING", source, lit(t.INT, 0), lit(t.INT, 2)) == ["so", "an", "sh", "hé", None]
    assert call("SUBSTRING", source, lit(t.INT, -100), lit(t.INT, 2)) == ["so", "an", "sh", "hé", None]
    assert call("SUBSTRING", source, lit(t.INT, 2), lit(t.INT, -1)) == ["", "", "", "", None]
    assert call("SUBSTRING", source, lit(t.INT, None)) == [None] * 5


def test_substring_with_per_row_positions() -> None:
    got = call("SUBSTRING", col(t.STRING, ["abcdef", "xyz", "héllo"]), col(t.INT, [2, -1, 2]), col(t.INT, [3, 5, None]))
    assert got == ["bcd", "z", None]


def test_substring_of_bytes() -> None:
    assert call("SUBSTRING", col(t.BYTES, [b"some_string", None]), lit(t.INT, 6), lit(t.INT, 3)) == [b"str", None]


def test_substring_legacy_arguments() -> None:
    legacy = {"ksql.functions.substring.legacy.args": True}
    assert call("SUBSTRING", col(t.STRING, ["some string"]), lit(t.INT, 0), lit(t.INT, 2), config=legacy) == ["so"]
    assert call("SUBSTRING", col(t.STRING, ["some string"]), lit(t.INT, 5), config=legacy) == ["string"]
    with pytest.raises(FunctionError, match="out of range"):
        call("SUBSTRING", col(t.STRING, ["ab"]), lit(t.INT, 1), lit(t.INT, 5), config=legacy)


def test_concat_treats_null_as_empty_and_concat_ws_skips_it() -> None:
    assert call("CONCAT", col(t.STRING, ["a", None]), lit(t.STRING, None), lit(t.STRING, "-z")) == ["a-z", "-z"]
    assert call("CONCAT", col(t.BYTES, [b"yes", b""]), lit(t.BYTES, None), col(t.BYTES, [b"no", b"no"])) == [
        b"yesno",
        b"no",
    ]
    got = call(
        "CONCAT_WS",
        col(t.STRING, ["SEP", "SEP", "SEP", None]),
        col(t.STRING, ["foo", "foo", None, "foo"]),
        col(t.STRING, ["bar", None, None, "bar"]),
        lit(t.STRING, None),
    )
    assert got == ["fooSEPbar", "foo", "", None]


def test_len_counts_utf16_units() -> None:
    assert call("LEN", col(t.STRING, ["ABC", "", None, "héllo", "a😀"])) == [3, 0, None, 5, 3]
    assert call("LEN", col(t.BYTES, [b"abc", b""])) == [3, 0]


def test_trim_removes_java_whitespace_and_controls() -> None:
    assert call("TRIM", col(t.STRING, [" \t with white space \t", "\x01x\x1f", "\u00a0y"])) == [
        "with white space",
        "x",
        "\u00a0y",
    ]


def test_initcap_follows_ksqldb() -> None:
    values = ["some_string", None, "the   Quick br0wn fOx", "  leading space", "éclair über", "a\tb"]
    assert call("INITCAP", col(t.STRING, values)) == [
        "Some_string",
        None,
        "The   Quick Br0wn Fox",
        "Leading Space",
        "Éclair Über",
        "A\tB",
    ]


def test_instr_documented_examples() -> None:
    text = col(t.STRING, ["CORPORATE FLOOR"])
    assert call("INSTR", text, lit(t.STRING, "OR")) == [2]
    assert call("INSTR", text, lit(t.STRING, "OR"), lit(t.INT, 3)) == [5]
    assert call("INSTR", text, lit(t.STRING, "OR"), lit(t.INT, 3), lit(t.INT, 2)) == [14]
    assert call("INSTR", text, lit(t.STRING, "OR"), lit(t.INT, -3)) == [5]
    assert call("INSTR", text, lit(t.STRING, "OR"), lit(t.INT, -3), lit(t.INT, 2)) == [2]
    assert call("INSTR", text, lit(t.STRING, "MISSING")) == [0]
    assert call("INSTR", col(t.STRING, [None, "héllo"]), lit(t.STRING, "l")) == [0, 3]


def test_lpad_rpad_strings() -> None:
    values = col(t.STRING, ["Foo", "Foo", "", "123", None])
    lengths = col(t.INT, [7, 2, 2, 5, 3])
    assert call("LPAD", values, lengths, lit(t.STRING, "Bar")) == ["BarBFoo", "Fo", "Ba", "BarBa123"[-5:], None]
    assert call("RPAD", values, lengths, lit(t.STRING, "Bar")) == ["FooBarB", "Fo", "Ba", "123Ba", None]
    assert call("LPAD", col(t.STRING, ["x"]), lit(t.INT, 3), lit(t.STRING, "")) == [None]
    assert call("LPAD", col(t.STRING, ["x"]), lit(t.INT, -1), lit(t.STRING, "0")) == [None]


def test_lpad_rpad_bytes() -> None:
    values = col(t.BYTES, [b"yes"] * 5)
    lengths = col(t.INT, [8, 5, 3, 2, 0])
    assert call("LPAD", values, lengths, lit(t.BYTES, b"no")) == [b"nononyes", b"noyes", b"yes", b"ye", b""]
    assert call("RPAD", values, lengths, lit(t.BYTES, b"no")) == [b"yesnonon", b"yesno", b"yes", b"ye", b""]


def test_split_literal_delimiters() -> None:
    messages = col(t.STRING, ["a.b.c", ".abc.", "..a..", "abc", "", None])
    assert call("SPLIT", messages, lit(t.STRING, ".")) == [
        ["a", "b", "c"], ["", "abc", ""], ["", "", "a", "", ""], ["abc"], [""], None,
    ]
    assert call("SPLIT", messages, lit(t.STRING, "")) == [
        ["a", ".", "b", ".", "c"], [".", "a", "b", "c", "."], [".", ".", "a", ".", "."], ["a", "b", "c"], [""], None,
    ]
    assert call("SPLIT", col(t.BYTES, [b"a$$b.c", b""]), lit(t.BYTES, b"$$")) == [[b"a", b"b.c"], [b""]]


def test_split_to_map() -> None:
    inputs = col(t.STRING, ["apple:green/banana:yellow/cherry:red", "a:1//b:2/a:3/", "x=y", ""])
    got = call("SPLIT_TO_MAP", inputs, lit(t.STRING, "/"), lit(t.STRING, ":"))
    assert [dict(m) for m in got] == [
        {"apple": "green", "banana": "yellow", "cherry": "red"}, {"a": "3", "b": "2"}, {}, {},
    ]
    assert call("SPLIT_TO_MAP", col(t.STRING, ["a:1"]), lit(t.STRING, ""), lit(t.STRING, ":")) == [None]
    assert call("SPLIT_TO_MAP", col(t.STRING, ["a:1"]), lit(t.STRING, ":"), lit(t.STRING, ":")) == [None]


def test_elt_and_field() -> None:
    assert call("ELT", col(t.INT, [2, 0, 3, None]), lit(t.STRING, "a"), lit(t.STRING, "b")) == ["b", None, None, None]
    assert call("FIELD", col(t.STRING, ["b", None, "z"]), lit(t.STRING, "a"), lit(t.STRING, "b")) == [2, 0, 0]


def test_chr() -> None:
    assert call("CHR", col(t.INT, [75, 22909, 99000, -1, None, 0x110000])) == ["K", "好", "\U000182b8", None, None, None]
    texts = ["\\u004b", "\\u597d", "\\ud820\\udeb8", "75", "004b", "bogus", "", None]
    assert call("CHR", col(t.STRING, texts)) == ["K", "好", "\U000182b8", None, None, None, None, None]


def test_mask_family() -> None:
    text = col(t.STRING, ["My Test $123", None])
    assert call("MASK", text) == ["Xx-Xxxx--nnn", None]
    assert call("MASK", text, lit(t.STRING, "*"), lit(t.STRING, None), lit(t.STRING, "1"), lit(t.STRING, None)) == [
        "*y *est $111",
        None,
    ]
    assert call("MASK_KEEP_LEFT", text, lit(t.INT, 4)) == ["My Txxx--nnn", None]
    assert call("MASK_KEEP_RIGHT", text, lit(t.INT, 4)) == ["Xx-Xxxx-$123", None]
    assert call("MASK_LEFT", text, lit(t.INT, 4)) == ["Xx-Xest $123", None]
    assert call("MASK_RIGHT", text, lit(t.INT, 4)) == ["My Test -nnn", None]
    assert call("MASK", col(t.STRING, ["Ünï 9"])) == ["Xxx-n"]
    with pytest.raises(FunctionError, match="non-negative"):
        call("MASK_LEFT", text, lit(t.INT, -1))
    with pytest.raises(FunctionError, match="single character"):
        call("MASK", text, lit(t.STRING, "**"), lit(t.STRING, None), lit(t.STRING, None), lit(t.STRING, None))


def test_md5_and_uuid() -> None:
    values = ["r1", "", None, "héllo"]
    assert call("MD5", col(t.STRING, values)) == [
        None if v is None else hashlib.md5(v.encode()).hexdigest() for v in values
    ]
    ids = call("UUID", length=3)
    assert len(set(ids)) == 3
    assert all(re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", i) for i in ids)


def test_string_and_bytes_overloads_resolve_by_type() -> None:
    assert resolve("LEN", col(t.BYTES, [])).signature.params[0].type == t.BYTES
    assert resolve("CONCAT", col(t.STRING, []), col(t.STRING, [])).return_type == t.STRING


def test_rowwise_retry_nulls_only_failing_rows() -> None:
    got = call_rows("SUBSTRING", col(t.STRING, ["ab", "abc"]), lit(t.INT, 1), lit(t.INT, 3),
                    config={"ksql.functions.substring.legacy.args": True})
    assert got == [None, "bc"]


# --------------------------------------------------------------------------------------------------------
# literal-argument fast paths agree with the per-row path (same call with the literals as columns)

_FAST_PATH_TEXT = ["", "a", "héllo wörld", "some_string", "😀x😀", "  lead", "ABC def 123 !?", None]


@pytest.mark.parametrize("pos", [-12, -3, -1, 0, 1, 2, 5, 40, 2**31 - 1])
@pytest.mark.parametrize("length", [None, -1, 0, 1, 3, 50, 2**31 - 1])
def test_substring_literal_path_matches_column_path(pos: int, length: int | None) -> None:
    n = len(_FAST_PATH_TEXT)
    source = col(t.STRING, _FAST_PATH_TEXT)
    literal_args = [lit(t.INT, pos)] + ([] if length is None else [lit(t.INT, length)])
    column_args = [col(t.INT, [pos] * n)] + ([] if length is None else [col(t.INT, [length] * n)])
    assert call("SUBSTRING", source, *literal_args) == call("SUBSTRING", source, *column_args)


def test_substring_length_overflow_wraps_as_in_java() -> None:
    # start + length overflows Java's int: the end falls before the start, so the result is empty
    assert call("SUBSTRING", col(t.STRING, ["abcdef"]), lit(t.INT, 3), lit(t.INT, 2**31 - 1)) == [""]
    assert call("SUBSTRING", col(t.STRING, ["abcdef"]), lit(t.INT, 1), lit(t.INT, 2**31 - 1)) == ["abcdef"]


@pytest.mark.parametrize("function", ["LPAD", "RPAD"])
@pytest.mark.parametrize("target", [0, 1, 4, 11, 20])
@pytest.mark.parametrize("padding", ["*", "ab", "é😀x"])
def test_pad_literal_path_matches_column_path(function: str, target: int, padding: str) -> None:
    n = len(_FAST_PATH_TEXT)
    source = col(t.STRING, _FAST_PATH_TEXT)
    fast = call(function, source, lit(t.INT, target), lit(t.STRING, padding))
    slow = call(function, source, col(t.INT, [target] * n), col(t.STRING, [padding] * n))
    assert fast == slow


def test_pad_literal_path_null_cases() -> None:
    source = col(t.STRING, ["x", None])
    assert call("RPAD", source, lit(t.INT, 3), lit(t.STRING, "")) == [None, None]
    assert call("RPAD", source, lit(t.INT, -2), lit(t.STRING, "a")) == [None, None]
    assert call("RPAD", source, lit(t.INT, None), lit(t.STRING, "a")) == [None, None]
    assert call("RPAD", source, lit(t.INT, 3), lit(t.STRING, None)) == [None, None]


def test_mask_ascii_table_matches_category_path() -> None:
    ascii_rows = ["My Test $123", "", "zZ09 ~!", None]
    # the same rows with one non-ASCII row appended go through the Unicode-category path
    mixed = call("MASK", col(t.STRING, [*ascii_rows, "é"]))
    assert call("MASK", col(t.STRING, ascii_rows)) == mixed[:-1]
    custom = (lit(t.STRING, "U"), lit(t.STRING, None), lit(t.STRING, "#"), lit(t.STRING, "_"))
    mixed = call("MASK", col(t.STRING, [*ascii_rows, "é"]), *custom)
    assert call("MASK", col(t.STRING, ascii_rows), *custom) == mixed[:-1]
    assert call("MASK_LEFT", col(t.STRING, ascii_rows), lit(t.INT, 5)) == [
        "Xx-Xxst $123", "", "xXnn-~!", None,
    ]


def test_initcap_mixes_ascii_and_non_ascii_rows() -> None:
    rows = ["élan vital", "hello WORLD", None, "  über  alles", "abc"]
    assert call("INITCAP", col(t.STRING, rows)) == ["Élan Vital", "Hello World", None, "Über  Alles", "Abc"]


def _mask_reference(text: str, upper: str | None, lower: str | None, digit: str | None, other: str | None) -> str:
    out = []
    for ch in text:
        category = unicodedata.category(ch)
        mask = {"Lu": upper, "Ll": lower, "Nd": digit}.get(category, other)
        out.append(ch if mask is None else mask)
    return "".join(out)


_mask_char = st.one_of(st.none(), st.sampled_from(["X", "*", "é", "😀", "#"]))


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(st.one_of(st.none(), st.text(max_size=12)), max_size=8),
    masks=st.tuples(_mask_char, _mask_char, _mask_char, _mask_char),
)
def test_mask_matches_unicode_category_reference(rows: list[str | None], masks: tuple[str | None, ...]) -> None:
    got = call("MASK", col(t.STRING, rows), *(lit(t.STRING, m) for m in masks), length=len(rows))
    assert got == [None if r is None else _mask_reference(r, *masks) for r in rows]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), max_size=12), st.integers(0, 40))
def test_gather_spans_concatenates_ascending_disjoint_spans(gaps: list[tuple[int, int]], tail: int) -> None:
    import numpy as np

    from headwater.engine.functions.text import gather_spans

    starts, stops, position = [], [], 0
    for gap, width in gaps:  # spans in order, possibly adjacent, possibly empty
        starts.append(position + gap)
        stops.append(position + gap + width)
        position += gap + width
    data = np.arange(position + tail, dtype=np.int64).astype(np.uint8)
    offsets, out = gather_spans(data, np.array(starts, dtype=np.int64), np.array(stops, dtype=np.int64))
    expected = b"".join(data[a:b].tobytes() for a, b in zip(starts, stops))
    assert out.tobytes() == expected
    assert list(np.diff(offsets)) == [b - a for a, b in zip(starts, stops)]

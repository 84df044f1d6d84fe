"""REGEXP_* (Java patterns on RE2 and Python re), encodings, and COALESCE/IFNULL/NULLIF/GREATEST/LEAST."""

from __future__ import annotations

import base64
import decimal
import math

import pytest
from function_calls import call, call_rows, col, lit, resolve

from headwater.engine.functions.registry import FunctionError
from headwater.errors import PlanError
from headwater.parser import types as t

D = decimal.Decimal


def test_regexp_extract_groups_and_misses() -> None:
    names = col(t.STRING, ["steven zhang", "agavra", None])
    assert call("REGEXP_EXTRACT", lit(t.STRING, "(.*) (.*)"), names, lit(t.INT, 2)) == ["zhang", None, None]
    assert call("REGEXP_EXTRACT", lit(t.STRING, "test."), col(t.STRING, ["some_test_string", "anothertest"])) == [
        "test_",
        None,
    ]
    # a group that took no part in the match is NULL, as Java's Matcher.group reports it
    assert call("REGEXP_EXTRACT", lit(t.STRING, "(a)?b"), col(t.STRING, ["b", "ab"]), lit(t.INT, 1)) == [None, "a"]
    assert call("REGEXP_EXTRACT", lit(t.STRING, "(a)"), col(t.STRING, ["a"]), lit(t.INT, 5)) == [None]
    assert call("REGEXP_EXTRACT", lit(t.STRING, "(?<first>é+)(l+)"), col(t.STRING, ["xéélly"]), lit(t.INT, 2)) == ["ll"]


def test_regexp_extract_backreference_falls_back_to_python() -> None:
    assert call("REGEXP_EXTRACT", lit(t.STRING, "(\\w)\\1"), col(t.STRING, ["abccd", "abc"])) == ["cc", None]


def test_regexp_extract_all() -> None:
    got = call("REGEXP_EXTRACT_ALL", lit(t.STRING, "(\\w+) (\\w*)"), col(t.STRING, ["apurva mehta agavra ", "x", None]),
               lit(t.INT, 2))
    assert got == [["mehta", ""], [], None]


def test_regexp_replace_java_replacement_syntax() -> None:
    values = col(t.STRING, ["baababaa", "baabbabaa", None])
    assert call("REGEXP_REPLACE", values, lit(t.STRING, "(ab)+"), lit(t.STRING, "cat")) == ["bacataa", "bacatbcataa", None]
    assert call("REGEXP_REPLACE", col(t.STRING, ["john smith"]), lit(t.STRING, "(\\w+) (\\w+)"),
                lit(t.STRING, "$2, $1 \\$")) == ["smith, john $"]
    with pytest.raises(FunctionError, match="Invalid regular expression"):
        call("REGEXP_REPLACE", col(t.STRING, ["x"]), lit(t.STRING, "("), lit(t.STRING, ""))


def test_regexp_split_to_array() -> None:
    values = col(t.STRING, ["aabcda", "aabdcda", "zxy", None])
    assert call("REGEXP_SPLIT_TO_ARRAY", values, lit(t.STRING, "(ab|cd)")) == [
        ["a", "", "a"], ["a", "d", "a"], ["zxy"], None,
    ]
    assert call("REGEXP_SPLIT_TO_ARRAY", col(t.STRING, ["abc", ""]), lit(t.STRING, "")) == [["a", "b", "c"], [""]]
    assert call("REGEXP_SPLIT_TO_ARRAY", col(t.STRING, [",a,,"]), lit(t.STRING, ",")) == [["", "a", "", ""]]


def test_to_bytes_and_from_bytes() -> None:
    assert call("TO_BYTES", col(t.STRING, ["1aB2", None]), lit(t.STRING, "hex")) == [b"\x1a\xb2", None]
    assert call("FROM_BYTES", col(t.BYTES, [b"\x1a\xb2"]), lit(t.STRING, "HEX")) == ["1AB2"]
    assert call("TO_BYTES", col(t.STRING, ["héllo"]), lit(t.STRING, "ascii")) == [b"h?llo"]
    assert call("FROM_BYTES", col(t.BYTES, [b"h\xe9llo"]), lit(t.STRING, "ascii")) == ["h\ufffdllo"]
    assert call("FROM_BYTES", col(t.BYTES, [b"h\xe9llo", "é".encode()]), lit(t.STRING, "utf8")) == ["h\ufffdllo", "é"]
    long_bytes = bytes(range(100))
    encoded = call("FROM_BYTES", col(t.BYTES, [long_bytes]), lit(t.STRING, "base64"))[0]
    assert "\r\n" in encoded and base64.b64decode(encoded.replace("\r\n", "")) == long_bytes
    assert call("TO_BYTES", col(t.STRING, ["IQ", "I Q=="]), lit(t.STRING, "base64")) == [b"!", b"!"]
    with pytest.raises(FunctionError, match="Unknown encoding"):
        call("TO_BYTES", col(t.STRING, ["x"]), lit(t.STRING, "rot13"))
    assert call_rows("TO_BYTES", col(t.STRING, ["zz", "00"]), lit(t.STRING, "hex")) == [None, b"\x00"]


def test_encode_conversions() -> None:
    hexes = col(t.STRING, ["4578616d706C6521", "0x4578616d706C6521", "X'4578616d706C6521'", "0x578616d706C6521",
                          "0x", "x''"])
    assert call("ENCODE", hexes, lit(t.STRING, "hex"), lit(t.STRING, "utf8")) == [
        "Example!", "Example!", "Example!", "\x05xample!", "", "",
    ]
    assert call_rows("ENCODE", col(t.STRING, ["0x0x", "578616d706C6521"]), lit(t.STRING, "hex"),
                     lit(t.STRING, "ascii")) == [None, None]
    assert call("ENCODE", col(t.STRING, ["Ελλάδα"]), lit(t.STRING, "ascii"), lit(t.STRING, "hex")) == ["3f3f3f3f3f3f"]
    assert call("ENCODE", col(t.STRING, ["zpXOu867zqzOtM6x"]), lit(t.STRING, "base64"), lit(t.STRING, "utf8")) == [
        "Ελλάδα"
    ]
    assert call("ENCODE", col(t.STRING, ["x"]), lit(t.STRING, None), lit(t.STRING, "hex")) == [None]
    with pytest.raises(FunctionError, match="Supported input and output encodings"):
        call("ENCODE", col(t.STRING, ["x"]), lit(t.STRING, "hex"), lit(t.STRING, "rot13"))


def test_numbers_from_bytes() -> None:
    assert call("INT_FROM_BYTES", col(t.BYTES, [b"\x00\x00\x07\xe5", None])) == [2021, None]
    assert call("INT_FROM_BYTES", col(t.BYTES, [b"\xe5\x07\x00\x00"]), lit(t.STRING, "LITTLE_ENDIAN")) == [2021]
    assert call("BIGINT_FROM_BYTES", col(t.BYTES, [base64.b64decode("AAAAASoF8gA=")])) == [5000000000]
    assert call("DOUBLE_FROM_BYTES", col(t.BYTES, [base64.b64decode("QICm/ZvJ9YI=")])) == [532.8738323]
    assert call_rows("INT_FROM_BYTES", col(t.BYTES, [b"\x00", b"\x00\x00\x00\x01"])) == [None, 1]
    with pytest.raises(FunctionError, match="Byte order"):
        call("INT_FROM_BYTES", col(t.BYTES, [b"\x00\x00\x00\x01"]), lit(t.STRING, "MIDDLE_ENDIAN"))


def test_coalesce_ifnull_nullif() -> None:
    assert call("COALESCE", col(t.INT, [None, 1, None]), col(t.INT, [2, 3, None]), lit(t.INT, None)) == [2, 1, None]
    arrays = call("COALESCE", col(t.Array(t.INT), [None, [1]]), lit(t.Array(t.INT), [10, 20]))
    assert arrays == [[10, 20], [1]]
    assert call("IFNULL", col(t.STRING, [None, "a"]), lit(t.STRING, "x")) == ["x", "a"]
    assert call("NULLIF", col(t.INT, [1, 2, None]), lit(t.INT, 1)) == [None, 2, None]
    assert call("NULLIF", col(t.DOUBLE, [float("nan")]), lit(t.DOUBLE, float("nan"))) == [None]
    assert call("NULLIF", col(t.Array(t.INT), [[1], [2]]), lit(t.Array(t.INT), [1])) == [None, [2]]


def test_coalesce_needs_one_type() -> None:
    with pytest.raises(PlanError, match="Function 'COALESCE' does not accept parameters \\(\\)"):
        resolve("COALESCE")
    with pytest.raises(PlanError, match="does not accept parameters \\(INTEGER, BIGINT\\)"):
        resolve("COALESCE", col(t.INT, []), col(t.BIGINT, []))


def test_greatest_least_values() -> None:
    assert call("LEAST", col(t.INT, [2, None]), col(t.INT, [-3, None]), lit(None, None), lit(t.INT, 5)) == [-3, 5]
    assert call("GREATEST", col(t.STRING, ["apple", "Zebra"]), col(t.STRING, ["banana", "!"])) == ["banana", "Zebra"]
    got = call("GREATEST", col(t.DOUBLE, [1.0, float("nan")]), col(t.DOUBLE, [2.0, 3.0]))
    assert got[0] == 2.0 and math.isnan(got[1])


def test_greatest_least_resolution_follows_ksqldb() -> None:
    with pytest.raises(PlanError, match="Function 'least' cannot be resolved due to ambiguous method parameters "
                                        "\\(INTEGER, BIGINT\\)"):
        resolve("LEAST", col(t.INT, []), col(t.BIGINT, []))
    with pytest.raises(PlanError, match="ambiguous method parameters \\(null, null\\)"):
        resolve("LEAST", lit(None, None), lit(None, None))
    with pytest.raises(PlanError, match="Function 'least' does not accept parameters \\(STRING, INTEGER\\)"):
        resolve("LEAST", col(t.STRING, []), col(t.INT, []))
    mixed = resolve("LEAST", col(t.INT, []), col(t.BIGINT, []), col(t.Decimal(30, 18), []), col(t.DOUBLE, []))
    assert mixed.return_type == t.DOUBLE
    decimals = resolve("LEAST", col(t.Decimal(9, 2), []), col(t.Decimal(7, 6), []))
    assert decimals.return_type == t.Decimal(13, 6)
    dates = resolve("LEAST", col(t.DATE, []), lit(t.STRING, "2022-06-14"))
    assert dates.return_type == t.DATE and dates.param_types == (t.DATE, t.DATE)


def test_least_decimal_values_widen() -> None:
    got = call("LEAST", col(t.Decimal(9, 2), [D("1234567.89")]), col(t.Decimal(7, 6), [D("0.123456")]))
    assert got == [D("0.123456")]


def test_untyped_nulls_do_not_widen_decimal_results() -> None:
    decimal_type = t.Decimal(9, 3)
    resolved = resolve("LEAST", col(decimal_type, []), col(decimal_type, []), lit(None, None))
    assert resolved.return_type == decimal_type
    from headwater.engine.functions.conditional import widen_decimals

    assert widen_decimals((t.INT, t.Decimal(5, 2), None)) == t.Decimal(12, 2)

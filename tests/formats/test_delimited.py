"""DELIMITED keys and values: Commons CSV parsing and quoting, Java field parsing, and the fast path.

Expected texts come from ksqlDB's conformance cases (date.json's ``"-10"``, bytes-and-strings.json's
``"!",IQ==,"!"``, string.json's quoted white space, decimal.json's kept trailing zeros).
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headwater.engine.formats import DELIMITED, from_python, to_python
from headwater.engine.formats.delimited import CsvSyntaxError, parse_record
from headwater.parser import types as t

D = decimal.Decimal


def decode(
    columns: Sequence[tuple[str, t.SqlType]], records: Sequence[bytes | None], delimiter: str | None = None
) -> Any:
    return DELIMITED.decoder(columns, is_key=False, delimiter=delimiter).decode(
        pa.array(records, pa.binary()), topic="t"
    )


def values(result: Any, columns: Sequence[tuple[str, t.SqlType]]) -> list[list[Any]]:
    cols = [to_python(result.table.column(i), sql_type) for i, (_, sql_type) in enumerate(columns)]
    return [list(row) for row in zip(*cols)]


def encode(
    columns: Sequence[tuple[str, t.SqlType]], arrays: Sequence[pa.Array], delimiter: str | None = None
) -> list[Any]:
    return DELIMITED.encoder(columns, is_key=False, delimiter=delimiter).encode(arrays).data.to_pylist()


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        ("a,b", ["a", "b"]),
        ('"a,b",c', ["a,b", "c"]),
        ('"a""b" , c', ['a"b', " c"]),
        ("\n\na,b\nc,d", ["a", "b"]),  # empty lines skipped, first record only
        ("a,", ["a", ""]),
        ('a,""', ["a", ""]),
        ('a"b,c', ['a"b', "c"]),  # a quote inside an unquoted field is literal
        (" a , b ", [" a ", " b "]),
        ("", None),
        ("\r\n", None),
    ],
)
def test_commons_csv_splitting(text: str, fields: list[str] | None) -> None:
    assert parse_record(text, ",") == fields


def test_commons_csv_errors() -> None:
    with pytest.raises(CsvSyntaxError, match="EOF reached before encapsulated token finished"):
        parse_record('"abc', ",")
    with pytest.raises(CsvSyntaxError, match="invalid char between encapsulated token and delimiter"):
        parse_record('"a"x,b', ",")


COLUMNS = [("ID", t.INT), ("NAME", t.STRING), ("D", t.DOUBLE), ("B", t.BOOLEAN), ("DEC", t.Decimal(4, 2))]


def test_decoding_java_rules() -> None:
    records = [
        b"1,a,1.5,true,1.5",
        b"2,,  2.5 ,TRUE,",  # empty is null; parseDouble trims; parseBoolean ignores case
        b"3,b,NaN,yes,10",  # yes is false for Boolean.parseBoolean
        b'4,"q,""q""",1e400,false,0.10',
        None,
    ]
    result = decode(COLUMNS, records)
    assert not result.failed.any()
    rows = values(result, COLUMNS)
    assert rows[0] == [1, "a", 1.5, True, D("1.50")]
    assert rows[1] == [2, None, 2.5, True, None]
    assert rows[2][:2] == [3, "b"] and math.isnan(rows[2][2]) and rows[2][3:] == [False, D("10.00")]
    assert rows[3] == [4, 'q,"q"', math.inf, False, D("0.10")]
    assert result.null_record.tolist() == [False, False, False, False, True]


def test_decoding_errors() -> None:
    records = [
        b"x,a,1,true,1",
        b"1,2",
        b"",
        b"1,a,1,true,1.234",
        b'"1,a',
        b"1,a,1,true,123",
        b" 1,a,1,true,1",
    ]
    result = decode(COLUMNS, records)
    assert result.failed.tolist() == [True] * 7
    causes = [error.causes[0] for error in result.errors]
    assert all(error.message == "Error deserializing delimited" for error in result.errors)
    assert causes == [
        'For input string: "x"',
        "Column count mismatch on deserialization. topic: t, expected: 5, got: 2",
        "No fields in record",
        "Cannot fit decimal '1.234' into DECIMAL(4, 2) without rounding. (Requires 4,3)",
        "(startline 1) EOF reached before encapsulated token finished",
        "Numeric field overflow: A field with precision 4 and scale 2 must round to an absolute value less than 10^2. Got 123",
        'For input string: " 1"',  # Integer.parseInt does not trim
    ]


def test_other_types() -> None:
    columns = [("T", t.TIMESTAMP), ("DT", t.DATE), ("TM", t.TIME), ("BY", t.BYTES), ("BI", t.BIGINT)]
    result = decode(columns, [b"10,-10,10,dmFyaWF0aW9ucw==,10000000000", b"1,2,86400001,a,1"])
    assert values(result, columns)[0] == [10, -10, 10, b"variations", 10000000000]
    assert result.failed.tolist() == [False, True]
    assert result.errors[0].causes == (
        "Time values must use number of milliseconds greater than 0 and less than 86400000.",
    )


def test_custom_delimiters() -> None:
    columns = [("A", t.STRING), ("B", t.INT)]
    assert values(decode(columns, [b"x|1", b'"a|b"|2'], delimiter="|"), columns) == [["x", 1], ["a|b", 2]]
    assert values(decode(columns, [b"x\t1"], delimiter="\t"), columns) == [["x", 1]]
    assert values(decode(columns, [b"x 7", b"a,b 2"], delimiter=" "), columns) == [["x", 7], ["a,b", 2]]
    assert encode(columns, [pa.array(["a|b", "c"]), pa.array([1, 2], pa.int32())], delimiter="|") == [
        b'"a|b"|1',
        b"c|2",
    ]


def test_fast_path_and_fallback() -> None:
    clean = [f"{i},name{i},{i}.5,true,1.25".encode() for i in range(10_000)]
    result = decode(COLUMNS, clean)
    assert result.fast_rows == 10_000 and result.fallback_rows == 0
    dirty = list(clean)
    dirty[10] = b'10,"quoted, name",10.5,true,1.25'
    dirty[20] = b"bad,row"
    dirty[30] = b"x,a,1,true,1"
    result = decode(COLUMNS, dirty)
    assert result.failed.nonzero()[0].tolist() == [20, 30]
    assert result.fallback_rows == 1 and result.fast_rows == 9_997
    assert values(result, COLUMNS)[10] == [10, "quoted, name", 10.5, True, D("1.25")]


def test_a_single_null_column_writes_an_empty_value_that_reads_back_as_an_error() -> None:
    # ksqlDB writes "" for a record whose one column is null; Commons CSV finds no record in it
    encoded = DELIMITED.encoder([("V", t.INT)], is_key=False).encode([pa.array([None, 1], pa.int32())]).data
    assert encoded.to_pylist() == [b"", b"1"]
    result = DELIMITED.decoder([("V", t.INT)], is_key=False).decode(encoded)
    assert result.failed.tolist() == [True, False]


def test_encoding_matches_ksql_output() -> None:
    columns = [("S", t.STRING), ("B", t.BYTES), ("S1", t.STRING)]
    arrays = [pa.array(["!", "#", "1AB2"]), pa.array([b"!", b"#", b"\x1a\xb2"]), pa.array(["!", "#", "1AB2"])]
    assert encode(columns, arrays) == [b'"!",IQ==,"!"', b'"#",Iw==,"#"', b"1AB2,GrI=,1AB2"]
    first_negative = encode([("D", t.DATE)], [pa.array([10, -10], pa.int32()).cast(pa.date32())])
    assert first_negative == [b"10", b'"-10"']
    spaces = [("A", t.STRING), ("B", t.STRING), ("C", t.STRING), ("D", t.STRING)]
    texts = [
        pa.array([" \t with white space \t"]),
        pa.array([" \t WITH WHITE SPACE \t"]),
        pa.array(["with white space"]),
        pa.array(["\t wit"]),
    ]
    assert encode(spaces, texts) == [
        b'" \t with white space \t"," \t WITH WHITE SPACE \t",with white space,"\t wit"'
    ]
    numbers = [("I", t.INT), ("D", t.DOUBLE), ("N", t.Decimal(6, 4)), ("B", t.BOOLEAN), ("E", t.STRING)]
    arrays = [
        pa.array([0, None], pa.int32()),
        pa.array([4.9e-324, 1e7]),
        pa.array([D("10.0000"), None], pa.decimal128(6, 4)),
        pa.array([True, None]),
        pa.array(["", ""]),
    ]
    assert encode(numbers, arrays) == [b"0,4.9E-324,10.0000,true,", b",1.0E7,,,"]
    assert encode([("E", t.STRING)], [pa.array(["", None])]) == [b'""', b""]


row_values = st.fixed_dictionaries(
    {
        "I": st.none() | st.integers(min_value=-(2**31), max_value=2**31 - 1),
        "S": st.none() | st.text(alphabet=st.characters(blacklist_categories=["Cs"]), min_size=1),
        "D": st.none() | st.floats(allow_nan=False),
        "N": st.none() | st.decimals(min_value=-99, max_value=99, places=2, allow_nan=False),
        "B": st.none() | st.booleans(),
    }
)
ROUND_TRIP = [("I", t.INT), ("S", t.STRING), ("D", t.DOUBLE), ("N", t.Decimal(4, 2)), ("B", t.BOOLEAN)]


@settings(max_examples=80, deadline=None)
@given(st.lists(row_values, min_size=1, max_size=40), st.sampled_from([",", "|", "\t", ";"]))
def test_encode_then_decode_gives_the_columns_back(data: list[dict[str, Any]], delimiter: str) -> None:
    arrays = [from_python([row[name] for row in data], sql_type) for name, sql_type in ROUND_TRIP]
    encoded = DELIMITED.encoder(ROUND_TRIP, is_key=False, delimiter=delimiter).encode(arrays).data
    result = DELIMITED.decoder(ROUND_TRIP, is_key=False, delimiter=delimiter).decode(encoded)
    assert not result.failed.any(), result.errors
    for index, (_, sql_type) in enumerate(ROUND_TRIP):
        got = to_python(result.table.column(index), sql_type)
        want = to_python(arrays[index], sql_type)
        for g, w in zip(got, want):
            if sql_type == t.DOUBLE and w is not None and w == 0:
                assert g == 0  # -0.0 reads back as 0.0 or -0.0 alike
            else:
                assert g == w



def test_a_multi_column_key_is_a_null_key_only_when_marked() -> None:
    columns = [("K", t.INT), ("K2", t.STRING)]
    arrays = [pa.array([None, None], pa.int32()), pa.array(["a", None])]
    encoder = DELIMITED.encoder(columns, is_key=True)
    assert encoder.encode(arrays).data.to_pylist() == [b",a", b","]
    assert encoder.encode(arrays, null_record=np.array([False, True])).data.to_pylist() == [b",a", None]

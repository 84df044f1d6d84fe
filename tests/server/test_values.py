"""Query values on the wire: every SQL type encodes to ksqlDB's JSON and decodes back to exactly the
value the embedded engine gives."""

from __future__ import annotations

import datetime as dt
import decimal
import json

from hypothesis import given
from hypothesis import strategies as st

from headwater.parser import parse_type
from headwater.server.values import dumps, loads_exact, parse_column_types, row_decoder, row_encoder

TYPES = [
    "INTEGER",
    "BIGINT",
    "DOUBLE",
    "DECIMAL(10, 3)",
    "STRING",
    "BOOLEAN",
    "TIMESTAMP",
    "DATE",
    "TIME",
    "BYTES",
    "ARRAY<DECIMAL(4, 2)>",
    "MAP<STRING, TIMESTAMP>",
    "STRUCT<`A` BYTES, `B` ARRAY<INTEGER>>",
]

ENGINE_ROW = (
    7,
    9007199254740993,
    0.1,
    decimal.Decimal("1234567.125"),
    "tea",
    True,
    dt.datetime(2020, 1, 1, 10, 11, 12, 345000),
    dt.date(2020, 1, 2),
    dt.time(1, 2, 3),
    b"\x00\x01",
    [decimal.Decimal("1.50"), None],
    [("k", dt.datetime(1999, 12, 31, 23, 59, 59))],
    {"A": b"\xff", "B": [1, 2]},
)


def test_engine_row_to_ksqldb_json_and_back() -> None:
    types = parse_column_types(TYPES)
    text = dumps(row_encoder(types)(ENGINE_ROW)).decode()
    assert text == (
        '[7,9007199254740993,0.1,1234567.125,"tea",true,"2020-01-01T10:11:12.345","2020-01-02","01:02:03",'
        '"AAE=",[1.50,null],{"k":"1999-12-31T23:59:59.000"},{"A":"/w==","B":[1,2]}]'
    )
    assert row_decoder(types)(loads_exact(text)) == ENGINE_ROW


def test_nulls_pass_everywhere() -> None:
    types = parse_column_types(TYPES)
    nulls = (None,) * len(TYPES)
    assert json.loads(dumps(row_encoder(types)(nulls))) == [None] * len(TYPES)
    assert row_decoder(types)([None] * len(TYPES)) == nulls


def test_an_unparsable_type_degrades_to_text() -> None:
    assert parse_column_types(["NOT A TYPE<"]) == [parse_type("STRING")]


@given(
    st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31)).map(
        lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)
    ),
    st.binary(max_size=20),
)
def test_round_trip_is_exact(value: decimal.Decimal, number: float, when: dt.datetime, raw: bytes) -> None:
    types = parse_column_types(["DECIMAL(20, 4)", "DOUBLE", "TIMESTAMP", "BYTES"])
    row = (value, number, when, raw)
    assert row_decoder(types)(loads_exact(dumps(row_encoder(types)(row)))) == row

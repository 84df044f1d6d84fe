"""headwater.testing: the text format for test batches reads and prints every SQL type family."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest

from headwater.testing import from_pretty, to_pretty


def test_types_nulls_and_quotes() -> None:
    batch = from_pretty(
        """
        K:BIGINT  OK:BOOLEAN  D:DATE      S:STRUCT<A INT, B STRING>  M:MAP<STRING, INT>  X:DOUBLE
        1         true        2020-01-02  {"A":1,"B":"x"}            {"k":2}             1.5
        .         false       .           .                          {}                  "2.5"
        """
    )
    assert batch.schema.field("S").type == pa.struct([pa.field("A", pa.int32()), pa.field("B", pa.string())])
    assert batch.to_pydict() == {
        "K": [1, None],
        "OK": [True, False],
        "D": [dt.date(2020, 1, 2), None],
        "S": [{"A": 1, "B": "x"}, None],
        "M": [[("k", 2)], []],
        "X": [1.5, 2.5],
    }


def test_round_trip_through_to_pretty() -> None:
    text = 'N:STRING  P:DECIMAL(3, 1)\n"a b"     1.0\n"""q"""   .'
    batch = from_pretty(text)
    assert batch.column("N").to_pylist() == ["a b", '"q"']
    assert batch.column("P").to_pylist() == [Decimal("1.0"), None]
    assert from_pretty(to_pretty(batch)).equals(batch)


def test_bad_rows_name_the_line() -> None:
    with pytest.raises(ValueError, match="line 3: 1 cells for 2 columns"):
        from_pretty("A:INT B:INT\n1 2\n3")
    with pytest.raises(ValueError, match="needs a type"):
        from_pretty("A B:INT\n1 2")

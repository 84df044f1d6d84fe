"""KAFKA (Kafka's primitive serializers), NONE (no data), windowed keys (Kafka Streams' layout), and the
Python-value helpers."""

from __future__ import annotations

import decimal
import struct
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headwater.engine.formats import (
    KAFKA,
    NONE,
    from_python,
    get_format,
    to_python,
    unwrap_session_windows,
    unwrap_time_windows,
    wrap_session_windows,
    wrap_time_windows,
)
from headwater.errors import PlanError
from headwater.parser import types as t


def kafka_decode(sql_type: t.SqlType, records: Sequence[bytes | None]) -> Any:
    return KAFKA.decoder([("V", sql_type)], is_key=True).decode(pa.array(records, pa.binary()), topic="t")


def test_kafka_fixed_width_numbers() -> None:
    records = [struct.pack(">i", 10), None, struct.pack(">i", -1), b"\x00\x01", struct.pack(">i", 2**31 - 1)]
    result = kafka_decode(t.INT, records)
    assert result.table.column(0).to_pylist() == [10, None, -1, None, 2**31 - 1]
    assert result.null_record.tolist() == [False, True, False, False, False]
    assert result.failed.tolist() == [False, False, False, True, False]
    (error,) = result.errors
    assert error.message == "Error deserializing KAFKA message from topic: t"
    assert error.causes == ("Size of data received by IntegerDeserializer is not 4",)
    longs = kafka_decode(t.BIGINT, [struct.pack(">q", 10_000_000_000), b"1234"])
    assert longs.table.column(0).to_pylist() == [10_000_000_000, None]
    assert longs.errors[0].causes == ("Size of data received by LongDeserializer is not 8",)
    doubles = kafka_decode(t.DOUBLE, [struct.pack(">d", 10.1), struct.pack(">d", float("-inf"))])
    assert doubles.table.column(0).to_pylist() == [10.1, float("-inf")]


def test_kafka_strings_and_bytes() -> None:
    strings = kafka_decode(t.STRING, [b"Hello", "é".encode(), b"\xff", None, b""])
    assert strings.table.column(0).to_pylist() == ["Hello", "é", "\ufffd", None, ""]
    raw = kafka_decode(t.BYTES, [b"dmFy", None])
    assert raw.table.column(0).to_pylist() == [b"dmFy", None]


def test_kafka_encoding() -> None:
    encoder = KAFKA.encoder([("V", t.INT)], is_key=False)
    assert encoder.encode([pa.array([10, None, -1], pa.int32())]).data.to_pylist() == [
        b"\x00\x00\x00\n",
        None,
        b"\xff\xff\xff\xff",
    ]
    doubles = KAFKA.encoder([("V", t.DOUBLE)], is_key=False).encode(
        [pa.array([1.5])], null_record=np.array([False])
    )
    assert doubles.data.to_pylist() == [struct.pack(">d", 1.5)]
    strings = KAFKA.encoder([("V", t.STRING)], is_key=False).encode(
        [pa.array(["bar", "x"])], null_record=np.array([False, True])
    )
    assert strings.data.to_pylist() == [b"bar", None]


@settings(max_examples=50, deadline=None)
@given(
    st.sampled_from([t.INT, t.BIGINT, t.DOUBLE, t.STRING, t.BYTES]),
    st.data(),
)
def test_kafka_round_trip(sql_type: t.SqlType, data: st.DataObject) -> None:
    strategies: dict[t.SqlType, st.SearchStrategy[Any]] = {
        t.INT: st.integers(min_value=-(2**31), max_value=2**31 - 1),
        t.BIGINT: st.integers(min_value=-(2**63), max_value=2**63 - 1),
        t.DOUBLE: st.floats(allow_nan=False),
        t.STRING: st.text(alphabet=st.characters(blacklist_categories=["Cs"])),
        t.BYTES: st.binary(),
    }
    element = strategies[sql_type]
    values = data.draw(st.lists(st.none() | element, max_size=30))
    column = from_python(values, sql_type)
    encoded = KAFKA.encoder([("V", sql_type)], is_key=False).encode([column]).data
    result = KAFKA.decoder([("V", sql_type)], is_key=False).decode(encoded)
    assert to_python(result.table.column(0), sql_type) == values
    assert result.null_record.tolist() == [v is None for v in values]


def test_kafka_without_columns_ignores_bytes() -> None:
    result = KAFKA.decoder([], is_key=True).decode(pa.array([b"ignored", None]))
    assert result.table.num_columns == 0 and result.null_record.all()
    assert KAFKA.encoder([], is_key=True).encode(pa.table({"x": [1, 2]}).select([])).data.to_pylist() == [
        None,
        None,
    ]


def test_none_reads_nothing_and_writes_null() -> None:
    result = NONE.decoder([], is_key=True).decode(pa.array([b"data that should be ignored", None]))
    assert result.null_record.tolist() == [True, True] and not result.failed.any()
    assert NONE.encoder([], is_key=True).encode(
        [], null_record=np.array([False, False])
    ).data.to_pylist() == [None, None]
    assert get_format("json").decoder([], is_key=True).decode(pa.array([b"x"])).null_record.tolist() == [True]


def test_time_windowed_keys() -> None:
    inner = pa.array([b"k", None, b"", b"longer key"])
    starts = pa.array([1000, 0, 5, -7], pa.int64())
    data = wrap_time_windows(inner, starts)
    assert data.to_pylist()[0] == b"k" + struct.pack(">q", 1000)
    assert data.to_pylist()[1] is None and data.to_pylist()[2] == struct.pack(">q", 5)
    keys = unwrap_time_windows(data, window_size_ms=30_000)
    assert keys.inner.to_pylist() == [b"k", None, b"", b"longer key"]
    assert keys.start.to_pylist() == [1000, None, 5, -7]
    assert keys.end.to_pylist() == [31000, None, 30005, 29993]


def test_session_windowed_keys() -> None:
    data = wrap_session_windows(pa.array([b"\x00\x00\x00\x00"]), pa.array([0]), pa.array([10009]))
    assert data.to_pylist() == [b"\x00\x00\x00\x00" + struct.pack(">q", 10009) + struct.pack(">q", 0)]
    keys = unwrap_session_windows(data)
    assert (keys.inner.to_pylist(), keys.start.to_pylist(), keys.end.to_pylist()) == (
        [b"\x00\x00\x00\x00"],
        [0],
        [10009],
    )
    short = unwrap_session_windows(pa.array([b"1234"]))
    assert short.inner.to_pylist() == [None] and short.errors[0].row == 0


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.none() | st.binary(max_size=20),
            st.integers(min_value=-(2**62), max_value=2**62),
            st.integers(min_value=0, max_value=2**40),
        ),
        max_size=30,
    )
)
def test_windowed_keys_round_trip(rows: list[tuple[bytes | None, int, int]]) -> None:
    inner = pa.array([r[0] for r in rows], pa.binary())
    start = pa.array([r[1] for r in rows], pa.int64())
    end = pa.array([r[1] + r[2] for r in rows], pa.int64())
    keys = unwrap_session_windows(wrap_session_windows(inner, start, end))
    assert keys.inner.to_pylist() == inner.to_pylist()
    present = [r[0] is not None for r in rows]
    assert [s for s, p in zip(keys.start.to_pylist(), present) if p] == [
        r[1] for r in rows if r[0] is not None
    ]
    assert [e for e, p in zip(keys.end.to_pylist(), present) if p] == [
        r[1] + r[2] for r in rows if r[0] is not None
    ]


def test_python_values_round_trip_and_errors() -> None:
    struct_type = t.Struct(
        (("A", t.INT), ("M", t.Map(t.STRING, t.Array(t.Decimal(4, 2)))), ("T", t.TIMESTAMP))
    )
    values = [{"a": 1, "M": {"k": [decimal.Decimal("1.5"), None]}, "T": 10}, None]
    column = from_python(values, struct_type)
    assert to_python(column, struct_type) == [
        {"A": 1, "M": {"k": [decimal.Decimal("1.50"), None]}, "T": 10},
        None,
    ]
    assert to_python(from_python([10, None], t.DATE), t.DATE) == [10, None]
    assert to_python(from_python(["aGk="], t.BYTES), t.BYTES) == [b"hi"]
    with pytest.raises(PlanError, match=r"Cannot convert '10' to INTEGER"):
        from_python(["10"], t.INT)
    with pytest.raises(PlanError, match=r"does not fit"):
        from_python([decimal.Decimal("123")], t.Decimal(4, 2))
    with pytest.raises(PlanError, match=r"would need rounding"):
        from_python([decimal.Decimal("1.234")], t.Decimal(4, 2))
    with pytest.raises(PlanError, match="out of range"):
        from_python([2**31], t.INT)

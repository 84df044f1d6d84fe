"""The harness serdes: value specs to bytes and back, per format, and windowed key framing (FORMAT.md §6)."""

from __future__ import annotations

import struct
from decimal import Decimal

import pytest

from headwater.conformance.model import WindowSpec, WindowType
from headwater.conformance.serde import SerdeFailure, TopicSerdes, json_bytes_to_spec, spec_to_json_bytes
from headwater.engine.catalog import DataSource, FormatSpec, SourceType, WindowInfo
from headwater.engine.catalog import WindowType as SourceWindowType
from headwater.engine.schema import Column, LogicalSchema, Namespace
from headwater.parser import types as t


def _source(
    key_format: str = "KAFKA",
    value_format: str = "JSON",
    key: tuple[t.SqlType, ...] = (t.STRING,),
    value: tuple[t.SqlType, ...] = (t.INT,),
    window: WindowInfo | None = None,
) -> DataSource:
    columns = [Column(f"K{i}", ty, Namespace.KEY) for i, ty in enumerate(key)]
    columns += [Column(f"V{i}", ty) for i, ty in enumerate(value)]
    return DataSource(
        name="S",
        kind=SourceType.STREAM,
        schema=LogicalSchema(tuple(columns)),
        topic="s",
        key_format=FormatSpec(key_format),
        value_format=FormatSpec(value_format),
        window=window,
    )


def test_json_keeps_decimal_scale_and_quotes_strings() -> None:
    spec = {"a": Decimal("1.50"), "b": [1, None, True], "c": 'x"y', "d": {"e": Decimal("1E+3")}}
    assert spec_to_json_bytes(spec) == b'{"a":1.50,"b":[1,null,true],"c":"x\\"y","d":{"e":1E+3}}'
    assert spec_to_json_bytes("abc") == b'"abc"'
    assert spec_to_json_bytes(None) is None
    assert spec_to_json_bytes("é") == '"é"'.encode()


def test_json_reads_exact_decimals_or_floats() -> None:
    assert json_bytes_to_spec(b'{"V": 1.50, "W": 2}', exact_decimals=True) == {"V": Decimal("1.50"), "W": 2}
    assert json_bytes_to_spec(b'{"V": 1.50}', exact_decimals=False) == {"V": 1.5}
    with pytest.raises(SerdeFailure, match="not JSON"):
        json_bytes_to_spec(b"{", exact_decimals=True)


def test_json_topic_round_trip() -> None:
    serdes = TopicSerdes(_source(key_format="JSON"))
    key = serdes.serialize_key({"K0": "a"}, None)
    assert serdes.deserialize_key(key) == ({"K0": "a"}, None)
    assert serdes.deserialize_value(serdes.serialize_value({"V0": Decimal("2.0")})) == {"V0": Decimal("2.0")}
    assert serdes.serialize_value(None) is None and serdes.deserialize_value(None) is None


def test_delimited_needs_a_string_spec() -> None:
    serdes = TopicSerdes(_source(value_format="DELIMITED"))
    assert serdes.serialize_value("1,foo") == b"1,foo"
    assert serdes.deserialize_value(b"1,foo") == "1,foo"
    with pytest.raises(SerdeFailure, match="Failed to serialize value"):
        serdes.serialize_value(1)


@pytest.mark.parametrize(
    ("sql_type", "spec", "data", "read_back"),
    [
        (t.INT, 10, struct.pack(">i", 10), 10),
        (t.BIGINT, 10, struct.pack(">q", 10), 10),
        (t.BIGINT, Decimal("10.9"), struct.pack(">q", 10), 10),
        (t.DOUBLE, 1, struct.pack(">d", 1.0), Decimal("1.0")),
        (t.DOUBLE, Decimal("1e10"), struct.pack(">d", 1e10), Decimal("1.0E10")),
        (t.STRING, "ab", b"ab", "ab"),
        (t.BYTES, "ab", b"ab", "ab"),
    ],
)
def test_kafka_by_sql_type(sql_type: t.SqlType, spec: object, data: bytes, read_back: object) -> None:
    serdes = TopicSerdes(_source(key=(sql_type,)))
    assert serdes.serialize_key(spec, None) == data
    key, window = serdes.deserialize_key(data)
    assert window is None and key == read_back and type(key) is type(read_back)
    if isinstance(read_back, Decimal):
        assert isinstance(key, Decimal) and key.as_tuple() == read_back.as_tuple()


@pytest.mark.parametrize(
    ("sql_type", "spec", "message"),
    [
        (t.INT, Decimal("1.5"), "cannot be cast to class java.lang.Integer"),
        (t.INT, 2**31, "cannot be cast to class java.lang.Integer"),
        (t.BIGINT, "1", "Can't serialize 1 as Long"),
        (t.STRING, 1, "cannot be cast to class java.lang.String"),
        (t.BOOLEAN, True, "Unsupported type for KAFKA format"),
    ],
)
def test_kafka_rejects_specs_like_java(sql_type: t.SqlType, spec: object, message: str) -> None:
    with pytest.raises(SerdeFailure, match=f"Failed to serialize key: .*{message}"):
        TopicSerdes(_source(key=(sql_type,))).serialize_key(spec, None)


def test_kafka_without_columns_is_a_string_and_multi_columns_fail() -> None:
    assert TopicSerdes(_source(key=())).serialize_key("x", None) == b"x"
    with pytest.raises(SerdeFailure, match="single column"):
        TopicSerdes(_source(key=(t.INT, t.INT))).serialize_key(1, None)
    with pytest.raises(SerdeFailure, match="IntegerDeserializer is not 4"):
        TopicSerdes(_source(key=(t.INT,))).deserialize_key(b"\x00")


def test_none_format_is_always_null() -> None:
    serdes = TopicSerdes(_source(key_format="NONE", key=()))
    assert serdes.serialize_key("ignored", None) is None
    assert serdes.deserialize_key(b"x") == (None, None)


def test_time_windowed_keys_append_the_start_and_derive_the_end() -> None:
    serdes = TopicSerdes(_source(key=(t.INT,), window=WindowInfo(SourceWindowType.TUMBLING, 30000)))
    window = WindowSpec(10, 30010, WindowType.TIME)
    data = serdes.serialize_key(7, window)
    assert data == struct.pack(">i", 7) + struct.pack(">q", 10)
    assert serdes.deserialize_key(data) == (7, window)


def test_session_windowed_keys_append_end_then_start() -> None:
    serdes = TopicSerdes(_source(key=(t.STRING,), window=WindowInfo(SourceWindowType.SESSION)))
    window = WindowSpec(5, 9, WindowType.SESSION)
    data = serdes.serialize_key("a", window)
    assert data == b"a" + struct.pack(">q", 9) + struct.pack(">q", 5)
    assert serdes.deserialize_key(data) == ("a", window)
    assert serdes.deserialize_key(b"" + struct.pack(">q", 9) + struct.pack(">q", 5))[0] == ""


def test_window_mismatches_fail() -> None:
    plain = TopicSerdes(_source())
    with pytest.raises(SerdeFailure, match="not windowed"):
        plain.serialize_key("a", WindowSpec(0, 1, WindowType.TIME))
    windowed = TopicSerdes(_source(window=WindowInfo(SourceWindowType.HOPPING, 10)))
    with pytest.raises(SerdeFailure, match="has no window"):
        windowed.serialize_key("a", None)
    with pytest.raises(SerdeFailure, match="Failed to deserialize key"):
        windowed.deserialize_key(b"abc")

"""JSON keys and values: ksqlDB's deserializer rules, the fast path against the per-row reference,
and byte-exact encoding.

The expected values and messages are ksqlDB's (KsqlJsonDeserializer / JsonSerdeUtils and the
conformance cases: serdes.json, elements.json, decimal.json, date.json, time.json, timestamp.json).
"""

from __future__ import annotations

import decimal
import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headwater.engine.formats import JSON, get_format
from headwater.engine.formats.json_rows import RowCoercer
from headwater.engine.formats.values import to_python
from headwater.parser import types as t

D = decimal.Decimal


def decode(columns: Sequence[tuple[str, t.SqlType]], records: Sequence[bytes | None], **options: Any) -> Any:
    result = JSON.decoder(columns, is_key=options.pop("is_key", False), **options).decode(
        pa.array(records, pa.binary()), topic="t"
    )
    return result


def rows(result: Any, columns: Sequence[tuple[str, t.SqlType]]) -> list[dict[str, Any]]:
    table = result.table
    values = {name: to_python(table.column(name), sql_type) for name, sql_type in columns}
    return [{name: values[name][i] for name, _ in columns} for i in range(table.num_rows)]


# ---------------------------------------------------------------------------------------------------
# ksqlDB's coercions, value by value


VALUE = [("V", t.INT)]

COERCIONS: list[tuple[t.SqlType, str, Any]] = [
    (t.INT, "10", 10),
    (t.INT, '"10"', 10),
    (t.INT, "1.9", 1),  # intValue() truncates
    (t.INT, "-1.9", -1),
    (t.INT, "3000000000", -1294967296),  # and wraps
    (t.BIGINT, "1.5E2", 150),
    (t.BIGINT, '"-12"', -12),
    (t.BIGINT, "18446744073709551617", 1),  # BigInteger.longValue keeps the low bits
    (t.DOUBLE, "1", 1.0),
    (t.DOUBLE, '" 1.5 "', 1.5),  # Double.parseDouble trims
    (t.DOUBLE, '"NaN"', "nan"),
    (t.DOUBLE, "1e400", math.inf),
    (t.DOUBLE, "-0", 0.0),
    (t.STRING, '"x"', "x"),
    (t.STRING, "1.50", "1.50"),  # the number's text, scale kept
    (t.STRING, "1e3", "1E+3"),  # BigDecimal.toString
    (t.STRING, "true", "true"),
    (t.STRING, '{"b":1,"a":[1.0,null]}', '{"b":1,"a":[1.0,null]}'),
    (t.STRING, '[1,"a",null,{"k":2}]', '[1, a, null, {"k":2}]'),
    (t.BOOLEAN, "true", True),
    (t.Decimal(4, 2), "1.5", D("1.50")),
    (t.Decimal(4, 2), '"1.25"', D("1.25")),
    (t.Decimal(4, 2), "10", D("10.00")),
    (t.Decimal(15, 14), "1.12345678901234", D("1.12345678901234")),
    (t.Decimal(21, 19), "10.1234512345123451234", D("10.1234512345123451234")),
    (t.TIMESTAMP, "10", 10),
    (t.TIMESTAMP, '"10"', 10),
    (t.TIMESTAMP, "10.9", 10),
    (t.DATE, "-10", -10),
    (t.TIME, "86400000", 86400000),
    (t.BYTES, '"aGk="', b"hi"),
    (t.Array(t.DOUBLE), '[1, "2.5", null]', [1.0, 2.5, None]),
    (t.Map(t.STRING, t.INT), '{"a": 1, "b": "2"}', {"a": 1, "b": 2}),
    (t.Struct((("F0", t.STRING), ("F1", t.INT))), '{"f0": "bob", "F1": 1, "x": 2}', {"F0": "bob", "F1": 1}),
    (t.INT, "null", None),
]


@pytest.mark.parametrize(("sql_type", "text", "expected"), COERCIONS)
def test_lenient_coercions(sql_type: t.SqlType, text: str, expected: Any) -> None:
    columns = [("V", sql_type)]
    for wrapped in (True, False):
        record = (f'{{"V": {text}}}' if wrapped else text).encode()
        result = decode(columns, [record], wrap_single=None if wrapped else False)
        assert not result.failed.any(), result.errors
        value = rows(result, columns)[0]["V"]
        if expected == "nan":
            assert math.isnan(value)
        else:
            assert value == expected and type(value) is type(expected)


ERRORS: list[tuple[t.SqlType, str, str]] = [
    (t.BOOLEAN, '"true"', "Can't convert type. sourceType: TextNode, requiredType: BOOLEAN, path: $.V"),
    (t.BOOLEAN, "1", "Can't convert type. sourceType: IntNode, requiredType: BOOLEAN, path: $.V"),
    (t.INT, '"1.5"', "Can't coerce string to type. targetType: INTEGER, path: $.V"),
    (t.INT, "true", "Can't convert type. sourceType: BooleanNode, requiredType: INTEGER, path: $.V"),
    (t.BIGINT, "[1]", "Can't convert type. sourceType: ArrayNode, requiredType: BIGINT, path: $.V"),
    (t.DOUBLE, '"abc"', "Can't coerce string to type. targetType: DOUBLE, path: $.V"),
    (
        t.Decimal(4, 2),
        "1.234",
        "Cannot fit decimal '1.234' into DECIMAL(4, 2) without rounding. (Requires 4,3), path: $.V",
    ),
    (
        t.Decimal(4, 2),
        "123",
        "Numeric field overflow: A field with precision 4 and scale 2 must round to an absolute value less than 10^2. Got 123, path: $.V",
    ),
    (
        t.TIME,
        "-1",
        "Time values must use number of milliseconds greater than 0 and less than 86400000., path: $.V",
    ),
    (t.BYTES, '"!!"', "Value is not a valid Base64 encoded string: !!, path: $.V"),
    (t.Array(t.INT), '[1, "x"]', "Can't coerce string to type. targetType: INTEGER, path: $.V[1]"),
    (
        t.Map(t.STRING, t.INT),
        '{"k": true}',
        "Can't convert type. sourceType: BooleanNode, requiredType: INTEGER, path: $.V.k.value",
    ),
    (
        t.Struct((("A", t.INT),)),
        '{"a": {}}',
        "Can't convert type. sourceType: ObjectNode, requiredType: INTEGER, path: $.V.A",
    ),
    (
        t.Struct((("A", t.INT),)),
        "5",
        "Can't convert type. sourceType: IntNode, requiredType: STRUCT<A INT>, path: $.V",
    ),
]


@pytest.mark.parametrize(("sql_type", "text", "message"), ERRORS)
def test_errors_name_the_path_and_types(sql_type: t.SqlType, text: str, message: str) -> None:
    result = decode([("V", sql_type)], [f'{{"V": {text}}}'.encode()])
    assert result.failed.tolist() == [True]
    (error,) = result.errors
    assert error.row == 0
    assert error.message == f"Failed to deserialize value from topic: t. {message}"
    assert error.causes[0] == message


def test_documents_jackson_rejects_or_accepts() -> None:
    columns = [("A", t.INT)]
    records = [
        b"",
        b"5",
        b"[1]",
        b"{bad",
        b'{"A":1} trailing',
        b'{"A":NaN}',
        b"\xff",
        b'{"A":1,"A":2}',
        b"null",
    ]
    result = decode(columns, records)
    assert result.failed.tolist() == [True, True, True, True, False, True, True, False, False]
    assert rows(result, columns)[4] == {"A": 1}  # Jackson reads the first value and ignores the rest
    assert rows(result, columns)[7] == {"A": 2}  # a repeated member: the last wins
    assert result.null_record.tolist()[8] is True  # JSON null is a null record
    assert "sourceType: MissingNode" in result.errors[0].message  # empty input


def test_null_bytes_and_json_null() -> None:
    result = decode(VALUE, [None, b"null", b'{"V":null}'])
    assert result.null_record.tolist() == [True, True, False]
    assert not result.failed.any()
    unwrapped = decode(VALUE, [None, b"null"], wrap_single=False)
    assert unwrapped.null_record.tolist() == [True, False]  # an unwrapped null is a record with a null column


# ---------------------------------------------------------------------------------------------------
# member names


def test_member_names_match_case_insensitively_and_are_learned() -> None:
    columns = [("ID", t.BIGINT), ("NAME", t.STRING)]
    decoder = JSON.decoder(columns, is_key=False)
    batch = pa.array([orjson.dumps({"id": i, "Name": f"n{i}"}) for i in range(5000)])
    first = decoder.decode(batch)
    assert first.fast_rows == 5000 and first.fallback_rows == 0
    assert rows(first, columns)[3] == {"ID": 3, "NAME": "n3"}
    mixed = pa.array([b'{"ID": 1, "name": "a"}', b'{"iD": 2, "NAME": "b"}', b'{"id": 3, "ID": 4}'] * 200)
    second = decoder.decode(mixed)
    assert rows(second, columns)[:3] == [
        {"ID": 1, "NAME": "a"},
        {"ID": 2, "NAME": "b"},
        {"ID": 4, "NAME": None},
    ]
    assert not second.failed.any()


def test_quoted_lower_case_columns_match_exactly() -> None:
    columns = [("name", t.STRING), ("NAME", t.STRING)]
    result = decode(columns, [b'{"name": "low"}', b'{"NAME": "up"}', b'{"Name": "mixed"}'])
    # `name` only matches "name"; NAME matches "NAME", else any member that upper-cases to it
    assert rows(result, columns) == [
        {"name": "low", "NAME": "low"},
        {"name": None, "NAME": "up"},
        {"name": None, "NAME": "mixed"},
    ]


def test_nested_struct_fields_are_case_insensitive_too() -> None:
    columns = [("V0", t.Struct((("F0", t.STRING), ("F1", t.INT)))), ("L", t.Array(t.Struct((("X", t.INT),))))]
    records = [orjson.dumps({"v0": {"f0": "bob", "f1": 1}, "l": [{"x": 1}, None, {"X": 3}]})] * 300
    result = decode(columns, records)
    assert not result.failed.any()
    assert rows(result, columns)[0] == {"V0": {"F0": "bob", "F1": 1}, "L": [{"X": 1}, None, {"X": 3}]}


# ---------------------------------------------------------------------------------------------------
# keys and unwrapped values


def test_single_keys_are_anonymous_values() -> None:
    result = decode([("K", t.STRING)], [b'"hello"', None, b"10"], is_key=True)
    assert rows(result, [("K", t.STRING)]) == [{"K": "hello"}, {"K": None}, {"K": "10"}]
    assert result.null_record.tolist() == [False, True, False]


def test_multi_column_keys_are_objects() -> None:
    columns = [("K1", t.INT), ("K2", t.STRING)]
    result = decode(columns, [b'{"K1": 1, "k2": "a"}'], is_key=True)
    assert rows(result, columns) == [{"K1": 1, "K2": "a"}]


def test_a_multi_column_key_is_a_null_key_only_when_marked() -> None:
    # partition-by.json: PARTITION BY two columns that are both null writes {"ID":null,"AGE":null};
    # multi-col-keys.json: a record that came without a key keeps a null key (the caller marks it)
    columns = [("K", t.INT), ("K2", t.INT)]
    arrays = [pa.array([1, None, None], pa.int32()), pa.array([2, None, None], pa.int32())]
    encoder = JSON.encoder(columns, is_key=True)
    assert encoder.encode(arrays).data.to_pylist() == [
        b'{"K":1,"K2":2}',
        b'{"K":null,"K2":null}',
        b'{"K":null,"K2":null}',
    ]
    marked = encoder.encode(arrays, null_record=np.array([False, False, True])).data.to_pylist()
    assert marked == [b'{"K":1,"K2":2}', b'{"K":null,"K2":null}', None]


def test_unwrapped_struct_value() -> None:
    columns = [("FOO", t.Struct((("F1", t.STRING),)))]
    result = decode(columns, [b'{"F1": "bar"}'], wrap_single=False)
    assert rows(result, columns) == [{"FOO": {"F1": "bar"}}]


def test_maps_take_the_per_row_path() -> None:
    columns = [("M", t.Map(t.STRING, t.DOUBLE))]
    result = decode(columns, [b'{"M": {"a": 1, "b": null}}'] * 10)
    assert result.fallback_rows == 10
    assert rows(result, columns)[0] == {"M": {"a": 1.0, "b": None}}


# ---------------------------------------------------------------------------------------------------
# the fast path


FIVE = [
    ("ID", t.BIGINT),
    ("NAME", t.STRING),
    ("AMOUNT", t.DOUBLE),
    ("ACTIVE", t.BOOLEAN),
    ("TS", t.TIMESTAMP),
]


def clean_batch(n: int) -> list[bytes]:
    return [
        orjson.dumps(
            {
                "ID": i,
                "NAME": f"user{i}",
                "AMOUNT": i * 0.5,
                "ACTIVE": i % 2 == 0,
                "TS": 1_600_000_000_000 + i,
            }
        )
        for i in range(n)
    ]


def test_clean_input_takes_the_fast_path() -> None:
    result = decode(FIVE, clean_batch(20_000))
    assert result.fast_rows == 20_000 and result.fallback_rows == 0
    assert not result.failed.any() and not result.null_record.any()
    assert rows(result, FIVE)[7] == {
        "ID": 7,
        "NAME": "user7",
        "AMOUNT": 3.5,
        "ACTIVE": False,
        "TS": 1_600_000_000_007,
    }


def test_dirty_rows_are_reported_and_the_rest_decoded() -> None:
    records: list[bytes | None] = list(clean_batch(20_000))
    records[5] = b'{"ID": "12", "NAME": 5}'  # lenient: decodes per-row
    records[9_000] = b'{"ID": true}'  # an error
    records[15_000] = b"not json"
    records[17_000] = None
    result = decode(FIVE, records)
    assert result.failed.nonzero()[0].tolist() == [9_000, 15_000]
    assert [e.row for e in result.errors] == [9_000, 15_000]
    assert "sourceType: BooleanNode, requiredType: BIGINT, path: $.ID" in result.errors[0].message
    assert result.null_record.nonzero()[0].tolist() == [17_000]
    decoded = rows(result, FIVE)
    assert decoded[5] == {"ID": 12, "NAME": "5", "AMOUNT": None, "ACTIVE": None, "TS": None}
    assert decoded[19_999]["NAME"] == "user19999"
    # only the chunks holding dirty rows were read one row at a time
    assert result.fast_rows > 19_000 and result.fast_rows + result.fallback_rows == 19_999


def test_rows_with_line_breaks_or_non_standard_tokens_go_per_row() -> None:
    columns = [("A", t.DOUBLE), ("S", t.STRING)]
    records = [b'{"A": 1,\n"S": "x"}', b'{"A": NaN}', b'{"A": 2, "S": "\\u00e9"}', b'{"A": 4}\n{"A": 5}']
    records += [b'{"A": 3}'] * 200
    result = decode(columns, records)
    assert result.failed.tolist()[:4] == [False, True, False, False]
    assert rows(result, columns)[:4] == [
        {"A": 1.0, "S": "x"},
        {"A": None, "S": None},
        {"A": 2.0, "S": "é"},
        {"A": 4.0, "S": None},  # Jackson reads the first document of the record
    ]
    assert result.fast_rows == 201 and result.fallback_rows == 3


# ---------------------------------------------------------------------------------------------------
# the fast path agrees with the per-row reference


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-(10**6), max_value=10**6),
    st.text(max_size=8),
    st.sampled_from(["10", "1.5", "NaN", " 7 ", "aGk=", "true", "2147483648"]),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["a", "A", "b", "B"]), inner, max_size=3)
    ),
    max_leaves=6,
)

MIXED = [
    ("I", t.INT),
    ("B", t.BIGINT),
    ("D", t.DOUBLE),
    ("S", t.STRING),
    ("F", t.BOOLEAN),
    ("N", t.Decimal(6, 3)),
    ("T", t.TIMESTAMP),
    ("L", t.Array(t.INT)),
    ("R", t.Struct((("A", t.INT), ("B", t.STRING)))),
]


def _document(members: dict[str, Any]) -> bytes:
    def render(value: Any) -> str:
        if isinstance(value, D):
            return str(value)
        if isinstance(value, dict):
            return "{" + ",".join(json.dumps(k) + ":" + render(v) for k, v in value.items()) + "}"
        if isinstance(value, list):
            return "[" + ",".join(render(v) for v in value) + "]"
        return json.dumps(value)

    return render(members).encode()


def assert_matches_reference(records: list[bytes], result: Any) -> None:
    reference = RowCoercer(t.Struct(tuple(MIXED)), "value")
    table_rows = rows(result, MIXED)
    for index, record in enumerate(records):
        expected, message, _ = reference.coerce(record, "t")
        if message is not None:
            assert result.failed[index], (record, message)
            assert result.errors[[e.row for e in result.errors].index(index)].message == message
            continue
        assert not result.failed[index], (record, result.errors)
        got = table_rows[index]
        for name, sql_type in MIXED:
            want = expected[name] if expected is not None else None
            if sql_type == t.DOUBLE and isinstance(want, float) and math.isnan(want):
                assert math.isnan(got[name])
            elif isinstance(sql_type, t.Struct) and want is not None:
                assert got[name] == dict(want)
            else:
                assert got[name] == want, (record, name)


def spelled(name: str) -> st.SearchStrategy[str]:
    return st.sampled_from([name, name.lower()])


conforming = st.fixed_dictionaries(
    {},
    optional={
        "I": st.none() | st.integers(min_value=-(2**31), max_value=2**31 - 1),
        "B": st.none() | st.integers(min_value=-(2**63), max_value=2**63 - 1),
        "D": st.none()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.integers(min_value=-(10**6), max_value=10**6),
        "S": st.none() | st.text(max_size=6),
        "F": st.none() | st.booleans(),
        "N": st.none() | st.decimals(min_value=-999, max_value=999, places=3, allow_nan=False),
        "T": st.none() | st.integers(min_value=-(2**62), max_value=2**62),
        "L": st.none() | st.lists(st.none() | st.integers(min_value=0, max_value=99), max_size=3),
        "R": st.none()
        | st.dictionaries(
            st.sampled_from(["A", "a", "B", "b"]),
            st.none() | st.integers(min_value=0, max_value=9),
            max_size=2,
        ),
        "X": st.integers(min_value=0, max_value=5),
    },
).flatmap(lambda doc: st.tuples(*[spelled(k) for k in doc]).map(lambda names: dict(zip(names, doc.values()))))


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(st.lists(conforming, min_size=1, max_size=20))
def test_fast_path_equals_record_by_record_decoding(documents: list[dict[str, Any]]) -> None:
    # R.B holds ints but is declared STRING: those documents fail the fast read and go per-row
    records = [_document(doc) for doc in documents] * 40
    result = decode(MIXED, records)
    assert_matches_reference(records, result)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(["I", "i", "B", "D", "S", "s", "F", "N", "T", "L", "R", "r"]),
            json_values,
            max_size=6,
        ),
        min_size=1,
        max_size=8,
    )
)
def test_dirty_batches_equal_record_by_record_decoding(documents: list[dict[str, Any]]) -> None:
    clean = [orjson.dumps({"I": i, "S": str(i)}) for i in range(300)]
    records = clean + [_document(doc) for doc in documents] + clean
    result = decode(MIXED, records)
    assert result.fast_rows >= 300
    assert_matches_reference(records, result)


ODD_RECORDS = [
    b'{"S":"}',  # ends inside an open string: must not merge with the next record
    b'{","I":1}',
    b'{"I":1}{"I":2}',  # two documents in one record
    b'{"I":1} {"I":2}',
    b"{}",
    b' {"I":3}',
    b'{"I":4} ',
    b'{"I":\n5}',
    b"null",
    b"5",
    b"[1]",
    b'{"S":"a"}}',
    b"{",
    b"}",
]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(ODD_RECORDS), min_size=1, max_size=6), st.randoms(use_true_random=False))
def test_records_that_only_look_like_objects_are_decoded_as_ksqldb_would(odd: list[bytes], rng: Any) -> None:
    clean = [orjson.dumps({"I": i, "S": str(i)}) for i in range(100)]
    records = clean + odd
    rng.shuffle(records)
    result = decode(MIXED, records)
    assert_matches_reference(records, result)


def test_object_records_and_other_records_in_one_batch() -> None:
    objects = [orjson.dumps({"I": i}) for i in range(300)]
    result = decode(MIXED, [b"null", *objects])
    assert result.null_record.nonzero()[0].tolist() == [0]
    assert rows(result, MIXED)[300]["I"] == 299 and result.fast_rows == 301
    result = decode(MIXED, [*objects, b'{"I":7}{"I":8}'])  # objects, one of them two documents
    assert rows(result, MIXED)[300]["I"] == 7  # Jackson reads the first document of the record
    assert result.fast_rows >= 256 and result.fast_rows + result.fallback_rows == 301


# ---------------------------------------------------------------------------------------------------
# encoding


def encode(
    columns: Sequence[tuple[str, t.SqlType]], arrays: Sequence[pa.Array], **options: Any
) -> list[bytes | None]:
    null_record = options.pop("null_record", None)
    encoder = JSON.encoder(columns, is_key=options.pop("is_key", False), **options)
    mask = None if null_record is None else np.array(null_record)
    return encoder.encode(arrays, null_record=mask).data.to_pylist()


def test_encoding_is_byte_exact() -> None:
    columns = [("ID", t.INT), ("D", t.DOUBLE), ("N", t.Decimal(6, 4)), ("S", t.STRING), ("B", t.BOOLEAN)]
    arrays = [
        pa.array([1, None], pa.int32()),
        pa.array([1e10, float("nan")]),
        pa.array([D("1.5000"), D("0.0001")], pa.decimal128(6, 4)),
        pa.array(['a"b\\c\n\x01é', None]),
        pa.array([True, False]),
    ]
    assert encode(columns, arrays) == [
        b'{"ID":1,"D":1.0E10,"N":1.5000,"S":"a\\"b\\\\c\\n\\u0001\xc3\xa9","B":true}',
        b'{"ID":null,"D":"NaN","N":0.0001,"S":null,"B":false}',
    ]


def test_encoding_nested_and_temporal_types() -> None:
    struct_type = t.Struct((("A", t.Array(t.DOUBLE)), ("M", t.Map(t.STRING, t.BIGINT))))
    columns = [("X", struct_type), ("T", t.TIMESTAMP), ("DT", t.DATE), ("TM", t.TIME), ("BY", t.BYTES)]
    arrays = [
        pa.array(
            [{"A": [1.0, None], "M": [("k", 1)]}, None],
            pa.struct([("A", pa.list_(pa.float64())), ("M", pa.map_(pa.string(), pa.int64()))]),
        ),
        pa.array([10, None], pa.timestamp("ms")),
        pa.array([-10, None], pa.int32()).cast(pa.date32()),
        pa.array([5000, None], pa.int32()).cast(pa.time32("ms")),
        pa.array([b"hi", None]),
    ]
    assert encode(columns, arrays) == [
        b'{"X":{"A":[1.0,null],"M":{"k":1}},"T":10,"DT":-10,"TM":5000,"BY":"aGk="}',
        b'{"X":null,"T":null,"DT":null,"TM":null,"BY":null}',
    ]


def test_encoding_null_records_and_unwrapped_values() -> None:
    assert encode([("V", t.STRING)], [pa.array(["a", "b"])], null_record=[False, True]) == [
        b'{"V":"a"}',
        None,
    ]
    assert encode([("V", t.STRING)], [pa.array(["a", None])], wrap_single=False) == [b'"a"', None]
    assert encode([("K", t.BIGINT)], [pa.array([10, 11])], is_key=True) == [b"10", b"11"]
    assert encode(
        [("K1", t.INT), ("K2", t.STRING)], [pa.array([1], pa.int32()), pa.array(["x"])], is_key=True
    ) == [b'{"K1":1,"K2":"x"}']


typed_rows = st.fixed_dictionaries(
    {
        "I": st.none() | st.integers(min_value=-(2**31), max_value=2**31 - 1),
        "D": st.none() | st.floats(allow_nan=False).filter(lambda x: x != 0 or math.copysign(1, x) > 0),
        "S": st.none() | st.text(),
        "N": st.none() | st.decimals(min_value=-999, max_value=999, places=3, allow_nan=False),
        "L": st.none()
        | st.lists(st.none() | st.integers(min_value=-(2**31), max_value=2**31 - 1), max_size=3),
        "R": st.none()
        | st.fixed_dictionaries(
            {"A": st.none() | st.integers(min_value=0, max_value=9), "B": st.none() | st.text(max_size=3)}
        ),
    }
)
ROUND_TRIP = [
    ("I", t.INT),
    ("D", t.DOUBLE),
    ("S", t.STRING),
    ("N", t.Decimal(6, 3)),
    ("L", t.Array(t.INT)),
    ("R", t.Struct((("A", t.INT), ("B", t.STRING)))),
]


@settings(max_examples=60, deadline=None)
@given(st.lists(typed_rows, min_size=1, max_size=40))
def test_encode_then_decode_gives_the_columns_back(data: list[dict[str, Any]]) -> None:
    from headwater.engine.formats import from_python

    arrays = [from_python([row[name] for row in data], sql_type) for name, sql_type in ROUND_TRIP]
    encoded = JSON.encoder(ROUND_TRIP, is_key=False).encode(arrays).data
    result = get_format("json").decoder(ROUND_TRIP, is_key=False).decode(encoded)
    assert not result.failed.any(), result.errors
    for index, (_, sql_type) in enumerate(ROUND_TRIP):
        assert to_python(result.table.column(index), sql_type) == to_python(arrays[index], sql_type)


def test_decoders_take_strings_and_chunked_arrays() -> None:
    columns = [("V", t.INT)]
    chunked = pa.chunked_array([pa.array(['{"V": 1}']), pa.array(['{"V": 2}', None])])
    result = JSON.decoder(columns, is_key=False).decode(chunked)
    assert rows(result, columns) == [{"V": 1}, {"V": 2}, {"V": None}]
    assert result.null_record.tolist() == [False, False, True]


def test_an_int_beyond_32_bits_follows_ksqldb_number_by_number() -> None:
    """ksqlDB reads an INTEGER column with Jackson's ``NumericNode.intValue()`` (the low 32 bits of a
    number beyond the range; it does not refuse it) and ``Integer.parseInt`` for text (which refuses
    one beyond the range: the record goes to the processing log). The rest of the batch is unaffected."""
    columns = [("V", t.INT), ("W", t.BIGINT)]
    records = [
        b'{"V": 1, "W": 1}',
        b'{"V": 99999999999, "W": 99999999999}',
        b'{"V": "99999999999", "W": 2}',
        b'{"V": 3}',
    ]
    result = decode(columns, records)
    assert result.failed.tolist() == [False, False, True, False]
    (error,) = result.errors
    assert error.row == 2
    assert error.message.endswith("Can't coerce string to type. targetType: INTEGER, path: $.V")
    decoded = rows(result, columns)
    assert [decoded[i]["V"] for i in (0, 1, 3)] == [1, 99999999999 - 23 * 2**32, 3]
    assert decoded[1]["W"] == 99999999999

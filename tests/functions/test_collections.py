"""Array, map, lambda and table functions."""

from __future__ import annotations

import duckdb
import pytest
from function_calls import PyLambda, call, col, lam, lit, resolve, run

from headwater.engine.functions import default_registry
from headwater.engine.functions.registry import FunctionError, LambdaType
from headwater.engine.functions.resolution import lambda_input_types, lambda_placeholder
from headwater.errors import PlanError
from headwater.parser import types as t

INTS = t.Array(t.INT)
ARRAYS = [[1, 2, 3, 1, 2], [], None, [None, 5, None], [7]]


def test_array_length_agrees_with_duckdb() -> None:
    expected = [row[0] for row in duckdb.execute("select len(a) from (select unnest(?::int[][]) a)", [ARRAYS]).fetchall()]
    assert call("ARRAY_LENGTH", col(INTS, ARRAYS)) == expected


def test_array_contains() -> None:
    assert call("ARRAY_CONTAINS", col(INTS, ARRAYS), lit(t.INT, 2)) == [True, False, False, False, False]
    assert call("ARRAY_CONTAINS", col(INTS, ARRAYS), lit(t.INT, None)) == [False, False, False, True, False]
    with pytest.raises(PlanError, match="does not accept parameters"):
        resolve("ARRAY_CONTAINS", col(INTS, []), lit(t.BIGINT, 2))


def test_set_functions_keep_first_seen_order_and_nulls() -> None:
    left = col(t.Array(t.STRING), [["apple", "apple", None, "cherry"], ["a"], None])
    right = col(t.Array(t.STRING), [["cherry", None], None, ["x"]])
    assert call("ARRAY_DISTINCT", left) == [["apple", None, "cherry"], ["a"], None]
    assert call("ARRAY_UNION", left, right) == [["apple", None, "cherry"], None, None]
    assert call("ARRAY_INTERSECT", left, right) == [[None, "cherry"], None, None]
    assert call("ARRAY_EXCEPT", left, right) == [["apple"], None, None]
    assert call("ARRAY_UNION", col(INTS, [[1, 2, 3, 1, 2]]), lit(INTS, [4, 1])) == [[1, 2, 3, 4]]


def test_array_concat_and_remove() -> None:
    assert call("ARRAY_CONCAT", col(INTS, [[1, 2], None, None, [3]]), col(INTS, [[4, 1], [5], None, []])) == [
        [1, 2, 4, 1], [5], None, [3],
    ]
    assert call("ARRAY_REMOVE", col(INTS, [[1, 2, 3, 2, 1], None]), lit(t.INT, 2)) == [[1, 3, 1], None]
    assert call("ARRAY_REMOVE", col(t.Array(t.STRING), [["Foo", None, "baz"]]), lit(t.STRING, None)) == [["Foo", "baz"]]


def test_array_max_min_sort() -> None:
    values = col(INTS, [[-1, 2, None, 0], [None], None, []])
    assert call("ARRAY_MAX", values) == [2, None, None, None]
    assert call("ARRAY_MIN", values) == [-1, None, None, None]
    assert call("ARRAY_SORT", values) == [[-1, 0, 2, None], [None], None, []]
    assert call("ARRAY_SORT", values, lit(t.STRING, "desc")) == [[2, 0, -1, None], [None], None, []]
    assert call("ARRAY_SORT", values, lit(t.STRING, "sideways")) == [None, None, None, None]
    assert call("ARRAY_MAX", col(t.Array(t.STRING), [["Foo", "Bar", None, "baz"]])) == ["baz"]
    assert call("ARRAY_MIN", col(t.Array(t.BOOLEAN), [[False, None, True]])) == [False]
    mixed = col(INTS, [[3, 1], [2, 9]])
    assert call("ARRAY_SORT", mixed, col(t.STRING, ["ASC", "DESC"])) == [[1, 3], [9, 2]]


def test_array_join_uses_java_text() -> None:
    assert call("ARRAY_JOIN", col(INTS, [[1, None, 3], None, []])) == ["1,null,3", None, ""]
    assert call("ARRAY_JOIN", col(t.Array(t.DOUBLE), [[1.0, 1e7, 0.5]]), lit(t.STRING, "|")) == ["1.0|1.0E7|0.5"]
    assert call("ARRAY_JOIN", col(t.Array(t.BOOLEAN), [[True, False]]), lit(t.STRING, None)) == ["truefalse"]


def test_slice_is_one_based_inclusive() -> None:
    values = col(t.Array(t.STRING), [["a", "b", "c", "d"], ["a"], None])
    assert call("SLICE", values, lit(t.INT, 2), lit(t.INT, 3)) == [["b", "c"], None, None]
    assert call("SLICE", values, lit(t.INT, None), lit(t.INT, 1)) == [["a"], ["a"], None]
    assert call("SLICE", col(t.Array(INTS), [[[1], [2], [3]]]), lit(t.INT, 2), lit(t.INT, None)) == [[[2], [3]]]


def test_generate_series() -> None:
    starts, ends = col(t.INT, [0, -2, 4, 4]), col(t.INT, [3, 1, 3, 0])
    assert call("GENERATE_SERIES", starts, ends) == [[0, 1, 2, 3], [-2, -1, 0, 1], [4, 3], [4, 3, 2, 1, 0]]
    got = call("GENERATE_SERIES", col(t.INT, [0, 9, 1]), col(t.INT, [9, 0, -2]), col(t.INT, [3, -3, -2]))
    assert got == [[0, 3, 6, 9], [9, 6, 3, 0], [1, -1]]
    assert call("GENERATE_SERIES", col(t.BIGINT, [2**40]), col(t.BIGINT, [2**40 + 2])) == [[2**40, 2**40 + 1, 2**40 + 2]]
    with pytest.raises(FunctionError, match="cannot be zero"):
        call("GENERATE_SERIES", lit(t.INT, 1), lit(t.INT, 3), lit(t.INT, 0))
    with pytest.raises(FunctionError, match="wrong sign"):
        call("GENERATE_SERIES", lit(t.INT, 1), lit(t.INT, 3), lit(t.INT, -1))


def test_maps() -> None:
    maps = col(t.Map(t.STRING, t.INT), [[("foo", 10), ("bar", None)], [], None])
    # HashMap order: "bar".hashCode() lands in bucket 2 of 4, "foo".hashCode() in bucket 3
    assert call("MAP_KEYS", maps) == [["bar", "foo"], [], None]
    assert call("MAP_VALUES", maps) == [[None, 10], [], None]
    union = call("MAP_UNION", maps, col(t.Map(t.STRING, t.INT), [[("foo", 99), ("apple", -1)], None, [("x", 1)]]))
    assert [None if m is None else dict(m) for m in union] == [{"foo": 99, "bar": None, "apple": -1}, {}, {"x": 1}]
    assert call("MAP_UNION", lit(t.Map(t.STRING, t.INT), None), lit(t.Map(t.STRING, t.INT), None)) == [None]
    as_map = call("AS_MAP", col(t.Array(t.STRING), [["a", "b", "a"], ["k"]]), col(INTS, [[1, 2, 3], []]))
    assert [dict(m) for m in as_map] == [{"a": 3, "b": 2}, {"k": None}]


def test_entries() -> None:
    maps = col(t.Map(t.STRING, t.INT), [[("K2", 2), ("K1", 1)], None])
    resolved = resolve("ENTRIES", maps, lit(t.BOOLEAN, True))
    assert resolved.return_type == t.Array(t.Struct((("K", t.STRING), ("V", t.INT))))
    assert call("ENTRIES", maps, lit(t.BOOLEAN, True)) == [[{"K": "K1", "V": 1}, {"K": "K2", "V": 2}], None]
    assert call("ENTRIES", maps, lit(t.BOOLEAN, False)) == [[{"K": "K1", "V": 1}, {"K": "K2", "V": 2}], None]


def test_lambda_protocol_types_parameters_then_resolves() -> None:
    transform = default_registry().lookup("TRANSFORM")
    assert transform is not None
    map_type = t.Map(t.STRING, t.Array(t.INT))
    args = (map_type, lambda_placeholder(2), lambda_placeholder(2))
    assert lambda_input_types(transform, args, 1) == (t.STRING, t.Array(t.INT))
    assert lambda_input_types(transform, args, 2) == (t.STRING, t.Array(t.INT))
    resolved = default_registry().resolve(
        "TRANSFORM", (map_type, LambdaType((t.STRING, t.Array(t.INT)), t.STRING), LambdaType((t.STRING, t.Array(t.INT)), t.INT))
    )
    assert resolved.return_type == t.Map(t.STRING, t.INT)
    reduce = default_registry().lookup("REDUCE")
    assert reduce is not None
    assert lambda_input_types(reduce, (INTS, t.BIGINT, lambda_placeholder(2)), 2) == (t.BIGINT, t.INT)
    with pytest.raises(PlanError):
        default_registry().resolve("FILTER", (INTS, LambdaType((t.INT,), t.INT)))
    with pytest.raises(PlanError):
        lambda_input_types(reduce, (INTS, None, lambda_placeholder(2)), 2)


def test_transform_filter_reduce_arrays() -> None:
    arrays = col(INTS, [[1, 2, None], [], None])
    assert call("TRANSFORM", arrays, lam(lambda x: None if x is None else x * 10, (t.INT,), t.INT)) == [
        [10, 20, None], [], None,
    ]
    assert call("FILTER", arrays, lam(lambda x: x is not None and x > 1, (t.INT,), t.BOOLEAN)) == [[2], [], None]
    adder = lam(lambda s, x: None if s is None or x is None else s + x, (t.INT, t.INT), t.INT)
    assert call("REDUCE", col(INTS, [[3, 6], [5, None], None]), lit(t.INT, 2), adder) == [11, None, 2]
    assert call("REDUCE", col(INTS, [[1, 2]]), lit(t.INT, None), adder) == [None]


def test_reduce_calls_the_lambda_once_per_position() -> None:
    function = PyLambda(lambda s, x: s + x, (t.BIGINT, t.INT), t.BIGINT)
    from function_calls import Arg

    arrays = col(INTS, [list(range(5))] * 1000)
    result = call("REDUCE", arrays, lit(t.BIGINT, 0), Arg(LambdaType((t.BIGINT, t.INT), t.BIGINT), function, True))
    assert result == [10] * 1000 and function.calls == 5


def test_lambdas_over_maps() -> None:
    maps = col(t.Map(t.STRING, t.INT), [[("a", 1), ("bb", 2)], None])
    keys = lam(lambda k, v: k.upper(), (t.STRING, t.INT), t.STRING)
    values = lam(lambda k, v: v * 2, (t.STRING, t.INT), t.INT)
    assert [None if m is None else dict(m) for m in call("TRANSFORM", maps, keys, values)] == [{"A": 2, "BB": 4}, None]
    kept = call("FILTER", maps, lam(lambda k, v: len(k) > 1, (t.STRING, t.INT), t.BOOLEAN))
    assert [None if m is None else dict(m) for m in kept] == [{"bb": 2}, None]
    total = lam(lambda s, k, v: s + v, (t.INT, t.STRING, t.INT), t.INT)
    assert call("REDUCE", maps, lit(t.INT, 0), total) == [3, 0]
    with pytest.raises(FunctionError, match="Duplicate key"):
        call("TRANSFORM", maps, lam(lambda k, v: "same", (t.STRING, t.INT), t.STRING), values)
    with pytest.raises(FunctionError, match="NULL"):
        call("FILTER", col(INTS, [[1]]), lam(lambda x: None, (t.INT,), t.BOOLEAN))


def test_explode_and_cube() -> None:
    values, parents = run("EXPLODE", col(INTS, [[1, 2], None, [], [3]]))
    assert values.to_pylist() == [1, 2, 3] and parents.to_pylist() == [0, 0, 3]
    rows, parents = run("CUBE_EXPLODE", col(INTS, [[1, 2], [1, None]]))
    assert rows.to_pylist() == [[None, None], [None, 2], [1, None], [1, 2], [None, None], [1, None]]
    assert parents.to_pylist() == [0, 0, 0, 0, 1, 1]
    three, _ = run("CUBE_EXPLODE", col(t.Array(t.STRING), [["one", "two", "three"]]))
    assert three.to_pylist()[:3] == [[None, None, None], [None, None, "three"], [None, "two", None]]
    with pytest.raises(FunctionError, match="exceeds the maximum of 20"):
        run("CUBE_EXPLODE", col(INTS, [list(range(21))]))


def java_string_hash(text: str) -> int:
    value = 0
    raw = text.encode("utf-16-be")
    for position in range(0, len(raw), 2):
        value = (31 * value + (raw[position] << 8 | raw[position + 1])) & 0xFFFFFFFF
    return value


def test_map_iteration_follows_java_hashmap_order() -> None:
    import pyarrow as pa

    from headwater.engine.functions.maps import hashmap_order

    keys = ["yes, thanks", "nope", "sure, yeah", "ünï", "k", "a", "b", "c", "d"]
    lengths = [3, 1, 5]
    order = hashmap_order(pa.array(keys), __import__("numpy").array(lengths)).tolist()
    expected = []
    start = 0
    for n in lengths:
        capacity = 1
        while capacity < n:
            capacity *= 2
        while n > int(capacity * 0.75):
            capacity *= 2
        def bucket(i: int, capacity: int = capacity) -> int:
            h = java_string_hash(keys[i])
            return (h ^ (h >> 16)) & (capacity - 1)
        expected += sorted(range(start, start + n), key=lambda i: (bucket(i), i))
        start += n
    assert order == expected
    # so REDUCE over a map sees its entries in that order
    maps = col(t.Map(t.STRING, t.INT), [[("yes, thanks", 1), ("nope", 2), ("sure, yeah", 3)]])
    seen = call("REDUCE", maps, lit(t.STRING, ""), lam(lambda s, k, v: s + k[0], (t.STRING, t.STRING, t.INT), t.STRING))
    assert seen == ["".join(keys[i][0] for i in expected[:3])]

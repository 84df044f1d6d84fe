"""Every aggregate: the vectorized result against DuckDB computing the same aggregate over the same data,
the same result whatever the batch sizes, snapshot -> restore -> continue, and ksqlDB's specifics
(wrap-around, decimal overflow, STDDEV_SAMP's variance, empty AVG, null handling, limits, undo)."""

from __future__ import annotations

import decimal
import math
from collections.abc import Sequence
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from headwater.engine.aggregates import AGGREGATES, Grouping, build_aggregates, register_aggregates
from headwater.engine.functions.registry import FunctionRegistry
from headwater.engine.state import KeyIndex
from headwater.engine.types import to_arrow
from headwater.errors import ExecutionError, PlanError
from headwater.parser import types as t

FUNCTIONS = build_aggregates()
ROWS = 400
GROUPS = 13


def _data(sql_type: t.SqlType, rng: np.random.Generator, rows: int = ROWS) -> pa.Array:
    nulls = rng.random(rows) < 0.15
    if sql_type == t.INT:
        values: list[Any] = rng.integers(-1000, 1000, rows).tolist()
    elif sql_type == t.BIGINT:
        values = rng.integers(-(10**12), 10**12, rows).tolist()
    elif sql_type == t.DOUBLE:
        values = (rng.normal(0, 1000, rows)).tolist()
    elif sql_type == t.STRING:
        values = [f"s{v}" for v in rng.integers(0, 25, rows)]
    elif isinstance(sql_type, t.Decimal):
        values = [decimal.Decimal(int(v)).scaleb(-sql_type.scale) for v in rng.integers(-9999, 9999, rows)]
    elif sql_type == t.DATE:
        values = rng.integers(0, 20000, rows).tolist()
    elif sql_type == t.TIMESTAMP:
        values = rng.integers(0, 10**12, rows).tolist()
    elif sql_type == t.Array(t.INT):
        values = [[int(x) if x % 5 else None for x in rng.integers(-50, 50, rng.integers(0, 4))] for _ in range(rows)]
    else:
        raise AssertionError(sql_type)
    return pa.array([None if n else v for v, n in zip(values, nulls)], to_arrow(sql_type))


def _run(
    name: str,
    types: Sequence[t.SqlType],
    columns: Sequence[pa.Array],
    groups: np.ndarray,
    sizes: Sequence[int] | None,
    literals: Sequence[Any] = (),
    config: dict[str, Any] | None = None,
    restore_every: int = 0,
) -> dict[int, Any]:
    """Feed the rows in batches of ``sizes`` (None: one batch) and return group -> result."""
    resolved = FUNCTIONS[name].resolve(types)
    accumulator = resolved.create(literals, config)
    index = KeyIndex([pa.field("G", pa.int64())])
    rows = len(groups)
    cuts = [rows] if sizes is None else list(sizes)
    start = 0
    for position, size in enumerate(cuts):
        stop = min(rows, start + size)
        if stop <= start:
            break
        if restore_every and position and position % restore_every == 0:
            state = accumulator.state()
            accumulator = resolved.create(literals, config)
            accumulator.load(state)
        slots = index.slots_for([pa.array(groups[start:stop], pa.int64())])
        accumulator.resize(index.size)
        args = [c.slice(start, stop - start) for c in columns]
        accumulator.update(Grouping(slots), [args[i] for i in resolved.column_positions], None)
        start = stop
    all_slots = np.arange(index.size)
    keys = index.keys(all_slots)[0].to_pylist()
    return dict(zip(keys, accumulator.result(all_slots).to_pylist()))


def _duckdb(expression: str, columns: Sequence[pa.Array], groups: np.ndarray) -> dict[int, Any]:
    table = pa.table({"g": pa.array(groups, pa.int64()), "rn": pa.array(np.arange(len(groups)), pa.int64()),
                      **{f"x{i}": c for i, c in enumerate(columns)}})
    connection = duckdb.connect()
    connection.register("data", table)
    result = connection.execute(f"SELECT g, {expression} FROM data GROUP BY g").fetchall()
    return dict(result)


def _random_sizes(seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    return rng.integers(1, 60, ROWS).tolist()


CASES: list[tuple[str, tuple[t.SqlType, ...], tuple[Any, ...], str, str]] = [
    ("COUNT", (t.STRING,), (), "count(x0)", "exact"),
    ("SUM", (t.INT,), (), "sum(x0)::INTEGER", "exact"),
    ("SUM", (t.BIGINT,), (), "sum(x0)::BIGINT", "exact"),
    ("SUM", (t.DOUBLE,), (), "coalesce(sum(x0), 0)", "close"),
    ("SUM", (t.Decimal(9, 2),), (), "coalesce(sum(x0), 0)::DECIMAL(9,2)", "exact"),
    ("AVG", (t.INT,), (), "coalesce(avg(x0), 0)", "close"),
    ("AVG", (t.DOUBLE,), (), "coalesce(avg(x0), 0)", "close"),
    ("MIN", (t.INT,), (), "min(x0)", "exact"),
    ("MAX", (t.BIGINT,), (), "max(x0)", "exact"),
    ("MIN", (t.DOUBLE,), (), "min(x0)", "exact"),
    ("MAX", (t.STRING,), (), "max(x0)", "exact"),
    ("MIN", (t.Decimal(9, 2),), (), "min(x0)", "exact"),
    ("MAX", (t.DATE,), (), "max(x0)", "exact"),
    ("MIN", (t.TIMESTAMP,), (), "min(x0)", "exact"),
    ("STDDEV_SAMPLE", (t.DOUBLE,), (), "coalesce(stddev_samp(x0), 0)", "close"),
    ("STDDEV_SAMPLE", (t.INT,), (), "coalesce(stddev_samp(x0), 0)", "close"),
    ("STDDEV_SAMP", (t.BIGINT,), (), "coalesce(var_samp(x0), 0)", "close"),
    ("COLLECT_LIST", (t.INT,), (), "list(x0 ORDER BY rn)", "exact"),
    ("COLLECT_SET", (t.STRING,), (), "list(DISTINCT x0)", "set"),
    ("COUNT_DISTINCT", (t.STRING,), (), "count(DISTINCT x0)", "exact"),
    ("HISTOGRAM", (t.STRING,), (), "histogram(x0) FILTER (WHERE x0 IS NOT NULL)", "map"),
    ("TOPK", (t.INT, t.INT), (3,), "list(x0 ORDER BY x0 DESC)[1:3]", "exact"),
    ("TOPKDISTINCT", (t.STRING, t.INT), (4,), "list(DISTINCT x0 ORDER BY x0 DESC)[1:4]", "exact"),
    ("EARLIEST_BY_OFFSET", (t.STRING,), (), "arg_min(x0, rn) FILTER (WHERE x0 IS NOT NULL)", "exact"),
    ("LATEST_BY_OFFSET", (t.INT,), (), "arg_max(x0, rn) FILTER (WHERE x0 IS NOT NULL)", "exact"),
    ("EARLIEST_BY_OFFSET", (t.INT, t.INT), (3,), "coalesce(list(x0 ORDER BY rn) FILTER (WHERE x0 IS NOT NULL), [])[1:3]", "exact"),
    ("LATEST_BY_OFFSET", (t.INT, t.INT, t.BOOLEAN), (2, False), "list(x0 ORDER BY rn)[-2:]", "exact"),
    ("SUM_LIST", (t.Array(t.INT),), (), "coalesce(sum(list_sum(x0)), 0)::INTEGER", "exact"),
]


def _compare(got: Any, expected: Any, mode: str) -> bool:
    if mode == "close":
        return math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-6)
    if mode == "set":
        return sorted(got, key=str) == sorted(expected, key=str)
    if mode == "map":
        return dict(got or []) == dict(expected or {})
    if isinstance(got, list) and isinstance(expected, list):
        return [None if v is None else v for v in got] == expected
    return bool(got == expected)


@pytest.mark.parametrize("name, types, literals, expression, mode", CASES, ids=[f"{c[0]}{c[1]}" for c in CASES])
def test_aggregate_matches_duckdb(name, types, literals, expression, mode):
    rng = np.random.default_rng(hash((name, str(types))) % 2**32)
    columns = [_data(sql_type, rng) for sql_type, i in zip(types, range(len(types))) if i not in FUNCTIONS[name].resolve(types).literal_positions]
    groups = rng.integers(0, GROUPS, ROWS)
    got = _run(name, types, columns, groups, None, literals)
    expected = _duckdb(expression, columns, groups)
    assert set(got) == set(expected)
    mismatches = {g: (got[g], expected[g]) for g in got if not _compare(got[g], expected[g], mode)}
    assert not mismatches


@pytest.mark.parametrize("name, types, literals, expression, mode", CASES, ids=[f"{c[0]}{c[1]}" for c in CASES])
def test_batch_size_and_restore_do_not_change_results(name, types, literals, expression, mode):
    rng = np.random.default_rng(1 + hash((name, str(types))) % 2**32)
    resolved = FUNCTIONS[name].resolve(types)
    columns = [_data(sql_type, rng) for i, sql_type in enumerate(types) if i not in resolved.literal_positions]
    groups = rng.integers(0, GROUPS, ROWS)
    whole = _run(name, types, columns, groups, None, literals)
    one_by_one = _run(name, types, columns, groups, [1] * ROWS, literals)
    random_batches = _run(name, types, columns, groups, _random_sizes(5), literals, restore_every=3)
    assert repr(one_by_one) == repr(whole)  # bit-for-bit, DOUBLE sums included
    assert repr(random_batches) == repr(whole)


def test_correlation_matches_duckdb():
    rng = np.random.default_rng(11)
    x, y = _data(t.DOUBLE, rng), _data(t.DOUBLE, rng)
    groups = rng.integers(0, GROUPS, ROWS)
    got = _run("CORRELATION", (t.DOUBLE, t.DOUBLE), [x, y], groups, [7] * 60)
    expected = _duckdb("corr(x0, x1)", [x, y], groups)
    for group, value in got.items():
        assert math.isclose(value, expected[group], rel_tol=1e-9)


def test_attr_matches_a_single_distinct_value():
    rng = np.random.default_rng(12)
    values = pa.array([["a", "b", None][i] for i in rng.choice(3, ROWS, p=[0.8, 0.1, 0.1])], pa.string())
    groups = rng.integers(0, 40, ROWS)
    got = _run("ATTR", (t.STRING,), [values], groups, [3] * 200)
    expected = _duckdb(
        "CASE WHEN count(DISTINCT x0) + max((x0 IS NULL)::INT) = 1 THEN any_value(x0) END", [values], groups
    )
    assert got == expected


# --------------------------------------------------------------------------------------------------------
# ksqlDB specifics, hand-checked


def _one_by_one(name: str, types: tuple[t.SqlType, ...], values: list[Any], literals: tuple[Any, ...] = (), config=None):
    resolved = FUNCTIONS[name].resolve(types)
    accumulator = resolved.create(literals, config)
    accumulator.resize(1)
    column_types = [types[i] for i in resolved.column_positions]
    outputs = []
    for value in values:
        row = value if isinstance(value, tuple) else (value,)
        args = [pa.array([v], to_arrow(ct)) for v, ct in zip(row, column_types)]
        accumulator.update(Grouping(np.array([0])), args, None)
        outputs.append(accumulator.result(np.array([0])).to_pylist()[0])
    return outputs


def test_integer_sums_wrap_like_java():
    assert _one_by_one("SUM", (t.INT,), [2**31 - 1, 1]) == [2**31 - 1, -(2**31)]
    assert _one_by_one("SUM", (t.BIGINT,), [2**63 - 1, 1]) == [2**63 - 1, -(2**63)]
    assert _one_by_one("AVG", (t.BIGINT,), [-1, 9223372036854775807, 1]) == [-1.0, 4.6116860184273879e18, 3.0744573456182584e18]


def test_sum_of_nulls_is_zero_and_empty_avg_is_zero():
    assert _one_by_one("SUM", (t.INT,), [None]) == [0]
    assert _one_by_one("AVG", (t.INT,), [None]) == [0.0]
    assert _one_by_one("COUNT", (t.INT,), [None, 3]) == [0, 1]


def test_decimal_sum_keeps_the_type_and_fails_on_overflow_at_the_first_bad_row():
    d = decimal.Decimal
    assert _one_by_one("SUM", (t.Decimal(4, 1),), [d("5.4"), d("100.1")]) == [d("5.4"), d("105.5")]
    resolved = FUNCTIONS["SUM"].resolve((t.Decimal(4, 1),))
    assert resolved.return_type == t.Decimal(4, 1)
    accumulator = resolved.create()
    accumulator.resize(2)
    values = pa.array([d("500.9"), d("300.8"), d("400.8"), d("-900.0")], pa.decimal128(4, 1))
    with pytest.raises(ExecutionError, match=r"Numeric field overflow: .* precision 4 and scale 1 .* 10\^3. Got 1203") as error:
        accumulator.update(Grouping(np.array([0, 0, 0, 0])), [values], None)
    from headwater.engine.functions.registry import FunctionError

    assert isinstance(error.value.__cause__, FunctionError)


def test_stddev_samp_is_ksqldb_variance_and_stddev_sample_is_the_deviation():
    assert _one_by_one("STDDEV_SAMP", (t.INT,), [0, 10, 7, 6]) == [0.0, 50.0, 26.333333333333332, 17.583333333333332]
    assert _one_by_one("STDDEV_SAMPLE", (t.INT,), [0, 10, 7, 6]) == [0.0, 7.0710678118654755, 5.131601439446884, 4.193248541803041]
    assert _one_by_one("STDDEV_SAMP", (t.BIGINT,), [2147483648, 100]) == [0.0, 2.3058427944653343e18]


def test_correlation_of_a_constant_is_nan():
    outputs = _one_by_one("CORRELATION", (t.DOUBLE, t.DOUBLE), [(1.5, 8.0), (-1.0, 8.0)])
    assert all(math.isnan(v) for v in outputs)


def test_offset_aggregates_null_handling():
    assert _one_by_one("EARLIEST_BY_OFFSET", (t.INT, t.BOOLEAN), [None, 13], (False,)) == [None, None]
    assert _one_by_one("EARLIEST_BY_OFFSET", (t.INT,), [None, 13]) == [None, 13]
    assert _one_by_one("EARLIEST_BY_OFFSET", (t.INT, t.INT, t.BOOLEAN), [None, 13], (2, False)) == [[None], [None, 13]]
    assert _one_by_one("LATEST_BY_OFFSET", (t.INT, t.INT), [12, None, 13, 14], (2,)) == [[12], [12], [12, 13], [13, 14]]
    with pytest.raises(PlanError, match="earliestN must be 1 or greater"):
        FUNCTIONS["EARLIEST_BY_OFFSET"].resolve((t.INT, t.INT)).create((0,))


def test_collection_limits_come_from_the_configuration():
    config = {"ksql.functions.collect_list.limit": "2", "ksql.functions.collect_set.limit": 1}
    assert _one_by_one("COLLECT_LIST", (t.INT,), [1, None, 3], config=config)[-1] == [1, None]
    assert _one_by_one("COLLECT_SET", (t.INT,), [1, 2, 1], config=config) == [[1], [1], [1]]
    assert _one_by_one("COLLECT_LIST", (t.INT,), [1, 2], config={"ksql.functions.collect_list.limit": -1})[-1] == [1, 2]


def test_attr_treats_null_as_a_value():
    assert _one_by_one("ATTR", (t.STRING,), ["1", None, "1"]) == ["1", None, None]
    assert _one_by_one("ATTR", (t.STRING,), [None, None]) == [None, None]


def test_undo_retracts_contributions():
    # rows: add, add, undo (the undo retracts the first row's value)
    cases = {
        ("SUM", (t.INT,)): (pa.array([5, 7, 5], pa.int32()), 7),
        ("COUNT", (t.INT,)): (pa.array([5, 7, 5], pa.int32()), 1),
        ("AVG", (t.INT,)): (pa.array([5, 7, 5], pa.int32()), 7.0),
        ("COLLECT_LIST", (t.INT,)): (pa.array([5, 7, 5], pa.int32()), [7]),
        ("HISTOGRAM", (t.STRING,)): (pa.array(["a", "b", "a"]), [("b", 1)]),
        ("ATTR", (t.STRING,)): (pa.array(["a", "b", "b"]), "a"),
        ("SUM_LIST", (t.Array(t.INT),)): (pa.array([[1, 2], [3], [1, 2]], pa.list_(pa.int32())), 3),
        ("CORRELATION", (t.DOUBLE, t.DOUBLE)): (None, None),
    }
    for (name, types), (values, expected) in cases.items():
        resolved = FUNCTIONS[name].resolve(types)
        assert resolved.supports_undo, name
        accumulator = resolved.create()
        accumulator.resize(1)
        if values is None:  # two-argument aggregate
            x = pa.array([1.0, 2.0, 3.0, 1.0])
            y = pa.array([2.0, 4.0, 7.0, 2.0])
            accumulator.update(Grouping(np.zeros(4, dtype=np.int64)), [x, y], np.array([1, 1, 1, -1]))
            assert math.isclose(accumulator.result(np.array([0])).to_pylist()[0], 1.0)  # (2,4) and (3,7) remain
            continue
        accumulator.update(Grouping(np.zeros(3, dtype=np.int64)), [values], np.array([1, 1, -1]))
        assert accumulator.result(np.array([0])).to_pylist()[0] == expected, name


def test_stream_only_aggregates_refuse_undo():
    for name in ("MIN", "MAX", "COLLECT_SET", "COUNT_DISTINCT", "TOPK", "TOPKDISTINCT", "EARLIEST_BY_OFFSET", "LATEST_BY_OFFSET"):
        assert not FUNCTIONS[name].supports_undo, name
    accumulator = FUNCTIONS["MIN"].resolve((t.INT,)).create()
    accumulator.resize(1)
    with pytest.raises(ValueError, match="cannot undo"):
        accumulator.update(Grouping(np.array([0])), [pa.array([1], pa.int32())], np.array([-1]))


def test_session_merge_combines_states():
    merges = {
        ("COUNT", (t.INT,)): ([1, 2, 3], 3),
        ("SUM", (t.DOUBLE,)): ([0.5, 0.25, 2.0], 2.75),
        ("MAX", (t.STRING,)): (["b", "c", "a"], "c"),
        ("COLLECT_LIST", (t.INT,)): ([1, 2, 3], [1, 2, 3]),
        ("TOPK", (t.INT, t.INT)): ([5, 9, 7], [9, 7]),
        ("EARLIEST_BY_OFFSET", (t.INT,)): ([4, 5, 6], 4),
    }
    for (name, types), (values, expected) in merges.items():
        resolved = FUNCTIONS[name].resolve(types)
        accumulator = resolved.create((2,) if name == "TOPK" else ())
        accumulator.resize(4)
        arrow = to_arrow(types[0])
        accumulator.update(Grouping(np.array([0, 1, 2])), [pa.array(values, arrow)], None)
        accumulator.merge(3, [0, 1, 2])
        assert accumulator.result(np.array([3])).to_pylist()[0] == expected, name


def test_resolution_return_types_and_intermediate_types():
    assert FUNCTIONS["SUM"].resolve((t.Decimal(6, 2),)).return_type == t.Decimal(6, 2)
    assert FUNCTIONS["AVG"].resolve((t.BIGINT,)).intermediate_type == t.Struct((("SUM", t.BIGINT), ("COUNT", t.BIGINT)))
    assert FUNCTIONS["COLLECT_LIST"].resolve((t.Struct((("A", t.INT),)),)).return_type == t.Array(t.Struct((("A", t.INT),)))
    assert FUNCTIONS["LATEST_BY_OFFSET"].resolve((t.STRING, t.INT)).return_type == t.Array(t.STRING)
    assert FUNCTIONS["TOPKDISTINCT"].resolve((t.Decimal(4, 1), t.INT)).return_type == t.Array(t.Decimal(4, 1))
    assert FUNCTIONS["TOPK"].resolve((t.INT, t.INT)).literal_positions == (1,)
    assert FUNCTIONS["AVG"].resolve((t.Decimal(4, 1),)).param_types == (t.DOUBLE,)  # DECIMAL widens
    with pytest.raises(PlanError, match="does not accept parameters"):
        FUNCTIONS["SUM"].resolve((t.STRING,))


def test_registration_in_the_function_registry():
    registry = register_aggregates(FunctionRegistry())
    assert {f.name for f in AGGREGATES} <= set(registry.names())
    assert registry.aggregate("count_distinct") is FUNCTIONS["COUNT_DISTINCT"]
    assert registry.lookup("COUNT") is None  # aggregates are not scalar functions
    with pytest.raises(ValueError, match="registered twice"):
        register_aggregates(registry)


@pytest.mark.parametrize("name", ["EARLIEST_BY_OFFSET", "LATEST_BY_OFFSET"])
def test_offsets_remember_through_a_snapshot_that_nothing_was_taken_yet(name):
    """A NULL skipped with ignoreNulls leaves the group without a value; a snapshot and restore must
    keep it so, and the next value is then taken (ksqlDB: null first, then 13, gives 13)."""
    resolved = FUNCTIONS[name].resolve((t.INT, t.BOOLEAN))
    accumulator = resolved.create((True,), None)
    accumulator.resize(1)
    accumulator.update(Grouping(np.array([0])), [pa.array([None], pa.int32())], None)
    restored = resolved.create((True,), None)
    restored.load(accumulator.state())
    restored.update(Grouping(np.array([0])), [pa.array([13], pa.int32())], None)
    assert restored.result(np.array([0])).to_pylist() == [13]

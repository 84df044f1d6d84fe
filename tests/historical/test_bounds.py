"""Scan bounds read off predicates never exclude a row the predicate keeps (property tests), and are as
tight as the documented cases say."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import sqlglot
from hypothesis import given, settings
from hypothesis import strategies as st

from headwater.engine.expressions import Scope, ScopeColumn, bind, compile_expression
from headwater.engine.expressions.scope import ColumnKind
from headwater.engine.functions.registry import FunctionRegistry
from headwater.engine.historical.bounds import UNBOUNDED, ScanBounds
from headwater.engine.historical.pruning import bounds_of_bound, bounds_of_sql
from headwater.parser import parse_expression
from headwater.parser import types as t

SCOPE = Scope(
    (
        ScopeColumn("ROWTIME", t.BIGINT, "S", ColumnKind.PSEUDO),
        ScopeColumn("ROWOFFSET", t.BIGINT, "S", ColumnKind.PSEUDO),
        ScopeColumn("ROWPARTITION", t.INT, "S", ColumnKind.PSEUDO),
        ScopeColumn("V", t.BIGINT, "S"),
    ),
    ("S",),
)
PSEUDO = {"ROWTIME": "ROWTIME", "ROWOFFSET": "ROWOFFSET", "ROWPARTITION": "ROWPARTITION"}


def _rows(seed: int, count: int = 400) -> pa.RecordBatch:
    rng = np.random.default_rng(seed)
    return pa.record_batch(
        {
            "ROWTIME": pa.array(rng.integers(-5, 60, count), pa.int64()),
            "ROWOFFSET": pa.array(rng.integers(0, 60, count), pa.int64()),
            "ROWPARTITION": pa.array(rng.integers(0, 4, count), pa.int32()),
            "V": pa.array(rng.integers(0, 10, count), pa.int64()),
        }
    )


def _within(bounds: ScanBounds, batch: pa.RecordBatch, keep: np.ndarray) -> bool:
    """Every kept row lies in the bounds' hull, and a one-row segment holding it would be read."""
    for row in np.flatnonzero(keep):
        time_value = int(batch.column("ROWTIME")[row].as_py())
        offset_value = int(batch.column("ROWOFFSET")[row].as_py())
        partition_value = int(batch.column("ROWPARTITION")[row].as_py())
        if not bounds.admits_segment(partition_value, time_value, time_value, offset_value, offset_value):
            return False
    time = batch.column("ROWTIME").to_numpy()[keep]
    offset = batch.column("ROWOFFSET").to_numpy()[keep]
    partition = batch.column("ROWPARTITION").to_numpy()[keep]
    ok = np.ones(len(time), dtype=bool)
    if bounds.min_timestamp is not None:
        ok &= time >= bounds.min_timestamp
    if bounds.max_timestamp is not None:
        ok &= time <= bounds.max_timestamp
    if bounds.min_offset is not None:
        ok &= offset >= bounds.min_offset
    if bounds.max_offset is not None:
        ok &= offset <= bounds.max_offset
    if bounds.partitions is not None:
        ok &= np.isin(partition, sorted(bounds.partitions))
    return bool(ok.all())


_COLUMNS = st.sampled_from(["ROWTIME", "ROWOFFSET", "ROWPARTITION", "V"])
_OPS = st.sampled_from(["=", "<>", "<", "<=", ">", ">="])
_VALUES = st.integers(min_value=-3, max_value=62)


@st.composite
def _atoms(draw: st.DrawFn) -> str:
    column = draw(_COLUMNS)
    kind = draw(st.sampled_from(["cmp", "flipped", "between", "in"]))
    if kind == "cmp":
        return f"{column} {draw(_OPS)} {draw(_VALUES)}"
    if kind == "flipped":
        return f"{draw(_VALUES)} {draw(_OPS)} {column}"
    if kind == "between":
        low, high = sorted((draw(_VALUES), draw(_VALUES)))
        return f"{column} {'NOT ' if draw(st.booleans()) else ''}BETWEEN {low} AND {high}"
    values = draw(st.lists(_VALUES, min_size=1, max_size=4))
    return f"{column} {'NOT ' if draw(st.booleans()) else ''}IN ({', '.join(map(str, values))})"


_PREDICATES = st.recursive(
    _atoms(),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["AND", "OR"]), inner).map(lambda p: f"({p[0]}) {p[1]} ({p[2]})"),
        inner.map(lambda p: f"NOT ({p})"),
    ),
    max_leaves=6,
)


@settings(max_examples=150, deadline=None)
@given(_PREDICATES, st.integers(0, 1000))
def test_bounds_of_a_bound_predicate_hold_every_kept_row(predicate: str, seed: int) -> None:
    bound = bind(parse_expression(predicate), SCOPE, FunctionRegistry())
    batch = _rows(seed)
    keep = np.asarray(compile_expression(bound).evaluate(batch).to_numpy(zero_copy_only=False), dtype=bool)
    assert _within(bounds_of_bound(bound, PSEUDO), batch, keep)


@settings(max_examples=150, deadline=None)
@given(_PREDICATES, st.integers(0, 1000))
def test_bounds_of_a_sql_predicate_hold_every_row_duckdb_keeps(predicate: str, seed: int) -> None:
    batch = _rows(seed)
    connection = duckdb.connect()
    connection.register("s", pa.Table.from_batches([batch.append_column("I", pa.array(np.arange(batch.num_rows)))]))
    kept = {row[0] for row in connection.sql(f"SELECT I FROM s WHERE {predicate}").fetchall()}
    keep = np.isin(np.arange(batch.num_rows), sorted(kept))
    where = sqlglot.parse_one(f"SELECT 1 FROM s WHERE {predicate}", read="duckdb").args["where"].this
    assert _within(bounds_of_sql(where, {"S"}), batch, keep)


def test_the_documented_cases_are_tight() -> None:
    def of(text: str) -> ScanBounds:
        return bounds_of_bound(bind(parse_expression(text), SCOPE, FunctionRegistry()), PSEUDO)

    assert of("ROWTIME >= 10 AND ROWTIME < 20") == ScanBounds(min_timestamp=10, max_timestamp=19)
    assert of("ROWTIME > 10") == ScanBounds(min_timestamp=11)
    assert of("ROWOFFSET BETWEEN 3 AND 7") == ScanBounds(min_offset=3, max_offset=7)
    assert of("ROWPARTITION IN (0, 2)") == ScanBounds(partitions=frozenset({0, 2}))
    outside = of("ROWTIME < 5 OR ROWTIME > 50")
    assert outside.box == UNBOUNDED and not outside.admits_segment(0, 5, 50, 0, 1)
    assert of("ROWTIME < 5 OR V > 50") == UNBOUNDED
    either = of("ROWTIME < 5 OR ROWTIME = 9")
    assert either.box == ScanBounds(max_timestamp=9)
    assert either.parts == (ScanBounds(max_timestamp=4), ScanBounds(min_timestamp=9, max_timestamp=9))
    assert not either.admits_segment(0, 6, 8, 0, 1)  # between the two ranges
    assert of("NOT (ROWTIME < 5)") == ScanBounds(min_timestamp=5)
    assert of("NOT (ROWTIME >= 5 AND V > 1)") == UNBOUNDED
    assert of("ROWTIME NOT BETWEEN 5 AND 9").parts == (ScanBounds(max_timestamp=4), ScanBounds(min_timestamp=10))
    assert of("ROWTIME >= 60 * 1000") == ScanBounds(min_timestamp=60_000)
    assert of("V > 3") == UNBOUNDED
    assert of("ROWTIME > 30 AND ROWTIME < 10").empty


def test_sql_bounds_respect_qualifiers() -> None:
    where = sqlglot.parse_one("SELECT 1 FROM a JOIN b ON 1 = 1 WHERE a.rowtime >= 5 AND b.rowtime < 9", read="duckdb")
    predicate = where.args["where"].this
    assert bounds_of_sql(predicate, {"A"}) == ScanBounds(min_timestamp=5)
    assert bounds_of_sql(predicate, {"B"}) == ScanBounds(max_timestamp=8)


def test_segment_admission() -> None:
    bounds = ScanBounds(min_timestamp=100, max_timestamp=200, partitions=frozenset({1}))
    assert bounds.admits_segment(1, 150, 400, 0, 10)
    assert not bounds.admits_segment(0, 150, 400, 0, 10)
    assert not bounds.admits_segment(1, 201, 400, 0, 10)
    assert not bounds.admits_segment(1, 0, 99, 0, 10)
    assert not bounds.admits_segment(1, None, None, None, None)  # a segment without records
    assert ScanBounds(min_offset=5).admits_segment(0, 0, 1, 0, 5)
    assert not ScanBounds(min_offset=6).admits_segment(0, 0, 1, 0, 5)

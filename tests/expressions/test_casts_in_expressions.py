"""CAST inside expressions: ksqlDB's CAST semantics come from headwater.engine.casts; this checks the
wiring: refusal at bind time, row failures isolated, constants, implicit STRING -> TIMESTAMP."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from headwater.engine.expressions import ExpressionTypeError, Scope, ScopeColumn, bind, evaluate_literal
from headwater.parser import parse_expression
from headwater.parser import types as t

pytest.importorskip("headwater.engine.casts")


def test_unsupported_casts_are_refused_when_binding(registry) -> None:
    scope = Scope((ScopeColumn("A", t.Array(t.INT)),))
    with pytest.raises(ExpressionTypeError, match="Cast of ARRAY<INTEGER> to INTEGER is not supported"):
        bind(parse_expression("CAST(A AS INT)"), scope, registry)


def test_rows_that_do_not_convert_are_null_and_reported(evaluate) -> None:
    batch = pa.record_batch({"S": ["1", " 2 ", "x", None, "3"]})
    errors: list = []
    assert evaluate("CAST(S AS INT) + 1", batch, errors=errors) == [2, 3, None, None, 4]
    # a CAST is guarded (ksqlDB's nested error handling): NULL where it fails, reported as such
    assert errors == [(2, 'Error processing INTEGER: For input string: "x"')]


def test_a_constant_that_does_not_convert_fails_every_row(evaluate) -> None:
    batch = pa.record_batch({"X": [1, 2]})
    errors: list = []
    assert evaluate("CAST('x' AS INT)", batch, errors=errors) == [None, None]
    assert [row for row, _ in errors] == [0, 1]


def test_strings_compare_with_timestamps_by_parsing(evaluate) -> None:
    batch = pa.record_batch({"TS": pa.array([0, 1_600_000_000_000], pa.timestamp("ms"))})
    assert evaluate("TS < '2000-01-01T00:00:00'", batch) == [True, False]
    assert evaluate("'2000-01-01T00:00:00' <= TS", batch) == [False, True]


def test_insert_values_parse_strings_for_temporal_columns(registry) -> None:
    parsed = evaluate_literal(parse_expression("'2020-01-02'"), t.DATE, registry)
    assert parsed.as_py() == dt.date(2020, 1, 2)

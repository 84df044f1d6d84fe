"""Name resolution in a Scope, with ksqlDB's messages, and derived columns."""

from __future__ import annotations

import pytest

from headwater.engine.expressions import (
    AmbiguousColumnError,
    BoundColumn,
    ColumnKind,
    Scope,
    ScopeColumn,
    UnknownSourceError,
    UnresolvedColumnError,
    bind,
)
from headwater.engine.functions.registry import FunctionRegistry
from headwater.engine.schema import Column, LogicalSchema, Namespace
from headwater.parser import parse_expression
from headwater.parser import types as t
from headwater.parser.expressions import ColumnRef, Span

JOINED = Scope(
    (
        ScopeColumn("FOO", t.INT, "I1", field="I1_FOO"),
        ScopeColumn("BAR", t.INT, "I1", field="I1_BAR"),
        ScopeColumn("FOO", t.INT, "I2", field="I2_FOO"),
        ScopeColumn("BAZ", t.STRING, "I2", field="I2_BAZ"),
    )
)


def test_qualified_and_unqualified_references() -> None:
    assert JOINED.resolve(ColumnRef("FOO", "I2")).field == "I2_FOO"
    assert JOINED.resolve(ColumnRef("BAR")).field == "I1_BAR"  # only one source has it
    assert JOINED.resolve(ColumnRef("BAZ")).source == "I2"


def test_ambiguous_reference_names_every_candidate_with_its_position() -> None:
    with pytest.raises(AmbiguousColumnError) as caught:
        JOINED.resolve(ColumnRef("FOO", span=Span(40, 43, 3, 38)))
    assert str(caught.value) == "Line: 3, Col: 38: Column 'FOO' is ambiguous. Could be I1.FOO or I2.FOO."
    assert caught.value.candidates == ("I1.FOO", "I2.FOO")


def test_unresolved_reference_names_the_clause() -> None:
    with pytest.raises(UnresolvedColumnError) as caught:
        JOINED.resolve(ColumnRef("IID", "I1"), clause="JOIN ON")
    assert str(caught.value) == "JOIN ON column 'I1.IID' cannot be resolved."
    with pytest.raises(UnresolvedColumnError, match=r"^Column 'UNKNOWN' cannot be resolved\.$"):
        JOINED.resolve(ColumnRef("UNKNOWN"))


def test_unknown_qualifier() -> None:
    with pytest.raises(UnknownSourceError, match=r"^'FOO' is not a valid stream/table name or alias\.$"):
        JOINED.resolve(ColumnRef("BAR", "FOO"))


def test_binding_uses_the_clause_in_messages() -> None:
    with pytest.raises(UnresolvedColumnError) as caught:
        bind(parse_expression("1 + unknown"), JOINED, FunctionRegistry(), clause="SELECT")
    assert str(caught.value) == "Line: 1, Col: 5: SELECT column 'UNKNOWN' cannot be resolved."


def test_scope_from_schema_adds_pseudo_columns_and_window_bounds() -> None:
    schema = LogicalSchema((Column("K", t.STRING, Namespace.KEY), Column("V", t.INT)))
    scope = Scope.from_schema(schema, source="S", windowed=True)
    kinds = {c.name: c.kind for c in scope.columns}
    assert kinds == {
        "K": ColumnKind.KEY,
        "V": ColumnKind.VALUE,
        "ROWTIME": ColumnKind.PSEUDO,
        "ROWPARTITION": ColumnKind.PSEUDO,
        "ROWOFFSET": ColumnKind.PSEUDO,
        "WINDOWSTART": ColumnKind.WINDOW_BOUND,
        "WINDOWEND": ColumnKind.WINDOW_BOUND,
    }
    assert scope.resolve(ColumnRef("ROWTIME", "S")).type == t.BIGINT
    assert scope.resolve(ColumnRef("ROWPARTITION")).type == t.INT


def test_derived_expressions_bind_to_their_column() -> None:
    registry = FunctionRegistry()
    registry.register_aggregate("SUM", object())
    total = ScopeColumn("KSQL_AGG_VARIABLE_0", t.BIGINT, kind=ColumnKind.DERIVED)
    scope = Scope((ScopeColumn("ID", t.BIGINT),)).with_derived(parse_expression("SUM(value)"), total)
    bound = bind(parse_expression("sum(VALUE) > 100"), scope, registry)
    left = bound.left  # type: ignore[attr-defined]
    assert isinstance(left, BoundColumn) and left.field == "KSQL_AGG_VARIABLE_0"


def test_merged_scopes_keep_both_sources() -> None:
    left = Scope((ScopeColumn("A", t.INT, "L"),), ("L",))
    right = Scope((), ("R",))
    merged = left.merged(right)
    assert merged.source_names() == ("L", "R")
    with pytest.raises(UnresolvedColumnError, match=r"Column 'R\.A' cannot be resolved"):
        merged.resolve(ColumnRef("A", "R"))

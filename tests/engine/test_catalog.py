"""Schemas, sources, types and WITH clauses."""

from __future__ import annotations

import pytest

from headwater.engine.catalog import Catalog, DataSource, FormatSpec, SourceType, WindowInfo, WindowType
from headwater.engine.schema import HEADERS_TYPE, Column, LogicalSchema, Namespace, format_type
from headwater.engine.statements.with_clause import WithClause, parse_duration_ms
from headwater.errors import PlanError
from headwater.parser import ast
from headwater.parser import expressions as pe
from headwater.parser import types as t


def _source(name: str = "S", topic: str = "s") -> DataSource:
    schema = LogicalSchema((Column("ID", t.INT, Namespace.KEY), Column("V", t.STRING)))
    return DataSource(name, SourceType.STREAM, schema, topic, FormatSpec("KAFKA"), FormatSpec("JSON"))


def test_schema_prints_as_ksqldb() -> None:
    schema = LogicalSchema(
        (
            Column("V", t.Struct((("a", t.INT),))),
            Column("K", t.STRING, Namespace.KEY),
            Column("H", HEADERS_TYPE, Namespace.HEADERS),
            Column("B", t.BYTES, Namespace.HEADERS, "k'1"),
        )
    ).ordered()
    assert str(schema) == (
        "`K` STRING KEY, `V` STRUCT<`a` INTEGER>, `H` ARRAY<STRUCT<`KEY` STRING, `VALUE` BYTES>> HEADERS, "
        "`B` BYTES HEADER('k''1')"
    )
    fields = schema.arrow_fields()
    assert fields[0].metadata == {b"headwater.key": b"true"}
    assert fields[3].metadata == {b"headwater.header": b"k'1"}
    assert format_type(t.Map(t.STRING, t.Decimal(4, 2))) == "MAP<STRING, DECIMAL(4, 2)>"


def test_schema_refuses_duplicates() -> None:
    with pytest.raises(ValueError, match="duplicate column `A`"):
        LogicalSchema((Column("A", t.INT), Column("A", t.STRING, Namespace.KEY)))


def test_catalog_sources_and_topics() -> None:
    catalog = Catalog()
    catalog.put_source(_source("S", "shared"))
    catalog.put_source(_source("T", "shared"))
    catalog.put_source(_source("U", "other"))
    assert [s.name for s in catalog.sources_on_topic("shared")] == ["S", "T"]
    catalog.put_source(_source("S", "moved"))  # replace keeps the position
    assert [s.name for s in catalog.sources()] == ["S", "T", "U"]
    assert catalog.require_source("U").topic == "other"
    with pytest.raises(PlanError, match=r"Source X does not exist\."):
        catalog.require_source("X")
    assert catalog.find_case_insensitive("s") is not None
    assert catalog.remove_source("T") is not None and catalog.source("T") is None


def test_user_types_resolve_recursively() -> None:
    catalog = Catalog()
    catalog.put_type("address", t.Struct((("STREET", t.STRING),)))
    resolved = catalog.resolve_type(t.Array(t.UserType("ADDRESS")))
    assert resolved == t.Array(t.Struct((("STREET", t.STRING),)))
    with pytest.raises(PlanError, match="unknown type: NOPE"):
        catalog.resolve_type(t.UserType("NOPE"))


def test_window_info_and_format_features() -> None:
    with pytest.raises(ValueError):
        WindowInfo(WindowType.SESSION, 1000)
    assert FormatSpec("JSON", features=frozenset({"UNWRAP_SINGLES"})).wrap_single is False
    assert FormatSpec("DELIMITED", (("delimiter", "|"),)).get_property("delimiter") == "|"


def _props(**values: object) -> tuple[ast.Property, ...]:
    out = []
    for name, value in values.items():
        literal: pe.Expression
        if isinstance(value, bool):
            literal = pe.BooleanLiteral(value)
        elif isinstance(value, int):
            literal = pe.IntegerLiteral(value)
        else:
            literal = pe.StringLiteral(str(value))
        out.append(ast.Property(name, literal))
    return tuple(out)


def test_with_clause_reads_and_validates() -> None:
    clause = WithClause.parse(
        _props(KAFKA_TOPIC="t", PARTITIONS=3, FORMAT="json", WRAP_SINGLE_VALUE=False, TIMESTAMP="ts"),
        for_create_as=False,
    )
    assert (clause.kafka_topic, clause.partitions, clause.key_format, clause.value_format) == (
        "t",
        3,
        "JSON",
        "JSON",
    )
    assert clause.wrap_single_value is False and clause.timestamp_column == "TS"
    windowed = WithClause.parse(_props(WINDOW_TYPE="hopping", WINDOW_SIZE="30 SECONDS"), for_create_as=False)
    assert windowed.window_type == "HOPPING" and windowed.window_size_ms == 30_000


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"FOO": 1}, "Invalid config variable(s) in the WITH clause: FOO"),
        (
            {"FORMAT": "JSON", "KEY_FORMAT": "KAFKA"},
            "Cannot supply both 'KEY_FORMAT' and 'FORMAT' properties",
        ),
        (
            {"FORMAT": "JSON", "VALUE_FORMAT": "JSON"},
            "Cannot supply both 'VALUE_FORMAT' and 'FORMAT' properties",
        ),
        (
            {"WINDOW_TYPE": "SESSION", "WINDOW_SIZE": "1 SECOND"},
            "'WINDOW_SIZE' should not be set for SESSION windows.",
        ),
        ({"WINDOW_TYPE": "TUMBLING", "WINDOW_SIZE": "30 bobs"}, "Unknown time unit: 'BOBS'"),
    ],
)
def test_with_clause_errors(values: dict[str, object], message: str) -> None:
    with pytest.raises(PlanError) as info:
        WithClause.parse(_props(**values), for_create_as=False)
    assert message in str(info.value)


def test_create_as_refuses_create_only_properties() -> None:
    with pytest.raises(PlanError, match="WINDOW_TYPE"):
        WithClause.parse(_props(WINDOW_TYPE="TUMBLING"), for_create_as=True)
    assert parse_duration_ms("2 minutes", "WINDOW_SIZE") == 120_000

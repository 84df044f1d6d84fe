"""The planner: every node kind lowers to an operator, and the builder applies ksqlDB's query rules with
its messages (real parser, real binder)."""

from __future__ import annotations

import pytest

from headwater.engine.catalog import Catalog, DataSource, FormatSpec, SourceType
from headwater.engine.config import EngineConfig
from headwater.engine.functions import default_registry
from headwater.engine.planner import logical, stateful_nodes
from headwater.engine.planner.builder import QueryBuilder
from headwater.engine.planner.physical import LOWERINGS
from headwater.engine.schema import Column, LogicalSchema, Namespace
from headwater.errors import PlanError
from headwater.parser import ast, parse_statement
from headwater.parser import types as t


def test_every_plan_node_kind_has_a_lowering() -> None:
    kinds = {
        cls
        for module in (logical, stateful_nodes)
        for cls in vars(module).values()
        if isinstance(cls, type) and issubclass(cls, logical.PlanNode) and cls is not logical.PlanNode
    }
    assert kinds, "the logical module defines node kinds"
    assert kinds == set(LOWERINGS)


def _builder() -> QueryBuilder:
    catalog = Catalog()
    catalog.put_source(
        DataSource(
            "INPUT",
            SourceType.STREAM,
            LogicalSchema(
                (Column("ID", t.INT, Namespace.KEY), Column("NAME", t.STRING), Column("V", t.BIGINT))
            ),
            "input",
            FormatSpec("KAFKA"),
            FormatSpec("JSON"),
        )
    )
    return QueryBuilder(catalog, default_registry(), EngineConfig().as_dict())


def _query(sql: str) -> ast.Query:
    statement = parse_statement(sql)
    query = getattr(statement, "query", None)
    assert isinstance(query, ast.Query)
    return query


def test_projection_filter_and_keys() -> None:
    built = _builder().build(
        _query("CREATE STREAM OUTPUT AS SELECT ID AS NEW_KEY, NAME, V * 2 FROM INPUT WHERE V > 10;"),
        sink_name="OUTPUT",
        persistent=True,
    )
    assert str(built.schema) == "`NEW_KEY` INTEGER KEY, `NAME` STRING, `KSQL_COL_0` BIGINT"
    assert built.key_columns == ("NEW_KEY",)
    kinds = [node.kind for node in logical.walk_plan(built.plan)]
    assert kinds == ["scan", "filter", "project"]


def test_partition_by_makes_the_projected_expression_the_key() -> None:
    built = _builder().build(
        _query("CREATE STREAM OUTPUT AS SELECT NAME, ID, V FROM INPUT PARTITION BY NAME;"),
        sink_name="OUTPUT",
        persistent=True,
    )
    assert str(built.schema) == "`NAME` STRING KEY, `ID` INTEGER, `V` BIGINT"


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        (
            "CREATE STREAM OUTPUT AS SELECT NAME FROM INPUT;",
            "The query used to build `OUTPUT` must include the key column ID in its projection (eg, SELECT ID...).",
        ),
        (
            "CREATE STREAM OUTPUT AS SELECT NAME AS ID, NAME FROM INPUT;",
            "must include the key column ID in its projection",
        ),
        (
            "CREATE STREAM OUTPUT AS SELECT ID, ID AS ID2, NAME FROM INPUT;",
            "The projection contains a key column (`ID`) more than once, aliased as: ID and ID2.",
        ),
        ("CREATE STREAM OUTPUT AS SELECT ID FROM INPUT;", "The projection contains no value columns."),
        (
            "CREATE STREAM OUTPUT AS SELECT ID, ROWTIME FROM INPUT;",
            "Reserved column name in select: `ROWTIME`. Please remove or alias the column.",
        ),
        (
            "CREATE STREAM OUTPUT AS SELECT ID, NAME AS ROWPARTITION FROM INPUT;",
            "`ROWPARTITION` is a reserved column name. You cannot use it as an alias for a column.",
        ),
        (
            "CREATE STREAM OUTPUT AS SELECT ID, NAME FROM INPUT WHERE NAME;",
            "Type error in WHERE expression: Should evaluate to boolean but is NAME (STRING) instead.",
        ),
        (
            "CREATE STREAM OUTPUT AS SELECT ID, NAME FROM INPUT PARTITION BY V;",
            "Key missing from projection (ie, SELECT). \nThe query used to build `OUTPUT` must include the "
            "partitioning expression INPUT.V in its projection (eg, SELECT INPUT.V...).",
        ),
        (
            "CREATE STREAM OUTPUT AS SELECT NAME FROM INPUT PARTITION BY ABS(ID), V;",
            "Keys missing from projection (ie, SELECT). \nThe query used to build `OUTPUT` must include the "
            "partitioning expressions ABS(INPUT.ID) and INPUT.V in its projection "
            "(eg, SELECT ABS(INPUT.ID), INPUT.V...).",
        ),
        (
            "CREATE STREAM OUTPUT AS SELECT NAME FROM INPUT PARTITION BY UNKNOWN;",
            "PARTITION BY column 'UNKNOWN' cannot be resolved. 'UNKNOWN' must be a column in the source "
            "schema since PARTITION BY is applied on the input.",
        ),
        (
            "CREATE STREAM OUTPUT AS SELECT NAME, NAME AS N2, V FROM INPUT PARTITION BY NAME;",
            "The projection contains a key column (`NAME`) more than once, aliased as: NAME and N2.",
        ),
        ("CREATE STREAM OUTPUT AS SELECT * FROM UNKNOWN;", "Exception while preparing statement: UNKNOWN does not exist."),
    ],
)
def test_ksqldb_messages(sql: str, message: str) -> None:
    with pytest.raises(PlanError) as info:
        _builder().build(_query(sql), sink_name="OUTPUT", persistent=True)
    assert message in str(info.value)


def test_partition_by_rekeys_before_the_projection() -> None:
    """ksqlDB re-keys the input: ``*`` then lists the new key, the values, then the old key."""
    built = _builder().build(
        _query("CREATE STREAM OUTPUT AS SELECT * FROM INPUT PARTITION BY NAME;"),
        sink_name="OUTPUT",
        persistent=True,
    )
    assert str(built.schema) == "`NAME` STRING KEY, `V` BIGINT, `ID` INTEGER"
    kinds = [node.kind for node in logical.walk_plan(built.plan)]
    assert kinds == ["scan", "partition_by", "project"]


@pytest.mark.parametrize(
    ("sql", "schema"),
    [
        (
            "SELECT * FROM INPUT PARTITION BY ABS(ID)",
            "`KSQL_COL_0` INTEGER KEY, `NAME` STRING, `V` BIGINT, `ID` INTEGER",
        ),
        (
            "SELECT * FROM INPUT PARTITION BY ROWTIME",
            "`ROWTIME` BIGINT KEY, `NAME` STRING, `V` BIGINT, `ID` INTEGER",
        ),
        ("SELECT * FROM INPUT PARTITION BY V, NAME", "`V` BIGINT KEY, `NAME` STRING KEY, `ID` INTEGER"),
        (
            "SELECT NAME, ABS(ID) AS K, V FROM INPUT PARTITION BY ABS(ID)",
            "`K` INTEGER KEY, `NAME` STRING, `V` BIGINT",
        ),
        (
            "SELECT ID, NAME, V FROM INPUT PARTITION BY V, INPUT.ID",
            "`V` BIGINT KEY, `ID` INTEGER KEY, `NAME` STRING",
        ),
        ("SELECT ID, NAME, V FROM INPUT PARTITION BY NULL", "`ID` INTEGER, `NAME` STRING, `V` BIGINT"),
    ],
)
def test_partition_by_key_names_and_order(sql: str, schema: str) -> None:
    built = _builder().build(_query(f"CREATE STREAM OUTPUT AS {sql};"), sink_name="OUTPUT", persistent=True)
    assert str(built.schema) == schema


def test_star_expands_key_then_value_columns() -> None:
    built = _builder().build(_query("SELECT * FROM INPUT EMIT CHANGES;"), sink_name=None, persistent=False)
    assert [c.column.name for c in built.columns] == ["ID", "NAME", "V"]
    assert built.key_columns == ("ID",)

"""A persistent query's statement as ksqlDB re-formats it in some messages ("Statement: ...").

ksqlDB quotes the statement it planned, as its ``SqlFormatter`` prints it after analysis: every column
reference qualified by its source, every SELECT item followed by its name, one item per line, and
``EMIT CHANGES`` at the end::

    CREATE TABLE OUTPUT AS SELECT
      TEST.F2 F2,
      COUNT(*) KSQL_COL_0
    FROM TEST TEST
    GROUP BY TEST.F2
    EMIT CHANGES

Only the shapes this is needed for are rendered (one source, explicit SELECT items, no WINDOW clause);
anything else gives None and the message goes without the statement.
"""

from __future__ import annotations

from collections.abc import Sequence

from headwater.engine.expressions import format_expression
from headwater.engine.planner.rewrite import transform
from headwater.parser import ast
from headwater.parser import expressions as pe

__all__ = ["formatted_statement"]


def _qualified(expression: pe.Expression, alias: str) -> pe.Expression:
    return transform(
        expression,
        lambda n: pe.ColumnRef(n.name, alias) if isinstance(n, pe.ColumnRef) and n.source is None else None,
    )


def formatted_statement(
    statement: ast.CreateStreamAsSelect | ast.CreateTableAsSelect, names: Sequence[str]
) -> str | None:
    """``statement`` as ksqlDB prints it (see the module docstring), its SELECT items named ``names``;
    None for a shape this does not render."""
    query = statement.query
    relation = query.from_
    if not isinstance(relation, ast.AliasedRelation) or query.window is not None:
        return None
    if not all(isinstance(item, ast.SingleColumn) for item in query.select) or len(names) != len(query.select):
        return None
    alias = relation.alias or relation.name
    kind = "TABLE" if isinstance(statement, ast.CreateTableAsSelect) else "STREAM"
    head = f"CREATE {kind} {statement.name}"
    if statement.properties:
        properties = ", ".join(f"{p.name.upper()}={format_expression(p.value)}" for p in statement.properties)
        head += f" WITH ({properties})"
    items = [
        f"  {format_expression(_qualified(item.expression, alias))} {name}"
        for item, name in zip(query.select, names)
        if isinstance(item, ast.SingleColumn)
    ]
    lines = [f"{head} AS SELECT", ",\n".join(items), f"FROM {relation.name} {alias}"]
    if query.where is not None:
        lines.append(f"WHERE {format_expression(_qualified(query.where, alias))}")
    if query.group_by:
        lines.append("GROUP BY " + ", ".join(format_expression(_qualified(e, alias)) for e in query.group_by))
    if query.partition_by:
        lines.append("PARTITION BY " + ", ".join(format_expression(_qualified(e, alias)) for e in query.partition_by))
    if query.having is not None:
        lines.append(f"HAVING {format_expression(_qualified(query.having, alias))}")
    lines.append("EMIT CHANGES")
    return "\n".join(lines)

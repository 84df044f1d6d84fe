"""Checks ksqlDB makes on a whole statement while building it: qualifiers that name no source.

ksqlDB's AstBuilder first collects every source name and alias of the statement, then rejects a
qualified column (``x.col``) or star (``x.*``) whose qualifier is not among them. It is a parse
failure there ("Failed to prepare statement: 'X' is not a valid stream/table name or alias."), so it
is one here. Statements without a FROM clause (INSERT ... VALUES) have no sources, so any qualifier
is unknown in them.
"""

from __future__ import annotations

from collections.abc import Iterator

from headwater.parser import ast
from headwater.parser import expressions as ex
from headwater.parser.positions import AstCheckError

__all__ = ["check_qualifiers"]


def _sources(node: ex.Node) -> set[str]:
    names: set[str] = set()
    for item in ex.walk(node):
        if isinstance(item, ast.AliasedRelation):
            names.add(item.name)
            if item.alias is not None:
                names.add(item.alias)
    return names


def _in_visit_order(node: ex.Node) -> Iterator[ex.Node]:
    """Nodes in the order ksqlDB's visitor meets them: a query's FROM (with its join criteria)
    before its SELECT list and the clauses after it."""
    if isinstance(node, ast.Query):
        clause: object
        for clause in (
            node.from_,
            node.select,
            node.window,
            node.where,
            node.group_by,
            node.partition_by,
            node.having,
        ):
            items: tuple[object, ...] = clause if isinstance(clause, tuple) else (clause,)
            for item in items:
                if isinstance(item, ex.Node):
                    yield from _in_visit_order(item)
        return
    yield node
    for nested in ex.iter_children(node):
        yield from _in_visit_order(nested)


def check_qualifiers(statement: ast.Statement) -> None:
    """Raise if ``statement`` qualifies a column or star with a name that is no source or alias.

    Raises:
        AstCheckError: with ksqlDB's message, at the qualified reference.
    """
    sources: set[str] | None = None
    for node in _in_visit_order(statement):
        qualifier = node.source if isinstance(node, ex.ColumnRef | ast.AllColumns) else None
        if qualifier is None:
            continue
        if sources is None:
            sources = _sources(statement)
        if qualifier not in sources:
            raise AstCheckError.at(
                f"Failed to prepare statement: '{qualifier}' is not a valid stream/table name or alias.",
                getattr(node, "span", None),
                qualifier,
            )

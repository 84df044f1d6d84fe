"""Reading one stream or table whole, within a time range: ``Client.read`` and ``headwater export``.

The read is an ordinary historical query built as a syntax tree::

    SELECT *, ROWTIME, ROWPARTITION, ROWOFFSET FROM <name>
    WHERE ROWTIME >= <since> AND ROWTIME < <until> [AND (<where>)]

so the columns are the source's view columns (keys, WINDOWSTART / WINDOWEND of a windowed source,
values, then the pseudo-columns), the time range prunes a stream's segments, and ``where`` is any ksqlDB
boolean expression, bound and evaluated with ksqlDB's semantics. ``since`` is inclusive and ``until``
exclusive. For a table the range applies to each key's latest row.

Example::

    result = read_source(engine, "orders", since="2024-05-01", until="2024-05-02", where="QTY > 2")
    result.table
"""

from __future__ import annotations

from typing import Any

from headwater import parser
from headwater.engine.catalog import Catalog, DataSource
from headwater.engine.historical.result import HistoricalResult
from headwater.engine.historical.session import HistoricalSession
from headwater.engine.historical.times import TimeLike, to_epoch_millis
from headwater.engine.schema import PSEUDO_COLUMNS, ROWTIME
from headwater.errors import ParseError, PlanError
from headwater.parser import ast
from headwater.parser import expressions as pe

__all__ = ["find_source", "read_query", "read_source"]


def find_source(catalog: Catalog, name: str) -> DataSource:
    """The stream or table called ``name``: exactly, else as ksqlDB reads an unquoted name (upper case).

    Raises:
        PlanError: no such source (the message lists what exists).
    """
    source = catalog.source(name) or catalog.source(name.upper())
    if source is None:
        known = ", ".join(sorted(s.name for s in catalog.sources() if not s.name.startswith("KSQL_"))) or "none"
        raise PlanError(f"Stream or table {name} does not exist (known: {known}).")
    return source


def read_query(
    source: DataSource,
    since: TimeLike | None = None,
    until: TimeLike | None = None,
    where: str | None = None,
) -> ast.Query:
    """The query that reads ``source`` within ``[since, until)`` and ``where`` (see the module docstring).

    Raises:
        ParseError: ``where`` is not an expression.
        PlanError: a time that does not read as one.
    """
    conditions: list[pe.Expression] = []
    if since is not None:
        conditions.append(
            pe.Comparison(
                pe.ComparisonOp.GREATER_THAN_OR_EQUAL,
                pe.ColumnRef(ROWTIME),
                pe.IntegerLiteral(to_epoch_millis(since, "since")),
            )
        )
    if until is not None:
        conditions.append(
            pe.Comparison(
                pe.ComparisonOp.LESS_THAN, pe.ColumnRef(ROWTIME), pe.IntegerLiteral(to_epoch_millis(until, "until"))
            )
        )
    if where is not None and where.strip():
        try:
            conditions.append(parser.parse_expression(where))
        except ParseError as error:
            raise ParseError(
                f"--where is not a ksqlDB expression: {error.message}",
                line=error.line,
                column=error.column,
                token=error.token,
                source=where,
            ) from None
    condition: pe.Expression | None = None
    for term in conditions:
        condition = term if condition is None else pe.LogicalBinary(pe.LogicalOp.AND, condition, term)
    select: tuple[ast.SelectItem, ...] = (
        ast.AllColumns(),
        *(ast.SingleColumn(pe.ColumnRef(name)) for name in PSEUDO_COLUMNS),
    )
    return ast.Query(select=select, from_=ast.AliasedRelation(source.name), where=condition)


def read_source(
    engine: Any,
    name: str,
    since: TimeLike | None = None,
    until: TimeLike | None = None,
    where: str | None = None,
    config: Any = None,
) -> HistoricalResult:
    """Every row of stream or table ``name`` in ``[since, until)`` satisfying ``where``."""
    source = find_source(engine.catalog, name)
    query = read_query(source, since, until, where)
    with HistoricalSession(engine, config) as session:
        return session.run(f"SELECT * FROM {source.name}", query)

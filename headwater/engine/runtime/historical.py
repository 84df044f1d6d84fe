"""Historical queries: a SELECT over a stream without EMIT CHANGES, answered from the stream's records.

The stream's records are decoded by the query's own scan operator (the same decoding as every query)
into one Arrow table with the source columns and ROWTIME, ROWPARTITION, ROWOFFSET. The WHERE clause runs
in DuckDB over that table when it is made of what DuckDB evaluates exactly as ksqlDB does in a filter:
column references (struct fields too), literals, comparisons between operands of the same type family,
AND / OR / NOT, IS [NOT] NULL, BETWEEN and IN lists of literals; sqlglot renders it as DuckDB SQL. The
projection (and any WHERE outside that subset) runs through the query's compiled operators, so
function calls, arithmetic and casts keep ksqlDB's semantics exactly, as in a push query. LIMIT cuts
the result.

Example::

    stream = engine.stream("SELECT ID, UCASE(NAME) FROM S WHERE V > 10 LIMIT 5;")
    rows = [row.columns for row in stream]        # stream.final_message: "Query Completed"
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa
import sqlglot.expressions as sg

from headwater.engine.operators.base import Operator, without_null_values
from headwater.engine.operators.filter import FilterOperator
from headwater.engine.operators.source_scan import PARTITION_COLUMN
from headwater.engine.planner.builder import BuiltQuery
from headwater.engine.planner.physical import LoweringContext, lower
from headwater.engine.planner.rules import WHERE_RULES, apply_rules
from headwater.errors import ExecutionError
from headwater.parser import expressions as pe
from headwater.parser import types as t

__all__ = ["duckdb_predicate", "historical_rows"]

_COMPARISONS: dict[pe.ComparisonOp, type[sg.Expression]] = {
    pe.ComparisonOp.EQUAL: sg.EQ,
    pe.ComparisonOp.NOT_EQUAL: sg.NEQ,
    pe.ComparisonOp.LESS_THAN: sg.LT,
    pe.ComparisonOp.LESS_THAN_OR_EQUAL: sg.LTE,
    pe.ComparisonOp.GREATER_THAN: sg.GT,
    pe.ComparisonOp.GREATER_THAN_OR_EQUAL: sg.GTE,
}


def _family(sql_type: t.SqlType | None) -> str | None:
    """Types DuckDB compares as ksqlDB does: numbers with numbers, strings with strings, booleans."""
    if isinstance(sql_type, t.Decimal):
        return "number"
    if isinstance(sql_type, t.Primitive):
        kind = sql_type.kind
        if kind in (t.PrimitiveKind.INTEGER, t.PrimitiveKind.BIGINT, t.PrimitiveKind.DOUBLE):
            return "number"
        if kind is t.PrimitiveKind.STRING:
            return "string"
        if kind is t.PrimitiveKind.BOOLEAN:
            return "boolean"
    return None


def duckdb_predicate(
    expression: pe.Expression, type_of: Callable[[pe.Expression], t.SqlType | None]
) -> str | None:
    """``expression`` as DuckDB SQL, or None when it is outside the subset DuckDB evaluates exactly as
    ksqlDB (see the module docstring). ``type_of`` gives the SQL type of an operand (None: unknown).

    Example:
        >>> from headwater.parser.expressions import ColumnRef, Comparison, ComparisonOp, IntegerLiteral
        >>> duckdb_predicate(Comparison(ComparisonOp.GREATER_THAN, ColumnRef("V"), IntegerLiteral(1)),
        ...                  lambda e: t.INT)
        '"V" > 1'
    """
    converted = _convert(expression, type_of)
    return None if converted is None else str(converted.sql(dialect="duckdb"))


def _operand(node: pe.Expression) -> sg.Expression | None:
    if isinstance(node, pe.ColumnRef):
        return sg.column(node.name, quoted=True)
    if isinstance(node, pe.Dereference):
        base = _operand(node.base)
        if base is None:
            return None
        return sg.Dot(this=base, expression=sg.to_identifier(node.field, quoted=True))
    if isinstance(node, pe.IntegerLiteral):
        return sg.Literal.number(node.value)
    if isinstance(node, pe.DecimalLiteral | pe.DoubleLiteral):
        return sg.Literal.number(str(node.value))
    if isinstance(node, pe.StringLiteral):
        return sg.Literal.string(node.value)
    if isinstance(node, pe.BooleanLiteral):
        return sg.Boolean(this=node.value)
    return None


def _same_family(operands: list[pe.Expression], type_of: Callable[[pe.Expression], t.SqlType | None]) -> bool:
    families = {_family(type_of(o)) for o in operands}
    return len(families) == 1 and None not in families


def _convert(
    node: pe.Expression, type_of: Callable[[pe.Expression], t.SqlType | None]
) -> sg.Expression | None:
    if isinstance(node, pe.LogicalBinary):
        left, right = _convert(node.left, type_of), _convert(node.right, type_of)
        if left is None or right is None:
            return None
        if node.op is pe.LogicalOp.AND:
            return sg.And(this=sg.Paren(this=left), expression=sg.Paren(this=right))
        return sg.Or(this=sg.Paren(this=left), expression=sg.Paren(this=right))
    if isinstance(node, pe.Not):
        inner = _convert(node.operand, type_of)
        return None if inner is None else sg.Not(this=sg.Paren(this=inner))
    if isinstance(node, pe.IsNull):
        operand = _operand(node.value)
        if operand is None:
            return None
        test = sg.Is(this=operand, expression=sg.Null())
        return sg.Not(this=test) if node.negated else test
    if isinstance(node, pe.Comparison) and node.op in _COMPARISONS:
        left, right = _operand(node.left), _operand(node.right)
        if left is None or right is None or not _same_family([node.left, node.right], type_of):
            return None
        return _COMPARISONS[node.op](this=left, expression=right)
    if isinstance(node, pe.Between):
        parts = [_operand(n) for n in (node.value, node.low, node.high)]
        if any(p is None for p in parts) or not _same_family([node.value, node.low, node.high], type_of):
            return None
        between = sg.Between(this=parts[0], low=parts[1], high=parts[2])
        return sg.Not(this=sg.Paren(this=between)) if node.negated else between
    if isinstance(node, pe.InList):
        value = _operand(node.value)
        items = [_operand(i) for i in node.items]
        literals = all(not isinstance(i, pe.ColumnRef | pe.Dereference) for i in node.items)
        if value is None or any(i is None for i in items) or not literals:
            return None
        if not _same_family([node.value, *node.items], type_of):
            return None
        membership = sg.In(this=value, expressions=items)
        return sg.Not(this=sg.Paren(this=membership)) if node.negated else membership
    return None


def _decoded(ctx: Any, built: BuiltQuery, scan: Operator) -> list[pa.RecordBatch]:
    topic = ctx.log.topic(built.source.topic)
    batches: list[pa.RecordBatch] = []
    for partition in range(len(topic.end_offsets())):
        part = topic.partition(partition)
        for batch in part.read(part.start_offset).batches:
            if batch.num_rows:
                stamped = batch.append_column(
                    PARTITION_COLUMN, pa.repeat(pa.scalar(partition, pa.int32()), batch.num_rows)
                )
                batches.extend(without_null_values(b) for b in scan.process(stamped))
    return [b for b in batches if b.num_rows]


def _duckdb_filter(batches: list[pa.RecordBatch], predicate: str) -> list[pa.RecordBatch]:
    import duckdb

    table = pa.Table.from_batches(batches)
    connection = duckdb.connect()
    try:
        connection.register("records", table)
        filtered: pa.Table = connection.sql(f"SELECT * FROM records WHERE {predicate}").to_arrow_table()
    except duckdb.Error as error:
        raise ExecutionError(f"Historical query failed: {error}") from None
    finally:
        connection.close()
    return filtered.cast(table.schema).to_batches()


def historical_rows(
    ctx: Any,
    built: BuiltQuery,
    where: pe.Expression | None,
    lowering: LoweringContext,
    type_of: Callable[[pe.Expression], t.SqlType | None],
) -> list[pa.RecordBatch]:
    """The result batches of a historical query planned as ``built`` (its plan includes the WHERE
    filter, which is replaced by DuckDB when it can be)."""
    operators = lower(built.plan, lowering).operators
    scan, rest = operators[0], operators[1:]
    batches = _decoded(ctx, built, scan)
    predicate = None
    if where is not None and batches:
        predicate = duckdb_predicate(apply_rules(where, WHERE_RULES), type_of)
    if predicate is not None:
        batches = _duckdb_filter(batches, predicate)
        rest = [op for op in rest if not isinstance(op, FilterOperator)]
    for operator in rest:
        batches = [out for batch in batches for out in operator.process(batch)]
    return batches

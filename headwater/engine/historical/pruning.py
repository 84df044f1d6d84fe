"""Reading scan bounds off a query's predicates, so a time-range query opens only its segments.

A condition bounds a relation when it compares one of its pseudo-columns (ROWTIME, ROWOFFSET,
ROWPARTITION) with a constant: ``ROWTIME >= 1700000000000``, ``ROWOFFSET BETWEEN 10 AND 20``,
``ROWPARTITION IN (0, 2)``. AND intersects the bounds of its sides, OR takes their hull; anything else
bounds nothing. The result only ever over-approximates the rows the predicate keeps (see
:class:`~headwater.engine.historical.bounds.ScanBounds`), and the predicate itself still runs.

Two readers: :func:`bounds_of_bound` for a bound ksqlDB predicate (constants are evaluated with the
streaming expression compiler, so ``ROWTIME > 1000 * 60`` works), and :func:`bounds_of_sql` for a
predicate of Headwater's SQL extension (a sqlglot tree; integer literals only).

Example:
    >>> import sqlglot
    >>> where = sqlglot.parse_one("SELECT 1 FROM s WHERE rowtime >= 10 AND rowtime < 20", read="duckdb").args["where"]
    >>> bounds_of_sql(where.this, qualifiers={"S"})
    ScanBounds(min_timestamp=10, max_timestamp=19, min_offset=None, max_offset=None, partitions=None)
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

import pyarrow as pa
from sqlglot import exp

from headwater.engine.expressions import (
    Bound,
    BoundBetween,
    BoundCall,
    BoundColumn,
    BoundComparison,
    BoundInList,
    BoundLogical,
    BoundNot,
    compile_expression,
    walk_bound,
)
from headwater.engine.historical.bounds import UNBOUNDED, ScanBounds
from headwater.engine.schema import ROWOFFSET, ROWPARTITION, ROWTIME
from headwater.parser.expressions import ComparisonOp, LogicalOp

__all__ = ["bounds_of_bound", "bounds_of_sql", "bounds_on"]

_ONE_ROW = pa.record_batch([pa.nulls(1)], names=["__row"])

_FLIPPED = {
    ComparisonOp.LESS_THAN: ComparisonOp.GREATER_THAN,
    ComparisonOp.LESS_THAN_OR_EQUAL: ComparisonOp.GREATER_THAN_OR_EQUAL,
    ComparisonOp.GREATER_THAN: ComparisonOp.LESS_THAN,
    ComparisonOp.GREATER_THAN_OR_EQUAL: ComparisonOp.LESS_THAN_OR_EQUAL,
    ComparisonOp.EQUAL: ComparisonOp.EQUAL,
    ComparisonOp.IS_NOT_DISTINCT_FROM: ComparisonOp.IS_NOT_DISTINCT_FROM,
}


def bounds_on(column: str, op: ComparisonOp, value: int) -> ScanBounds:
    """The bounds ``column op value`` implies (``column`` a pseudo-column name)."""
    low: int | None = None
    high: int | None = None
    if op in (ComparisonOp.EQUAL, ComparisonOp.IS_NOT_DISTINCT_FROM):
        low = high = value
    elif op is ComparisonOp.GREATER_THAN:
        low = value + 1
    elif op is ComparisonOp.GREATER_THAN_OR_EQUAL:
        low = value
    elif op is ComparisonOp.LESS_THAN:
        high = value - 1
    elif op is ComparisonOp.LESS_THAN_OR_EQUAL:
        high = value
    else:
        return UNBOUNDED
    return _range(column, low, high)


def _range(column: str, low: int | None, high: int | None) -> ScanBounds:
    if column == ROWTIME:
        return ScanBounds(min_timestamp=low, max_timestamp=high)
    if column == ROWOFFSET:
        return ScanBounds(min_offset=low, max_offset=high)
    if column == ROWPARTITION:
        if low is not None and high is not None and high - low < 100_000:
            return ScanBounds(partitions=frozenset(range(max(low, 0), high + 1)))
        if high is not None and high < 100_000:
            return ScanBounds(partitions=frozenset(range(0, high + 1)))
        return UNBOUNDED
    return UNBOUNDED


def _combine(op: LogicalOp | str, left: ScanBounds, right: ScanBounds) -> ScanBounds:
    if op in (LogicalOp.AND, "AND"):
        return left.intersect(right)
    return left.hull(right)


# -- bound ksqlDB predicates ------------------------------------------------------------------------------


def _constant(bound: Bound) -> int | None:
    """The integer value of a column-free, call-free bound expression, or None."""
    for node in walk_bound(bound):
        if isinstance(node, (BoundColumn, BoundCall)):
            return None
    try:
        value = compile_expression(bound).evaluate(_ONE_ROW)[0].as_py()
    except Exception:  # a constant that fails to evaluate bounds nothing; the query reports it
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def bounds_of_bound(predicate: Bound | None, pseudo_fields: Mapping[str, str]) -> ScanBounds:
    """The bounds a bound predicate implies for one relation.

    Args:
        predicate: the bound WHERE clause (None: no bounds).
        pseudo_fields: batch field -> pseudo-column name, for the relation's ROWTIME, ROWOFFSET and
            ROWPARTITION fields (``{"L_ROWTIME": "ROWTIME", ...}`` for alias L of a join).
    """
    if predicate is None:
        return UNBOUNDED
    return _bound_bounds(predicate, pseudo_fields)


def _pseudo(bound: Bound, pseudo_fields: Mapping[str, str]) -> str | None:
    if isinstance(bound, BoundColumn):
        return pseudo_fields.get(bound.field)
    return None


_COMPLEMENT = {
    ComparisonOp.EQUAL: ComparisonOp.NOT_EQUAL,
    ComparisonOp.NOT_EQUAL: ComparisonOp.EQUAL,
    ComparisonOp.LESS_THAN: ComparisonOp.GREATER_THAN_OR_EQUAL,
    ComparisonOp.LESS_THAN_OR_EQUAL: ComparisonOp.GREATER_THAN,
    ComparisonOp.GREATER_THAN: ComparisonOp.LESS_THAN_OR_EQUAL,
    ComparisonOp.GREATER_THAN_OR_EQUAL: ComparisonOp.LESS_THAN,
}


def _negated(node: Bound) -> Bound | None:
    """``NOT node`` pushed one level down (De Morgan, complemented comparisons), or None. Exact for
    ROWTIME / ROWOFFSET / ROWPARTITION, which are never NULL; for other columns the result bounds
    nothing either way, so NULL's three-valued logic cannot make it wrong."""
    if isinstance(node, BoundNot):
        return node.operand
    if isinstance(node, BoundLogical):
        left, right = _negated(node.left), _negated(node.right)
        if left is None or right is None:
            return None
        op = LogicalOp.OR if node.op is LogicalOp.AND else LogicalOp.AND
        return BoundLogical(op, left, right)
    if isinstance(node, BoundComparison) and node.op in _COMPLEMENT:
        return BoundComparison(_COMPLEMENT[node.op], node.left, node.right)
    if isinstance(node, BoundBetween):
        return BoundBetween(node.value, node.low, node.high, not node.negated)
    return None


def _bound_bounds(node: Bound, pseudo_fields: Mapping[str, str]) -> ScanBounds:
    if isinstance(node, BoundNot):
        negated = _negated(node.operand)
        return UNBOUNDED if negated is None else _bound_bounds(negated, pseudo_fields)
    if isinstance(node, BoundBetween) and node.negated:
        column = _pseudo(node.value, pseudo_fields)
        low, high = _constant(node.low), _constant(node.high)
        if column is None or low is None or high is None:
            return UNBOUNDED
        return _range(column, None, low - 1).hull(_range(column, high + 1, None))
    if isinstance(node, BoundLogical):
        return _combine(node.op, _bound_bounds(node.left, pseudo_fields), _bound_bounds(node.right, pseudo_fields))
    if isinstance(node, BoundComparison) and node.op in _FLIPPED:
        column = _pseudo(node.left, pseudo_fields)
        op, other = node.op, node.right
        if column is None:
            column = _pseudo(node.right, pseudo_fields)
            op, other = _FLIPPED[node.op], node.left
        if column is None:
            return UNBOUNDED
        value = _constant(other)
        return UNBOUNDED if value is None else bounds_on(column, op, value)
    if isinstance(node, BoundBetween) and not node.negated:
        column = _pseudo(node.value, pseudo_fields)
        low, high = _constant(node.low), _constant(node.high)
        if column is None or low is None or high is None:
            return UNBOUNDED
        return _range(column, low, high)
    if isinstance(node, BoundInList) and not node.negated:
        column = _pseudo(node.value, pseudo_fields)
        values = [_constant(item) for item in node.items]
        if column is None or not values or any(v is None for v in values):
            return UNBOUNDED
        return _in_values(column, [v for v in values if v is not None])
    return UNBOUNDED


def _in_values(column: str, values: list[int]) -> ScanBounds:
    """IN as alternatives, one per value (a partition set for ROWPARTITION)."""
    if column == ROWPARTITION:
        return ScanBounds(partitions=frozenset(values))
    bounds = _range(column, values[0], values[0])
    for value in values[1:]:
        bounds = bounds.hull(_range(column, value, value))
    return bounds


# -- SQL extension predicates (sqlglot) ---------------------------------------------------------------------

_SQL_OPS: dict[type[exp.Expression], ComparisonOp] = {
    exp.EQ: ComparisonOp.EQUAL,
    exp.GT: ComparisonOp.GREATER_THAN,
    exp.GTE: ComparisonOp.GREATER_THAN_OR_EQUAL,
    exp.LT: ComparisonOp.LESS_THAN,
    exp.LTE: ComparisonOp.LESS_THAN_OR_EQUAL,
}
_PSEUDO_NAMES = (ROWTIME, ROWOFFSET, ROWPARTITION)


def _sql_integer(node: exp.Expression) -> int | None:
    negative = False
    while isinstance(node, (exp.Paren, exp.Neg)):
        if isinstance(node, exp.Neg):
            negative = not negative
        node = node.this
    if isinstance(node, exp.Literal) and not node.is_string:
        try:
            value = int(node.this)
        except ValueError:
            return None
        return -value if negative else value
    return None


def _sql_pseudo(node: exp.Expression, qualifiers: Collection[str]) -> str | None:
    while isinstance(node, exp.Paren):
        node = node.this
    if not isinstance(node, exp.Column):
        return None
    name = node.name.upper() if not node.this.quoted else node.name
    if name not in _PSEUDO_NAMES:
        return None
    table = node.table
    if table and table.upper() not in {q.upper() for q in qualifiers}:
        return None
    return name


def bounds_of_sql(
    predicate: exp.Expression | None,
    qualifiers: Collection[str],
    constant: Callable[[exp.Expression], int | None] | None = None,
) -> ScanBounds:
    """The bounds a sqlglot predicate implies for the relation known by ``qualifiers`` (its name and
    alias); unqualified pseudo-columns count as the relation's. ``constant`` may evaluate other constant
    expressions (default: integer literals only)."""
    if predicate is None:
        return UNBOUNDED
    read = constant or _sql_integer
    return _sql_bounds(predicate, qualifiers, read)


_SQL_COMPLEMENT: dict[type[exp.Expression], type[exp.Expression]] = {
    exp.EQ: exp.NEQ,
    exp.NEQ: exp.EQ,
    exp.GT: exp.LTE,
    exp.GTE: exp.LT,
    exp.LT: exp.GTE,
    exp.LTE: exp.GT,
}


def _sql_negated(node: exp.Expression) -> exp.Expression | None:
    """``NOT node`` pushed one level down (see :func:`_negated`)."""
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Not):
        return node.this
    if isinstance(node, (exp.And, exp.Or)):
        left, right = _sql_negated(node.this), _sql_negated(node.expression)
        if left is None or right is None:
            return None
        other = exp.Or if isinstance(node, exp.And) else exp.And
        return other(this=left, expression=right)
    complement = _SQL_COMPLEMENT.get(type(node))
    if complement is not None:
        return complement(this=node.this, expression=node.expression)
    return None


def _sql_bounds(
    node: exp.Expression, qualifiers: Collection[str], read: Callable[[exp.Expression], Any]
) -> ScanBounds:
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Not):
        negated = _sql_negated(node.this)
        return UNBOUNDED if negated is None else _sql_bounds(negated, qualifiers, read)
    if isinstance(node, exp.And):
        return _combine("AND", _sql_bounds(node.this, qualifiers, read), _sql_bounds(node.expression, qualifiers, read))
    if isinstance(node, exp.Or):
        return _combine("OR", _sql_bounds(node.this, qualifiers, read), _sql_bounds(node.expression, qualifiers, read))
    op = _SQL_OPS.get(type(node))
    if op is not None:
        column = _sql_pseudo(node.this, qualifiers)
        other = node.expression
        if column is None:
            column = _sql_pseudo(node.expression, qualifiers)
            op, other = _FLIPPED[op], node.this
        if column is None:
            return UNBOUNDED
        value = read(other)
        return UNBOUNDED if value is None else bounds_on(column, op, value)
    if isinstance(node, exp.Between):
        column = _sql_pseudo(node.this, qualifiers)
        low, high = read(node.args["low"]), read(node.args["high"])
        if column is None or low is None or high is None:
            return UNBOUNDED
        return _range(column, low, high)
    if isinstance(node, exp.In) and not node.args.get("query"):
        column = _sql_pseudo(node.this, qualifiers)
        values = [read(item) for item in node.expressions]
        if column is None or not values or any(v is None for v in values):
            return UNBOUNDED
        return _in_values(column, values)
    return UNBOUNDED

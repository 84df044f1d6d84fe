"""Bound ksqlDB expressions as DuckDB SQL (sqlglot trees), keeping ksqlDB's semantics.

A node is written in DuckDB's own SQL only where DuckDB computes exactly what ksqlDB does; any other
node becomes a call of a Headwater function (:mod:`.udfs`) compiled from the whole subtree below it,
so the streaming kernels compute it. Native SQL matters where it pays: DuckDB pushes native predicates
on ROWTIME / ROWOFFSET down to the segment scan (pruning), vectorizes native arithmetic, and can
optimize joins and aggregations on native keys.

What is native, and why it is the same:

* columns, literals of primitive types, ``CAST(NULL AS type)``;
* ``AND`` / ``OR`` / ``NOT`` / ``IS [NOT] NULL`` (three-valued logic in both);
* comparisons, BETWEEN and IN over numbers, strings, booleans, dates and times: ksqlDB makes them
  FALSE, never NULL, when an operand is NULL, so they are wrapped in ``COALESCE(..., FALSE)`` unless
  both sides cannot be NULL or the comparison decides a filter (WHERE, ON, HAVING), where NULL and FALSE
  drop a row alike. Strings compare by code point in both (Headwater's streaming order);
* LIKE (NULL when a side is NULL in both);
* ``+ - *`` on INTEGER, BIGINT and DOUBLE; ``/`` and ``%`` on INTEGER and BIGINT as DuckDB's integer
  division ``//`` and ``%`` (truncating toward zero like Java; division by zero is NULL, as the failed row
  is in ksqlDB, because the connection sets ``error_on_division_by_zero = false``); ``/`` on DOUBLE;
  unary minus. One difference remains: integer overflow wraps around in ksqlDB and is an error in
  DuckDB (the query fails with DuckDB's message instead of returning a wrapped value);
* searched CASE (first TRUE condition wins in both);
* widening casts (INTEGER to BIGINT, to DOUBLE, to a DECIMAL wide enough) and casts to the same type;
* struct field access ``a->b``; COALESCE and IFNULL.

Everything else (functions, DECIMAL arithmetic, string ``+``, other casts, subscripts, constructors,
lambdas) is a Headwater function.

Example::

    renderer = ExpressionRenderer(udfs, {"ID": exp.column("ID", quoted=True)}, {"ID": t.INT})
    renderer.render(bound_where, predicate=True).sql("duckdb")
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Mapping
from decimal import Decimal as PyDecimal
from typing import Any

import pyarrow as pa
from sqlglot import exp

from headwater.engine.expressions import (
    Bound,
    BoundArithmetic,
    BoundBetween,
    BoundCall,
    BoundCase,
    BoundCast,
    BoundColumn,
    BoundComparison,
    BoundDereference,
    BoundInList,
    BoundIsNull,
    BoundLike,
    BoundLiteral,
    BoundLogical,
    BoundNegate,
    BoundNot,
    BoundNull,
    ColumnKind,
    bound_fields,
)
from headwater.engine.historical.duck_types import duckdb_type
from headwater.engine.historical.udfs import UdfRegistry
from headwater.engine.schema import format_type
from headwater.engine.types import to_arrow
from headwater.errors import PlanError
from headwater.parser import types as t
from headwater.parser.expressions import ArithmeticOp, ComparisonOp, LogicalOp

__all__ = ["ExpressionRenderer", "datatype", "literal_sql"]

_COMPARABLE = frozenset(
    {
        t.PrimitiveKind.BOOLEAN,
        t.PrimitiveKind.INTEGER,
        t.PrimitiveKind.BIGINT,
        t.PrimitiveKind.DOUBLE,
        t.PrimitiveKind.STRING,
        t.PrimitiveKind.DATE,
        t.PrimitiveKind.TIME,
        t.PrimitiveKind.TIMESTAMP,
    }
)
_INTEGERS = (t.INT, t.BIGINT)
_NATIVE_ARITHMETIC = (t.INT, t.BIGINT, t.DOUBLE)

_COMPARISONS: dict[ComparisonOp, type[exp.Expression]] = {
    ComparisonOp.EQUAL: exp.EQ,
    ComparisonOp.NOT_EQUAL: exp.NEQ,
    ComparisonOp.LESS_THAN: exp.LT,
    ComparisonOp.LESS_THAN_OR_EQUAL: exp.LTE,
    ComparisonOp.GREATER_THAN: exp.GT,
    ComparisonOp.GREATER_THAN_OR_EQUAL: exp.GTE,
}

_NATIVE_FUNCTIONS = {"COALESCE": "COALESCE", "IFNULL": "COALESCE"}
"""Scalar functions DuckDB computes exactly as ksqlDB does (first non-NULL argument, arguments already
cast to one type by the binder)."""


def datatype(sql_type: t.SqlType) -> exp.DataType:
    """The sqlglot data type for ``sql_type`` in DuckDB (a fresh tree: callers may attach it anywhere)."""
    return _datatype(sql_type).copy()


@functools.lru_cache(maxsize=512)
def _datatype(sql_type: t.SqlType) -> exp.DataType:
    return exp.DataType.build(duckdb_type(sql_type), dialect="duckdb")


def _cast(expression: exp.Expression, sql_type: t.SqlType) -> exp.Expression:
    return exp.Cast(this=expression, to=datatype(sql_type))


def literal_sql(value: Any, sql_type: t.SqlType) -> exp.Expression | None:
    """A DuckDB literal of ``value`` with exactly ``sql_type``, or None when there is no plain literal
    (nested values)."""
    if value is None:
        return _cast(exp.Null(), sql_type)
    if not isinstance(sql_type, (t.Primitive, t.Decimal)):
        return None
    try:
        scalar = pa.scalar(value, type=to_arrow(sql_type))
    except (OverflowError, pa.ArrowInvalid) as error:  # a bound no column of this type can hold
        raise PlanError(f"The value {value!r} does not fit the type {format_type(sql_type)}: {error}") from None
    python = scalar.as_py()
    if sql_type == t.BOOLEAN:
        return exp.Boolean(this=bool(python))
    if sql_type in _INTEGERS:
        return _cast(exp.Literal.number(int(python)), sql_type)
    if sql_type == t.DOUBLE:
        return _cast(exp.Literal.string(repr(float(python))), sql_type)
    if isinstance(sql_type, t.Decimal):
        return _cast(exp.Literal.string(str(PyDecimal(python))), sql_type)
    if sql_type == t.STRING:
        return exp.Literal.string(str(python))
    if sql_type == t.BYTES:
        return exp.Anonymous(this="unhex", expressions=[exp.Literal.string(bytes(python).hex())])
    if sql_type == t.DATE and isinstance(python, datetime.date):
        return _cast(exp.Literal.string(python.isoformat()), sql_type)
    if sql_type == t.TIME and isinstance(python, datetime.time):
        return _cast(exp.Literal.string(python.isoformat(timespec="milliseconds")), sql_type)
    if sql_type == t.TIMESTAMP and isinstance(python, datetime.datetime):
        return _cast(exp.Literal.string(python.isoformat(sep=" ", timespec="milliseconds")), sql_type)
    return None


def _never_null(bound: Bound) -> bool:
    if isinstance(bound, BoundLiteral):
        return bound.value is not None
    if isinstance(bound, BoundColumn):
        return bound.kind in (ColumnKind.PSEUDO, ColumnKind.WINDOW_BOUND)
    if isinstance(bound, BoundCast) and bound.implicit:
        return _never_null(bound.operand)
    return False


def _comparable(sql_type: t.SqlType | None) -> bool:
    return isinstance(sql_type, t.Decimal) or (isinstance(sql_type, t.Primitive) and sql_type.kind in _COMPARABLE)


def _false_on_null(expression: exp.Expression) -> exp.Expression:
    return exp.Coalesce(this=expression, expressions=[exp.false()])


class ExpressionRenderer:
    """Renders bound expressions over one set of input columns.

    Args:
        udfs: where Headwater functions are registered.
        columns: batch field name (``BoundColumn.field``) -> the DuckDB expression holding it.
        types: batch field name -> its SQL type (the argument types of Headwater functions).
        context: the first words of the messages of rows that fail in a Headwater function.
    """

    def __init__(
        self,
        udfs: UdfRegistry,
        columns: Mapping[str, exp.Expression],
        types: Mapping[str, t.SqlType],
        context: str | None = None,
    ) -> None:
        self.udfs = udfs
        self.columns = dict(columns)
        self.types = dict(types)
        self.context = context

    def render(self, bound: Bound, *, predicate: bool = False) -> exp.Expression:
        """``bound`` as a DuckDB expression. With ``predicate`` the result decides whether a row is kept
        (WHERE, ON, HAVING), so a NULL may stand for FALSE at the top level and below AND / OR."""
        native = self._native(bound, predicate)
        if native is not None:
            return native
        return self.function_call(bound)

    def function_call(self, bound: Bound) -> exp.Expression:
        """``bound`` computed by a Headwater function of the columns it reads."""
        fields = list(bound_fields(bound))
        inputs = [(field, self.types[field]) for field in fields]
        name = self.udfs.scalar(bound, inputs, self.context)
        args = [self.columns[field] for field in fields] if fields else [exp.true()]
        return exp.Anonymous(this=name, expressions=[arg.copy() for arg in args])

    def column(self, field: str) -> exp.Expression:
        return self.columns[field].copy()

    # -- native SQL ---------------------------------------------------------------------------------------
    def _native(self, bound: Bound, predicate: bool) -> exp.Expression | None:
        if isinstance(bound, BoundColumn):
            return self.column(bound.field)
        if isinstance(bound, BoundLiteral):
            return literal_sql(bound.value, bound.type)
        if isinstance(bound, BoundNull):
            return _cast(exp.Null(), bound.type) if bound.type is not None else exp.Null()
        if isinstance(bound, BoundLogical):
            left = self.render(bound.left, predicate=predicate)
            right = self.render(bound.right, predicate=predicate)
            node = exp.And if bound.op is LogicalOp.AND else exp.Or
            return node(this=exp.Paren(this=left), expression=exp.Paren(this=right))
        if isinstance(bound, BoundNot):
            return exp.Not(this=exp.Paren(this=self.render(bound.operand)))
        if isinstance(bound, BoundIsNull):
            test: exp.Expression = exp.Is(this=exp.Paren(this=self.render(bound.operand)), expression=exp.Null())
            return exp.Not(this=test) if bound.negated else test
        if isinstance(bound, BoundComparison):
            return self._comparison(bound, predicate)
        if isinstance(bound, BoundBetween):
            return self._between(bound, predicate)
        if isinstance(bound, BoundInList):
            return self._in_list(bound, predicate)
        if isinstance(bound, BoundLike):
            return self._like(bound)
        if isinstance(bound, BoundArithmetic):
            return self._arithmetic(bound)
        if isinstance(bound, BoundNegate) and bound.type in _NATIVE_ARITHMETIC:
            return exp.Neg(this=exp.Paren(this=self.render(bound.operand)))
        if isinstance(bound, BoundCase):
            ifs = [
                exp.If(this=self.render(condition, predicate=True), true=self.render(result))
                for condition, result in bound.whens
            ]
            default = self.render(bound.default) if bound.default is not None else _cast(exp.Null(), bound.type)
            return exp.Case(ifs=ifs, default=default)
        if isinstance(bound, BoundCast):
            return self._cast(bound)
        if isinstance(bound, BoundDereference):
            return exp.Anonymous(
                this="struct_extract",
                expressions=[self.render(bound.base), exp.Literal.string(bound.field)],
            )
        if isinstance(bound, BoundCall):
            native_name = _NATIVE_FUNCTIONS.get(bound.name.upper())
            if native_name is not None and bound.args:
                args = [self.render(a) for a in bound.args]
                return exp.Coalesce(this=args[0], expressions=args[1:])
        return None

    def _comparison(self, bound: BoundComparison, predicate: bool) -> exp.Expression | None:
        if not (_comparable(bound.left.type) and bound.left.type == bound.right.type):
            return None
        left = self.render(bound.left)
        right = self.render(bound.right)
        if bound.op is ComparisonOp.IS_DISTINCT_FROM:
            return exp.NullSafeNEQ(this=left, expression=right)
        if bound.op is ComparisonOp.IS_NOT_DISTINCT_FROM:
            return exp.NullSafeEQ(this=left, expression=right)
        node = _COMPARISONS[bound.op](this=left, expression=right)
        if predicate or (_never_null(bound.left) and _never_null(bound.right)):
            return node
        return _false_on_null(node)

    def _between(self, bound: BoundBetween, predicate: bool) -> exp.Expression | None:
        types = {bound.value.type, bound.low.type, bound.high.type}
        if len(types) != 1 or not _comparable(bound.value.type):
            return None
        node: exp.Expression = exp.Between(
            this=self.render(bound.value), low=self.render(bound.low), high=self.render(bound.high)
        )
        if not (predicate and not bound.negated):
            node = _false_on_null(node)
        return exp.Not(this=exp.Paren(this=node)) if bound.negated else node

    def _in_list(self, bound: BoundInList, predicate: bool) -> exp.Expression | None:
        if not _comparable(bound.value.type):
            return None
        items = [i for i in bound.items if not isinstance(i, BoundNull)]
        if any(i.type != bound.value.type for i in items):
            return None
        if not items:
            return exp.true() if bound.negated else exp.false()
        node: exp.Expression = exp.In(this=self.render(bound.value), expressions=[self.render(i) for i in items])
        if not (predicate and not bound.negated):
            node = _false_on_null(node)
        return exp.Not(this=exp.Paren(this=node)) if bound.negated else node

    def _like(self, bound: BoundLike) -> exp.Expression | None:
        if bound.value.type != t.STRING or bound.pattern.type != t.STRING:
            return None
        node: exp.Expression = exp.Like(this=self.render(bound.value), expression=self.render(bound.pattern))
        if bound.escape is not None:
            node = exp.Escape(this=node, expression=exp.Literal.string(bound.escape))
        return exp.Not(this=exp.Paren(this=node)) if bound.negated else node

    def _arithmetic(self, bound: BoundArithmetic) -> exp.Expression | None:
        if bound.type not in _NATIVE_ARITHMETIC or bound.left.type != bound.type or bound.right.type != bound.type:
            return None
        op = bound.op
        if op is ArithmeticOp.MODULUS and bound.type == t.DOUBLE:
            return None
        left = exp.Paren(this=self.render(bound.left))
        right = exp.Paren(this=self.render(bound.right))
        if op is ArithmeticOp.ADD:
            return exp.Add(this=left, expression=right)
        if op is ArithmeticOp.SUBTRACT:
            return exp.Sub(this=left, expression=right)
        if op is ArithmeticOp.MULTIPLY:
            return exp.Mul(this=left, expression=right)
        if op is ArithmeticOp.DIVIDE:
            if bound.type == t.DOUBLE:
                return exp.Div(this=left, expression=right)
            return exp.IntDiv(this=left, expression=right)
        return exp.Mod(this=left, expression=right)

    def _cast(self, bound: BoundCast) -> exp.Expression | None:
        source, target = bound.operand.type, bound.type
        if source == target:
            return self.render(bound.operand)
        if _widening(source, target):
            return _cast(exp.Paren(this=self.render(bound.operand)), target)
        return None


def _widening(source: t.SqlType | None, target: t.SqlType) -> bool:
    """Casts that lose nothing and mean the same in both engines."""
    if source == t.INT:
        if target in (t.BIGINT, t.DOUBLE):
            return True
        return isinstance(target, t.Decimal) and target.precision - target.scale >= 10
    if source == t.BIGINT:
        if target == t.DOUBLE:
            return True
        return isinstance(target, t.Decimal) and target.precision - target.scale >= 19
    if isinstance(source, t.Decimal) and isinstance(target, t.Decimal):
        return target.scale >= source.scale and target.precision - target.scale >= source.precision - source.scale
    return False

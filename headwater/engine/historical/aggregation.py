"""GROUP BY, windows and aggregate functions of a ksqlDB SELECT, as DuckDB SQL stages.

A streaming aggregation's result is a table; its final state is what a historical GROUP BY computes.
The SQL has three stages (common table expressions, which DuckDB inlines):

1. ``__hw_input``: the FROM clause filtered by WHERE, projecting each GROUP BY value (``__hw_g0``...),
   each aggregate argument (``__hw_arg0``...) and the row's time and position (for windows and for the
   order in which order-sensitive aggregates see rows). Rows with a NULL GROUP BY value are dropped,
   as ksqlDB drops them.
2. windows: TUMBLING and HOPPING give each row every window that contains it, with Kafka Streams'
   arithmetic (``windowsFor``: starts from ``max(0, t - size + advance)`` rounded down to the advance,
   up to ``t``); SESSION numbers each key's sessions by splitting its rows, in time order, wherever the
   gap to the previous row exceeds the inactivity gap (sessions merge when a record falls within the
   gap of one, so in time order a new session starts exactly there). WINDOWSTART / WINDOWEND are the
   window's bounds, or the session's first and last record time.
3. ``__hw_groups``: ``GROUP BY`` the keys (and window), one column per aggregate call (``__hw_a0``...).

The SELECT list and HAVING then bind against the grouped columns: a GROUP BY expression or an aggregate
call written in SELECT refers to its grouped column (``Scope.with_derived``), and anything else that is
not grouped is an error, as in ksqlDB.

Aggregates DuckDB computes exactly as ksqlDB does run natively: COUNT, MIN, MAX, SUM and AVG (with
ksqlDB's "empty is 0" for SUM and AVG, and the result cast to ksqlDB's type). DOUBLE sums may differ
in the last bits, since DuckDB adds in parallel; integer overflow is an error rather than a wrap. Every
other aggregate is Headwater's own, fed the group's values in record order
(:meth:`~headwater.engine.historical.udfs.UdfRegistry.aggregate`).

Grace periods and late records are a streaming concern: a historical query counts every record, so a
record a streaming query dropped as late is in the historical result.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlglot import exp

from headwater.engine.aggregates import build_aggregates
from headwater.engine.aggregates.contract import AggregateFunction, ResolvedAggregate
from headwater.engine.functions.registry import FunctionRegistry
from headwater.engine.historical.render import datatype
from headwater.errors import PlanError
from headwater.parser import ast
from headwater.parser import expressions as pe
from headwater.parser import types as t

__all__ = [
    "AggregateLookup",
    "aggregate_calls_in",
    "native_aggregate",
    "session_stages",
    "time_window_stage",
]

_LIBRARY = build_aggregates()

_NUMBERS = (t.INT, t.BIGINT, t.DOUBLE)
_ORDERED_KINDS = (t.INT, t.BIGINT, t.DOUBLE, t.STRING, t.DATE, t.TIME, t.TIMESTAMP)


class AggregateLookup:
    """Aggregate functions by name: the registry's own, else the aggregate library's (the library is
    the same one streaming queries use; an engine registry may not list it yet)."""

    def __init__(self, registry: FunctionRegistry) -> None:
        self.registry = registry

    def get(self, name: str) -> AggregateFunction | None:
        found = self.registry.aggregate(name)
        if found is not None:
            return found
        return _LIBRARY.get(name.upper())

    def is_aggregate(self, name: str) -> bool:
        return self.get(name) is not None


def aggregate_calls_in(expression: pe.Expression, lookup: AggregateLookup) -> Iterator[pe.FunctionCall]:
    """The outermost aggregate calls in ``expression``, in order.

    Raises:
        PlanError: an aggregate call inside another's arguments.
    """
    if isinstance(expression, pe.FunctionCall) and lookup.is_aggregate(expression.name):
        for argument in expression.args:
            for inner in pe.walk(argument):
                if isinstance(inner, pe.FunctionCall) and lookup.is_aggregate(inner.name):
                    raise PlanError(f"Aggregate functions can not be nested: {expression.name}({inner.name}(...))")
        yield expression
        return
    for child in pe.iter_children(expression):
        if isinstance(child, pe.Expression):
            yield from aggregate_calls_in(child, lookup)


def _cast(expression: exp.Expression, sql_type: t.SqlType) -> exp.Expression:
    return exp.Cast(this=expression, to=datatype(sql_type))


def native_aggregate(resolved: ResolvedAggregate, args: list[exp.Expression]) -> exp.Expression | None:
    """The call in DuckDB's own aggregates when they compute ksqlDB's value, else None."""
    name = resolved.name.upper()
    arg_type = resolved.param_types[0] if resolved.param_types else None
    result = resolved.return_type
    if name == "COUNT" and len(args) == 1:
        return exp.Count(this=args[0])
    if name in ("MIN", "MAX") and len(args) == 1 and (arg_type in _ORDERED_KINDS or isinstance(arg_type, t.Decimal)):
        node: exp.Expression = exp.Min(this=args[0]) if name == "MIN" else exp.Max(this=args[0])
        return _cast(node, result)
    if name == "SUM" and len(args) == 1 and (arg_type in _NUMBERS or isinstance(arg_type, t.Decimal)):
        zero = exp.Literal.number(0)
        return exp.Coalesce(this=_cast(exp.Sum(this=args[0]), result), expressions=[_cast(zero, result)])
    if name == "AVG" and len(args) == 1 and arg_type in _NUMBERS and result == t.DOUBLE:
        zero = exp.Literal.number(0)
        return exp.Coalesce(this=_cast(exp.Avg(this=args[0]), result), expressions=[_cast(zero, result)])
    return None


def _col(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def _greatest_zero(expression: exp.Expression) -> exp.Expression:
    return exp.Greatest(this=exp.Literal.number(0), expressions=[expression])


def time_window_stage(source: str, time_column: str, window: Any, start_column: str) -> exp.Select:
    """Each row of ``source`` once per TUMBLING / HOPPING window holding its time, the window's start in
    ``start_column`` (Kafka Streams' ``TimeWindows.windowsFor``)."""
    if isinstance(window, ast.TumblingWindow):
        size = advance = window.size.millis
    else:
        size, advance = window.size.millis, window.advance.millis
    if size <= 0 or advance <= 0:
        raise PlanError("Window size and advance must be positive")
    time = _col(time_column)
    first = _greatest_zero(exp.Add(this=exp.Sub(this=time.copy(), expression=exp.Literal.number(size)), expression=exp.Literal.number(advance)))
    start = exp.Sub(this=first, expression=exp.Mod(this=first.copy(), expression=exp.Literal.number(advance)))
    starts = exp.Anonymous(
        this="range",
        expressions=[start, exp.Add(this=time.copy(), expression=exp.Literal.number(1)), exp.Literal.number(advance)],
    )
    unnest = exp.alias_(exp.Unnest(expressions=[starts]), start_column, quoted=True)
    return exp.select(exp.Star(), unnest).from_(exp.to_identifier(source, quoted=True))


def window_size(window: Any) -> int | None:
    """The window's size in ms (None for sessions)."""
    if isinstance(window, (ast.TumblingWindow, ast.HoppingWindow)):
        return int(window.size.millis)
    return None


def session_stages(
    source: str, time_column: str, order_columns: list[str], keys: list[str], gap_ms: int, session_column: str
) -> tuple[exp.Select, exp.Select]:
    """Two stages numbering each key's sessions in ``session_column``: a flag for rows that open a
    session (the first of the key, or more than the gap after the previous row), then its running sum."""
    partition = [_col(k) for k in keys]
    order = [exp.Ordered(this=_col(c)) for c in [time_column, *order_columns]]
    spec = exp.Window(
        this=exp.Anonymous(this="lag", expressions=[_col(time_column)]),
        partition_by=[p.copy() for p in partition],
        order=exp.Order(expressions=[o.copy() for o in order]),
    )
    gap = exp.Sub(this=_col(time_column), expression=spec)
    opens = exp.Case(
        ifs=[exp.If(this=exp.LTE(this=gap, expression=exp.Literal.number(gap_ms)), true=exp.Literal.number(0))],
        default=exp.Literal.number(1),
    )
    flagged = exp.select(exp.Star(), exp.alias_(opens, "__hw_opens", quoted=True)).from_(
        exp.to_identifier(source, quoted=True)
    )
    running = exp.Window(
        this=exp.Sum(this=_col("__hw_opens")),
        partition_by=[p.copy() for p in partition],
        order=exp.Order(expressions=[o.copy() for o in order]),
        spec=exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING", end="CURRENT ROW"),
    )
    numbered = exp.select(exp.Star(), exp.alias_(running, session_column, quoted=True)).from_("__hw_flagged")
    return flagged, numbered

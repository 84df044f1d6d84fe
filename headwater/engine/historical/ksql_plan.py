"""A SELECT in ksqlDB's grammar, planned as DuckDB SQL with ksqlDB's names, types and semantics.

The statement is bound with the streaming engine's binder (the same scopes, name resolution, implicit
conversions, function resolution and error messages as a streaming query), then rendered as DuckDB SQL
(:mod:`.render`): native where DuckDB means the same, Headwater's kernels elsewhere. FROM and joins are
:mod:`.from_clause`'s, GROUP BY / WINDOW / aggregates :mod:`.aggregation`'s; this module ties them
together with the SELECT list, WHERE, HAVING and LIMIT, and names the result columns as ksqlDB would
(``KSQL_COL_0``, ``L_ID`` after a join).

A WHERE condition on a stream's ROWTIME / ROWOFFSET / ROWPARTITION also becomes the stream's scan
bounds (:mod:`.pruning`), so only the segments that can hold matching rows are read.

Example::

    planner = KsqlPlanner(engine.catalog, engine.registry, config, udfs)
    plan = planner.plan(statement.query)      # HistoricalPlan: DuckDB SQL, relations, columns
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlglot import exp

from headwater.engine.catalog import Catalog
from headwater.engine.expressions import (
    BoundCast,
    BoundColumn,
    BoundLiteral,
    BoundNull,
    ColumnKind,
    Scope,
    ScopeColumn,
    bind,
    bound_fields,
    select_column_names,
)
from headwater.engine.expressions.errors import UnresolvedColumnError
from headwater.engine.functions.registry import AnyDecimal, AnyType, FunctionRegistry, Generic, TableFunction
from headwater.engine.historical.aggregation import (
    AggregateLookup,
    aggregate_calls_in,
    native_aggregate,
    session_stages,
    time_window_stage,
    window_size,
)
from headwater.engine.historical.bounds import UNBOUNDED
from headwater.engine.historical.from_clause import FromClause, plan_from
from headwater.engine.historical.plan import HistoricalPlan, RelationMode, ResultColumn
from headwater.engine.historical.pruning import bounds_of_bound
from headwater.engine.historical.render import ExpressionRenderer
from headwater.engine.historical.udfs import UdfRegistry
from headwater.engine.planner import binding
from headwater.engine.planner.rewrite import transform
from headwater.engine.schema import (
    ROWOFFSET,
    ROWPARTITION,
    ROWTIME,
    WINDOWEND,
    WINDOWSTART,
    quote,
)
from headwater.errors import PlanError
from headwater.parser import ast
from headwater.parser import expressions as pe
from headwater.parser import types as t

__all__ = ["KsqlPlanner"]

_INPUT, _WINDOWED, _GROUPS, _ROWS = "__hw_input", "__hw_windowed", "__hw_groups", "__hw_rows"
_TIME, _PART, _OFFSET = "__hw_time", "__hw_partition", "__hw_offset"
_WINDOW_START = "__hw_window"


def _col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table, quoted=True)


def _alias(expression: exp.Expression, name: str) -> exp.Expression:
    return exp.Alias(this=expression, alias=exp.to_identifier(name, quoted=True))


def _and_all(conditions: list[exp.Expression]) -> exp.Expression | None:
    if not conditions:
        return None
    combined = conditions[0]
    for condition in conditions[1:]:
        combined = exp.And(this=exp.Paren(this=combined), expression=exp.Paren(this=condition))
    return combined


class KsqlPlanner:
    """Plans SELECTs of ksqlDB's grammar over one catalog.

    Args:
        catalog: the streams, tables and types.
        registry: the scalar and table functions.
        config: the query's configuration.
        udfs: where Headwater functions are registered (on the connection that will run the plan).
    """

    def __init__(
        self, catalog: Catalog, registry: FunctionRegistry, config: Mapping[str, Any], udfs: UdfRegistry
    ) -> None:
        self.catalog = catalog
        self.registry = registry
        self.config = config
        self.udfs = udfs
        self.aggregates = AggregateLookup(registry)

    # -- binding and rendering -----------------------------------------------------------------------------
    def bind(self, expression: pe.Expression, scope: Scope, clause: str, allow_null: bool = False) -> Any:
        return bind(
            expression, scope, self.registry, types=self.catalog.resolve_type, clause=clause,
            allow_untyped_null=allow_null,
        )

    def renderer(self, columns: Mapping[str, exp.Expression], types: Mapping[str, t.SqlType]) -> ExpressionRenderer:
        return ExpressionRenderer(self.udfs, columns, types, context="Error computing expression")

    def _render_in_from(self, bound: Any, clause: FromClause, predicate: bool = False) -> exp.Expression:
        return self.renderer(clause.columns, clause.types).render(bound, predicate=predicate)

    # -- entry point ---------------------------------------------------------------------------------------
    def plan(self, query: ast.Query) -> HistoricalPlan:
        """Plan ``query`` (a SELECT without EMIT).

        Raises:
            PlanError: with ksqlDB's wording where ksqlDB has one.
        """
        if query.partition_by is not None:
            raise PlanError("PARTITION BY is only supported in queries that write to a stream (and EMIT CHANGES).")
        clause = plan_from(
            query.from_,
            self.catalog,
            lambda expression, scope, name: self.bind(expression, scope, name),
            lambda bound, current: self._render_in_from(bound, current, predicate=True),
        )
        where = self._where(query.where, clause.scope)
        conditions = list(clause.conditions)
        if where is not None:
            conditions.append(self._render_in_from(where, clause, predicate=True))
        relations = []
        for reference in clause.references:
            bounds = UNBOUNDED
            if reference.mode is RelationMode.STREAM:
                bounds = bounds_of_bound(where, reference.pseudo_fields)
            relations.append(reference.request(bounds))
        items = self._expand(query.select, clause)
        grouped = (
            query.group_by is not None
            or query.window is not None
            or query.having is not None
            or any(any(True for _ in aggregate_calls_in(e, self.aggregates)) for e, _ in items)
        )
        if grouped:
            select, columns = self._aggregate(query, clause, conditions, items)
        else:
            select, columns = self._project(clause, conditions, items)
        if query.limit is not None:
            select = select.limit(int(query.limit))
        return HistoricalPlan(select.sql(dialect="duckdb"), tuple(columns), tuple(relations), limit=query.limit)

    # -- WHERE ---------------------------------------------------------------------------------------------
    def _where(self, where: pe.Expression | None, scope: Scope) -> Any:
        if where is None:
            return None
        return binding.bind_where(self.bind, where, scope)

    # -- SELECT list ---------------------------------------------------------------------------------------
    def _expand(self, select: tuple[ast.SelectItem, ...], clause: FromClause) -> list[tuple[pe.Expression, str | None]]:
        """SELECT items as (expression, alias) with ``*``, ``s.*`` and ``s->*`` expanded. ``*`` is every
        source's key columns, window bounds, then its other columns (no pseudo-columns)."""
        items: list[tuple[pe.Expression, str | None]] = []
        for item in select:
            if isinstance(item, ast.AllColumns):
                references = clause.references
                if item.source is not None:
                    references = [r for r in references if item.source in (r.alias, r.source.name)]
                    if not references:
                        raise PlanError(f"'{item.source}' is not a valid stream/table name or alias.")
                for reference in references:
                    for column in self._star_columns(reference.columns):
                        items.append((pe.ColumnRef(column.name, reference.alias), None))
                continue
            if isinstance(item, ast.StructAll):
                base = self.bind(item.base, clause.scope, "SELECT")
                if not isinstance(base.type, t.Struct):
                    raise PlanError(f"Cannot dereference a non-struct: {item.base}")
                for name, _ in base.type.fields:
                    items.append((pe.Dereference(item.base, name), name))
                continue
            assert isinstance(item, ast.SingleColumn)
            items.append((item.expression, item.alias))
        return items

    @staticmethod
    def _star_columns(columns: tuple[ScopeColumn, ...]) -> list[ScopeColumn]:
        keys = [c for c in columns if c.kind is ColumnKind.KEY]
        window = [c for c in columns if c.kind is ColumnKind.WINDOW_BOUND]
        rest = [c for c in columns if c.kind in (ColumnKind.VALUE, ColumnKind.HEADER)]
        return keys + window + rest

    def _names(self, items: list[tuple[pe.Expression, str | None]], clause: FromClause) -> list[str]:
        names = select_column_names(items, [c.field for c in clause.scope.columns], clause.scope)
        seen: set[str] = set()
        for name in names:
            if name in seen:
                raise PlanError(f"Duplicate column name {quote(name)} in the result; alias one of them.")
            seen.add(name)
        return names

    # -- without GROUP BY ----------------------------------------------------------------------------------
    def _project(
        self, clause: FromClause, conditions: list[exp.Expression], items: list[tuple[pe.Expression, str | None]]
    ) -> tuple[exp.Select, list[ResultColumn]]:
        names = self._names(items, clause)
        scope = clause.scope
        table_calls = self._table_calls(items)
        select = clause.select
        columns, types = clause.columns, clause.types
        if table_calls:
            # table functions run first (ksqlDB's flat map): an inner SELECT adds one column per call
            inner = select.copy()
            projections: list[exp.Expression] = [_alias(columns[f].copy(), f) for f in columns]
            for index, call in enumerate(table_calls):
                bound = self.bind(call, scope, "SELECT")
                fields = list(bound_fields(bound))
                name = self.udfs.table_function(bound, [(f, types[f]) for f in fields])
                args = [columns[f].copy() for f in fields] or [exp.true()]
                synthetic = f"KSQL_SYNTH_{index}"
                projections.append(_alias(exp.Unnest(expressions=[exp.Anonymous(this=name, expressions=args)]), synthetic))
                scope = scope.with_derived(call, ScopeColumn(synthetic, bound.type, None, ColumnKind.DERIVED))
                types = {**types, synthetic: bound.type}
            condition = _and_all(conditions)
            inner = inner.select(*projections)
            if condition is not None:
                inner = inner.where(condition)
            columns = {f: _col(f) for f in types}
            select = exp.select().from_(exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier(_ROWS, quoted=True))))
            conditions = []
        renderer = self.renderer(columns, types)
        result: list[ResultColumn] = []
        rendered = []
        for (expression, alias_name), name in zip(items, names):
            self._check_reserved(alias_name)
            bound = self.bind(expression, scope, "SELECT", allow_null=True)
            if bound.type is None:
                raise PlanError(
                    "Can't infer a type of null. Please explicitly cast it to a required type, e.g. "
                    "CAST(null AS VARCHAR)."
                )
            # ksqlDB marks KEY columns in the header of a pull query over a table only
            key = (
                not clause.joined
                and clause.first.source.is_table
                and isinstance(bound, BoundColumn)
                and bound.kind is ColumnKind.KEY
            )
            result.append(ResultColumn(name, bound.type, key))
            rendered.append(_alias(renderer.render(bound), name))
        select = select.select(*rendered)
        condition = _and_all(conditions)
        if condition is not None:
            select = select.where(condition)
        return select, result

    def _table_calls(self, items: list[tuple[pe.Expression, str | None]]) -> list[pe.FunctionCall]:
        calls: list[pe.FunctionCall] = []
        for expression, _ in items:
            for node in pe.walk(expression):
                if (
                    isinstance(node, pe.FunctionCall)
                    and isinstance(self.registry.lookup(node.name), TableFunction)
                    and node not in calls
                ):
                    calls.append(node)
        return calls

    @staticmethod
    def _check_reserved(alias_name: str | None) -> None:
        """ksqlDB refuses an alias that is a pseudo-column's name (selecting ROWTIME itself is fine)."""
        reserved = (ROWTIME, ROWPARTITION, ROWOFFSET, WINDOWSTART, WINDOWEND)
        if alias_name is not None and alias_name in reserved:
            raise PlanError(
                f"{quote(alias_name)} is a reserved column name. You cannot use it as an alias for a column."
            )

    # -- GROUP BY ------------------------------------------------------------------------------------------
    def _aggregate(
        self,
        query: ast.Query,
        clause: FromClause,
        conditions: list[exp.Expression],
        items: list[tuple[pe.Expression, str | None]],
    ) -> tuple[exp.Select, list[ResultColumn]]:
        scope = clause.scope
        in_from = self.renderer(clause.columns, clause.types)
        names = self._names(items, clause)
        group_by = list(query.group_by or ())
        stage_columns: list[exp.Expression] = []
        group_fields: list[str] = []
        derived = Scope((), scope.source_names())
        not_null: list[exp.Expression] = []
        single_alias = None if clause.joined else clause.first.alias
        for index, expression in enumerate(group_by):
            if any(True for _ in aggregate_calls_in(expression, self.aggregates)):
                raise PlanError("GROUP BY does not support aggregate functions: " + str(expression))
            bound = self.bind(expression, scope, "GROUP BY")
            if bound.type is None:
                raise PlanError("Can't infer a type of null in GROUP BY.")
            field = f"__hw_g{index}"
            group_value = in_from.render(bound)
            stage_columns.append(_alias(group_value, field))
            not_null.append(exp.Not(this=exp.Is(this=exp.Paren(this=group_value.copy()), expression=exp.Null())))
            group_fields.append(field)
            if isinstance(expression, pe.ColumnRef):
                resolved = scope.resolve(expression)
                derived = Scope(
                    (*derived.columns, ScopeColumn(resolved.name, resolved.type, resolved.source, ColumnKind.KEY, field)),
                    derived.sources,
                    derived.derived,
                )
            else:
                column = ScopeColumn(field, bound.type, None, ColumnKind.DERIVED, field)
                for variant in _variants(expression, single_alias):
                    derived = derived.with_derived(variant, column)
        time_field = clause.rowtime
        assert time_field is not None
        first = clause.first
        stage_columns += [
            _alias(time_field.copy(), _TIME),
            _alias(clause.columns[first.field_of(ROWPARTITION)].copy(), _PART),
            _alias(clause.columns[first.field_of(ROWOFFSET)].copy(), _OFFSET),
        ]
        calls: list[pe.FunctionCall] = []
        for expression, _ in items:
            calls.extend(c for c in aggregate_calls_in(expression, self.aggregates) if c not in calls)
        if query.having is not None:
            calls.extend(c for c in aggregate_calls_in(query.having, self.aggregates) if c not in calls)
        aggregate_columns: list[exp.Expression] = []
        argument_count = 0
        for index, call in enumerate(calls):
            field = f"__hw_a{index}"
            sql, result_type, used = self._aggregate_call(call, scope, in_from, stage_columns, argument_count)
            argument_count = used
            aggregate_columns.append(_alias(sql, field))
            column = ScopeColumn(field, result_type, None, ColumnKind.DERIVED, field)
            for variant in _variants(call, single_alias):
                derived = derived.with_derived(variant, column)
        input_stage = clause.select.copy().select(*stage_columns)
        condition = _and_all(conditions + not_null)
        if condition is not None:
            input_stage = input_stage.where(condition)
        stages: list[tuple[str, exp.Select]] = [(_INPUT, input_stage)]
        group_keys = [_col(f) for f in group_fields]
        window_columns: list[exp.Expression] = []
        grouped_from = _INPUT
        window = query.window
        if isinstance(window, (ast.TumblingWindow, ast.HoppingWindow)):
            stages.append((_WINDOWED, time_window_stage(_INPUT, _TIME, window, _WINDOW_START)))
            grouped_from = _WINDOWED
            size = window_size(window)
            assert size is not None
            group_keys.append(_col(_WINDOW_START))
            window_columns = [
                _alias(_col(_WINDOW_START), WINDOWSTART),
                _alias(exp.Add(this=_col(_WINDOW_START), expression=exp.Literal.number(size)), WINDOWEND),
            ]
        elif isinstance(window, ast.SessionWindow):
            flagged, numbered = session_stages(
                _INPUT, _TIME, [_PART, _OFFSET], group_fields, window.gap.millis, _WINDOW_START
            )
            stages += [("__hw_flagged", flagged), (_WINDOWED, numbered)]
            grouped_from = _WINDOWED
            group_keys.append(_col(_WINDOW_START))
            window_columns = [
                _alias(exp.Min(this=_col(_TIME)), WINDOWSTART),
                _alias(exp.Max(this=_col(_TIME)), WINDOWEND),
            ]
        if window is not None:
            for name in (WINDOWSTART, WINDOWEND):
                derived = Scope(
                    (*derived.columns, ScopeColumn(name, t.BIGINT, None, ColumnKind.WINDOW_BOUND, name)),
                    derived.sources,
                    derived.derived,
                )
        group_stage = exp.select(*[_col(f) for f in group_fields], *window_columns, *aggregate_columns).from_(
            exp.to_identifier(grouped_from, quoted=True)
        )
        if group_keys:
            group_stage = group_stage.group_by(*group_keys)
        stages.append((_GROUPS, group_stage))
        derived_types = {c.field: c.type for c in derived.columns}
        derived_types.update({c.field: c.type for _, c in derived.derived})
        out = self.renderer({f: _col(f) for f in derived_types}, derived_types)
        result: list[ResultColumn] = []
        rendered: list[exp.Expression] = []
        for (expression, alias_name), name in zip(items, names):
            self._check_reserved(alias_name)
            bound = self._bind_grouped(expression, derived)
            result.append(ResultColumn(name, bound.type))
            rendered.append(_alias(out.render(bound), name))
        select = exp.select(*rendered).from_(exp.to_identifier(_GROUPS, quoted=True))
        if query.having is not None:
            having = self._bind_grouped(query.having, derived, clause="HAVING")
            if having.type != t.BOOLEAN:
                raise PlanError("HAVING must be a BOOLEAN expression")
            select = select.where(out.render(having, predicate=True))
        for name, stage in stages:
            select = select.with_(exp.to_identifier(name, quoted=True), as_=stage)
        return select, result

    def _bind_grouped(self, expression: pe.Expression, derived: Scope, clause: str = "SELECT") -> Any:
        try:
            bound = self.bind(expression, derived, clause)
        except UnresolvedColumnError as error:
            raise PlanError(
                f"Non-aggregate {clause} expression(s) not part of GROUP BY: {expression}. "
                f"({error})"
            ) from None
        if bound.type is None:
            raise PlanError("Can't infer a type of null. Please explicitly cast it to a required type.")
        return bound

    def _aggregate_call(
        self,
        call: pe.FunctionCall,
        scope: Scope,
        in_from: ExpressionRenderer,
        stage_columns: list[exp.Expression],
        argument_count: int,
    ) -> tuple[exp.Expression, t.SqlType, int]:
        """One aggregate call: its SQL over the grouped stage, its result type, and the new argument count
        (its column arguments are added to ``stage_columns`` as ``__hw_arg<n>``)."""
        function = self.aggregates.get(call.name)
        assert function is not None
        if call.star or (not call.args and call.name.upper() == "COUNT"):
            return exp.Count(this=exp.Star()), t.BIGINT, argument_count
        bound_args = [self.bind(a, scope, "SELECT") for a in call.args]
        resolved = function.resolve([b.type for b in bound_args])
        literals = []
        for position in resolved.literal_positions:
            literal = bound_args[position]
            value = _literal_value(literal)
            if value is _NOT_LITERAL:
                raise PlanError(f"Parameter {position + 1} of {resolved.name} must be a literal")
            literals.append(value)
        arguments: list[str] = []
        column_types: list[t.SqlType] = []
        for position in resolved.column_positions:
            bound = bound_args[position]
            wanted = resolved.param_types[position]
            if bound.type != wanted and not _generic_match(wanted):
                bound = BoundCast(bound, wanted, implicit=True)
            field = f"__hw_arg{argument_count}"
            argument_count += 1
            stage_columns.append(_alias(in_from.render(bound), field))
            arguments.append(field)
            column_types.append(bound.type)
        native = native_aggregate(resolved, [_col(a) for a in arguments])
        if native is not None:
            return native, resolved.return_type, argument_count
        name = self.udfs.aggregate(resolved, literals, column_types)
        gathered_value: exp.Expression
        if len(arguments) > 1:
            gathered_value = exp.Struct(
                expressions=[
                    exp.PropertyEQ(this=exp.to_identifier(f"a{i}", quoted=True), expression=_col(a))
                    for i, a in enumerate(arguments)
                ]
            )
        elif arguments:
            gathered_value = _col(arguments[0])
        else:
            gathered_value = exp.true()
        order = exp.Order(this=gathered_value, expressions=[exp.Ordered(this=_col(_PART)), exp.Ordered(this=_col(_OFFSET))])
        gathered = exp.Anonymous(this="list", expressions=[order])
        return exp.Anonymous(this=name, expressions=[gathered]), resolved.return_type, argument_count


_NOT_LITERAL = object()


def _literal_value(bound: Any) -> Any:
    """The value of a literal argument (possibly under an implicit cast), or ``_NOT_LITERAL``."""
    if isinstance(bound, BoundCast):
        return _literal_value(bound.operand) if isinstance(bound.operand, (BoundLiteral, BoundNull)) else _NOT_LITERAL
    if isinstance(bound, BoundLiteral):
        return bound.value
    if isinstance(bound, BoundNull):
        return None
    return _NOT_LITERAL


def _generic_match(sql_type: t.SqlType) -> bool:
    """A parameter type that takes the argument as it is (no cast to insert)."""
    return isinstance(sql_type, (Generic, AnyType, AnyDecimal))


def _variants(expression: pe.Expression, alias: str | None) -> list[pe.Expression]:
    """``expression`` as written, and (for a single source) with its column references qualified and
    unqualified, so ``SUM(X)`` and ``SUM(S.X)`` find the same grouped column."""
    variants = [expression]
    if alias is None:
        return variants
    qualified = transform(
        expression,
        lambda n: pe.ColumnRef(n.name, alias, span=n.span) if isinstance(n, pe.ColumnRef) and n.source is None else None,
    )
    unqualified = transform(
        expression,
        lambda n: pe.ColumnRef(n.name, None, span=n.span) if isinstance(n, pe.ColumnRef) and n.source == alias else None,
    )
    for variant in (qualified, unqualified):
        if variant not in variants:
            variants.append(variant)
    return variants

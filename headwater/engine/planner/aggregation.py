"""GROUP BY queries: ksqlDB's aggregate analysis, the aggregation node and the projection after it.

The rules and messages are ksqlDB's (``AggregateAnalyzer``, ``LogicalPlanner.buildAggregateSchema``):

* GROUP BY expressions must be distinct ("Duplicate GROUP BY expression: TEST.DATA") and hold no
  aggregate; aggregates do not nest; a GROUP BY needs an aggregate in the SELECT or HAVING clause;
* a non-aggregate SELECT expression must be a GROUP BY expression or be built from GROUP BY
  expressions (and, in a windowed aggregation, the window bounds); HAVING likewise outside its
  aggregate calls;
* each GROUP BY expression becomes a key column, named after the SELECT item equal to it (its alias
  or derived name), or after the column it is, or ``KSQL_COL_<n>``; a persistent query must select
  every GROUP BY expression exactly once, and keep at least one value column;
* an aggregation over a table needs aggregates that can undo (ksqlDB's ``TableUdaf``); the value
  format must be able to hold every aggregate's intermediate state (DELIMITED and KAFKA hold no
  STRUCT, ARRAY or MAP); the KAFKA value format does not support GROUP BY at all.

The plan is ``input -> [TableSource(retractions)] -> [Filter] -> Aggregate -> Project``: the aggregation
node computes the key columns and one column per distinct aggregate call (``KSQL_AGG_VARIABLE_<n>``),
and the projection binds the SELECT list over them, where an expression equal to a GROUP BY expression
or an aggregate call reads its column (``Scope.with_derived``). HAVING is bound the same way and
evaluated by the aggregation operator on its output rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from headwater.engine.catalog import SourceType, WindowInfo, WindowType
from headwater.engine.expressions import evaluate_literal, format_expression
from headwater.engine.expressions.errors import CoercionError, ExpressionTypeError
from headwater.engine.expressions.naming import ColumnAliasGenerator
from headwater.engine.expressions.scope import ColumnKind, Scope, ScopeColumn
from headwater.engine.planner import binding
from headwater.engine.planner.built import QueryInput, SelectColumn
from headwater.engine.planner.logical import FilterNode, PlanNode, ProjectNode, RowColumn
from headwater.engine.planner.stateful_nodes import (
    AggregateCallPlan,
    AggregateNode,
    TableSourceNode,
    WindowPlan,
)
from headwater.engine.schema import (
    ROWTIME,
    SYSTEM_COLUMNS,
    WINDOW_COLUMNS,
    Namespace,
    format_type,
    quote,
)
from headwater.errors import PlanError
from headwater.parser import ast
from headwater.parser import expressions as pe
from headwater.parser import types as t

__all__ = ["AggregationPlan", "is_aggregation", "plan_aggregation", "window_plan"]

AGGREGATE_PREFIX = "KSQL_AGG_VARIABLE_"
"""Names of the aggregation node's aggregate columns (ksqlDB's internal names)."""

Binder = Callable[..., Any]
"""``bind(expression, scope, clause, allow_null=False) -> bound``: the builder's binder."""


@dataclass(frozen=True, slots=True)
class AggregationPlan:
    """A planned GROUP BY: the plan up to the projection, the output columns, the key columns."""

    plan: PlanNode
    columns: tuple[SelectColumn, ...]
    key_columns: tuple[str, ...]
    window: WindowInfo | None


def is_aggregation(query: ast.Query, registry: Any) -> bool:
    """Whether ``query`` aggregates: a GROUP BY, or an aggregate call in the SELECT or HAVING clause."""
    if query.group_by is not None:
        return True
    expressions = [i.expression for i in query.select if isinstance(i, ast.SingleColumn)]
    if query.having is not None:
        expressions.append(query.having)
    return any(binding.is_aggregate_call(e, registry) for e in expressions)


def window_plan(window: ast.WindowExpression) -> WindowPlan:
    """A WINDOW clause as a :class:`WindowPlan`."""

    def millis(duration: pe.Duration | None) -> int | None:
        return None if duration is None else duration.millis

    if isinstance(window, ast.TumblingWindow):
        return WindowPlan(
            WindowType.TUMBLING,
            size_ms=window.size.millis,
            advance_ms=window.size.millis,
            grace_ms=millis(window.grace),
            retention_ms=millis(window.retention),
        )
    if isinstance(window, ast.HoppingWindow):
        if window.advance.millis > window.size.millis:
            raise PlanError(
                "Window advance must be less than or equal to window size. "
                f"Got size={window.size.millis}, advance={window.advance.millis}"
            )
        if window.advance.millis <= 0:
            raise PlanError("Window advance must be positive.")
        return WindowPlan(
            WindowType.HOPPING,
            size_ms=window.size.millis,
            advance_ms=window.advance.millis,
            grace_ms=millis(window.grace),
            retention_ms=millis(window.retention),
        )
    assert isinstance(window, ast.SessionWindow)
    return WindowPlan(
        WindowType.SESSION, gap_ms=window.gap.millis, grace_ms=millis(window.grace), retention_ms=millis(window.retention)
    )


def _join_names(names: list[str]) -> str:
    """``A``, ``A and B``, ``A, B and C`` (ksqlDB's GrammaticalJoiner)."""
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]


def _walk_outside_aggregates(
    expression: pe.Expression, registry: Any, visit: Callable[[pe.Expression], bool]
) -> None:
    """Call ``visit`` on ``expression`` and its descendants outside aggregate calls, top-down;
    ``visit`` returns False to skip a node's children."""
    if isinstance(expression, pe.FunctionCall) and registry.aggregate(expression.name) is not None:
        return
    if not visit(expression):
        return
    for child in pe.iter_children(expression):
        if isinstance(child, pe.Expression):
            _walk_outside_aggregates(child, registry, visit)


def _aggregate_calls(expression: pe.Expression, registry: Any, found: list[pe.FunctionCall]) -> None:
    """Collect the aggregate calls of ``expression`` (each once, in order) and refuse nested ones."""

    def visit(node: Any, outer: pe.FunctionCall | None) -> None:
        if isinstance(node, pe.FunctionCall) and registry.aggregate(node.name) is not None:
            if outer is not None:
                raise PlanError(f"Aggregate functions can not be nested: {outer.name}({node.name}())")
            if node not in found:
                found.append(node)
            outer = node
        for child in pe.iter_children(node):
            if isinstance(child, pe.Node):
                visit(child, outer)

    visit(expression, None)


def _uncovered_columns(
    expression: pe.Expression, groups: list[pe.Expression], registry: Any
) -> list[pe.ColumnRef]:
    """The column references of ``expression`` outside aggregate calls and GROUP BY expressions (window
    bounds are always available)."""
    found: list[pe.ColumnRef] = []

    def visit(node: pe.Expression) -> bool:
        if node in groups:
            return False
        if isinstance(node, pe.ColumnRef):
            if node.name not in WINDOW_COLUMNS and node not in found:
                found.append(node)
            return False
        return True

    _walk_outside_aggregates(expression, registry, visit)
    return found


def _with_default_argument(call: pe.FunctionCall) -> pe.FunctionCall:
    """``COUNT(*)`` and ``COUNT()`` as ksqlDB plans them: with ROWTIME as the argument."""
    if call.star or not call.args:
        return pe.FunctionCall(call.name, (pe.ColumnRef(ROWTIME),), span=call.span)
    return call


def plan_aggregation(
    query: ast.Query,
    source: QueryInput,
    items: list[tuple[pe.Expression, str | None]],
    from_star: set[int],
    *,
    bind: Binder,
    registry: Any,
    catalog: Any,
    config: Any,
    persistent: bool,
    sink_name: str | None,
    statement_kind: str,
) -> AggregationPlan:
    """Plan a GROUP BY query over ``source`` (see the module docstring).

    Args:
        query: the SELECT.
        source: its FROM clause, resolved.
        items: the SELECT items as (expression, alias) with ``*`` expanded; ``from_star`` the indexes
            ``*`` produced.
        bind: the builder's binder.
        registry: the function registry.
        catalog: the catalog (user types).
        config: the query configuration.
        persistent: a CREATE TABLE AS SELECT (key and value rules apply).
        sink_name: the sink's name, for messages.
        statement_kind: what ksqlDB calls the statement in messages ("CREATE TABLE AS SELECT").

    Raises:
        PlanError: ksqlDB's message for a query it would refuse.
    """
    normalize = source.normalize
    display = source.display
    groups_raw = list(query.group_by or ())
    groups: list[pe.Expression] = []
    for expression in groups_raw:
        normalized = normalize(expression)
        if normalized in groups:
            raise PlanError(f"Duplicate GROUP BY expression: {format_expression(expression)}")
        groups.append(normalized)
    kafka = [s.name for s in source.sources if s.value_format.name == "KAFKA"]
    if kafka:
        raise PlanError(
            f"Source(s) {', '.join(kafka)} are using the 'KAFKA' value format. "
            "This format does not yet support GROUP BY."
        )
    selects = [normalize(expression) for expression, _ in items]
    having = normalize(query.having) if query.having is not None else None
    names = binding.select_names(items, list(source.source_columns), source.scope)
    for index, ((_, alias), name) in enumerate(zip(items, names)):
        if alias is not None and alias in SYSTEM_COLUMNS:
            raise PlanError(
                f"{quote(alias)} is a reserved column name. You cannot use it as an alias for a column."
            )
        if persistent and alias is None and name in SYSTEM_COLUMNS and index not in from_star:
            raise PlanError(f"Reserved column name in select: {quote(name)}. Please remove or alias the column.")
    for clause, expressions in (("SELECT", selects), ("HAVING", [having] if having else []), ("GROUP BY", groups)):
        for expression in expressions:
            _check_references(expression, source.scope, bind, clause, window_bounds=not source.is_join)
            _check_functions(expression, registry)
    if query.window is not None and not source.is_join:
        _check_window_bounds(selects, groups, having, registry)
    calls: list[pe.FunctionCall] = []
    for expression in selects:
        _aggregate_calls(expression, registry, calls)
    if having is not None:
        _aggregate_calls(having, registry, calls)
    for expression in groups:
        inner: list[pe.FunctionCall] = []
        _aggregate_calls(expression, registry, inner)
        if inner:
            raise PlanError(
                f"GROUP BY does not support aggregate functions: {inner[0].name} is an aggregate function."
            )
    if not calls:
        raise PlanError("GROUP BY requires aggregate functions in either the SELECT or HAVING clause.")
    unmatched = [
        display(expression)
        for expression in selects
        if expression not in groups and _uncovered_columns(expression, groups, registry)
    ]
    if unmatched:
        raise PlanError(
            "Non-aggregate SELECT expression(s) not part of GROUP BY: "
            + ", ".join(format_expression(e) for e in unmatched)
            + "\nEither add the column(s) to the GROUP BY or remove them from the SELECT."
        )
    if having is not None:
        outside = _uncovered_columns(having, groups, registry)
        if outside:
            raise PlanError(
                "Non-aggregate HAVING expression not part of GROUP BY: "
                + ", ".join(format_expression(display(e)) for e in outside)
                + "\nConsider switching the HAVING clause to a WHERE clause before the GROUP BY."
            )
    if not groups and persistent:
        described = ", ".join(format_expression(display(_with_default_argument(c))) for c in calls)
        raise PlanError(
            f"{statement_kind} statement does not support aggregate function [{described}] without a GROUP BY clause."
        )
    if not groups:  # a push query aggregates all its rows as one group
        groups = [pe.IntegerLiteral(1)]
    window = window_plan(query.window) if query.window is not None else None
    if query.emit is ast.EmitMode.FINAL and window is None:
        raise PlanError("EMIT FINAL is only supported for windowed aggregations.")

    # -- keys -----------------------------------------------------------------------------------------
    key_names: list[str] = []
    key_items: dict[int, int] = {}  # select item index -> key index
    missing: list[pe.Expression] = []
    generator = ColumnAliasGenerator(source.source_columns)
    for key_index, expression in enumerate(groups):
        matches = [i for i, select in enumerate(selects) if select == expression]
        if len(matches) > 1 and persistent:
            raise PlanError(
                "The projection contains a key column more than once: "
                + _join_names([quote(names[i]) for i in matches])
                + ".\nEach key column must only be in the projection once. If you intended to copy the key "
                "into the value, then consider using the AS_VALUE function to indicate which key reference "
                "should be copied."
            )
        if matches:
            key_names.append(names[matches[0]])
            key_items[matches[0]] = key_index
        else:
            missing.append(expression)
            if isinstance(expression, pe.ColumnRef):
                key_names.append(expression.name)
            else:
                key_names.append(generator.alias_for(expression))
    if persistent and missing:
        target = quote(sink_name) if sink_name else "the result"
        required = [format_expression(display(e)) for e in missing]
        plural = len(required) > 1
        raise PlanError(
            f"Key{'s' if plural else ''} missing from projection (ie, SELECT).\n"
            f"The query used to build {target} must include the grouping expression{'s' if plural else ''} "
            f"{_join_names(required)} in its projection (eg, SELECT {', '.join(required)}...)."
        )
    if persistent and len(key_items) == len(selects):
        raise PlanError("The projection contains no value columns.")

    # -- the input: a table is materialized with retractions, then WHERE ------------------------------
    plan = source.plan
    if source.is_table:
        plan = TableSourceNode(plan, source.key_columns, retractions=True)
    if query.where is not None:
        predicate, predicate_sql = _where(query.where, source.scope, bind, windowed=query.window is not None)
        plan = FilterNode(plan, predicate, predicate_sql)

    bound_keys: list[tuple[RowColumn, Any]] = []
    for name, expression in zip(key_names, groups):
        bound = bind(expression, source.scope, "GROUP BY")
        if bound.type is None:
            raise PlanError("Can't infer a type of null. Please explicitly cast it to a required type.")
        bound_keys.append((RowColumn(name, bound.type, Namespace.KEY), bound))
    call_plans = _call_plans(calls, source, bind, registry, catalog, config)
    if source.is_table:
        no_undo = list(dict.fromkeys(c.resolved.name for c in call_plans if not c.resolved.supports_undo))
        if no_undo:
            raise PlanError(
                f"The aggregation function{'' if len(no_undo) == 1 else 's'} {_join_names(no_undo)} cannot be "
                "applied to a table source, only to a stream source."
            )
    _check_intermediate_types(call_plans, source)

    # -- after the aggregation: keys, window bounds and aggregate columns ------------------------------
    columns = [ScopeColumn(column.name, column.type, None, ColumnKind.KEY) for column, _ in bound_keys]
    if window is not None:
        columns += [ScopeColumn(n, ty, None, ColumnKind.WINDOW_BOUND) for n, ty in WINDOW_COLUMNS.items()]
    columns += [ScopeColumn(c.column.name, c.column.type, None, ColumnKind.DERIVED) for c in call_plans]
    scope = Scope(tuple(columns))
    for expression, (column, _) in zip(groups, bound_keys):
        scope = scope.with_derived(expression, ScopeColumn(column.name, column.type, None, ColumnKind.KEY))
    for call, call_plan in zip(calls, call_plans):
        derived = ScopeColumn(call_plan.column.name, call_plan.column.type, None, ColumnKind.DERIVED)
        scope = scope.with_derived(call, derived)
        scope = scope.with_derived(_with_default_argument(call), derived)
    having_bound = None
    if having is not None:
        printed = None
        if source.is_join:  # ksqlDB's messages print the joined columns' names (I1_BAR)
            printed_scope = scope
            for expression, (column, _) in zip(groups, bound_keys):
                key = ScopeColumn(column.name, column.type, None, ColumnKind.KEY)
                printed_scope = printed_scope.with_derived(_joined_names(expression), key)
            for call, call_plan in zip(calls, call_plans):
                derived = ScopeColumn(call_plan.column.name, call_plan.column.type, None, ColumnKind.DERIVED)
                printed_scope = printed_scope.with_derived(_joined_names(call), derived)
                printed_scope = printed_scope.with_derived(_joined_names(_with_default_argument(call)), derived)
            printed = (_joined_names(having), printed_scope)
        having_bound = _having(having, scope, bind, printed=printed)
    aggregate = AggregateNode(
        plan,
        tuple(bound_keys),
        tuple(call_plans),
        having_bound,
        window,
        query.emit is ast.EmitMode.FINAL,
        tuple(format_expression(e) for e in groups_raw),
        _required_columns(
            selects, normalize(query.where) if query.where is not None else None, groups, having, registry
        ),
    )

    # -- the projection -------------------------------------------------------------------------------
    select_columns: list[SelectColumn] = []
    seen: dict[str, t.SqlType] = {}
    for index, ((original, _), expression, name) in enumerate(zip(items, selects, names)):
        bound = bind(expression, scope, "SELECT", allow_null=True)
        if bound.type is None:
            raise PlanError(
                "Can't infer a type of null. Please explicitly cast it to a required type, e.g. "
                "CAST(null AS VARCHAR)."
            )
        is_key = persistent and index in key_items
        if name in seen:
            raise PlanError(f"Duplicate value columns found in schema: {quote(name)} {format_type(bound.type)}")
        seen[name] = bound.type
        namespace = Namespace.KEY if is_key else Namespace.VALUE
        select_columns.append(SelectColumn(RowColumn(name, bound.type, namespace), bound, _sql(original), original))
    key_order = {names[i]: k for i, k in key_items.items()}
    keys = sorted((c for c in select_columns if c.column.namespace is Namespace.KEY), key=lambda c: key_order[c.column.name])
    ordered = tuple(keys) + tuple(c for c in select_columns if c.column.namespace is not Namespace.KEY)
    project = ProjectNode(aggregate, tuple((c.column, c.bound) for c in ordered), tuple(c.sql for c in ordered))
    result_window = None
    if window is not None:
        result_window = WindowInfo(window.type, None if window.type is WindowType.SESSION else window.size_ms)
    return AggregationPlan(project, ordered, tuple(c.column.name for c in keys), result_window)


def _sql(expression: pe.Expression) -> str:
    return str(format_expression(expression))


def _check_references(
    expression: pe.Expression, scope: Scope, bind: Binder, clause: str, *, window_bounds: bool
) -> None:
    """Every column reference must resolve in the input (ksqlDB validates references before it
    analyses the aggregation): the binder's "cannot be resolved" message otherwise. With
    ``window_bounds``, WINDOWSTART / WINDOWEND pass (a windowed aggregation provides them; ksqlDB's
    joins do not)."""
    for node in pe.walk(expression):
        if isinstance(node, pe.ColumnRef) and not (window_bounds and node.name in WINDOW_COLUMNS):
            try:
                scope.resolve(node)
            except PlanError:
                bind(node, scope, clause)


def _check_functions(expression: pe.Expression, registry: Any) -> None:
    """Every function called must exist (ksqlDB resolves functions before the aggregate analysis)."""
    for node in pe.walk(expression):
        known = isinstance(node, pe.FunctionCall) and (
            registry.aggregate(node.name) is not None or registry.lookup(node.name) is not None
        )
        if isinstance(node, pe.FunctionCall) and not known:
            raise PlanError(f"Can't find any functions with the name '{node.name}'")


def _check_window_bounds(
    selects: list[pe.Expression], groups: list[pe.Expression], having: pe.Expression | None, registry: Any
) -> None:
    """With a WINDOW clause, WINDOWSTART / WINDOWEND are the aggregation's: usable in the SELECT
    list, but not as an aggregate function's argument, in GROUP BY or in HAVING (ksqlDB's
    AggregateAnalyzer, in its order: SELECT, GROUP BY, HAVING)."""

    def refuse(expressions: list[pe.Expression]) -> None:
        for expression in expressions:
            for node in pe.walk(expression):
                if isinstance(node, pe.ColumnRef) and node.name in WINDOW_COLUMNS:
                    raise PlanError(
                        f"Window bounds column {node.name} can only be used in the SELECT clause of windowed "
                        "aggregations and can not be passed to aggregate functions.\n"
                        "See https://github.com/confluentinc/ksql/issues/4397"
                    )

    for select in selects:
        calls: list[pe.FunctionCall] = []
        _aggregate_calls(select, registry, calls)
        refuse(list(calls))
    refuse(groups)
    if having is not None:
        refuse([having])


def _where(where: pe.Expression, scope: Scope, bind: Binder, *, windowed: bool = False) -> tuple[Any, str]:
    """The WHERE predicate of an aggregation, bound over its input. ``windowed`` (a WINDOW clause):
    window bounds the input lacks are ksqlDB's "Unknown column" (they exist only after the
    aggregation)."""
    from headwater.engine.planner.rules import WHERE_RULES, apply_rules

    if windowed:
        for node in pe.walk(where):
            if isinstance(node, pe.ColumnRef) and node.name in WINDOW_COLUMNS:
                try:
                    scope.resolve(node)
                except PlanError:
                    raise PlanError(f"Error in WHERE expression: Unknown column {node.name}.") from None
    predicate = binding.bind_where(lambda e, s, c: bind(apply_rules(e, WHERE_RULES), s, c), where, scope)
    return predicate, _sql(where)


def _required_columns(
    selects: list[pe.Expression],
    where: pe.Expression | None,
    groups: list[pe.Expression],
    having: pe.Expression | None,
    registry: Any,
) -> tuple[str, ...]:
    """The input columns the aggregation query reads, in ksqlDB's order of discovery (its aggregate
    analysis visits SELECT, WHERE, GROUP BY, then HAVING; COUNT(*) reads ROWTIME). Window bounds
    are the aggregation's, not its input's."""
    found: list[str] = []

    def visit(node: Any) -> None:
        if isinstance(node, pe.FunctionCall) and registry.aggregate(node.name) is not None:
            node = _with_default_argument(node)
            for argument in node.args:
                visit(argument)
            return
        if isinstance(node, pe.ColumnRef):
            name = node.name if node.source is None else f"{node.source}_{node.name}"
            if node.name not in WINDOW_COLUMNS and name not in found:
                found.append(name)
            return
        for child in pe.iter_children(node):
            if isinstance(child, pe.Node):
                visit(child)

    for expression in [*selects, *([where] if where is not None else []), *groups, *([having] if having else [])]:
        visit(expression)
    return tuple(found)


def _joined_names(expression: pe.Expression) -> pe.Expression:
    """``expression`` with its qualified column references named as a join's result names them
    (``I1.BAR`` is ``I1_BAR``)."""
    from headwater.engine.planner.rewrite import transform

    def replace(node: Any) -> Any:
        if isinstance(node, pe.ColumnRef) and node.source is not None:
            return pe.ColumnRef(f"{node.source}_{node.name}", span=node.span)
        return None

    return transform(expression, replace)


def _having(
    having: pe.Expression,
    scope: Scope,
    bind: Binder,
    *,
    printed: tuple[pe.Expression, Scope] | None = None,
) -> Any:
    """The HAVING predicate bound over the aggregation's output. ``printed``: the predicate as
    ksqlDB prints it and a scope binding it, for the wording of a type error (a join's columns)."""
    try:
        predicate = bind(having, scope, "HAVING")
    except ExpressionTypeError as error:
        message = str(error)
        if printed is not None:
            try:
                bind(printed[0], printed[1], "HAVING")
            except ExpressionTypeError as reworded:
                message = str(reworded)
            except PlanError:
                pass
        raise PlanError(f"Error in HAVING expression: {message}") from None
    except CoercionError as error:
        raise PlanError(f"Invalid Predicate: {error}") from None
    if predicate.type != t.BOOLEAN:
        raise PlanError(
            f"Type error in HAVING expression: Should evaluate to boolean but is "
            f"{_sql(having)} ({format_type(predicate.type)}) instead."
        )
    return predicate


def _call_plans(
    calls: list[pe.FunctionCall], source: QueryInput, bind: Binder, registry: Any, catalog: Any, config: Any
) -> list[AggregateCallPlan]:
    """Resolve every distinct aggregate call: argument types, overload, literal parameters."""
    plans: list[AggregateCallPlan] = []
    for index, call in enumerate(calls):
        planned = _with_default_argument(call)
        function = registry.aggregate(planned.name)
        bound_args = [bind(argument, source.scope, "SELECT", allow_null=True) for argument in planned.args]
        resolved = function.resolve(tuple(b.type for b in bound_args))
        literals = []
        for position in resolved.literal_positions:
            argument = planned.args[position]
            value = evaluate_literal(
                argument, resolved.param_types[position], registry, types=catalog.resolve_type, config=config
            )
            literals.append(value.as_py())
        arguments = tuple(bound_args[p] for p in resolved.column_positions)
        column = RowColumn(f"{AGGREGATE_PREFIX}{index}", resolved.return_type, Namespace.VALUE)
        plans.append(AggregateCallPlan(column, resolved, arguments, tuple(literals), _sql(planned)))
    return plans


def _check_intermediate_types(calls: list[AggregateCallPlan], source: QueryInput) -> None:
    """ksqlDB keeps an aggregation's state in the source's value format: one that cannot hold a
    function's intermediate type refuses the query."""
    nested = (t.Struct, t.Array, t.Map)
    for data_source in source.sources:
        if data_source.value_format.name not in ("DELIMITED", "KAFKA"):
            continue
        if any(isinstance(c.resolved.intermediate_type, nested) for c in calls):
            raise PlanError(
                "One of the functions used in the statement has an intermediate type that the value format can "
                "not handle. Please remove the function or change the format."
            )


def result_kind(built_kind: SourceType) -> str:
    """The noun ksqlDB uses for a result kind in messages."""
    return "TABLE" if built_kind is SourceType.TABLE else "STREAM"

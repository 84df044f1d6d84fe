"""Pull queries: a SELECT without EMIT CHANGES answered from a table's current state, and then done.

A pull query over a table reads the table's materialized state
(:mod:`headwater.engine.runtime.materialized`): the WHERE clause is evaluated over the rows of the keys
it names when it is a key lookup (``K = v``, ``K IN (...)``, in every disjunct), over every live row
otherwise (a table scan), then the projection and LIMIT. A pull query over a stream is a historical
query (:func:`headwater.engine.historical.run_select`).

ksqlDB's rules and messages (its ``PullQueryValidator`` and ``QueryFilterNode``):

* no JOIN, WINDOW, GROUP BY, HAVING or PARTITION BY; ROWPARTITION and ROWOFFSET are not available;
  LIMIT must not be negative and needs ``ksql.query.pull.limit.clause.enabled``;
* only a table that is materialized can be queried: one a persistent query writes (CREATE TABLE AS
  SELECT) or a CREATE SOURCE TABLE; another table is refused with ksqlDB's hint to derive one;
* with ``ksql.query.pull.table.scan.enabled=false`` the WHERE clause must be a key lookup: every
  disjunct compares every key column for equality (or IN) with a constant, once, optionally with bounds
  on WINDOWSTART / WINDOWEND of a windowed table (range bounds on the key need
  ``ksql.query.pull.range.scan.enabled``);
* IN lists must hold constants convertible to the key's type, never NULL.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.catalog import DataSource, SourceType
from headwater.engine.expressions import evaluate_literal, format_expression
from headwater.engine.operators.base import as_array
from headwater.engine.operators.source_scan import SourceScanOperator
from headwater.engine.planner import binding
from headwater.engine.planner.builder import QueryBuilder
from headwater.engine.planner.graph import run_stages
from headwater.engine.planner.physical import lower
from headwater.engine.planner.rules import WHERE_RULES, apply_rules
from headwater.engine.runtime.materialized import TableMaterialization
from headwater.engine.schema import ROWOFFSET, ROWPARTITION, WINDOW_COLUMNS, Namespace, format_type, quote
from headwater.engine.statements.context import StatementContext
from headwater.errors import PlanError
from headwater.parser import ast
from headwater.parser import expressions as pe

__all__ = ["check_pull_query", "run_table_pull", "table_materialization"]

_SEE = " See https://cnfl.io/queries for more info."
_PUSH_HINT = _SEE + "\nAdd EMIT CHANGES if you intended to issue a push query."
_DISALLOWED = (ROWPARTITION, ROWOFFSET)


def check_pull_query(ctx: StatementContext, query: ast.Query) -> None:
    """ksqlDB's clause rules for every pull query, over a table or a stream.

    Raises:
        PlanError: ksqlDB's message for a clause pull queries refuse.
    """
    if isinstance(query.from_, ast.Join):
        raise PlanError("Pull queries don't support JOIN clauses." + _PUSH_HINT)
    if query.window is not None:
        raise PlanError("Pull queries don't support WINDOW clauses." + _PUSH_HINT)
    if query.group_by is not None:
        raise PlanError("Pull queries don't support GROUP BY clauses." + _PUSH_HINT)
    if query.having is not None:
        raise PlanError("Pull queries don't support HAVING clauses." + _PUSH_HINT)
    if query.partition_by is not None:
        raise PlanError("Pull queries don't support PARTITION BY clauses." + _PUSH_HINT)
    if query.limit is not None:
        if not ctx.config.get_bool("ksql.query.pull.limit.clause.enabled"):
            raise PlanError(
                "LIMIT clause in pull queries is currently disabled. You can enable them by setting "
                "ksql.query.pull.limit.clause.enabled=true." + _PUSH_HINT
            )
        if query.limit < 0:
            raise PlanError("Pull queries don't support negative integers in the LIMIT clause." + _SEE)
    for clause, expressions in (
        ("SELECT", [i.expression for i in query.select if isinstance(i, ast.SingleColumn)]),
        ("WHERE", [query.where] if query.where is not None else []),
    ):
        found = [
            node.name
            for expression in expressions
            for node in pe.walk(expression)
            if isinstance(node, pe.ColumnRef) and node.name in _DISALLOWED
        ]
        if found:
            columns = ", ".join(quote(name) for name in dict.fromkeys(found))
            raise PlanError(f"Pull queries don't support the following columns in {clause} clauses: {columns}")


def table_materialization(ctx: StatementContext, source: DataSource) -> TableMaterialization:
    """The engine's materialization of ``source``, built on first use and caught up now."""
    engine = ctx.engine
    cache: dict[str, TableMaterialization] = engine.__dict__.setdefault("_materialized", {})
    view = cache.get(source.name)
    if view is None or view.source is not source:
        lowering = engine._lowering_context(ctx, "pull")
        _, _, raw, writer = lowering.open_topic(source.topic)
        topic_source = writer if (not raw and writer is not None and writer is not source) else None
        scan = SourceScanOperator(source, raw=raw, topic_source=topic_source, report=lowering.report_record)
        view = TableMaterialization(source, scan)
        cache[source.name] = view
    view.catch_up(engine.log)
    return view


def _queryable(source: DataSource) -> bool:
    return source.is_sink or source.is_source


def run_table_pull(ctx: StatementContext, query: ast.Query, source: DataSource) -> tuple[Any, list[pa.RecordBatch]]:
    """Plan and answer a pull query over the table ``source``: the built query (its columns give the
    header) and the result batches."""
    builder = QueryBuilder(ctx.catalog, ctx.engine.registry, ctx.config.as_dict(), ctx.engine.partition_count)
    select = _expand_star(query.select, source)
    built = builder.build(replace(query, select=select, where=None, limit=None), sink_name=None, persistent=False)
    built = _in_select_order(built, select)
    if not _queryable(source):
        raise PlanError(
            f"The {quote(source.name)} table isn't queryable. To derive a queryable table, you can do "
            f"'CREATE TABLE QUERYABLE_{source.name} AS SELECT * FROM {source.name}'.{_SEE}"
        )
    alias = query.from_.alias if isinstance(query.from_, ast.AliasedRelation) else None
    scope = binding.build_scope(source, alias)
    predicate = None
    keys: list[Any] | None = None
    if query.where is not None:
        where = apply_rules(query.where, WHERE_RULES)
        predicate = _bind_where(builder, where, scope)
        keys = _lookup_keys(ctx, query.where, source, alias)
        if not ctx.config.get_bool("ksql.query.pull.table.scan.enabled"):
            _refuse_scan(ctx, query.where, source, alias)
    elif not ctx.config.get_bool("ksql.query.pull.table.scan.enabled"):
        raise PlanError("Missing WHERE clause." + _SEE)
    view = table_materialization(ctx, source)
    rows = view.lookup([pa.array(keys, type=_key_arrow(source))]) if keys is not None else view.scan_all()
    rows = _in_store_order(rows, source)
    if predicate is not None and rows.num_rows:
        compiled = binding.compile_expression(predicate, config=ctx.config.as_dict())
        mask = as_array(compiled.evaluate(rows), rows.num_rows)
        rows = rows.filter(mask, null_selection_behavior="drop")
    graph = lower(built.plan, engine_lowering(ctx))
    (_, scan_stage), = graph.entries
    out = run_stages(scan_stage.downstream, [rows]) if rows.num_rows else []
    if query.limit is not None:
        out = _limited(out, query.limit)
    return built, out


def engine_lowering(ctx: StatementContext) -> Any:
    return ctx.engine._lowering_context(ctx, "pull")


def _in_store_order(rows: pa.RecordBatch, source: DataSource) -> pa.RecordBatch:
    """Rows in the order ksqlDB's table scan returns them: partition by partition (a state store per
    partition of the table's topic, the partition each row was read from), and within a partition in
    the order of the serialised keys (window included), as a key-value store iterates. What a LIMIT
    keeps depends on it, as it does in ksqlDB."""
    if rows.num_rows < 2:
        return rows
    from headwater.engine.serde import SourceSerde

    columns = [rows.column(c.name) for c in source.schema.key_columns]
    if source.window is not None:
        columns += [rows.column(name) for name in WINDOW_COLUMNS]
    data, errors = SourceSerde(source).encode_key(columns, rows=rows.num_rows)
    if errors:
        return rows
    order = pa.table({"partition": rows.column(ROWPARTITION), "key": data})
    return rows.take(pc.sort_indices(order, sort_keys=[("partition", "ascending"), ("key", "ascending")]))


def _limited(batches: list[pa.RecordBatch], limit: int) -> list[pa.RecordBatch]:
    out, left = [], limit
    for batch in batches:
        if left <= 0:
            break
        out.append(batch.slice(0, left))
        left -= min(left, batch.num_rows)
    return out


def _expand_star(select: tuple[ast.SelectItem, ...], source: DataSource) -> tuple[ast.SelectItem, ...]:
    """``*`` over a table in a pull query: the key columns, a windowed table's WINDOWSTART and WINDOWEND
    (part of its key), then the value columns."""
    if source.window is None:
        return select
    items: list[ast.SelectItem] = []
    for item in select:
        if not isinstance(item, ast.AllColumns):
            items.append(item)
            continue
        names = [c.name for c in source.schema.key_columns] + list(WINDOW_COLUMNS)
        names += [c.name for c in source.schema if not c.is_key and not c.is_header]
        items += [ast.SingleColumn(pe.ColumnRef(name)) for name in names]
    return tuple(items)


def _in_select_order(built: Any, select: tuple[ast.SelectItem, ...]) -> Any:
    """The result columns in the order of the SELECT list (pull query headers keep it), a windowed
    table's window bounds marked KEY as ksqlDB marks them."""
    order = {id(item): index for index, item in enumerate(select)}
    positions = []
    for column in built.columns:
        position = next(
            (order[id(item)] for item in select if isinstance(item, ast.SingleColumn) and item.expression is column.expression),
            len(select),
        )
        positions.append(position)
    columns = []
    for column in built.columns:
        bound_reference = isinstance(column.expression, pe.ColumnRef)
        if built.source.window is not None and column.column.name in WINDOW_COLUMNS and bound_reference:
            column = replace(column, column=replace(column.column, namespace=Namespace.KEY))
        columns.append(column)
    ordered = [c for _, c in sorted(zip(positions, range(len(columns))), key=lambda p: p)]
    return replace(built, columns=tuple(columns[i] for i in ordered))


def _key_arrow(source: DataSource) -> pa.DataType:
    from headwater.engine.types import to_arrow

    return to_arrow(source.schema.key_columns[0].type)


def _bind_where(builder: QueryBuilder, where: pe.Expression, scope: Any) -> Any:
    return binding.bind_where(builder._bind, where, scope, statement=f"\nStatement: {format_expression(where)}")


def _disjuncts(expression: pe.Expression) -> list[pe.Expression]:
    if isinstance(expression, pe.LogicalBinary) and expression.op is pe.LogicalOp.OR:
        return _disjuncts(expression.left) + _disjuncts(expression.right)
    return [expression]


def _conjuncts(expression: pe.Expression) -> list[pe.Expression]:
    if isinstance(expression, pe.LogicalBinary) and expression.op is pe.LogicalOp.AND:
        return _conjuncts(expression.left) + _conjuncts(expression.right)
    return [expression]


def _is_key(expression: pe.Expression, source: DataSource, alias: str | None) -> bool:
    keys = [c.name for c in source.schema.key_columns]
    return (
        isinstance(expression, pe.ColumnRef)
        and expression.name in keys
        and expression.source in (None, alias, source.name)
    )


def _constant(expression: pe.Expression) -> bool:
    return not any(isinstance(n, pe.ColumnRef) for n in pe.walk(expression))


def _lookup_keys(ctx: StatementContext, where: pe.Expression, source: DataSource, alias: str | None) -> list[Any] | None:
    """The key values ``where`` looks up when every disjunct names the (single) key column with ``=``
    or IN and constants; None when the query scans. IN lists are checked as ksqlDB checks them."""
    keys = source.schema.key_columns
    if len(keys) != 1:
        return None
    key = keys[0]
    registry = ctx.engine.registry
    values: list[Any] = []
    for disjunct in _disjuncts(where):
        found = False
        for conjunct in _conjuncts(disjunct):
            candidates: list[pe.Expression] = []
            if isinstance(conjunct, pe.Comparison) and conjunct.op is pe.ComparisonOp.EQUAL:
                if _is_key(conjunct.left, source, alias) and _constant(conjunct.right):
                    candidates = [conjunct.right]
                elif _is_key(conjunct.right, source, alias) and _constant(conjunct.left):
                    candidates = [conjunct.left]
            elif isinstance(conjunct, pe.InList) and _is_key(conjunct.value, source, alias) and not conjunct.negated:
                for item in conjunct.items:
                    if isinstance(item, pe.NullLiteral):
                        raise PlanError(f"Primary key columns can not be NULL: ({key.name} = null)")
                if not all(_constant(item) for item in conjunct.items):
                    continue
                candidates = list(conjunct.items)
            if not candidates:
                continue
            converted = []
            for item in candidates:
                try:
                    value = evaluate_literal(item, key.type, registry, types=ctx.catalog.resolve_type)
                except PlanError:
                    if isinstance(conjunct, pe.InList):
                        raise PlanError(
                            f"{format_expression(item)} can not be converted to the type of the key column: "
                            f"{key.name} {format_type(key.type)} KEY"
                        ) from None
                    return None
                converted.append(value.as_py())
            values.extend(converted)
            found = True
            break
        if not found:
            return None
    return values


def _refuse_scan(ctx: StatementContext, where: pe.Expression, source: DataSource, alias: str | None) -> None:
    """Why a WHERE clause is no key lookup, in ksqlDB's words (table scans are disabled)."""
    keys = source.schema.key_columns
    range_scans = ctx.config.get_bool("ksql.query.pull.range.scan.enabled")
    for disjunct in _disjuncts(where):
        bounds: dict[str, int] = {}
        for conjunct in _conjuncts(disjunct):
            references = [n for n in pe.walk(conjunct) if isinstance(n, pe.ColumnRef)]
            key_refs = [r for r in references if _is_key(r, source, alias)]
            if not key_refs:
                continue
            sides: tuple[pe.Expression, ...] = ()
            if isinstance(conjunct, pe.Comparison):
                sides = (conjunct.left, conjunct.right)
            elif isinstance(conjunct, pe.InList):
                sides = (conjunct.value, *conjunct.items)
            direct = [s for s in sides if _is_key(s, source, alias)]
            if not direct:
                raise PlanError("A comparison must directly reference a key column.")
            others = [s for s in sides if s is not direct[0]]
            if not all(_constant(s) for s in others):
                raise PlanError("A comparison must be between a key column and a resolvable expression.")
            name = direct[0].name  # type: ignore[attr-defined]
            bounds[name] = bounds.get(name, 0) + 1
            operator = conjunct.op if isinstance(conjunct, pe.Comparison) else pe.ComparisonOp.EQUAL
            ranged = operator is not pe.ComparisonOp.EQUAL
            if ranged and (not range_scans or operator is pe.ComparisonOp.NOT_EQUAL):
                described = ", ".join(f"{quote(k.name)} {format_type(k.type)} KEY" for k in keys)
                raise PlanError(f"Bound on key columns '[{described}]' must currently be '='. ")
        if any(count > 1 for count in bounds.values()):
            raise PlanError(
                "A comparison condition on the key column cannot be combined with other comparisons such as "
                "an IN predicate"
            )
        if not bounds:
            raise PlanError(f"WHERE clause missing key column for disjunct: {format_expression(disjunct)}")
        if len(bounds) < len(keys):
            raise PlanError("Multi-column sources must specify every key in the WHERE clause")


def is_table_pull(ctx: StatementContext, query: ast.Query) -> DataSource | None:
    """The table a pull query reads, or None when it reads a stream."""
    relation = query.from_
    if not isinstance(relation, ast.AliasedRelation):
        return None
    source = ctx.catalog.source(relation.name)
    return source if source is not None and source.kind is SourceType.TABLE else None

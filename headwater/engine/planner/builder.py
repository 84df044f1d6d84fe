"""Query -> logical plan: FROM, WHERE, table functions, SELECT, PARTITION BY, and the sink's schema.

The builder applies ksqlDB's rules for what a stateless query may be and how its output is shaped, with
ksqlDB's messages:

* the projection's names: an alias, or a derived name (a column keeps its name, a struct field its field
  name, anything else ``KSQL_COL_<i>``); reserved names (ROWTIME...) refused;
* key columns: without PARTITION BY, the sink's key columns are the source's, and each must appear in the
  projection exactly once as a plain reference (it may be aliased) — "Key missing from projection";
  with PARTITION BY, the partitioning expressions must appear in the projection and become the key;
  PARTITION BY NULL makes a keyless result;
* a result with no value columns is refused.

Queries over tables (their result is a table; WHERE becomes a table filter), aggregations
(:mod:`headwater.engine.planner.aggregation`) and joins (:mod:`headwater.engine.planner.joins`) build
on the same steps.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from headwater.engine.catalog import Catalog, DataSource, SourceType
from headwater.engine.expressions.errors import UnresolvedColumnError
from headwater.engine.expressions.naming import ColumnAliasGenerator
from headwater.engine.expressions.scope import ColumnKind, Scope, ScopeColumn
from headwater.engine.functions.registry import FunctionRegistry
from headwater.engine.planner import aggregation, binding
from headwater.engine.planner.built import BuiltQuery, QueryInput, SelectColumn
from headwater.engine.planner.logical import (
    FilterNode,
    FlatMapNode,
    LimitNode,
    PartitionByNode,
    PlanNode,
    ProjectNode,
    RowColumn,
    ScanNode,
)
from headwater.engine.planner.rewrite import transform
from headwater.engine.planner.rules import WHERE_RULES, apply_rules
from headwater.engine.planner.stateful_nodes import TableFilterNode
from headwater.engine.schema import (
    PSEUDO_COLUMNS,
    SYSTEM_COLUMNS,
    WINDOW_COLUMNS,
    Column,
    LogicalSchema,
    Namespace,
    format_type,
    quote,
)
from headwater.errors import PlanError
from headwater.parser import ast
from headwater.parser import expressions as pe
from headwater.parser import types as t

__all__ = ["BuiltQuery", "QueryBuilder", "QueryInput", "SelectColumn"]


def _sql(node: ast.Node) -> str:
    """An expression as ksqlDB prints it in messages; other nodes as canonical SQL."""
    from headwater.engine.expressions import format_expression
    from headwater.parser import to_sql

    if isinstance(node, pe.Expression):
        return str(format_expression(node))
    return str(to_sql(node))


class QueryBuilder:
    """Builds logical plans for SELECTs over one source, in a catalog, with a function registry.

    Args:
        catalog: the sources and types.
        registry: the functions.
        config: the effective configuration (some kernels read it).
    """

    def __init__(
        self,
        catalog: Catalog,
        registry: FunctionRegistry,
        config: Mapping[str, Any],
        partitions: Callable[[str], int] | None = None,
    ) -> None:
        self.catalog = catalog
        self.registry = registry
        self.config = config
        self.partitions = partitions

    # -- entry points ------------------------------------------------------------------------------------
    def build(
        self,
        query: ast.Query,
        *,
        sink_name: str | None,
        persistent: bool,
        statement_kind: str = "SELECT",
    ) -> BuiltQuery:
        """Plan ``query``. ``sink_name`` names the sink in messages (None for transient queries);
        ``persistent`` applies the sink rules (key columns in the projection, value columns present);
        ``statement_kind`` is what messages call the statement ("CREATE TABLE AS SELECT").
        """
        if persistent:
            self._check_sources_exist(query.from_)
        source = self._input(query.from_)
        if aggregation.is_aggregation(query, self.registry):
            return self._build_aggregation(query, source, sink_name, persistent, statement_kind)
        if query.window is not None:
            prefix = ""
            if query.window.span is not None:
                prefix = f"Line: {query.window.span.line}, Col: {query.window.span.column}: "
            raise PlanError(f"{prefix}WINDOW clause requires a GROUP BY clause.")
        if query.emit is ast.EmitMode.FINAL:
            raise PlanError("EMIT FINAL is only supported for windowed aggregations.")
        plan, scope = source.plan, source.scope
        alias = source.alias
        if source.is_join:
            return self._build_join(query, source, sink_name, persistent)
        if query.where is not None:
            predicate = self._bind_where(apply_rules(query.where, WHERE_RULES), scope)
            if source.is_table:
                plan = TableFilterNode(plan, predicate, source.key_columns, _sql(query.where))
            else:
                plan = FilterNode(plan, predicate, _sql(query.where))
        partition: _PartitionBy | None = None
        if query.partition_by is not None:
            partition = self._partition_by(query.partition_by, plan, scope, source.source, alias)
            plan, scope = partition.node, partition.scope
        items, from_star = self._expand(
            query.select, plan, scope, source.source, alias, None,
            window_bounds=not persistent and source.window is not None,
        )
        items, scope, flat_map = self._table_functions(items, scope, plan)
        if flat_map is not None:
            if source.is_table:
                raise PlanError("Table source is not supported with table functions")
            plan = flat_map
        columns = self._project(
            items, from_star, scope, plan, source.source, alias, query, sink_name, persistent, partition
        )
        project = ProjectNode(
            plan,
            tuple((c.column, c.bound) for c in columns),
            tuple(c.sql for c in columns),
        )
        return self._finish(query, source, project, columns, partition_by=query.partition_by is not None)

    def _finish(
        self,
        query: ast.Query,
        source: QueryInput,
        plan: PlanNode,
        columns: tuple[SelectColumn, ...],
        *,
        partition_by: bool = False,
        window: Any = "inherit",
        kind: SourceType | None = None,
    ) -> BuiltQuery:
        """The built query: LIMIT on top, the result schema (keys first). The result's window is the
        source's unless ``window`` says otherwise (an aggregation's is its WINDOW clause's, or none)."""
        if query.limit is not None:
            result_kind = kind if kind is not None else source.kind
            plan = LimitNode(plan, query.limit, table=result_kind is SourceType.TABLE)
        keys = tuple(c.column.name for c in columns if c.column.namespace is Namespace.KEY)
        schema = LogicalSchema(
            tuple(
                Column(c.column.name, c.column.type, Namespace.KEY) for c in columns if c.column.name in keys
            )
            + tuple(
                Column(c.column.name, c.column.type, Namespace.VALUE)
                for c in columns
                if c.column.name not in keys
            )
        )
        return BuiltQuery(
            plan,
            source.source,
            schema,
            columns,
            keys,
            partition_by=partition_by,
            limit=query.limit,
            kind=kind if kind is not None else source.kind,
            window=source.window if window == "inherit" else window,
            sources=source.sources,
        )

    def _build_aggregation(
        self,
        query: ast.Query,
        source: QueryInput,
        sink_name: str | None,
        persistent: bool,
        statement_kind: str,
    ) -> BuiltQuery:
        if query.partition_by is not None:
            raise PlanError("PARTITION BY is not supported with GROUP BY: the result is keyed by its grouping.")
        items, from_star = self._expand(
            query.select, source.plan, source.scope, source.source, source.alias, source.join
        )
        for expression, _ in items:
            if isinstance(expression, pe.FunctionCall) and binding.is_table_function_call(expression, self.registry):
                raise PlanError("Table functions are not supported with GROUP BY.")
        planned = aggregation.plan_aggregation(
            query,
            source,
            items,
            from_star,
            bind=self._bind,
            registry=self.registry,
            catalog=self.catalog,
            config=self.config,
            persistent=persistent,
            sink_name=sink_name,
            statement_kind=statement_kind,
        )
        return self._finish(
            query, source, planned.plan, planned.columns, window=planned.window, kind=SourceType.TABLE
        )

    def _build_join(
        self, query: ast.Query, source: QueryInput, sink_name: str | None, persistent: bool
    ) -> BuiltQuery:
        """A query over a join without aggregation: WHERE, then the projection with the join's key."""
        from headwater.engine.planner.joins import join_projection

        plan, scope = source.plan, source.scope
        if query.where is not None:
            predicate = self._bind_where(apply_rules(source.normalize(query.where), WHERE_RULES), scope)
            if source.is_table:
                plan = TableFilterNode(plan, predicate, source.key_columns, _sql(query.where))
            else:
                plan = FilterNode(plan, predicate, _sql(query.where))
        if query.partition_by is not None:
            return self._build_partitioned_join(query, source, plan, sink_name, persistent)
        items, from_star = self._expand(query.select, plan, scope, source.source, source.alias, source.join)
        for expression, _ in items:
            if binding.is_table_function_call(expression, self.registry):
                raise PlanError("Table functions are not supported on the result of a join yet.")
        scope, planned = join_projection(
            source, items, from_star, bind=self._bind, persistent=persistent, sink_name=sink_name
        )
        columns = []
        seen: set[str] = set()
        for index, (expression, _, name, namespace) in enumerate(planned):
            if persistent and name in SYSTEM_COLUMNS and index not in from_star:
                raise PlanError(
                    f"Reserved column name in select: {quote(name)}. Please remove or alias the column."
                )
            bound = self._bind(expression, scope, "SELECT", allow_null=True)
            if bound.type is None:
                raise PlanError(
                    "Can't infer a type of null. Please explicitly cast it to a required type, e.g. "
                    "CAST(null AS VARCHAR)."
                )
            if name in seen:
                raise PlanError(
                    f"Duplicate value columns found in schema: {quote(name)} {format_type(bound.type)}"
                )
            seen.add(name)
            columns.append(SelectColumn(RowColumn(name, bound.type, namespace), bound, _sql(items[index][0]), items[index][0]))
        if persistent and not any(c.column.namespace is Namespace.VALUE for c in columns):
            raise PlanError("The projection contains no value columns.")
        ordered = tuple(c for c in columns if c.column.namespace is Namespace.KEY) + tuple(
            c for c in columns if c.column.namespace is not Namespace.KEY
        )
        project = ProjectNode(plan, tuple((c.column, c.bound) for c in ordered), tuple(c.sql for c in ordered))
        return self._finish(query, source, project, ordered)

    def _build_partitioned_join(
        self, query: ast.Query, source: QueryInput, plan: PlanNode, sink_name: str | None, persistent: bool
    ) -> BuiltQuery:
        """PARTITION BY over joined rows: the PARTITION BY expressions are the result's key; ``*``
        lists them, then the join schema's columns (ksqlDB's order) less those that became keys."""
        from headwater.engine.planner.joins import _names, partition_joined

        assert query.partition_by is not None
        plan, scope, keys = partition_joined(source, plan, query.partition_by, self._bind)
        key_names = {column.name for _, column in keys}
        items: list[tuple[pe.Expression, str | None]] = []
        from_star: set[int] = set()
        for item in query.select:
            if isinstance(item, ast.AllColumns):
                for expression in source.join.star_after_partition([e for e, _ in keys], key_names):
                    from_star.add(len(items))
                    items.append((expression, None))
            elif isinstance(item, ast.SingleColumn):
                items.append((item.expression, item.alias))
            else:
                raise PlanError("Struct star is not supported on the result of a join yet.")
        normalized = [source.normalize(e) for e, _ in items]
        names = _names(items, source.source_columns, source.join, from_star)
        for index in from_star:  # the new keys * lists are named after their key columns
            match = next((column for expression, column in keys if expression == normalized[index]), None)
            if match is not None:
                names[index] = match.name
        target = quote(sink_name) if sink_name else "the result"
        if persistent and not from_star:
            missing = [e for e, _ in keys if e not in normalized]
            if missing:
                _keys_not_included(target, "partitioning expression", [_sql(e) for e in missing])
        columns: list[SelectColumn] = []
        seen: set[str] = set()
        taken: set[int] = set()
        for (original, _), expression, name in zip(items, normalized, names):
            key_index = next((i for i, (e, _) in enumerate(keys) if e == expression and i not in taken), None)
            namespace = Namespace.VALUE
            if persistent and key_index is not None:
                namespace = Namespace.KEY
                taken.add(key_index)
            bound = self._bind(expression, scope, "SELECT", allow_null=True)
            if name in seen:
                raise PlanError(f"Duplicate value columns found in schema: {quote(name)} {format_type(bound.type)}")
            seen.add(name)
            columns.append(SelectColumn(RowColumn(name, bound.type, namespace), bound, _sql(original), original))
        ordered = tuple(c for c in columns if c.column.namespace is Namespace.KEY) + tuple(
            c for c in columns if c.column.namespace is not Namespace.KEY
        )
        project = ProjectNode(plan, tuple((c.column, c.bound) for c in ordered), tuple(c.sql for c in ordered))
        return self._finish(query, source, project, ordered, partition_by=True, kind=SourceType.STREAM)

    # -- FROM ----------------------------------------------------------------------------------------------
    def _input(self, relation: ast.Relation) -> QueryInput:
        """The FROM clause, resolved: one source, or a join."""
        if isinstance(relation, ast.Join):
            from headwater.engine.planner.joins import plan_join

            return plan_join(self, relation)
        source, alias = self._source(relation)
        scope = binding.build_scope(source, alias)
        names = {alias, source.name}
        return QueryInput(
            plan=ScanNode(source, self._scan_columns(source)),
            scope=scope,
            sources=(source,),
            kind=source.kind,
            key_columns=tuple(c.name for c in source.schema.key_columns)
            + (tuple(WINDOW_COLUMNS) if source.window is not None else ()),
            source_columns=tuple(c.name for c in source.schema),
            normalize=lambda e: _unqualified_all(e, names),
            display=lambda e: _unqualified_all(e, names),
            window=source.window,
            alias=alias,
        )

    def _check_sources_exist(self, relation: ast.Relation) -> None:
        """A persistent query's FROM sources must all exist, refused in ksqlDB's words for it: its
        engine looks every source up while preparing the statement (DataSourceExtractor, left to
        right) and wraps what it misses in "Exception while preparing statement: ..."."""
        if isinstance(relation, ast.Join):
            self._check_sources_exist(relation.left)
            self._check_sources_exist(relation.right)
        elif isinstance(relation, ast.AliasedRelation) and self.catalog.source(relation.name) is None:
            raise PlanError(f"Exception while preparing statement: {relation.name} does not exist.")

    def _source(self, relation: ast.Relation) -> tuple[DataSource, str]:
        if not isinstance(relation, ast.AliasedRelation):
            raise PlanError(f"Unsupported FROM clause: {_sql(relation)}")
        source = self.catalog.source(relation.name)
        if source is None:
            prefix = ""
            if relation.span is not None:
                prefix = f"Line: {relation.span.line}, Col: {relation.span.column}: "
            raise PlanError(f"{prefix}Source {quote(relation.name)} does not exist.")
        return source, relation.alias or relation.name

    @staticmethod
    def _scan_columns(source: DataSource) -> tuple[RowColumn, ...]:
        columns = [RowColumn(c.name, c.type, c.namespace) for c in source.schema]
        columns += [RowColumn(n, ty, None) for n, ty in PSEUDO_COLUMNS.items()]
        if source.window is not None:
            columns += [RowColumn(n, ty, None) for n, ty in WINDOW_COLUMNS.items()]
        return tuple(columns)

    # -- SELECT --------------------------------------------------------------------------------------------
    def _expand(
        self,
        select: tuple[ast.SelectItem, ...],
        plan: PlanNode,
        scope: Scope,
        source: DataSource,
        alias: str,
        join: Any = None,
        *,
        window_bounds: bool = False,
    ) -> tuple[list[tuple[pe.Expression, str | None]], set[int]]:
        """SELECT items as (expression, alias) pairs with ``*`` and ``s->*`` expanded, and the indexes
        of the items ``*`` produced. ``*`` is every column of the rows reaching the projection, key
        columns first (after a PARTITION BY: the new keys, the values, then the old keys); over a join
        every column of every source (:meth:`~headwater.engine.planner.joins.JoinInfo.star`). With
        ``window_bounds`` (a transient query over a windowed source) WINDOWSTART and WINDOWEND follow
        the key columns."""
        items: list[tuple[pe.Expression, str | None]] = []
        from_star: set[int] = set()
        for item in select:
            if isinstance(item, ast.AllColumns) and join is not None:
                aliases = [a for _, a in join.leaves] + [s.name for s, _ in join.leaves]
                if item.source is not None and item.source not in aliases:
                    raise PlanError(f"'{item.source}' is not a valid stream/table name or alias.")
                qualifier = item.source
                if qualifier is not None:
                    qualifier = next((a for s, a in join.leaves if qualifier in (a, s.name)), qualifier)
                for expression in join.star(qualifier):
                    from_star.add(len(items))
                    items.append((expression, None))
                continue
            if isinstance(item, ast.AllColumns):
                if item.source is not None and item.source not in (alias, source.name):
                    raise PlanError(f"'{item.source}' is not a valid stream/table name or alias.")
                columns = [c for c in plan.output if c.namespace is not None]
                bounds = [c for c in plan.output if window_bounds and c.name in WINDOW_COLUMNS]
                ordered = [c for c in columns if c.namespace is Namespace.KEY] + bounds + [
                    c for c in columns if c.namespace is not Namespace.KEY
                ]
                for column in ordered:
                    from_star.add(len(items))
                    items.append((pe.ColumnRef(column.name, alias), None))
                continue
            if isinstance(item, ast.StructAll):
                base = self._bind(item.base, scope, "SELECT")
                if not isinstance(base.type, t.Struct):
                    raise PlanError(f"Cannot dereference a non-struct: {_sql(item.base)}")
                for name, _ in base.type.fields:
                    items.append((pe.Dereference(item.base, name), name))
                continue
            assert isinstance(item, ast.SingleColumn)
            items.append((item.expression, item.alias))
        return items, from_star

    def _table_functions(
        self, items: list[tuple[pe.Expression, str | None]], scope: Scope, plan: PlanNode
    ) -> tuple[list[tuple[pe.Expression, str | None]], Scope, FlatMapNode | None]:
        """Replace table-function calls by synthetic columns (ksqlDB's ``KSQL_SYNTH_n``) computed by a
        flat map, so the projection binds them as plain column references."""
        calls: list[pe.FunctionCall] = []

        def collect(node: Any) -> None:
            if isinstance(node, pe.FunctionCall) and binding.is_table_function_call(node, self.registry):
                if node not in calls:
                    calls.append(node)
                return
            for child in pe.iter_children(node) if isinstance(node, ast.Node) else ():
                collect(child)

        for expression, _ in items:
            collect(expression)
        if not calls:
            return items, scope, None
        functions = []
        new_scope = scope
        for index, call in enumerate(calls):
            name = f"KSQL_SYNTH_{index}"
            bound = self._bind(call, scope, "SELECT")
            functions.append((name, bound, bound.type))
            new_scope = new_scope.with_derived(call, ScopeColumn(name, bound.type, None, ColumnKind.DERIVED))
        return items, new_scope, FlatMapNode(plan, tuple(functions))

    def _project(
        self,
        items: list[tuple[pe.Expression, str | None]],
        from_star: set[int],
        scope: Scope,
        plan: PlanNode,
        source: DataSource,
        alias: str,
        query: ast.Query,
        sink_name: str | None,
        persistent: bool,
        partition: _PartitionBy | None,
    ) -> tuple[SelectColumn, ...]:
        names = binding.select_names(items, [c.name for c in source.schema], scope)
        bound_items = []
        for index, ((expression, alias_name), name) in enumerate(zip(items, names)):
            bound = self._bind(expression, scope, "SELECT", allow_null=True)
            if alias_name is not None and alias_name in SYSTEM_COLUMNS:
                raise PlanError(
                    f"{quote(alias_name)} is a reserved column name. You cannot use it as an alias for a column."
                )
            if persistent and alias_name is None and name in SYSTEM_COLUMNS and index not in from_star:
                raise PlanError(
                    f"Reserved column name in select: {quote(name)}. Please remove or alias the column."
                )
            bound_items.append((expression, name, bound))
        if persistent:
            self._check_keys_projected(items, from_star, source, alias, sink_name, partition)
        key_names = self._key_names(bound_items, plan, persistent)
        columns = []
        seen: dict[str, t.SqlType] = {}
        for expression, name, bound in bound_items:
            namespace = Namespace.KEY if name in key_names else Namespace.VALUE
            if name in seen:
                raise PlanError(
                    f"Duplicate value columns found in schema: {quote(name)} {format_type(bound.type)}"
                )
            seen[name] = bound.type
            if bound.type is None:
                raise PlanError(
                    "Can't infer a type of null. Please explicitly cast it to a required type, e.g. "
                    "CAST(null AS VARCHAR)."
                )
            columns.append(
                SelectColumn(RowColumn(name, bound.type, namespace), bound, _sql(expression), expression)
            )
        if persistent and not any(c.column.namespace is Namespace.VALUE for c in columns):
            raise PlanError("The projection contains no value columns.")
        if not persistent:  # a transient query's columns keep the SELECT list's order
            return tuple(columns)
        order = {name: position for position, name in enumerate(key_names)}
        keys = sorted(
            (c for c in columns if c.column.namespace is Namespace.KEY), key=lambda c: order[c.column.name]
        )
        return tuple(keys) + tuple(c for c in columns if c.column.namespace is not Namespace.KEY)

    def _check_keys_projected(
        self,
        items: list[tuple[pe.Expression, str | None]],
        from_star: set[int],
        source: DataSource,
        alias: str,
        sink_name: str | None,
        partition: _PartitionBy | None,
    ) -> None:
        """ksqlDB's ``validateKeyPresent``: the projection must contain the key columns of the source,
        or every PARTITION BY expression (``*`` contains everything); the message lists all of them."""
        if from_star:
            return
        target = quote(sink_name) if sink_name else "the result"
        projected = {_qualified(expression, alias) for ((expression, _),) in zip(items)}
        if partition is not None:
            if not partition.expressions:
                return
            required = [_qualified(e, alias) for e in partition.expressions]
            if all(e in projected for e in required):
                return
            _keys_not_included(target, "partitioning expression", [_sql(e) for e in required])
        keys = [c.name for c in source.schema.key_columns]
        if all(pe.ColumnRef(k, alias) in projected for k in keys):
            return
        _keys_not_included(target, "key column", keys)

    @staticmethod
    def _key_names(
        items: list[tuple[pe.Expression, str, Any]], plan: PlanNode, persistent: bool
    ) -> list[str]:
        """The names of the projection items that become key columns, in the input's key order: the
        items that are a bare reference to a key column of the rows reaching the projection."""
        input_keys = [c.name for c in plan.output if c.namespace is Namespace.KEY]
        found: dict[str, list[str]] = {}
        for _, name, bound in items:
            if (
                getattr(bound, "kind", None) is ColumnKind.KEY
                and type(bound).__name__ == "BoundColumn"
                and bound.name in input_keys
            ):
                found.setdefault(bound.name, []).append(name)
        for key, names in found.items():
            if len(names) > 1 and persistent:
                raise PlanError(
                    f"The projection contains a key column ({quote(key)}) more than once, aliased as: "
                    f"{' and '.join(names)}."
                )
        return [found[k][0] for k in input_keys if k in found]

    # -- PARTITION BY ----------------------------------------------------------------------------------------
    def _partition_by(
        self,
        expressions: tuple[pe.Expression, ...],
        plan: PlanNode,
        scope: Scope,
        source: DataSource,
        alias: str,
    ) -> _PartitionBy:
        """The re-keying node and the scope the projection binds in after it (see
        :class:`~headwater.engine.planner.logical.PartitionByNode`)."""
        if not expressions:
            raise PlanError("PARTITION BY requires at least one expression")
        keyed = tuple(e for e in expressions if not isinstance(e, pe.NullLiteral))
        if keyed and len(keyed) != len(expressions):
            raise PlanError("Cannot PARTITION BY multiple columns including NULL")
        names = ColumnAliasGenerator([c.name for c in source.schema])
        keys: list[tuple[RowColumn, Any]] = []
        derived: list[tuple[pe.Expression, ScopeColumn]] = []
        for expression in keyed:
            try:
                bound = self._bind(expression, scope, "PARTITION BY")
            except UnresolvedColumnError as error:
                if isinstance(expression, pe.ColumnRef):
                    name = error.column_text
                    raise PlanError(
                        f"PARTITION BY column '{name}' cannot be resolved. '{name}' must be a column in the "
                        "source schema since PARTITION BY is applied on the input."
                    ) from None
                raise
            if bound.type is None:
                raise PlanError("Can't infer a type of null. Please explicitly cast it to a required type.")
            if isinstance(expression, pe.ColumnRef):
                name = scope.resolve(expression).name
            else:
                name = names.alias_for(expression)
            column = RowColumn(name, bound.type, Namespace.KEY)
            keys.append((column, bound))
            derived.append(
                (_qualified(expression, alias), ScopeColumn(name, bound.type, alias, ColumnKind.KEY))
            )
        node = PartitionByNode(plan, tuple(keys), tuple(_sql(e) for e in keyed))
        kinds = {
            Namespace.KEY: ColumnKind.KEY,
            Namespace.VALUE: ColumnKind.VALUE,
            Namespace.HEADERS: ColumnKind.HEADER,
        }
        columns = []
        for column in node.output:
            kind = ColumnKind.PSEUDO if column.namespace is None else kinds[column.namespace]
            if column.namespace is None and column.name in WINDOW_COLUMNS:
                kind = ColumnKind.WINDOW_BOUND
            columns.append(ScopeColumn(column.name, column.type, alias, kind))
        new_scope = Scope(tuple(columns), scope.sources)
        for expression, scope_column in derived:
            new_scope = new_scope.with_derived(expression, scope_column)
            new_scope = new_scope.with_derived(_unqualified(expression, alias), scope_column)
        return _PartitionBy(node, new_scope, keyed)

    def _bind_where(self, where: pe.Expression, scope: Scope) -> Any:
        """The WHERE predicate, bound, with ksqlDB's prefixes on its errors."""
        return binding.bind_where(self._bind, where, scope)

    # -- helpers -------------------------------------------------------------------------------------------
    def _bind(self, expression: pe.Expression, scope: Scope, clause: str, allow_null: bool = False) -> Any:
        from headwater.engine import expressions as ex

        return ex.bind(
            expression,
            scope,
            self.registry,
            types=self.catalog.resolve_type,
            clause=clause,
            allow_untyped_null=allow_null,
        )


@dataclass(frozen=True, slots=True)
class _PartitionBy:
    """A planned PARTITION BY: its node, the scope after it, and its expressions (none for NULL)."""

    node: PartitionByNode
    scope: Scope
    expressions: tuple[pe.Expression, ...]


def _qualified(expression: pe.Expression, alias: str) -> pe.Expression:
    """``expression`` with every unqualified column reference qualified by ``alias``, as ksqlDB's analyzer
    rewrites them (so ``ID`` and ``INPUT.ID`` compare equal, and messages print ``INPUT.ID``)."""
    return transform(
        expression,
        lambda n: (
            pe.ColumnRef(n.name, alias, span=n.span) if isinstance(n, pe.ColumnRef) and n.source is None else None
        ),
    )


def _unqualified_all(expression: pe.Expression, names: set[str]) -> pe.Expression:
    """``expression`` with every column reference qualified by one of ``names`` written bare (ksqlDB
    rewrites a single-source query's references so before comparing expressions)."""
    return transform(
        expression,
        lambda n: (
            pe.ColumnRef(n.name, None, span=n.span) if isinstance(n, pe.ColumnRef) and n.source in names else None
        ),
    )


def _unqualified(expression: pe.Expression, alias: str) -> pe.Expression:
    """``expression`` with the references qualified by ``alias`` written bare."""
    return transform(
        expression,
        lambda n: (
            pe.ColumnRef(n.name, None, span=n.span) if isinstance(n, pe.ColumnRef) and n.source == alias else None
        ),
    )


def _keys_not_included(target: str, what: str, required: list[str]) -> None:
    """ksqlDB's ``throwKeysNotIncludedError``: every required key is listed, joined with "and"."""
    plural = len(required) > 1
    raise PlanError(
        f"Key{'s' if plural else ''} missing from projection (ie, SELECT). \n"
        f"The query used to build {target} must include the {what}{'s' if plural else ''} {_join(required)} "
        f"in its projection (eg, SELECT {', '.join(required)}...)."
    )


def _join(names: list[str]) -> str:
    """``A``, ``A and B``, ``A, B and C`` as ksqlDB lists names in messages."""
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]

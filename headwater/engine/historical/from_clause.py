"""The FROM clause of a ksqlDB SELECT in DuckDB: sources, aliases, and joins with streaming semantics.

Each source named in FROM becomes a view (:class:`~headwater.engine.historical.plan.RelationRequest`) and a
set of scope columns. A single source's columns keep their names; after a join every column is named
``<ALIAS>_<COLUMN>`` (``L_ID``, ``R_ROWTIME``), as ksqlDB names them, so unaliased SELECT items get
ksqlDB's names.

Joins mean in batch what they mean in streaming, over the whole history:

* **stream-stream** ``WITHIN (before, after)``: a left row matches right rows whose ROWTIME lies in
  ``[left.ROWTIME - before, left.ROWTIME + after]``; the condition joins the ON clause, and LEFT / RIGHT /
  FULL keep unmatched rows as SQL does. The joined row's ROWTIME is the later of the two.
* **stream-table**: a stream row meets the table *as it was at the row's time*: an ``ASOF`` join on the
  table's changelog (``stream.ROWTIME >= table.ROWTIME``, the latest table record at or before the
  stream row). A tombstone there means the key was absent: no match (INNER drops the row, LEFT keeps it
  with NULL table columns).
* **table-table** (primary or foreign key): the join of the two tables' latest states, which is the
  final state of the streaming join's result table.

Example::

    clause = plan_from(query.from_, catalog, registry, renderer_factory)
    clause.select   # sqlglot SELECT with FROM and JOINs set; clause.scope binds the other clauses
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from headwater.engine.catalog import Catalog, DataSource
from headwater.engine.expressions import ColumnKind, Scope, ScopeColumn
from headwater.engine.expressions.errors import CoercionError, ExpressionTypeError
from headwater.engine.historical.plan import RelationMode, RelationRequest
from headwater.engine.operators.base import NULL_VALUE_COLUMN
from headwater.engine.schema import ROWTIME, quote
from headwater.errors import PlanError
from headwater.parser import ast
from headwater.parser import types as t

__all__ = ["FromClause", "Reference", "plan_from"]


@dataclass
class Reference:
    """One source in FROM.

    Attributes:
        source: the stream or table.
        alias: the name its columns are qualified with (the alias, or the source's name).
        view: the DuckDB view it is read from.
        mode: stream rows, table state, or table changelog.
        columns: its scope columns (with their batch field names).
    """

    source: DataSource
    alias: str
    view: str
    mode: RelationMode
    columns: tuple[ScopeColumn, ...] = ()

    @property
    def pseudo_fields(self) -> dict[str, str]:
        """Field name -> pseudo-column name for this reference's ROWTIME, ROWOFFSET, ROWPARTITION."""
        return {c.field: c.name for c in self.columns if c.kind is ColumnKind.PSEUDO}

    def field_of(self, name: str) -> str:
        return next(c.field for c in self.columns if c.name == name)

    def request(self, bounds: Any) -> RelationRequest:
        return RelationRequest(self.view, self.source, self.mode, bounds)


@dataclass
class FromClause:
    """The planned FROM clause.

    Attributes:
        references: the sources, left to right.
        scope: what the other clauses may reference.
        columns: batch field -> DuckDB expression over the FROM clause.
        types: batch field -> SQL type.
        select: a sqlglot SELECT holding the FROM and JOIN clauses.
        conditions: extra row conditions the joins need (an INNER stream-table join drops tombstones).
        rowtime: the DuckDB expression of the joined row's event time.
    """

    references: list[Reference]
    scope: Scope
    columns: dict[str, exp.Expression]
    types: dict[str, t.SqlType]
    select: exp.Select
    conditions: list[exp.Expression] = field(default_factory=list)
    rowtime: exp.Expression | None = None

    @property
    def joined(self) -> bool:
        return len(self.references) > 1

    @property
    def first(self) -> Reference:
        return self.references[0]


def _column(name: str, table: str) -> exp.Column:
    return exp.Column(this=exp.to_identifier(name, quoted=True), table=exp.to_identifier(table, quoted=True))


def _table(view: str, alias: str) -> exp.Table:
    return exp.Table(
        this=exp.to_identifier(view, quoted=True), alias=exp.TableAlias(this=exp.to_identifier(alias, quoted=True))
    )


def _scope_columns(source: DataSource, alias: str, joined: bool) -> tuple[ScopeColumn, ...]:
    base = Scope.from_schema(source.schema, source=alias, windowed=source.window is not None)
    if not joined:
        return base.columns
    return tuple(
        ScopeColumn(c.name, c.type, c.source, c.kind, field=f"{alias}_{c.name}") for c in base.columns
    )


def _relations(relation: ast.Relation) -> list[ast.AliasedRelation]:
    if isinstance(relation, ast.AliasedRelation):
        return [relation]
    if isinstance(relation, ast.Join):
        return [*_relations(relation.left), relation.right]
    raise PlanError(f"Unsupported FROM clause: {type(relation).__name__}")


def _joins(relation: ast.Relation) -> list[ast.Join]:
    if isinstance(relation, ast.Join):
        return [*_joins(relation.left), relation]
    return []


def _source(catalog: Catalog, relation: ast.AliasedRelation) -> DataSource:
    source = catalog.source(relation.name)
    if source is None:
        prefix = ""
        if relation.span is not None:
            prefix = f"Line: {relation.span.line}, Col: {relation.span.column}: "
        raise PlanError(f"{prefix}Source {quote(relation.name)} does not exist.")
    return source


BindFunction = Callable[[Any, Scope, str], Any]
RenderFunction = Callable[[Any, "FromClause"], exp.Expression]


def plan_from(
    relation: ast.Relation,
    catalog: Catalog,
    bind_in: BindFunction,
    render_predicate: RenderFunction,
) -> FromClause:
    """Plan ``relation``.

    Args:
        relation: the FROM clause.
        catalog: where sources are found.
        bind_in: binds an expression in a scope for a clause (``(expression, scope, clause) -> bound``).
        render_predicate: renders a bound join condition over the clause planned so far.

    Raises:
        PlanError: unknown source, duplicate alias, a join ksqlDB does not allow.
    """
    named = _relations(relation)
    joined = len(named) > 1
    references: list[Reference] = []
    seen_aliases: set[str] = set()
    for index, item in enumerate(named):
        source = _source(catalog, item)
        alias = item.alias or source.name
        if alias in seen_aliases:
            raise PlanError(
                f"Can not join '{alias}' to '{alias}': self joins require aliases"
                if item.alias is None
                else f"Duplicate alias {quote(alias)} in FROM"
            )
        seen_aliases.add(alias)
        mode = RelationMode.TABLE if source.is_table else RelationMode.STREAM
        references.append(
            Reference(source, alias, f"__hw_from_{index}", mode, _scope_columns(source, alias, joined))
        )
    first = references[0]
    scope = Scope(first.columns, _qualifiers(first))
    columns: dict[str, exp.Expression] = {c.field: _column(c.name, first.alias) for c in first.columns}
    types = {c.field: c.type for c in first.columns}
    select = exp.Select().from_(_table(first.view, first.alias))
    clause = FromClause(references, scope, columns, types, select, rowtime=columns[first.field_of(ROWTIME)])
    left_is_stream = not first.source.is_table
    for join, right in zip(_joins(relation), references[1:]):
        left_is_stream = _add_join(clause, join, right, left_is_stream, bind_in, render_predicate)
    return clause


def _qualifiers(reference: Reference) -> tuple[str, ...]:
    names = [reference.alias]
    if reference.source.name != reference.alias:
        names.append(reference.source.name)
    return tuple(names)


def _add_join(
    clause: FromClause,
    join: ast.Join,
    right: Reference,
    left_is_stream: bool,
    bind_in: BindFunction,
    render_predicate: RenderFunction,
) -> bool:
    """Add one join to ``clause``; returns whether the result is a stream."""
    right_is_stream = not right.source.is_table
    if not left_is_stream and right_is_stream:
        raise PlanError(
            f"Invalid join order: table-stream joins are not supported; only stream-table joins. Got "
            f"{clause.references[0].alias} {join.join_type.value} JOIN {right.alias}."
        )
    stream_table = left_is_stream and not right_is_stream
    if stream_table:
        if join.join_type not in (ast.JoinType.INNER, ast.JoinType.LEFT):
            raise PlanError(f"{join.join_type.value} join is not supported for stream-table joins.")
        right.mode = RelationMode.CHANGELOG
    if left_is_stream and right_is_stream and join.within is None:
        raise PlanError("Stream-Stream joins must have a WITHIN clause specified. None was provided.")
    if not (left_is_stream and right_is_stream) and join.within is not None:
        raise PlanError("A window definition was provided for a Stream-Table join. These joins are not windowed.")
    # The ON clause sees the right side's stored values (a tombstone must match its key, so the as-of
    # lookup finds it); the rest of the query sees NULLs where the table had no row.
    clause.columns.update({c.field: _column(c.name, right.alias) for c in right.columns})
    clause.types.update({c.field: c.type for c in right.columns})
    clause.scope = Scope(clause.scope.columns + right.columns, clause.scope.sources + _qualifiers(right))
    try:
        criteria = bind_in(join.criteria, clause.scope, "JOIN ON")
    except (ExpressionTypeError, CoercionError) as error:
        raise PlanError(f"Invalid join condition: {error}") from None
    if criteria.type != t.BOOLEAN:
        raise PlanError("Invalid join condition: the ON clause must be a BOOLEAN expression.")
    condition = render_predicate(criteria, clause)
    if stream_table:
        for column in right.columns:
            clause.columns[column.field] = exp.Case(
                ifs=[exp.If(this=_column(NULL_VALUE_COLUMN, right.alias), true=exp.Null())],
                default=_column(column.name, right.alias),
            )
    left_time = clause.rowtime
    assert left_time is not None
    right_time = _column(ROWTIME, right.alias)
    side = {
        ast.JoinType.INNER: "",
        ast.JoinType.LEFT: "LEFT",
        ast.JoinType.RIGHT: "RIGHT",
        ast.JoinType.FULL: "FULL",
    }[join.join_type]
    if stream_table:
        condition = exp.And(
            this=exp.Paren(this=condition), expression=exp.GTE(this=left_time.copy(), expression=right_time)
        )
        join_kind = ("ASOF " + side).strip()
        if join.join_type is ast.JoinType.INNER:
            clause.conditions.append(exp.Not(this=_column(NULL_VALUE_COLUMN, right.alias)))
    elif left_is_stream:
        assert join.within is not None
        before = join.within.before.millis
        after = (join.within.after or join.within.before).millis
        window = exp.Between(
            this=right_time,
            low=exp.Sub(this=left_time.copy(), expression=exp.Literal.number(before)),
            high=exp.Add(this=left_time.copy(), expression=exp.Literal.number(after)),
        )
        condition = exp.And(this=exp.Paren(this=condition), expression=window)
        clause.rowtime = exp.Greatest(this=left_time.copy(), expressions=[right_time.copy()])
        join_kind = side
    else:
        join_kind = side
    clause.select = clause.select.join(_table(right.view, right.alias), on=condition, join_type=join_kind or None)
    return left_is_stream


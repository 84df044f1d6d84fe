"""Joins: ksqlDB's join rules, the join tree, and the scope and key of a joined result.

``FROM a JOIN b ON ... JOIN c ON ...`` nests to the left (ksqlDB's ``JoinTree``): each join adds one
source to the tree built so far. For each join this module applies ksqlDB's rules with its messages
(criteria of one equality whose sides each reference exactly one source, one of them the joined one;
no self joins; stream-table but not table-stream; a table joined on its primary key, or a foreign key
join of two tables; WITHIN for stream-stream joins only; matching key types; co-partitioned sources)
and picks the operator (:class:`~headwater.engine.planner.stateful_nodes.JoinStrategy`).

**Keys.** Each side must be keyed by its join expression. A side already keyed by it (a source's key
column, or a join whose key is equivalent to it) is joined as it is; otherwise the expression is
computed into a new key column (a PARTITION BY before the join, ksqlDB's ``PreJoinRepartitionNode``;
Headwater's state is one per query, so the re-keyed rows need no repartition topic). A table can only be
joined on its primary key, except as the left side of a foreign-key join.

**Names.** After a join every source column is ``<ALIAS>_<COLUMN>`` (ksqlDB's
``generatedJoinColumnAlias``), also each source's ROWTIME, ROWPARTITION and ROWOFFSET
(``S1.ROWTIME`` is ``S1_ROWTIME``); unqualified ROWTIME is the joined row's. The result's key is one
column: the first *viable* key expression (a column reference equivalent to the key, ksqlDB's
``viableKeyColumns``) that the projection selects, or a synthetic ``ROWKEY`` when none can be (a FULL
OUTER join, or expressions on both sides). A foreign-key join is keyed by the left table's key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from headwater.engine.catalog import DataSource, SourceType, WindowInfo
from headwater.engine.expressions import format_expression
from headwater.engine.expressions.errors import AmbiguousColumnError
from headwater.engine.expressions.scope import ColumnKind, Scope, ScopeColumn
from headwater.engine.planner.built import QueryInput
from headwater.engine.planner.logical import PartitionByNode, PlanNode, RowColumn, ScanNode
from headwater.engine.planner.rewrite import transform
from headwater.engine.planner.stateful_nodes import JoinNode, JoinStrategy
from headwater.engine.schema import PSEUDO_COLUMNS, WINDOW_COLUMNS, Namespace, format_type, quote
from headwater.errors import PlanError
from headwater.parser import ast
from headwater.parser import expressions as pe
from headwater.parser import types as t

__all__ = ["JoinInfo", "join_projection", "partition_joined", "plan_join", "synthetic_key_name"]

JOIN_KEY = "__JOIN_KEY"
"""The batch column holding a join's result key (``__JOIN_KEY_<n>`` for each column of a foreign-key
join's key)."""

_TYPE_TEXT = {
    ast.JoinType.INNER: "[INNER] JOIN",
    ast.JoinType.LEFT: "LEFT [OUTER] JOIN",
    ast.JoinType.RIGHT: "RIGHT [OUTER] JOIN",
    ast.JoinType.FULL: "[FULL] OUTER JOIN",
}
_OPERATOR_TYPE = {
    ast.JoinType.INNER: "INNER",
    ast.JoinType.LEFT: "LEFT",
    ast.JoinType.RIGHT: "RIGHT",
    ast.JoinType.FULL: "FULL",
}


@dataclass
class _Leaf:
    """One source of the FROM clause and the columns it contributes."""

    source: DataSource
    alias: str

    def carried(self) -> list[tuple[str, RowColumn]]:
        """(batch column of the scan, joined column) for every column the source contributes."""
        columns = [
            (c.name, RowColumn(f"{self.alias}_{c.name}", c.type, Namespace.VALUE)) for c in self.source.schema
        ]
        columns += [(n, RowColumn(f"{self.alias}_{n}", ty, Namespace.VALUE)) for n, ty in PSEUDO_COLUMNS.items()]
        if self.source.window is not None:
            columns += [(n, RowColumn(f"{self.alias}_{n}", ty, Namespace.VALUE)) for n, ty in WINDOW_COLUMNS.items()]
        return columns

    def scope_columns(self) -> list[ScopeColumn]:
        """The source's columns as a joined result holds them (batch fields ``ALIAS_COLUMN``)."""
        kinds = {Namespace.KEY: ColumnKind.KEY, Namespace.VALUE: ColumnKind.VALUE, Namespace.HEADERS: ColumnKind.HEADER}
        columns = [
            ScopeColumn(c.name, c.type, self.alias, kinds[c.namespace], f"{self.alias}_{c.name}")
            for c in self.source.schema
        ]
        columns += [
            ScopeColumn(n, ty, self.alias, ColumnKind.PSEUDO, f"{self.alias}_{n}") for n, ty in PSEUDO_COLUMNS.items()
        ]
        if self.source.window is not None:
            columns += [
                ScopeColumn(n, ty, self.alias, ColumnKind.WINDOW_BOUND, f"{self.alias}_{n}")
                for n, ty in WINDOW_COLUMNS.items()
            ]
        return columns


@dataclass
class _Side:
    """One input of a join: a source, or the joins built so far."""

    plan: PlanNode
    scope: Scope
    leaves: list[_Leaf]
    kind: SourceType
    key_column: str | None
    key_type: t.SqlType | None
    carried: list[tuple[str, RowColumn]]
    equivalence: list[pe.Expression] = field(default_factory=list)
    viable: list[pe.ColumnRef] = field(default_factory=list)
    synthetic: bool = False
    foreign_key: bool = False
    window: WindowInfo | None = None

    @property
    def is_leaf(self) -> bool:
        return len(self.leaves) == 1

    @property
    def aliases(self) -> list[str]:
        return [leaf.alias for leaf in self.leaves]


@dataclass(frozen=True)
class JoinInfo:
    """What the projection of a joined result needs to know.

    Attributes:
        leaves: (source, alias) of every source, left to right.
        key_column: the batch column holding the result's key (one per column for a foreign-key join).
        key_type: the key's SQL type (per column).
        viable: the qualified column references equivalent to the key, in ksqlDB's order.
        synthetic: the key is a synthetic ``ROWKEY``-like column, named ``synthetic_name``.
        foreign_key: a foreign-key join (keyed by the left table's key columns).
    """

    leaves: tuple[tuple[DataSource, str], ...]
    key_columns: tuple[str, ...]
    key_types: tuple[t.SqlType, ...]
    viable: tuple[pe.ColumnRef, ...]
    synthetic: bool
    synthetic_name: str
    foreign_key: bool

    def star_after_partition(self, keys: list[pe.Expression], key_names: set[str]) -> list[pe.Expression]:
        """What ``*`` stands for after a PARTITION BY of the joined rows: the new keys, then each source's
        value columns, pseudo-columns and key columns (ksqlDB's join schema), less the columns that
        became keys."""
        items: list[pe.Expression] = list(keys)
        for source, alias in self.leaves:
            columns = [c.name for c in source.schema if not c.is_key]
            columns += list(PSEUDO_COLUMNS)
            if source.window is not None:
                columns += list(WINDOW_COLUMNS)
            columns += [c.name for c in source.schema.key_columns]
            items += [pe.ColumnRef(name, alias) for name in columns if f"{alias}_{name}" not in key_names]
        return items

    def star(self, qualifier: str | None) -> list[pe.Expression]:
        """The items ``*`` (or ``qualifier.*``) stands for: every column of every source (or of the one
        source: keys, a windowed source's WINDOWSTART and WINDOWEND, values), and a synthetic key first
        for an unqualified ``*``."""
        items: list[pe.Expression] = []
        if qualifier is None and self.synthetic:
            items.append(pe.ColumnRef(self.synthetic_name))
        for source, alias in self.leaves:
            if qualifier is not None and qualifier != alias:
                continue
            names = [c.name for c in source.schema.key_columns]
            if source.window is not None:  # a windowed source's bounds follow its keys
                names += list(WINDOW_COLUMNS)
            names += [c.name for c in source.schema if not c.is_key]
            items += [pe.ColumnRef(name, alias) for name in names]
        return items


def synthetic_key_name(sources: list[DataSource]) -> str:
    """``ROWKEY``, or ``ROWKEY_<n>`` with the smallest ``n`` no source column uses (ksqlDB's
    ``ColumnNames.generateSyntheticJoinKey``)."""
    used = {c.name for source in sources for c in source.schema}
    if "ROWKEY" not in used:
        return "ROWKEY"
    index = 1
    while f"ROWKEY_{index}" in used:
        index += 1
    return f"ROWKEY_{index}"


def _flatten(relation: ast.Relation) -> tuple[ast.AliasedRelation, list[ast.Join]]:
    """The FROM source and the joins in order (the parser nests them to the left)."""
    joins: list[ast.Join] = []
    while isinstance(relation, ast.Join):
        joins.append(relation)
        relation = relation.left
    if not isinstance(relation, ast.AliasedRelation):
        raise PlanError("Unsupported FROM clause")
    return relation, list(reversed(joins))


def _qualify(expression: pe.Expression, scope: Scope) -> pe.Expression:
    """``expression`` with every column reference qualified by the source it resolves to (references
    that do not resolve are left for the binder to report)."""

    def replace(node: Any) -> Any:
        if not isinstance(node, pe.ColumnRef):
            return None
        if node.source is not None:
            return node
        try:
            column = scope.resolve(node)
        except PlanError:
            return node
        return pe.ColumnRef(node.name, column.source, span=node.span)

    return transform(expression, replace)


def _referenced_sources(expression: pe.Expression, scope: Scope, bind: Callable[..., Any]) -> list[str]:
    """The aliases of the sources ``expression`` references, in order (unresolvable references are
    reported as ksqlDB reports them: "JOIN ON column 'X' cannot be resolved.")."""
    found: list[str] = []
    for node in pe.walk(expression):
        if isinstance(node, pe.ColumnRef):
            try:
                column = scope.resolve(node, clause="JOIN ON")
            except AmbiguousColumnError as error:
                raise PlanError(f"Exception while preparing statement: {error}") from None
            except PlanError:
                bind(node, scope, "JOIN ON")
                raise
            if column.source is not None and column.source not in found:
                found.append(column.source)
    return found


def plan_join(builder: Any, relation: ast.Join) -> QueryInput:
    """The FROM clause of a join, resolved (see the module docstring)."""
    first, joins = _flatten(relation)
    source, alias = builder._source(first)
    side = _leaf_side(builder, source, alias)
    scope = side.scope
    for join in joins:  # ksqlDB analyses every criteria before it plans any join
        right_source, right_alias = builder._source(join.right)
        right_scope = _leaf_side(builder, right_source, right_alias).scope
        scope = scope.merged(right_scope)
        _orient(join, scope, right_alias, builder._bind)
    leaves = [side.leaves[0]]
    for index, join in enumerate(joins):
        right_source, right_alias = builder._source(join.right)
        for leaf in leaves:
            if leaf.source.name == right_source.name:
                if len(joins) == 1:
                    raise PlanError(
                        f"Can not join '{right_source.name}' to '{right_source.name}': self joins are not yet supported."
                    )
                raise PlanError(
                    f"N-way joins do not support multiple occurrences of the same source. Source: '{right_source.name}'"
                )
        right = _leaf_side(builder, right_source, right_alias)
        leaves.append(right.leaves[0])
        side = _join(builder, side, right, join, index, final=index == len(joins) - 1)
    kafka = [leaf.source.name for leaf in leaves if leaf.source.value_format.name == "KAFKA"]
    if kafka:
        raise PlanError(
            f"Source(s) {', '.join(kafka)} are using the 'KAFKA' value format. This format does not yet support JOIN."
        )
    assert side.key_type is not None
    key_columns = tuple(name for name, _ in _key_columns(side))
    key_types = tuple(ty for _, ty in _key_columns(side))
    info = JoinInfo(
        leaves=tuple((leaf.source, leaf.alias) for leaf in leaves),
        key_columns=key_columns,
        key_types=key_types,
        viable=tuple(side.viable),
        synthetic=side.synthetic,
        synthetic_name=synthetic_key_name([leaf.source for leaf in leaves]),
        foreign_key=side.foreign_key,
    )
    scope = side.scope
    if side.synthetic:
        key = ScopeColumn(info.synthetic_name, side.key_type, None, ColumnKind.KEY, key_columns[0])
        scope = Scope((*scope.columns, key), scope.sources, scope.derived)
    if side.foreign_key:
        left = leaves[0]
        for name, ty, pk in zip(key_columns, key_types, left.source.schema.key_columns):
            column = ScopeColumn(pk.name, ty, None, ColumnKind.KEY, name)
            scope = scope.with_derived(pe.ColumnRef(pk.name, left.alias), column)
    return QueryInput(
        plan=side.plan,
        scope=scope,
        sources=tuple(leaf.source for leaf in leaves),
        kind=side.kind,
        key_columns=key_columns,
        source_columns=tuple(c.name for leaf in leaves for c in leaf.source.schema),
        normalize=lambda e: _qualify(e, scope),
        display=lambda e: e,
        window=side.window,
        alias=leaves[0].alias,
        join=info,
    )


def _key_columns(side: _Side) -> list[tuple[str, t.SqlType]]:
    if side.foreign_key:
        left = side.leaves[0]
        return [(f"{JOIN_KEY}_{i}", c.type) for i, c in enumerate(left.source.schema.key_columns)]
    assert side.key_column is not None and side.key_type is not None
    return [(side.key_column, side.key_type)]


def _leaf_side(builder: Any, source: DataSource, alias: str) -> _Side:
    from headwater.engine.planner import binding

    scope = binding.build_scope(source, alias)
    keys = source.schema.key_columns
    leaf = _Leaf(source, alias)
    return _Side(
        plan=ScanNode(source, builder._scan_columns(source)),
        scope=scope,
        leaves=[leaf],
        kind=source.kind,
        key_column=keys[0].name if len(keys) == 1 else None,
        key_type=keys[0].type if len(keys) == 1 else None,
        carried=leaf.carried(),
        window=source.window,
    )


def _joined_scope(leaves: list[_Leaf]) -> Scope:
    """The scope of a joined result: every source's columns under ``ALIAS_COLUMN`` fields, the joined
    row's own pseudo-columns for unqualified references."""
    columns: list[ScopeColumn] = []
    sources: list[str] = []
    for leaf in leaves:
        columns += leaf.scope_columns()
        sources.append(leaf.alias)
        if leaf.source.name != leaf.alias:
            sources.append(leaf.source.name)
    scope = Scope(tuple(columns), tuple(dict.fromkeys(sources)))
    for name, sql_type in PSEUDO_COLUMNS.items():
        scope = scope.with_derived(pe.ColumnRef(name), ScopeColumn(name, sql_type, None, ColumnKind.PSEUDO))
    return scope


def _orient(
    join: ast.Join, scope: Scope, right_alias: str, bind: Callable[..., Any]
) -> tuple[pe.Expression, pe.Expression, bool]:
    """The join criteria's (left side, right side, flipped): the right side is the one referencing the
    joined source. ksqlDB's rules and messages for criteria it cannot join on."""
    criteria = join.criteria
    if isinstance(criteria, pe.LogicalBinary):
        raise PlanError(
            "Invalid join condition: joins on multiple conditions are not yet supported. "
            f"Got {format_expression(criteria)}."
        )
    if not isinstance(criteria, pe.Comparison) or criteria.op is not pe.ComparisonOp.EQUAL:
        raise PlanError(
            f"Unsupported join expression: {format_expression(criteria)}. Only equality conditions are supported."
        )
    sides: list[list[str]] = []
    for expression in (criteria.left, criteria.right):
        referenced = _referenced_sources(expression, scope, bind)
        if len(referenced) != 1:
            raise PlanError(
                f"Invalid comparison expression '{format_expression(expression)}' in join "
                f"'{format_expression(criteria)}'. Each side of the join comparision must contain references "
                "from exactly one source."
            )
        sides.append(referenced)
    (first_source,), (second_source,) = sides
    if first_source == second_source:
        raise PlanError(
            "Each side of the join must reference exactly one source and not the same source. "
            f"Left side references `{first_source}` and right references `{second_source}`"
        )
    if second_source == right_alias:
        return criteria.left, criteria.right, False
    if first_source == right_alias:
        return criteria.right, criteria.left, True
    raise PlanError(
        f"A join criteria is expected to reference the source (`{right_alias}`) in the FROM clause, instead "
        f"the right source references `{second_source}` and the left source references `{first_source}`"
    )


def _join(builder: Any, left: _Side, right: _Side, join: ast.Join, index: int, *, final: bool) -> _Side:
    bind = builder._bind
    right_alias = right.aliases[0]
    criteria = join.criteria
    left_expression, right_expression, flipped = _orient(join, left.scope.merged(right.scope), right_alias, bind)
    join_type = join.join_type
    type_text = f"{left.leaves[0].source.name if left.is_leaf else left.aliases[0]} {_TYPE_TEXT[join_type]} {right.leaves[0].source.name}"
    left_qualified = _qualify(left_expression, left.scope)
    right_qualified = _qualify(right_expression, right.scope)
    first_shown, second_shown = format_expression(left_qualified), format_expression(right_qualified)
    if flipped:
        first_shown, second_shown = second_shown, first_shown
    shown = f"{first_shown} = {second_shown}"

    # -- the kind of join ------------------------------------------------------------------------------
    if left.kind is SourceType.TABLE and right.kind is SourceType.STREAM:
        raise PlanError(
            "Invalid join order: table-stream joins are not supported; only stream-table joins. "
            f"Got {left.aliases[0] if not left.is_leaf else left.leaves[0].source.name} {_TYPE_TEXT[join_type]} "
            f"{right.leaves[0].source.name}."
        )
    strategy: JoinStrategy
    if left.kind is SourceType.STREAM and right.kind is SourceType.STREAM:
        strategy = JoinStrategy.STREAM_STREAM
        if join.within is None:
            raise PlanError(
                "Stream-Stream joins must have a WITHIN clause specified. None was provided. To learn about how "
                "to specify a WITHIN clause with a stream-stream join, please visit: "
                "https://docs.confluent.io/current/ksql/docs/syntax-reference.html#create-stream-as-select"
            )
    elif left.kind is SourceType.STREAM:
        strategy = JoinStrategy.STREAM_TABLE
        if join.within is not None:
            raise PlanError(
                "A window definition was provided for a Stream-Table join. These joins are not windowed. Please "
                "drop the window definition (ie. the WITHIN clause) and try to execute your join again."
            )
        if join_type is ast.JoinType.FULL:
            raise PlanError(
                f"Invalid join type: full-outer join not supported for stream-table join. Got {type_text}."
            )
        if join_type is ast.JoinType.RIGHT:
            raise PlanError(
                f"Invalid join type: right join not supported for stream-table join. Got {type_text}."
            )
        if not _is_key_reference(right_qualified, right):
            raise PlanError(
                "Invalid join condition: stream-table joins require to join on the table's primary key. "
                f"Got {shown}."
            )
    else:
        strategy = JoinStrategy.TABLE_TABLE
        if join.within is not None:
            raise PlanError(
                "A window definition was provided for a Table-Table join. These joins are not windowed. Please "
                "drop the window definition (i.e. the WITHIN clause) and try to execute your Table-Table join again."
            )
        if not _is_key_reference(right_qualified, right):
            raise PlanError(
                "Invalid join condition: table-table joins require to join on the primary key of the right input "
                f"table. Got {shown}."
            )
        if not _keyed_by(left, left_qualified):
            if not left.is_leaf:
                raise PlanError(
                    "Invalid join condition: foreign-key table-table joins are not supported as part of n-way "
                    f"joins. Got {shown}."
                )
            if join_type is ast.JoinType.RIGHT:
                raise PlanError("RIGHT OUTER JOIN on a foreign key is not supported")
            if join_type is ast.JoinType.FULL:
                raise PlanError(
                    "Invalid join type: full-outer join not supported for foreign-key table-table join. "
                    f"Got {type_text}."
                )
            if right.window is not None:
                raise PlanError("Foreign-key table-table joins are not supported on windowed tables.")
            strategy = JoinStrategy.FOREIGN_KEY
    if (left.window is None) != (right.window is None):
        with_window, plain = (left, right) if left.window is not None else (right, left)
        assert with_window.window is not None
        raise PlanError(
            "Can not join windowed source to non-windowed source.\n"
            f"`{with_window.leaves[0].source.name}` is {with_window.window.type.value} windowed\n"
            f"`{plain.leaves[0].source.name}` is not windowed"
        )
    if left.window is not None and right.window is not None:
        session = {w.type.value == "SESSION" for w in (left.window, right.window)}
        if len(session) == 1 and left.window != right.window:
            raise PlanError("Implicit repartitioning of windowed sources is not supported.")
        if len(session) > 1:
            raise PlanError(
                "Incompatible windowed sources.\n"
                f"Left source: {left.window.type.value}\nRight source: {right.window.type.value}\n"
                "Session windowed sources can only be joined to other session windowed sources, and may still not "
                "result in expected behaviour as session bounds must be an exact match for the join to work\n"
                "Hopping and tumbling windowed sources can only be joined to other hopping and tumbling windowed "
                "sources"
            )

    # -- types -----------------------------------------------------------------------------------------
    left_bound = bind(left_qualified, left.scope, "JOIN ON")
    right_bound = bind(right_qualified, right.scope, "JOIN ON")
    if left_bound.type != right_bound.type:
        first, second = (left_qualified, left_bound), (right_qualified, right_bound)
        if flipped:
            first, second = second, first
        raise PlanError(
            "Invalid join condition: types don't match. Got "
            f"{format_expression(first[0])}{{{first[1].type.sql()}}} = "
            f"{format_expression(second[0])}{{{second[1].type.sql()}}}."
        )
    key_type = left_bound.type
    if _contains_map(key_type):
        name = _join_column_name(left_qualified) if isinstance(left_qualified, pe.ColumnRef) else JOIN_KEY
        raise PlanError(
            "Map keys, including types that contain maps, are not supported as they may lead to unexpected "
            f"behavior due to inconsistent serialization. Key column name: {quote(name)}. Column type: "
            f"{format_type(key_type)}. See https://github.com/confluentinc/ksql/issues/6621 for more."
        )
    declared = not left.leaves[0].source.is_sink and not right.leaves[0].source.is_sink
    if strategy is not JoinStrategy.FOREIGN_KEY and builder.partitions is not None and declared:
        # ksqlDB's co-partitioning check (its joins run per partition); Headwater's join state is one
        # per query, so the check only reproduces ksqlDB's refusal for sources over declared topics.
        left_count = builder.partitions(left.leaves[0].source.topic)
        right_count = builder.partitions(right.leaves[0].source.topic)
        if left_count != right_count:
            left_name, right_name = left.aliases[0], right_alias
            raise PlanError(
                f"Can't join `{left_name}` with `{right_name}` since the number of partitions don't match. "
                f"`{left_name}` partitions = {left_count}; `{right_name}` partitions = {right_count}. Please "
                "repartition either one so that the number of partitions match."
            )

    # -- keys of both inputs ---------------------------------------------------------------------------
    foreign_key: tuple[str, ...] = ()
    left_key: tuple[str, ...]
    left_plan, right_plan = left.plan, right.plan
    if strategy is JoinStrategy.FOREIGN_KEY:
        left_plan, column = _computed_key(left, left_bound, f"{JOIN_KEY}_FK", left_qualified)
        foreign_key = (column,)
        left_key = tuple(c.name for c in left.leaves[0].source.schema.key_columns)
    else:
        left_plan, column = _side_key(left, left_qualified, left_bound, f"{JOIN_KEY}_L{index}")
        left_key = (column,)
    right_plan, right_column = _side_key(right, right_qualified, right_bound, f"{JOIN_KEY}_R{index}")
    right_key: tuple[str, ...] = (right_column,)
    windowed = left.window is not None
    if windowed:  # a windowed source's key is its key and its window
        left_key += tuple(WINDOW_COLUMNS)
        right_key += tuple(WINDOW_COLUMNS)

    # -- the joined result -----------------------------------------------------------------------------
    leaves = left.leaves + right.leaves
    kind = SourceType.TABLE if left.kind is SourceType.TABLE and right.kind is SourceType.TABLE else SourceType.STREAM
    outer = join_type is ast.JoinType.FULL
    pair = [left_qualified, right_qualified]
    if outer:
        equivalence: list[pe.Expression] = []
    else:
        equivalence = list(pair)
        for child in (left.equivalence, right.equivalence):
            if any(e in child for e in pair):
                equivalence += [e for e in child if e not in equivalence]
    viable: list[pe.ColumnRef] = []
    if not outer:
        for candidate in [*left.viable, left_qualified, *right.viable, right_qualified]:
            if isinstance(candidate, pe.ColumnRef) and candidate in equivalence and candidate not in viable:
                viable.append(candidate)
    key_name = f"{JOIN_KEY}_{index}" if not final else JOIN_KEY
    if strategy is JoinStrategy.FOREIGN_KEY:
        left_pks = left.leaves[0].source.schema.key_columns
        key_columns = tuple(RowColumn(f"{JOIN_KEY}_{i}", c.type, Namespace.KEY) for i, c in enumerate(left_pks))
    else:
        key_columns = (RowColumn(key_name, key_type, Namespace.KEY),)
    carried = list(left.carried)
    right_carried = list(right.carried)
    within = join.within
    before = after = grace = None
    if within is not None:
        before = within.before.millis
        after = within.after.millis if within.after is not None else before
        grace = within.grace.millis if within.grace is not None else None
    node = JoinNode(
        left_plan,
        right_plan,
        strategy,
        _OPERATOR_TYPE[join_type],
        left_key,
        right_key,
        key_columns,
        tuple(carried),
        tuple(right_carried),
        before_ms=before,
        after_ms=after,
        grace_ms=grace,
        foreign_key=foreign_key,
        windowed=windowed,
        criteria_sql=format_expression(criteria),
    )
    joined_carried = [(out.name, out) for _, out in carried + right_carried]
    return _Side(
        plan=node,
        scope=_joined_scope(leaves),
        leaves=leaves,
        kind=kind,
        key_column=key_columns[0].name,
        key_type=key_type if strategy is not JoinStrategy.FOREIGN_KEY else key_columns[0].type,
        carried=joined_carried,
        equivalence=equivalence,
        viable=viable,
        synthetic=not viable and strategy is not JoinStrategy.FOREIGN_KEY,
        foreign_key=strategy is JoinStrategy.FOREIGN_KEY,
        window=left.window,
    )


def _join_column_name(reference: pe.ColumnRef) -> str:
    return f"{reference.source}_{reference.name}" if reference.source else reference.name


def _contains_map(sql_type: t.SqlType) -> bool:
    if isinstance(sql_type, t.Map):
        return True
    if isinstance(sql_type, t.Array):
        return _contains_map(sql_type.element)
    if isinstance(sql_type, t.Struct):
        return any(_contains_map(ft) for _, ft in sql_type.fields)
    return False


def _is_key_reference(expression: pe.Expression, side: _Side) -> bool:
    """Whether ``expression`` is the single key column of a source side."""
    if not side.is_leaf or not isinstance(expression, pe.ColumnRef):
        return side.key_column is not None and expression in side.equivalence
    keys = side.leaves[0].source.schema.key_columns
    return len(keys) == 1 and expression.name == keys[0].name


def _keyed_by(side: _Side, expression: pe.Expression) -> bool:
    """Whether ``side`` is already keyed by ``expression`` (no re-keying needed)."""
    if side.is_leaf:
        return _is_key_reference(expression, side)
    return side.key_column is not None and expression in side.equivalence


def _side_key(side: _Side, expression: pe.Expression, bound: Any, name: str) -> tuple[PlanNode, str]:
    """The plan of one join input keyed by ``expression``, and its key column."""
    if _keyed_by(side, expression):
        assert side.key_column is not None
        return side.plan, side.key_column
    if side.kind is SourceType.TABLE:
        raise PlanError("Invalid join condition: a table can only be joined on its primary key.")
    if side.window is not None:
        raise PlanError(
            "Implicit repartitioning of windowed sources is not supported. "
            "See https://github.com/confluentinc/ksql/issues/4385."
        )
    return _computed_key(side, bound, name, expression)


def _computed_key(side: _Side, bound: Any, name: str, expression: pe.Expression) -> tuple[PlanNode, str]:
    """Compute the join expression into a new column (ksqlDB re-partitions the input by it)."""
    column = RowColumn(name, bound.type, Namespace.KEY)
    node = PartitionByNode(side.plan, ((column, bound),), (format_expression(expression),))
    return node, name


def _names(
    items: list[tuple[pe.Expression, str | None]],
    source_columns: tuple[str, ...],
    info: JoinInfo,
    from_star: set[int],
) -> list[str]:
    """ksqlDB's names of a joined query's SELECT items: the alias; a column ``*`` produced is
    ``ALIAS_NAME``; a column written out keeps its own name when no other source has a column of that
    name, and is ``ALIAS_NAME`` when one has; ``KSQL_COL_<n>`` (or a struct field's name) otherwise."""
    from headwater.engine.expressions.naming import ColumnAliasGenerator

    owners: dict[str, int] = {}
    for source, _ in info.leaves:
        for name in {c.name for c in source.schema} | set(PSEUDO_COLUMNS):
            owners[name] = owners.get(name, 0) + 1
    generator = ColumnAliasGenerator(source_columns)
    names = []
    for index, (expression, alias) in enumerate(items):
        if alias is not None:
            names.append(alias)
        elif isinstance(expression, pe.ColumnRef):
            shared = owners.get(expression.name, 0) > 1 or index in from_star
            names.append(f"{expression.source}_{expression.name}" if expression.source and shared else expression.name)
        else:
            names.append(generator.alias_for(expression))
    return names


def _join_names_text(names: list[str], conjunction: str) -> str:
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + f" {conjunction} " + names[-1]


def _missing_keys(target: str, required: list[str], *, synthetic: bool) -> PlanError:
    plural = len(required) > 1
    text = (
        "Key missing from projection (ie, SELECT). See https://cnfl.io/2LV7ouS.\n"
        f"The query used to build {target} must include the join expression{'s' if plural else ''} "
        f"{_join_names_text(required, 'or')} in its projection (eg, SELECT {required[0]}...)."
    )
    if synthetic:
        text += (
            f"\n{required[0]} was added as a synthetic key column because the join criteria did not match any "
            "source column. This expression must be included in the projection and may be aliased."
        )
    return PlanError(text)


def join_projection(
    source: QueryInput,
    items: list[tuple[pe.Expression, str | None]],
    from_star: set[int],
    *,
    bind: Callable[..., Any],
    persistent: bool,
    sink_name: str | None,
) -> tuple[Scope, list[tuple[pe.Expression, str | None, str, Namespace]]]:
    """The SELECT list of a joined query: each item's expression, alias, name and namespace, and the
    scope to bind them in (where the key expression reads the join's key). Applies ksqlDB's key rules
    for a persistent query (the key in the projection exactly once; ksqlDB's messages otherwise)."""
    info = source.join
    assert isinstance(info, JoinInfo)
    normalized = [source.normalize(e) for e, _ in items]
    names = _names(items, source.source_columns, info, from_star)
    target = quote(sink_name) if sink_name else "the result"
    scope = source.scope
    key_items: list[int] = []
    if info.foreign_key:
        (left_source, left_alias) = info.leaves[0]
        missing = []
        for pk in left_source.schema.key_columns:
            reference = pe.ColumnRef(pk.name, left_alias)
            found = [i for i, e in enumerate(normalized) if e == reference]
            if persistent and len(found) > 1:
                raise PlanError(
                    f"The projection contains a key column (`{left_alias}_{pk.name}`) more than once, aliased as: "
                    + " and ".join(sorted(names[i] for i in found))
                    + "."
                )
            if found:
                key_items.append(found[0])
            else:
                missing.append(pk.name)
        if persistent and missing:
            noun = "column" if len(missing) == 1 else "columns"
            raise PlanError(
                f"Primary key {noun} missing in projection. For foreign-key table-table joins, the projection must "
                f"include all primary key columns from the left input table (`{left_source.name}`). "
                f"Missing {noun}: " + ", ".join(f"`{m}`" for m in missing) + "."
            )
    else:
        key_reference: pe.ColumnRef
        if info.synthetic:
            key_reference = pe.ColumnRef(info.synthetic_name)
            key_name = info.synthetic_name
            viable_text = [info.synthetic_name]
        else:
            available = [v for v in info.viable if v in normalized]
            key_reference = available[0] if available else info.viable[0]
            key_name = _join_column_name(key_reference)
            viable_text = [format_expression(v) for v in info.viable]
            key_column = ScopeColumn(key_name, info.key_types[0], None, ColumnKind.KEY, info.key_columns[0])
            scope = scope.with_derived(key_reference, key_column)
        found = [i for i, e in enumerate(normalized) if e == key_reference]
        if persistent and not found:
            raise _missing_keys(target, viable_text, synthetic=info.synthetic)
        if persistent and len(found) > 1:
            raise PlanError(
                f"The projection contains a key column (`{key_name}`) more than once, aliased as: "
                + " and ".join(sorted(names[i] for i in found))
                + "."
            )
        key_items = found[:1]
    out = []
    for index, ((_, alias), expression, name) in enumerate(zip(items, normalized, names)):
        namespace = Namespace.KEY if persistent and index in key_items else Namespace.VALUE
        out.append((expression, alias, name, namespace))
    return scope, out


def partition_joined(
    source: QueryInput, plan: PlanNode, expressions: tuple[pe.Expression, ...], bind: Callable[..., Any]
) -> tuple[PlanNode, Scope, list[tuple[pe.Expression, RowColumn]]]:
    """PARTITION BY over joined rows: the re-keying node, the scope after it (each PARTITION BY
    expression reads its new key column), and (expression, key column) per expression. A column
    keeps its joined name (``L_B``), anything else is ``KSQL_COL_<n>``."""
    from headwater.engine.expressions.naming import ColumnAliasGenerator

    if any(isinstance(e, pe.NullLiteral) for e in expressions):
        raise PlanError("PARTITION BY NULL is not supported on the result of a join.")
    generator = ColumnAliasGenerator(source.source_columns)
    keys: list[tuple[pe.Expression, RowColumn]] = []
    bound_keys = []
    for expression in expressions:
        normalized = source.normalize(expression)
        bound = bind(normalized, source.scope, "PARTITION BY")
        if isinstance(normalized, pe.ColumnRef) and normalized.source is not None:
            name = f"{normalized.source}_{normalized.name}"
        else:
            name = generator.alias_for(normalized)
        column = RowColumn(name, bound.type, Namespace.KEY)
        keys.append((normalized, column))
        bound_keys.append((column, bound))
    node = PartitionByNode(plan, tuple(bound_keys), tuple(format_expression(e) for e in expressions))
    scope = source.scope
    for expression, column in keys:
        scope = scope.with_derived(expression, ScopeColumn(column.name, column.type, None, ColumnKind.KEY))
    return node, scope, keys

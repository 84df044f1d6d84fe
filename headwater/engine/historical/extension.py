"""Headwater's SQL extension: historical SELECTs beyond ksqlDB's grammar, with ksqlDB's functions.

ksqlDB's grammar has no ORDER BY, subqueries, common table expressions, set operations or window
functions. A historical SELECT that the ksqlDB parser refuses but that reads as SQL is run as such:
sqlglot parses it (DuckDB's dialect, with ksqlDB's backtick-quoted identifiers), and the tree is brought
to ksqlDB's meaning before DuckDB runs it:

* **names**: unquoted identifiers are upper-cased (ksqlDB's rule), so ``orders.id`` is ``ORDERS.ID``
  and result columns are named as in ksqlDB; quoted ones stay as written. Streams and tables of the
  catalog are the views of :mod:`.relations`; an unknown name is ksqlDB's "does not exist" error.
* **functions**: a call of a ksqlDB function (any name in the function registry or the aggregate
  library) means what it means in ksqlDB. Scalar and table functions become Headwater functions
  (:mod:`.udfs`) resolved with ksqlDB's overload rules for the argument types DuckDB reports; ksqlDB
  aggregates that DuckDB does not compute alike run on Headwater's aggregate library; SUM and AVG keep
  ksqlDB's result types and "empty is 0". Functions ksqlDB does not have are DuckDB's.
* **operators**: ``/`` between integers is integer division, as in ksqlDB.
* **pruning**: a WHERE condition on a stream's ROWTIME / ROWOFFSET / ROWPARTITION (qualified by the
  stream's name or alias, or unqualified) bounds the segments read, as in ksqlDB-grammar queries.

Unaliased computed result columns are named ``KSQL_COL_<n>``.

Example::

    plan = plan_extension(session, "SELECT ID, COUNT(*) AS N FROM ORDERS GROUP BY ID ORDER BY N DESC LIMIT 3", error)
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import sqlglot
from sqlglot import exp
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.errors import SqlglotError

from headwater.engine.aggregates import build_aggregates
from headwater.engine.catalog import DataSource
from headwater.engine.expressions import ColumnKind, Scope, ScopeColumn, bind
from headwater.engine.functions.registry import FunctionRegistry, TableFunction
from headwater.engine.historical.aggregation import AggregateLookup, native_aggregate
from headwater.engine.historical.bounds import UNBOUNDED, ScanBounds
from headwater.engine.historical.duck_types import sql_type_of_arrow
from headwater.engine.historical.plan import HistoricalPlan, RelationMode, RelationRequest, ResultColumn
from headwater.engine.historical.pruning import bounds_of_sql
from headwater.engine.historical.render import datatype
from headwater.engine.types import integer_literal_type
from headwater.errors import ParseError, PlanError
from headwater.parser import expressions as pe
from headwater.parser import types as t

if TYPE_CHECKING:
    from headwater.engine.historical.session import HistoricalSession

__all__ = ["parse_extension", "plan_extension"]

_QUERY_NODES = (exp.Select, exp.Union, exp.Intersect, exp.Except)
_DUCKDB_AGGREGATES = frozenset({"COUNT", "MIN", "MAX", "SUM", "AVG"})
"""Aggregates left to DuckDB's parser (COUNT(*), COUNT(DISTINCT x)); SUM and AVG get ksqlDB's types."""


@functools.lru_cache(maxsize=8)
def _dialect(ksql_names: frozenset[str]) -> type[DuckDB]:
    """DuckDB's dialect with backtick identifiers, and ksqlDB's function names parsed as plain calls
    (so the call keeps the name it was written with)."""

    functions = {k: v for k, v in DuckDB.Parser.FUNCTIONS.items() if k not in ksql_names}
    parsers = {k: v for k, v in DuckDB.Parser.FUNCTION_PARSERS.items() if k not in ksql_names}

    class Headwater(DuckDB):
        class Tokenizer(DuckDB.Tokenizer):
            IDENTIFIERS = ['"', "`"]

        class Parser(DuckDB.Parser):  # type: ignore[misc,valid-type]
            FUNCTIONS = functions
            FUNCTION_PARSERS = parsers

    return Headwater


def _ksql_names(registry: FunctionRegistry) -> frozenset[str]:
    names = set(registry.names()) | set(build_aggregates())
    return frozenset(n.upper() for n in names) - _DUCKDB_AGGREGATES


def parse_extension(text: str, registry: FunctionRegistry, error: ParseError) -> exp.Expression:
    """The statement as a sqlglot query tree.

    Raises:
        ParseError: ``error`` (the ksqlDB parser's) when the text is not a SQL query either.
    """
    body = text.strip().rstrip(";").strip()
    try:
        tree = sqlglot.parse_one(body, dialect=_dialect(_ksql_names(registry)))
    except SqlglotError:
        raise error from None
    if not isinstance(tree, _QUERY_NODES):
        raise error
    return tree


# -- names ------------------------------------------------------------------------------------------------


def _normalise_identifiers(tree: exp.Expression) -> None:
    """Unquoted identifiers upper-cased (ksqlDB), then every identifier quoted so DuckDB keeps the case."""
    for identifier in tree.find_all(exp.Identifier):
        if not identifier.quoted:
            identifier.set("this", identifier.this.upper())
        identifier.set("quoted", True)


def _cte_names(tree: exp.Expression) -> set[str]:
    return {cte.alias for cte in tree.find_all(exp.CTE)}


def _resolve_source(session: HistoricalSession, name: str) -> DataSource:
    source = session.engine.catalog.source(name)
    if source is None:
        raise PlanError(f"Source {name} does not exist.")
    return source


def _select_of(table: exp.Table) -> exp.Select | None:
    """The SELECT whose FROM or JOIN lists ``table`` directly."""
    parent = table.parent
    if isinstance(parent, exp.Join):
        parent = parent.parent
    if isinstance(parent, exp.From):
        parent = parent.parent
    return parent if isinstance(parent, exp.Select) else None


def _register_sources(session: HistoricalSession, tree: exp.Expression) -> list[RelationRequest]:
    ctes = _cte_names(tree)
    references: dict[str, list[tuple[DataSource, ScanBounds]]] = {}
    for table in list(tree.find_all(exp.Table)):
        if not isinstance(table.this, exp.Identifier) or table.args.get("db") or table.args.get("catalog"):
            if table.args.get("db") or table.args.get("catalog") or isinstance(table.this, exp.Anonymous):
                raise PlanError(f"Historical queries read streams and tables only, not {table.sql(dialect='duckdb')}")
            continue
        name = table.name
        if name in ctes:
            continue
        source = _resolve_source(session, name)
        if table.alias == "" and name != source.name:
            table.set("alias", exp.TableAlias(this=exp.to_identifier(name, quoted=True)))
        bounds = UNBOUNDED
        select = _select_of(table)
        if not source.is_table and select is not None and select.args.get("where") is not None:
            qualifiers = {table.alias_or_name, source.name}
            bounds = bounds_of_sql(select.args["where"].this, qualifiers)
        references.setdefault(source.name, []).append((source, bounds))
    requests = []
    for name, uses in references.items():
        source = uses[0][0]
        bounds = uses[0][1]
        for _, other in uses[1:]:
            bounds = bounds.hull(other)
        mode = RelationMode.TABLE if source.is_table else RelationMode.STREAM
        requests.append(RelationRequest(name, source, mode, bounds))
    return requests


# -- functions ---------------------------------------------------------------------------------------------


def _post_order(node: exp.Expression) -> Iterator[exp.Expression]:
    for child in node.iter_expressions():
        yield from _post_order(child)
    yield node


def _enclosing_select(node: exp.Expression) -> exp.Select:
    parent = node.parent
    while parent is not None and not isinstance(parent, exp.Select):
        parent = parent.parent
    if parent is None:
        raise PlanError(f"Cannot place {node.sql(dialect='duckdb')} in a SELECT")
    return parent


def _inside_aggregate(node: exp.Expression, select: exp.Select) -> bool:
    parent = node.parent
    while parent is not None and parent is not select:
        if isinstance(parent, exp.AggFunc):
            return True
        if isinstance(parent, exp.Anonymous) and parent.name.upper().startswith("HW_AGG_"):
            return True
        parent = parent.parent
    return False


class _Rewriter:
    """Replaces ksqlDB function calls by their Headwater or ksqlDB-typed equivalents, innermost first."""

    def __init__(self, session: HistoricalSession, tree: exp.Expression) -> None:
        self.session = session
        self.tree = tree
        self.registry: FunctionRegistry = session.engine.registry
        self.aggregates = AggregateLookup(self.registry)
        self.with_clause = tree.args.get("with_")

    def rewrite(self) -> None:
        for node in list(_post_order(self.tree)):
            if isinstance(node, exp.Div):
                self._division(node)
            elif isinstance(node, (exp.Sum, exp.Avg)):
                self._sum_or_average(node)
            elif isinstance(node, exp.Anonymous):
                name = node.name.upper()
                if self.registry.lookup(name) is not None:
                    self._scalar(node, name)
                elif self.aggregates.is_aggregate(name):
                    self._aggregate(node, name)

    # -- typing by probing DuckDB --------------------------------------------------------------------------
    def _types(self, node: exp.Expression, args: list[exp.Expression], row_level: bool = False) -> list[t.SqlType]:
        """The SQL types of ``args`` where ``node`` stands, asked of DuckDB with a probe query over the
        same FROM (and GROUP BY, unless the call is an aggregate's argument)."""
        if not args:
            return []
        select = _enclosing_select(node)
        probe = exp.Select(expressions=[arg.copy() for arg in args])
        for key in ("from_", "joins", "laterals"):
            if select.args.get(key) is not None:
                probe.set(key, select.args[key].copy() if not isinstance(select.args[key], list) else [j.copy() for j in select.args[key]])
        if select.args.get("group") is not None and not row_level and not _inside_aggregate(node, select):
            probe.set("group", select.args["group"].copy())
        probe = probe.limit(0)
        with_clause = select.args.get("with_") or self.with_clause
        if with_clause is not None:
            probe.set("with_", with_clause.copy())
        sql = probe.sql(dialect="duckdb")
        try:
            schema = self.session.connection.sql(sql).to_arrow_table().schema
        except Exception as error:
            raise PlanError(
                f"Cannot type the arguments of {node.sql(dialect='duckdb')}: {str(error).splitlines()[0]}"
            ) from None
        return [sql_type_of_arrow(field.type) for field in schema]

    @staticmethod
    def _literal(arg: exp.Expression) -> pe.Expression | None:
        """A SQL literal as a ksqlDB literal (kernels see literals as scalars), or None."""
        if isinstance(arg, exp.Literal):
            if arg.is_string:
                return pe.StringLiteral(arg.this)
            text = arg.this
            if text.lstrip("-").isdigit():
                return pe.IntegerLiteral(int(text))
            from decimal import Decimal

            if "e" in text.lower():
                return pe.DoubleLiteral(float(text))
            return pe.DecimalLiteral(Decimal(text))
        if isinstance(arg, exp.Boolean):
            return pe.BooleanLiteral(bool(arg.this))
        if isinstance(arg, exp.Null):
            return pe.NullLiteral()
        if isinstance(arg, exp.Neg) and isinstance(arg.this, exp.Literal) and not arg.this.is_string:
            inner = _Rewriter._literal(arg.this)
            if isinstance(inner, pe.IntegerLiteral):
                return pe.IntegerLiteral(-inner.value)
            if isinstance(inner, pe.DecimalLiteral):
                return pe.DecimalLiteral(-inner.value)
            if isinstance(inner, pe.DoubleLiteral):
                return pe.DoubleLiteral(-inner.value)
        if isinstance(arg, exp.Column) and not arg.table and arg.name.upper() in pe.TimeUnit.__members__:
            return pe.IntervalUnit(pe.TimeUnit[arg.name.upper()])
        return None

    def _call_parts(
        self, node: exp.Anonymous, row_level: bool = False
    ) -> tuple[list[pe.Expression], list[exp.Expression], list[tuple[str, t.SqlType]]]:
        """The call's arguments as ksqlDB expressions over placeholder columns, the SQL arguments those
        columns stand for, and the placeholders' (name, type)."""
        args = list(node.expressions)
        if any(isinstance(a, exp.Lambda) for a in args):
            raise PlanError(
                f"Lambda arguments are only supported in ksqlDB's grammar: {node.sql(dialect='duckdb')}"
            )
        literals = [self._literal(a) for a in args]
        column_args = [a for a, lit in zip(args, literals) if lit is None]
        types = self._types(node, column_args, row_level)
        expressions: list[pe.Expression] = []
        inputs: list[tuple[str, t.SqlType]] = []
        for _arg, literal in zip(args, literals):
            if literal is not None:
                expressions.append(literal)
                continue
            name = f"__arg{len(inputs)}"
            inputs.append((name, types[len(inputs)]))
            expressions.append(pe.ColumnRef(name))
        return expressions, column_args, inputs

    def _scalar(self, node: exp.Anonymous, name: str) -> None:
        expressions, column_args, inputs = self._call_parts(node)
        scope = Scope(tuple(ScopeColumn(n, ty, None, ColumnKind.VALUE) for n, ty in inputs))
        bound = bind(pe.FunctionCall(name, tuple(expressions)), scope, self.registry, allow_untyped_null=False)
        casts = [exp.Cast(this=arg.copy(), to=datatype(ty)) for arg, (_, ty) in zip(column_args, inputs)]
        if isinstance(self.registry.lookup(name), TableFunction):
            function = self.session.udfs.table_function(bound, inputs)
            call: exp.Expression = exp.Unnest(
                expressions=[exp.Anonymous(this=function, expressions=casts or [exp.true()])]
            )
        else:
            function = self.session.udfs.scalar(bound, inputs, f"Error computing {name}")
            call = exp.Anonymous(this=function, expressions=casts or [exp.true()])
        node.replace(call)

    def _aggregate(self, node: exp.Anonymous, name: str) -> None:
        function = self.aggregates.get(name)
        assert function is not None
        expressions, _column_args, inputs = self._call_parts(node, row_level=True)
        arg_types: list[t.SqlType | None] = []
        for expression, _arg in zip(expressions, node.expressions):
            if isinstance(expression, pe.ColumnRef):
                arg_types.append(dict(inputs)[expression.name])
            else:
                arg_types.append(_literal_type(expression))
        resolved = function.resolve(arg_types)
        literal_values = []
        for position in resolved.literal_positions:
            expression = expressions[position]
            if isinstance(expression, pe.ColumnRef):
                raise PlanError(f"Parameter {position + 1} of {resolved.name} must be a literal")
            literal_values.append(_literal_python(expression))
        columns = [
            exp.Cast(this=node.expressions[p].copy(), to=datatype(resolved.param_types[p]))
            for p in resolved.column_positions
        ]
        column_types = [resolved.param_types[p] for p in resolved.column_positions]
        udf = self.session.udfs.aggregate(resolved, literal_values, column_types)
        if len(columns) > 1:
            value: exp.Expression = exp.Struct(
                expressions=[
                    exp.PropertyEQ(this=exp.to_identifier(f"a{i}", quoted=True), expression=c)
                    for i, c in enumerate(columns)
                ]
            )
        elif columns:
            value = columns[0]
        else:
            value = exp.true()
        gathered = exp.Anonymous(this="list", expressions=[value])
        window = node.parent if isinstance(node.parent, exp.Window) else None
        if window is not None:
            node.replace(gathered)
            window.replace(exp.Anonymous(this=udf, expressions=[window.copy()]))
        else:
            node.replace(exp.Anonymous(this=udf, expressions=[gathered]))

    def _sum_or_average(self, node: exp.Sum | exp.Avg) -> None:
        argument = node.this
        if isinstance(argument, exp.Distinct) or argument is None:
            return
        (arg_type,) = self._types(node, [argument], row_level=True)
        name = "SUM" if isinstance(node, exp.Sum) else "AVG"
        function = self.aggregates.get(name)
        assert function is not None
        try:
            resolved = function.resolve([arg_type])
        except PlanError:
            return
        window = node.parent if isinstance(node.parent, exp.Window) else None
        target = window if window is not None else node
        replacement = native_aggregate(resolved, [argument.copy()])
        if replacement is None:
            return
        # native_aggregate wraps a fresh SUM/AVG node; put the original (with its window) in its place
        inner = next(n for n in replacement.find_all(exp.Sum, exp.Avg))
        inner.replace(target.copy())
        target.replace(replacement)

    def _division(self, node: exp.Div) -> None:
        types = self._types(node, [node.this, node.expression])
        if all(ty in (t.INT, t.BIGINT) for ty in types):
            node.replace(exp.IntDiv(this=node.this.copy(), expression=node.expression.copy()))


def _literal_type(expression: pe.Expression) -> t.SqlType | None:
    if isinstance(expression, pe.IntegerLiteral):
        return integer_literal_type(expression.value)
    if isinstance(expression, pe.StringLiteral):
        return t.STRING
    if isinstance(expression, pe.BooleanLiteral):
        return t.BOOLEAN
    if isinstance(expression, pe.DoubleLiteral):
        return t.DOUBLE
    if isinstance(expression, pe.DecimalLiteral):
        _sign, digits, exponent = expression.value.as_tuple()
        scale = max(0, -int(exponent))
        return t.Decimal(max(len(digits), scale, 1), scale)
    return None


def _literal_python(expression: pe.Expression) -> Any:
    if isinstance(expression, (pe.IntegerLiteral, pe.StringLiteral, pe.BooleanLiteral, pe.DoubleLiteral, pe.DecimalLiteral)):
        return expression.value
    return None


# -- result columns ----------------------------------------------------------------------------------------


def _outermost_selects(tree: exp.Expression) -> list[exp.Select]:
    if isinstance(tree, exp.Select):
        return [tree]
    if isinstance(tree, (exp.Union, exp.Intersect, exp.Except)):
        return _outermost_selects(tree.this)[:1]
    return []


def _name_result_columns(tree: exp.Expression) -> None:
    """Unaliased computed columns of the outer SELECT are named KSQL_COL_<n>, as ksqlDB names them."""
    counter = 0
    for select in _outermost_selects(tree):
        named: list[exp.Expression] = []
        for expression in select.expressions:
            if isinstance(expression, (exp.Alias, exp.Column, exp.Star, exp.Dot)):
                named.append(expression)
                continue
            named.append(exp.Alias(this=expression, alias=exp.to_identifier(f"KSQL_COL_{counter}", quoted=True)))
            counter += 1
        select.set("expressions", named)


def plan_extension(session: HistoricalSession, text: str, error: ParseError) -> HistoricalPlan:
    """Plan a SELECT of Headwater's SQL extension (see the module docstring) on ``session``, whose
    connection receives the views and functions it needs.

    Raises:
        ParseError: the ksqlDB parser's ``error`` when the text is not a SQL query either.
        PlanError: an unknown source, a function that cannot be resolved, or SQL DuckDB refuses.
    """
    tree = parse_extension(text, session.engine.registry, error)
    _name_result_columns(tree)
    _normalise_identifiers(tree)
    requests = _register_sources_and_views(session, tree)
    _Rewriter(session, tree).rewrite()
    sql = tree.sql(dialect="duckdb")
    try:
        schema = session.connection.sql(sql).limit(0).to_arrow_table().schema
    except Exception as failure:
        raise PlanError(f"Historical query failed: {str(failure).splitlines()[0]}") from None
    columns = tuple(ResultColumn(field.name, sql_type_of_arrow(field.type)) for field in schema)
    return HistoricalPlan(sql, columns, tuple(requests), extension=True)


def _register_sources_and_views(session: HistoricalSession, tree: exp.Expression) -> list[RelationRequest]:
    requests = _register_sources(session, tree)
    joins = tree.find(exp.Join) is not None or len(list(tree.find_all(exp.Table))) > 1
    for request in requests:
        session.registrar.register(request, dry_run=session.dry_run, materialize=joins)
    return requests

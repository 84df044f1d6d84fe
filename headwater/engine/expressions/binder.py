"""Binding: the parser's expression tree -> typed :mod:`~headwater.engine.expressions.bound` nodes.

:func:`bind` resolves column references against a :class:`~headwater.engine.expressions.scope.Scope`,
resolves function calls through the registry (two steps for lambdas, see
:mod:`headwater.engine.functions.resolution`), types every node with ksqlDB's rules
(:mod:`headwater.engine.types`) and inserts the implicit conversions, so the compiler sees operands of
the types each operation works in. Problems are :class:`~headwater.errors.PlanError`\\ s with
ksqlDB's texts (see :mod:`~headwater.engine.expressions.errors`).

The rules of the operators (arithmetic, comparisons, predicates, CASE) live in
:mod:`~headwater.engine.expressions.binder_operators`; this module holds the dispatch and the rest.

Example:
    >>> from headwater.engine.functions.registry import FunctionRegistry
    >>> from headwater.parser import types as t
    >>> from headwater.parser.expressions import ArithmeticBinary, ArithmeticOp, ColumnRef, IntegerLiteral
    >>> scope = Scope((ScopeColumn("A", t.INT), ScopeColumn("B", t.BIGINT)))
    >>> bound = bind(ArithmeticBinary(ArithmeticOp.ADD, ColumnRef("A"), ColumnRef("B")), scope, FunctionRegistry())
    >>> str(bound.type), type(bound.left).__name__
    ('BIGINT', 'BoundCast')
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from headwater.engine.expressions import binder_operators as ops
from headwater.engine.expressions.bound import (
    Bound,
    BoundArray,
    BoundCall,
    BoundCast,
    BoundColumn,
    BoundDereference,
    BoundIntervalUnit,
    BoundLambda,
    BoundLambdaVariable,
    BoundLiteral,
    BoundMap,
    BoundNull,
    BoundStruct,
    BoundSubscript,
)
from headwater.engine.expressions.coercion import coerce_user_list, convert
from headwater.engine.expressions.errors import (
    AggregateNotAllowedError,
    ExpressionError,
    ExpressionTypeError,
    UnresolvedColumnError,
)
from headwater.engine.expressions.formatting import format_expression
from headwater.engine.expressions.scope import ColumnKind, Scope, ScopeColumn
from headwater.engine.functions.registry import FunctionRegistry, LambdaType
from headwater.engine.functions.resolution import lambda_input_types, lambda_placeholder
from headwater.engine.schema import format_type
from headwater.engine.types import decimal_literal_type, integer_literal_type
from headwater.errors import PlanError
from headwater.parser import expressions as e
from headwater.parser import types as t

__all__ = ["NULL_TYPE_MESSAGE", "Binder", "TypeResolver", "bind", "resolve_type"]

TypeResolver = Callable[[t.SqlType], t.SqlType]
"""Replaces every user-defined type (``UserType``) inside a type by its definition, raising PlanError
for an unknown name: the catalog's ``resolve_type``."""

NULL_TYPE_MESSAGE = (
    "Can't infer a type of null. Please explicitly cast it to a required type, e.g. CAST(null AS VARCHAR)."
)


def bind(
    expression: e.Expression,
    scope: Scope,
    registry: FunctionRegistry,
    *,
    types: TypeResolver | None = None,
    clause: str | None = None,
    allow_untyped_null: bool = False,
) -> Bound:
    """Resolve and type ``expression`` (see the module docstring).

    Args:
        expression: the parser's tree.
        scope: the columns the expression may reference.
        registry: the functions.
        types: resolver of user-defined types (CAST(x AS MY_TYPE)); without one, a user-defined type is
            an error.
        clause: the clause being bound (``SELECT``, ``WHERE``, ``JOIN ON``...), named in unresolved
            column messages as ksqlDB does.
        allow_untyped_null: accept a bare NULL as the whole expression (its bound type is then None);
            otherwise it is ksqlDB's "Can't infer a type of null" error.

    Raises:
        PlanError: an :class:`~headwater.engine.expressions.errors.ExpressionError` (or a function
            resolution error) with ksqlDB's wording.
    """
    bound = Binder(scope, registry, types=types, clause=clause).bind(expression)
    if bound.type is None and not allow_untyped_null:
        raise ExpressionTypeError(NULL_TYPE_MESSAGE)
    return bound


def resolve_type(sql_type: t.SqlType, types: TypeResolver | None) -> t.SqlType:
    """``sql_type`` with every user-defined type replaced by its definition (through ``types``).

    Raises:
        PlanError: an unknown type name.
    """
    if types is not None:
        return types(sql_type)
    if isinstance(sql_type, t.UserType):
        raise ExpressionTypeError(f"Cannot resolve unknown type: {sql_type.name}")
    if isinstance(sql_type, t.Array):
        return t.Array(resolve_type(sql_type.element, types))
    if isinstance(sql_type, t.Map):
        return t.Map(resolve_type(sql_type.key, types), resolve_type(sql_type.value, types))
    if isinstance(sql_type, t.Struct):
        return t.Struct(tuple((n, resolve_type(ft, types)) for n, ft in sql_type.fields))
    return sql_type


class Binder:
    """One binding pass: the scope, the functions, and the lambda parameters currently visible."""

    def __init__(
        self,
        scope: Scope,
        registry: FunctionRegistry,
        *,
        types: TypeResolver | None = None,
        clause: str | None = None,
        variables: Mapping[str, t.SqlType] | None = None,
    ) -> None:
        self.scope = scope
        self.registry = registry
        self.types = types
        self.clause = clause
        self.variables: dict[str, t.SqlType] = dict(variables or {})

    # ---------------------------------------------------------------------------------------------
    # Entry points

    def bind(self, node: e.Expression) -> Bound:
        """Bind one node (derived columns of the scope first: an aggregate already computed binds to
        its output column)."""
        derived = self.scope.find_derived(node) if self.scope.derived else None
        if derived is not None:
            return _column(derived)
        method = _DISPATCH.get(type(node))
        if method is None:
            raise ExpressionTypeError(f"Unsupported expression: {self.text(node)}")
        return method(self, node)

    def text(self, node: e.Expression) -> str:
        """``node`` as ksqlDB prints it in messages, resolved columns by their batch names."""
        return format_expression(node, self._column_text)

    def _column_text(self, ref: e.ColumnRef) -> str | None:
        try:
            return self.scope.resolve(ref).field
        except PlanError:
            return None

    # ---------------------------------------------------------------------------------------------
    # Leaves

    def _null(self, node: e.NullLiteral) -> Bound:
        return BoundNull(None)

    def _boolean(self, node: e.BooleanLiteral) -> Bound:
        return BoundLiteral(node.value, t.BOOLEAN)

    def _integer(self, node: e.IntegerLiteral) -> Bound:
        return BoundLiteral(node.value, integer_literal_type(node.value))

    def _decimal(self, node: e.DecimalLiteral) -> Bound:
        return BoundLiteral(node.value, decimal_literal_type(node.value))

    def _double(self, node: e.DoubleLiteral) -> Bound:
        return BoundLiteral(float(node.value), t.DOUBLE)

    def _string(self, node: e.StringLiteral) -> Bound:
        return BoundLiteral(node.value, t.STRING)

    def _typed_literal(self, node: e.TypedLiteral) -> Bound:
        builtin = {k.value: t.Primitive(k) for k in t.PrimitiveKind} | {"INT": t.INT, "VARCHAR": t.STRING}
        target = builtin.get(node.type_name.upper()) or resolve_type(t.UserType(node.type_name), self.types)
        from headwater.engine.expressions.casting import check_cast

        check_cast(t.STRING, target)
        return BoundCast(BoundLiteral(node.value, t.STRING), target)

    def _column_ref(self, node: e.ColumnRef) -> Bound:
        return _column(self.scope.resolve(node, clause=self.clause))

    def _lambda_variable(self, node: e.LambdaVariable) -> Bound:
        found = self.variables.get(node.name)
        if found is None:
            raise UnresolvedColumnError(node.name, clause=self.clause, span=node.span)
        return BoundLambdaVariable(node.name, found)

    def _interval_unit(self, node: e.IntervalUnit) -> Bound:
        return BoundIntervalUnit(node.unit)

    def _at_time_zone(self, node: e.AtTimeZone) -> Bound:
        raise ExpressionTypeError(f"AT TIME ZONE is not supported: {self.text(node)}")

    # ---------------------------------------------------------------------------------------------
    # CAST

    def _cast(self, node: e.Cast) -> Bound:
        target = resolve_type(node.type, self.types)
        operand = self.bind(node.operand)
        if operand.type is None:
            return BoundNull(target)
        from headwater.engine.expressions.casting import check_cast

        check_cast(operand.type, target)
        return BoundCast(operand, target)

    # ---------------------------------------------------------------------------------------------
    # Structured values

    def _dereference(self, node: e.Dereference) -> Bound:
        base = self.bind(node.base)
        if not isinstance(base.type, t.Struct):
            shown = "null" if base.type is None else format_type(base.type)
            raise ExpressionTypeError(f"Expected STRUCT type, got: {shown}")
        field_type = base.type.field(node.field)
        if field_type is None:
            raise ExpressionTypeError(f"Could not find field '{node.field}' in '{self.text(node.base)}'.")
        return BoundDereference(base, node.field, field_type)

    def _subscript(self, node: e.Subscript) -> Bound:
        base = self.bind(node.base)
        index = self.bind(node.index)
        if isinstance(base.type, t.Array):
            if index.type not in (t.INT, t.BIGINT, None):
                raise ExpressionTypeError(
                    f"Array index must be an INTEGER: {self.text(node.index)} is {format_type(index.type)}"
                )
            return BoundSubscript(
                base, convert(index, t.INT) if index.type is None else index, base.type.element
            )
        if isinstance(base.type, t.Map):
            key = self._map_key(node, index, base.type.key)
            return BoundSubscript(base, key, base.type.value)
        shown = "null" if base.type is None else format_type(base.type)
        hint = ""
        if isinstance(base.type, t.Struct):
            field_text = format_expression(node.index).strip("'")
            hint = f" Use the dereference operator for STRUCTS: {self.text(node.base)}->'{field_text}'"
        raise ExpressionTypeError(f"Subscript expression ({self.text(node)}) do not apply to {shown}.{hint}")

    def _map_key(self, node: e.Subscript, index: Bound, key_type: t.SqlType) -> Bound:
        if index.type is None or index.type == key_type:
            return convert(index, key_type)
        from headwater.engine.expressions.coercion import coerce_type

        if coerce_type(index.type, key_type) == key_type:
            return convert(index, key_type)
        raise ExpressionTypeError(
            f"Map key {self.text(node.index)} ({format_type(index.type)}) does not match the map's key "
            f"type {format_type(key_type)}."
        )

    def _array(self, node: e.ArrayConstructor) -> Bound:
        if not node.items:
            raise ExpressionTypeError(
                "Array constructor cannot be empty. Please supply at least one element "
                "(see https://github.com/confluentinc/ksql/issues/4239)."
            )
        element, items = coerce_user_list(self, node.items)
        if element is None:
            raise ExpressionTypeError(
                "Cannot construct an array with all NULL elements "
                "(see https://github.com/confluentinc/ksql/issues/4239). As a workaround, you may "
                "cast a NULL value to the desired type."
            )
        return BoundArray(tuple(items), t.Array(element))

    def _map(self, node: e.MapConstructor) -> Bound:
        if not node.entries:
            raise ExpressionTypeError(
                "Map constructor cannot be empty. Please supply at least one key value pair "
                "(see https://github.com/confluentinc/ksql/issues/4239)."
            )
        key_type, keys = coerce_user_list(self, [k for k, _ in node.entries])
        if key_type is None:
            raise ExpressionTypeError(
                "Cannot construct a map with all NULL keys "
                "(see https://github.com/confluentinc/ksql/issues/4239). As a workaround, you may "
                "cast a NULL key to the desired type."
            )
        value_type, values = coerce_user_list(self, [v for _, v in node.entries])
        if value_type is None:
            raise ExpressionTypeError(
                "Cannot construct a map with all NULL values "
                "(see https://github.com/confluentinc/ksql/issues/4239). As a workaround, you may "
                "cast a NULL value to the desired type."
            )
        return BoundMap(tuple(keys), tuple(values), t.Map(key_type, value_type))

    def _struct(self, node: e.StructConstructor) -> Bound:
        fields: list[tuple[str, Bound]] = []
        for name, value in node.fields:
            bound = self.bind(value)
            if bound.type is None:
                raise ExpressionTypeError(NULL_TYPE_MESSAGE)
            fields.append((name, bound))
        try:
            struct_type = t.Struct(tuple((n, b.type) for n, b in fields))
        except ValueError as error:
            raise ExpressionTypeError(str(error)) from None
        return BoundStruct(tuple(fields), struct_type)

    # ---------------------------------------------------------------------------------------------
    # Function calls and lambdas

    def _call(self, node: e.FunctionCall) -> Bound:
        if self.registry.aggregate(node.name) is not None:
            raise AggregateNotAllowedError(node.name.upper())
        function = self.registry.lookup(node.name)
        if function is None:
            raise ExpressionTypeError(f"Can't find any functions with the name '{node.name.upper()}'")
        # ksqlDB reads a scalar function's '*' as no arguments: LEAST(*) is LEAST(), which then
        # "does not accept parameters ()"
        call_args = () if node.star else node.args
        args: list[Bound | None] = []
        arg_types: list[t.SqlType | None] = []
        for arg in call_args:
            if isinstance(arg, e.Lambda):
                args.append(None)
                arg_types.append(lambda_placeholder(len(arg.params)))
            else:
                bound = self.bind(arg)
                args.append(bound)
                arg_types.append(bound.type)
        try:
            for index, arg in enumerate(call_args):
                if isinstance(arg, e.Lambda):
                    inputs = lambda_input_types(function, arg_types, index)
                    lambda_bound = self._lambda(arg, inputs)
                    args[index] = lambda_bound
                    arg_types[index] = lambda_bound.type
            resolved = self.registry.resolve(node.name, tuple(arg_types))
        except ExpressionError:
            raise
        except PlanError as error:
            raise ExpressionTypeError(error.message) from None
        converted: list[Bound] = []
        for bound_arg, param in zip(args, resolved.param_types):
            assert bound_arg is not None
            if isinstance(bound_arg, BoundLambda | BoundIntervalUnit) or isinstance(param, LambdaType):
                converted.append(bound_arg)
            else:
                converted.append(convert(bound_arg, param))
        return BoundCall(resolved, tuple(converted), resolved.return_type, function.name.upper())

    def _lambda(self, node: e.Lambda, inputs: tuple[t.SqlType, ...]) -> BoundLambda:
        if len(set(node.params)) != len(node.params):
            raise ExpressionTypeError(f"Lambda parameters must be distinct: {self.text(node)}")
        inner = Binder(
            self.scope,
            self.registry,
            types=self.types,
            clause=self.clause,
            variables={**self.variables, **dict(zip(node.params, inputs))},
        )
        body = inner.bind(node.body)
        if body.type is None:
            raise ExpressionTypeError(NULL_TYPE_MESSAGE)
        return BoundLambda(tuple(node.params), inputs, body, LambdaType(inputs, body.type))

    def _lambda_outside_call(self, node: e.Lambda) -> Bound:
        raise ExpressionTypeError(f"A lambda can only be a function argument: {self.text(node)}")


def _column(column: ScopeColumn) -> BoundColumn:
    kind = column.kind if isinstance(column.kind, ColumnKind) else ColumnKind.VALUE
    return BoundColumn(column.field, column.type, column.name, column.source, kind)


_DISPATCH: dict[type, Callable[[Binder, Any], Bound]] = {
    e.NullLiteral: Binder._null,
    e.BooleanLiteral: Binder._boolean,
    e.IntegerLiteral: Binder._integer,
    e.DecimalLiteral: Binder._decimal,
    e.DoubleLiteral: Binder._double,
    e.StringLiteral: Binder._string,
    e.TypedLiteral: Binder._typed_literal,
    e.ColumnRef: Binder._column_ref,
    e.LambdaVariable: Binder._lambda_variable,
    e.IntervalUnit: Binder._interval_unit,
    e.AtTimeZone: Binder._at_time_zone,
    e.Cast: Binder._cast,
    e.Dereference: Binder._dereference,
    e.Subscript: Binder._subscript,
    e.ArrayConstructor: Binder._array,
    e.MapConstructor: Binder._map,
    e.StructConstructor: Binder._struct,
    e.FunctionCall: Binder._call,
    e.Lambda: Binder._lambda_outside_call,
    e.ArithmeticUnary: ops.bind_unary,
    e.ArithmeticBinary: ops.bind_arithmetic,
    e.Comparison: ops.bind_comparison,
    e.Between: ops.bind_between,
    e.InList: ops.bind_in,
    e.Like: ops.bind_like,
    e.IsNull: ops.bind_is_null,
    e.Not: ops.bind_not,
    e.LogicalBinary: ops.bind_logical,
    e.SearchedCase: ops.bind_searched_case,
    e.SimpleCase: ops.bind_simple_case,
}

"""Choosing the overload of a function for a call, with ksqlDB's rules.

ksqlDB resolves a call in two passes (its ``UdfIndex``). The first pass accepts only exact matches;
the second, run when the first finds nothing, also accepts implicit casts: INTEGER -> BIGINT ->
DECIMAL -> DOUBLE along that order, and a STRING to DATE, TIME, TIMESTAMP or BYTES (the rules of
:func:`headwater.engine.casts.implicit_cast_allowed`; STRUCT arguments must match their parameter
exactly, as ksqlDB casts nothing inside structs for function calls). Within a pass:

* an untyped NULL (``None``) matches any parameter;
* a generic (``T``) binds to the first argument it meets, and every later occurrence must be exactly
  that type (no casts inside generics, as in ksqlDB's ``GenericsUtil``);
* a variadic signature's repeating parameter (the last, or the one at ``variadic_index``: ksqlDB's
  aggregates have varargs in the middle) matches zero or more arguments, the fixed parameters before
  and after it one each;
* a DECIMAL of any precision (:class:`~.registry.AnyDecimal`) may sit inside an ARRAY or MAP
  parameter, and then takes the argument's own DECIMAL element, key or value type;
* when several overloads match, a non-variadic one beats a variadic one, then the one with more
  parameters wins, then the one with fewer generic parameters; a tie is an error ("cannot be resolved
  due to ambiguous method parameters"), as is finding no overload ("does not accept parameters").

Time-unit arguments (``TIMESTAMPADD(SECONDS, 5, ts)``) are typed :data:`~.registry.INTERVAL_UNIT`
by the binder and reach the kernel as a ``pa.scalar`` string with the unit's name.

Lambdas: the two-step protocol
------------------------------
A lambda's parameter types depend on the other arguments (``TRANSFORM(ARRAY<T>, T => U)``), and the
call's return type depends on the lambda's body type. The binder therefore calls:

1. :func:`lambda_input_types` ``(function, arg_types, arg_index)`` for each lambda argument, where
   every lambda position of ``arg_types`` holds :func:`lambda_placeholder` ``(arity)`` (a
   :class:`~.registry.LambdaType` whose inputs only say how many parameters the lambda declares and
   whose ``output`` is None). It returns the types of that lambda's parameters, from the overload the
   non-lambda arguments select. The binder types the body with them.
2. :meth:`FunctionRegistry.resolve <.registry.FunctionRegistry.resolve>` ``(name, arg_types)`` with
   each lambda position now ``LambdaType(inputs=<those types>, output=<the body's type>)``. This binds
   the remaining generics (``U``) and yields the return type. The resolved ``param_types`` hold the
   lambda's full type at its position; at run time the kernel finds the
   :class:`~.registry.CompiledLambda` in ``ctx.lambdas`` (the position in ``args`` holds None).

Example:
    >>> from headwater.engine.functions.catalog import default_registry
    >>> from headwater.parser import types as t
    >>> reg = default_registry()
    >>> fn = reg.lookup("TRANSFORM")
    >>> lambda_input_types(fn, (t.Array(t.INT), lambda_placeholder(1)), 1)
    (Primitive(kind=<PrimitiveKind.INTEGER: 'INTEGER'>),)
    >>> resolved = reg.resolve("TRANSFORM", (t.Array(t.INT), LambdaType((t.INT,), t.STRING)))
    >>> str(resolved.return_type)
    'ARRAY<STRING>'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from headwater.engine.casts import implicit_cast_allowed
from headwater.engine.functions.registry import (
    AnyDecimal,
    AnyType,
    Generic,
    IntervalUnitType,
    LambdaType,
    ResolvedFunction,
    ScalarFunction,
    Signature,
    TableFunction,
)
from headwater.errors import PlanError
from headwater.parser import types as t

__all__ = [
    "lambda_input_types",
    "lambda_placeholder",
    "resolve_signature",
    "signature_text",
    "variadic_position",
]

ArgType = t.SqlType | None
Bindings = dict[str, t.SqlType]

def lambda_placeholder(arity: int) -> LambdaType:
    """The argument type the binder passes for a lambda with ``arity`` parameters before its body is
    typed (step 1 of the lambda protocol)."""
    return LambdaType(tuple(AnyType() for _ in range(arity)), None)


# --------------------------------------------------------------------------------------------------------
# Matching one argument against one parameter


def _has_generics(param: t.SqlType) -> bool:
    if isinstance(param, Generic):
        return True
    if isinstance(param, t.Array):
        return _has_generics(param.element)
    if isinstance(param, t.Map):
        return _has_generics(param.key) or _has_generics(param.value)
    if isinstance(param, t.Struct):
        return any(_has_generics(ft) for _, ft in param.fields)
    if isinstance(param, LambdaType):
        return any(_has_generics(i) for i in param.inputs) or (
            param.output is not None and _has_generics(param.output)
        )
    return False


def _has_any_decimal(param: t.SqlType) -> bool:
    if isinstance(param, AnyDecimal):
        return True
    if isinstance(param, t.Array):
        return _has_any_decimal(param.element)
    if isinstance(param, t.Map):
        return _has_any_decimal(param.key) or _has_any_decimal(param.value)
    return False


def _same_shape(param: t.SqlType, arg: t.SqlType) -> bool:
    """ksqlDB's ``GenericsUtil.matches``: the parameter and argument are the same kind of type."""
    if isinstance(param, t.Array):
        return isinstance(arg, t.Array)
    if isinstance(param, t.Map):
        return isinstance(arg, t.Map)
    if isinstance(param, t.Struct):
        return isinstance(arg, t.Struct)
    if isinstance(param, AnyDecimal):
        return isinstance(arg, t.Decimal)
    return param == arg


def _bind(param: t.SqlType, arg: t.SqlType, bindings: Bindings, allow_casts: bool) -> bool:
    """Match ``arg`` against a parameter that contains generics, extending ``bindings`` in place."""
    if isinstance(param, Generic):
        bound = bindings.get(param.name)
        if bound is None:
            bindings[param.name] = arg
            return True
        return bound == arg
    if isinstance(param, LambdaType):
        if not isinstance(arg, LambdaType) or len(arg.inputs) != len(param.inputs):
            return False
        if arg.output is None:  # step 1 of the lambda protocol: only the arity is known
            return True
        for p_in, a_in in zip(param.inputs, arg.inputs):
            if not _accepts(p_in, a_in, bindings, allow_casts=False):
                return False
        assert param.output is not None
        return _accepts(param.output, arg.output, bindings, allow_casts=False)
    if not _same_shape(param, arg):
        return False
    if isinstance(param, t.Array):
        assert isinstance(arg, t.Array)
        return _accepts(param.element, arg.element, bindings, allow_casts=False)
    if isinstance(param, t.Map):
        assert isinstance(arg, t.Map)
        return _accepts(param.key, arg.key, bindings, allow_casts=False) and _accepts(
            param.value, arg.value, bindings, allow_casts=False
        )
    if isinstance(param, t.Struct):
        raise PlanError("Generic STRUCT is not yet supported")
    return True


def _accepts(param: t.SqlType, arg: ArgType, bindings: Bindings, allow_casts: bool) -> bool:
    if arg is None or isinstance(param, AnyType):
        return True
    if _has_generics(param) or isinstance(param, LambdaType):
        return _bind(param, arg, bindings, allow_casts)
    if isinstance(arg, LambdaType) or isinstance(param, IntervalUnitType):
        return arg == param
    if isinstance(arg, IntervalUnitType):
        return False
    if isinstance(param, AnyDecimal):
        if isinstance(arg, t.Decimal):
            return True
        return allow_casts and arg in (t.INT, t.BIGINT)
    if isinstance(param, t.Array) and _has_any_decimal(param):
        # ksqlDB matches containers element by element, so a DECIMAL element takes any precision
        return isinstance(arg, t.Array) and _accepts(param.element, arg.element, bindings, allow_casts)
    if isinstance(param, t.Map) and _has_any_decimal(param):
        return (
            isinstance(arg, t.Map)
            and _accepts(param.key, arg.key, bindings, allow_casts)
            and _accepts(param.value, arg.value, bindings, allow_casts)
        )
    if isinstance(param, t.Struct) and isinstance(arg, t.Struct):
        return _struct_compatible(param, arg)
    if arg == param:
        return True
    return allow_casts and implicit_cast_allowed(arg, param)


def _struct_compatible(param: t.Struct, arg: t.Struct) -> bool:
    """ksqlDB's rule: an empty struct matches any struct; otherwise the same fields, no casts."""
    if not param.fields or not arg.fields:
        return True
    return len(param.fields) == len(arg.fields) and all(arg.field(n) == ft for n, ft in param.fields)


# --------------------------------------------------------------------------------------------------------
# Matching a whole signature


@dataclass(frozen=True, slots=True)
class _Candidate:
    signature: Signature
    params: tuple[t.SqlType, ...]  # one declared parameter per argument (the variadic one repeated)
    positions: tuple[int, ...]  # the declared parameter's index for each argument
    bindings: Mapping[str, t.SqlType]

    def rank(self) -> tuple[int, int, int]:
        """ksqlDB's preference: non-variadic, then more parameters, then fewer generic parameters."""
        sig = self.signature
        generics = sum(1 for p in sig.params if _has_generics(p.type))
        return (0 if sig.variadic else 1, len(sig.params), -generics)


def variadic_position(signature: Signature) -> int | None:
    """The index of ``signature``'s repeating parameter, or None when it has none. Aggregate
    signatures (``headwater.engine.aggregates``) are read the same way; one without a
    ``variadic_index`` attribute repeats its last parameter."""
    if not signature.variadic:
        return None
    index = getattr(signature, "variadic_index", None)
    return len(signature.params) - 1 if index is None else int(index)


def _expand(signature: Signature, count: int) -> tuple[int, ...] | None:
    """The index of the declared parameter each of ``count`` arguments fills, or None if the arity
    is wrong."""
    declared = len(signature.params)
    repeated = variadic_position(signature)
    if repeated is None:
        return tuple(range(declared)) if declared == count else None
    after = declared - repeated - 1
    extra = count - (declared - 1)
    if extra < 0:
        return None
    return (*range(repeated), *([repeated] * extra), *range(repeated + 1, repeated + 1 + after))


def _match(signature: Signature, arg_types: Sequence[ArgType], allow_casts: bool) -> _Candidate | None:
    positions = _expand(signature, len(arg_types))
    if positions is None:
        return None
    params = tuple(signature.params[i].type for i in positions)
    bindings: Bindings = {}
    for param, arg in zip(params, arg_types):
        if not _accepts(param, arg, bindings, allow_casts):
            return None
    return _Candidate(signature, params, positions, bindings)


def _pick(function: ScalarFunction | TableFunction, arg_types: Sequence[ArgType]) -> _Candidate:
    for allow_casts in (False, True):
        found = [c for sig in function.signatures if (c := _match(sig, arg_types, allow_casts))]
        if not found:
            continue
        found.sort(key=_Candidate.rank, reverse=True)
        if len(found) > 1 and found[0].rank() == found[1].rank():
            raise PlanError(
                f"Function '{function.name}' cannot be resolved due to ambiguous method parameters "
                f"{_args_text(arg_types)}.\n"
                "Use CAST() to explicitly cast your parameters to one of the supported function calls.\n"
                f"Valid function calls are:\n{_alternatives(function)}\n"
                "For detailed information on a function run: DESCRIBE FUNCTION <Function-Name>;"
            )
        return found[0]
    raise PlanError(
        f"Function '{function.name}' does not accept parameters {_args_text(arg_types)}.\n"
        f"Valid alternatives are:\n{_alternatives(function)}\n"
        "For detailed information on a function run: DESCRIBE FUNCTION <Function-Name>;"
    )


# --------------------------------------------------------------------------------------------------------
# Applying bindings


def _apply(sql_type: t.SqlType, bindings: Mapping[str, t.SqlType], *, strict: bool) -> t.SqlType:
    """Replace generics by their bindings. With ``strict`` an unbound generic is an error (ksqlDB's
    "Could not find mapping for generic type"); otherwise it becomes STRING, the type given to an
    untyped NULL argument whose generic nothing else binds."""
    if isinstance(sql_type, Generic):
        bound = bindings.get(sql_type.name)
        if bound is not None:
            return bound
        if strict:
            raise PlanError(f"Could not find mapping for generic type: {sql_type.name}")
        return t.STRING
    if isinstance(sql_type, t.Array):
        return t.Array(_apply(sql_type.element, bindings, strict=strict))
    if isinstance(sql_type, t.Map):
        return t.Map(_apply(sql_type.key, bindings, strict=strict), _apply(sql_type.value, bindings, strict=strict))
    if isinstance(sql_type, t.Struct):
        return t.Struct(tuple((n, _apply(ft, bindings, strict=strict)) for n, ft in sql_type.fields))
    if isinstance(sql_type, LambdaType):
        out = None if sql_type.output is None else _apply(sql_type.output, bindings, strict=strict)
        return LambdaType(tuple(_apply(i, bindings, strict=strict) for i in sql_type.inputs), out)
    return sql_type


def _param_type(param: t.SqlType, arg: ArgType, bindings: Mapping[str, t.SqlType]) -> t.SqlType:
    """The type an argument must be cast to for this parameter."""
    if isinstance(param, AnyType):
        return arg if arg is not None else t.STRING
    if isinstance(param, AnyDecimal):
        if isinstance(arg, t.Decimal):
            return arg
        if arg == t.BIGINT:
            return t.Decimal(19, 0)
        return t.Decimal(10, 0)
    if isinstance(param, t.Array) and _has_any_decimal(param):
        element = arg.element if isinstance(arg, t.Array) else None
        return t.Array(_param_type(param.element, element, bindings))
    if isinstance(param, t.Map) and _has_any_decimal(param):
        key, value = (arg.key, arg.value) if isinstance(arg, t.Map) else (None, None)
        return t.Map(_param_type(param.key, key, bindings), _param_type(param.value, value, bindings))
    if isinstance(param, LambdaType) and isinstance(arg, LambdaType):
        return LambdaType(arg.inputs, arg.output)
    return _apply(param, bindings, strict=False)


def resolve_signature(
    function: ScalarFunction | TableFunction, arg_types: tuple[ArgType, ...]
) -> ResolvedFunction:
    """Pick the overload of ``function`` for arguments of ``arg_types`` (see the module docstring).

    Raises:
        PlanError: no overload accepts the arguments, or several do equally well.
    """
    chosen = _pick(function, arg_types)
    param_types = tuple(_param_type(p, a, chosen.bindings) for p, a in zip(chosen.params, arg_types))
    returns = chosen.signature.returns
    if callable(returns) and not isinstance(returns, t.SqlType):
        # like ksqlDB's schema providers, a computed return type sees the arguments' own types
        # (None for an untyped NULL), not the types they are cast to
        return_type = returns(tuple(arg_types))
    else:
        return_type = _apply(returns, chosen.bindings, strict=True)
    return ResolvedFunction(function, chosen.signature, param_types, return_type, chosen.positions)


def lambda_input_types(
    function: ScalarFunction | TableFunction, arg_types: Sequence[ArgType], arg_index: int
) -> tuple[t.SqlType, ...]:
    """Step 1 of the lambda protocol: the parameter types of the lambda at ``arg_index``.

    ``arg_types`` holds the types of the non-lambda arguments and a :func:`lambda_placeholder` (or an
    already typed :class:`~.registry.LambdaType`) at each lambda position.

    Raises:
        PlanError: no overload of ``function`` takes a lambda there, or the lambda's parameter types
            cannot be inferred (for example, the collection argument is an untyped NULL).
    """
    placeholders = tuple(
        lambda_placeholder(len(a.inputs)) if isinstance(a, LambdaType) else a for a in arg_types
    )
    chosen = _pick(function, placeholders)
    param = chosen.params[arg_index]
    if not isinstance(param, LambdaType):
        raise PlanError(f"Function '{function.name}' does not take a lambda as argument {arg_index + 1}")
    try:
        return tuple(_apply(i, chosen.bindings, strict=True) for i in param.inputs)
    except PlanError as error:
        raise PlanError(
            f"Cannot infer the lambda parameter types of {function.name.upper()}: {error.message}"
        ) from None


# --------------------------------------------------------------------------------------------------------
# Messages


def _args_text(arg_types: Sequence[ArgType]) -> str:
    return "(" + ", ".join("null" if a is None else a.sql() for a in arg_types) + ")"


def signature_text(function: ScalarFunction | TableFunction, signature: Signature) -> str:
    """One overload as ksqlDB lists it in errors: ``NAME(TYPE name, TYPE... name)``."""
    parts = []
    repeated = variadic_position(signature)
    for index, param in enumerate(signature.params):
        text = param.type.sql() + ("..." if index == repeated else "")
        parts.append(f"{text} {param.name}" if param.name else text)
    return f"{function.name.upper()}({', '.join(parts)})"


def _alternatives(function: ScalarFunction | TableFunction) -> str:
    return "\n".join(signature_text(function, sig) for sig in function.signatures)

"""The function registry: what a SQL function is to the engine, and how a call finds its implementation.

A function is a name with one or more :class:`Signature`\\ s. The binder asks the registry to
:meth:`~FunctionRegistry.resolve` a call from the argument types; resolution follows ksqlDB's UDF
rules (an exact match first, then implicit widening INT -> BIGINT -> DECIMAL -> DOUBLE, generics such as
``ARRAY<T>``, variadic tails) and yields a :class:`ResolvedFunction`: the return type and a kernel.

Kernels are vectorized: they receive whole Arrow columns (or scalars, for literal arguments) and return
one Arrow array of the batch's length. Null handling, ksqlDB's semantics and error texts are the
kernel's business. A kernel that meets a bad value raises :class:`FunctionError`; the expression compiler
then re-runs that batch row by row, turns the failing rows into NULL and reports each to the processing
log, as ksqlDB does (the record is kept, the column is NULL).

Per-row Python is the exception: :func:`rowwise` builds a kernel from a scalar Python function for
functions with no vectorized form, and docs/architecture.md lists each such function with its cost.

This module holds the contract only; the functions themselves are registered by the modules of this
package (one module per family: string, math, datetime, json, collections, lambda, url, bytes, ...).

Example:
    >>> import pyarrow as pa
    >>> from headwater.parser import types as t
    >>> reg = FunctionRegistry()
    >>> reg.register(ScalarFunction(
    ...     name="TWICE", category="math", description="Doubles a number.",
    ...     signatures=(Signature(params=(Param("x", t.BIGINT),), returns=t.BIGINT,
    ...                           kernel=lambda args, ctx: pa.compute.multiply(args[0], 2)),)))
    >>> fn = reg.resolve("twice", (t.INT,))          # INT widens to BIGINT
    >>> fn.return_type, fn.kernel([pa.array([1, None])], fn.context(2)).to_pylist()
    (Primitive(kind=<PrimitiveKind.BIGINT: 'BIGINT'>), [2, None])
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from threading import RLock
from typing import Any, TypeAlias

import pyarrow as pa

from headwater.errors import PlanError
from headwater.parser import types as t

__all__ = [
    "INTERVAL_UNIT",
    "AnyDecimal",
    "AnyType",
    "CallContext",
    "CompiledLambda",
    "ComputedType",
    "Datum",
    "FunctionError",
    "FunctionKind",
    "FunctionRegistry",
    "Generic",
    "IntervalUnitType",
    "LambdaType",
    "Param",
    "ResolvedFunction",
    "ScalarFunction",
    "Signature",
    "TableFunction",
    "rowwise",
]

Datum: TypeAlias = pa.Array | pa.ChunkedArray | pa.Scalar
"""A kernel argument: a column of the batch, or a scalar for a literal (pyarrow.compute broadcasts)."""


class FunctionError(Exception):
    """A function could not compute a value for some row (bad input, overflow...).

    Attributes:
        message: ksqlDB's wording of the problem, reported in the processing log.
    """

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class FunctionKind(Enum):
    SCALAR = "SCALAR"
    TABLE = "TABLE"
    AGGREGATE = "AGGREGATE"


@dataclass(frozen=True, slots=True)
class Generic(t.SqlType):
    """A type variable in a signature (``T``, ``K``, ``V``); binds to the argument's type at resolution.
    It may be nested: ``Array(Generic("T"))`` matches any array and binds T to its element type."""

    name: str

    def sql(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class AnyType(t.SqlType):
    """A parameter that accepts any type without binding a variable (ksqlDB's ``Object`` parameters)."""

    def sql(self) -> str:
        return "ANY"


@dataclass(frozen=True, slots=True)
class AnyDecimal(t.SqlType):
    """A parameter that accepts a DECIMAL of any precision and scale (ksqlDB's ``BigDecimal``
    parameters). It binds nothing: the parameter's type is the argument's own DECIMAL type, and an
    INTEGER or BIGINT argument widens to DECIMAL(10, 0) or DECIMAL(19, 0)."""

    def sql(self) -> str:
        return "DECIMAL"


@dataclass(frozen=True, slots=True)
class IntervalUnitType(t.SqlType):
    """The type of a time-unit argument such as ``SECONDS`` in ``TIMESTAMPADD(SECONDS, 5, ts)``.

    The binder types an :class:`~headwater.parser.expressions.IntervalUnit` argument as
    :data:`INTERVAL_UNIT` and passes it to the kernel, uncast, as a ``pa.scalar`` string holding the
    :class:`~headwater.parser.expressions.TimeUnit` member's name (``"SECONDS"``). Only parameters of
    this type accept it, and they accept nothing else, as in ksqlDB."""

    def sql(self) -> str:
        return "INTERVALUNIT"


INTERVAL_UNIT = IntervalUnitType()


@dataclass(frozen=True, slots=True)
class LambdaType(t.SqlType):
    """A lambda parameter: ``inputs`` are the lambda's parameter types (usually generics bound by earlier
    arguments, e.g. ``T`` for TRANSFORM(ARRAY<T>, T => U)), ``output`` its result type (a generic that
    binds to the body's type, or a concrete type such as BOOLEAN for FILTER).

    As an *argument* type (what the binder passes to resolution), ``output`` is None while the body is
    not yet typed; see :mod:`headwater.engine.functions.resolution` for the two-step protocol."""

    inputs: tuple[t.SqlType, ...]
    output: t.SqlType | None

    def sql(self) -> str:
        ins = ", ".join(i.sql() for i in self.inputs)
        out = "?" if self.output is None else self.output.sql()
        return f"LAMBDA<({ins}) => {out}>"


@dataclass(frozen=True, slots=True)
class Param:
    """One declared parameter: its name (for DESCRIBE FUNCTION), type, and description."""

    name: str
    type: t.SqlType
    description: str = ""


class CompiledLambda:
    """A lambda argument as a kernel sees it: call it with one array per lambda parameter (all of the
    same length, e.g. the flattened elements of a list column) and the index, for each element, of the
    row of the outer batch it belongs to (so the body can use the row's other columns). Returns the
    body's value per element. The expression compiler provides the implementation."""

    def __call__(self, params: Sequence[pa.Array], parent_index: pa.Array) -> pa.Array:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class CallContext:
    """What a kernel knows besides its arguments.

    Attributes:
        arg_types: the SQL types of the actual arguments (after implicit casts to the signature).
        return_type: the resolved return type; the kernel's result must have ``to_arrow(return_type)``.
        length: rows in the batch (for functions whose arguments are all scalars, or that take none).
        config: the query's configuration (e.g. ``ksql.functions.substring.legacy.args``).
        lambdas: compiled lambda arguments, in argument order (the lambda positions in ``args`` hold None).
    """

    arg_types: tuple[t.SqlType, ...]
    return_type: t.SqlType
    length: int
    config: Mapping[str, Any] = field(default_factory=dict)
    lambdas: tuple[CompiledLambda, ...] = ()


Kernel: TypeAlias = Callable[[Sequence[Datum], CallContext], pa.Array]
"""A scalar kernel: argument columns (cast to the signature's types) -> result column."""

TableKernel: TypeAlias = Callable[[Sequence[Datum], CallContext], tuple[pa.Array, pa.Array]]
"""A table-function kernel: -> (values, parent_index), one output row per value; ``parent_index[i]`` is
the input row that produced ``values[i]``, in non-decreasing order."""

ReturnType: TypeAlias = t.SqlType | Callable[[tuple[t.SqlType | None, ...]], t.SqlType]
"""A fixed type, a type with generics bound from the arguments, or a function of the argument types
(for rules such as DECIMAL precision that generics cannot express). The function receives the
arguments' own types, before any implicit cast, with None for an untyped NULL, as ksqlDB's schema
providers do."""


@dataclass(frozen=True, slots=True)
class ComputedType:
    """A return type computed from the argument types, with the text DESCRIBE FUNCTION shows for it
    (ksqlDB's schema providers: ``ROUND(DECIMAL(p, s))`` returns ``DECIMAL(p - s, 0)``, listed as
    ``DECIMAL``). Calling it computes the type (see :data:`ReturnType`)."""

    text: str
    compute: Callable[[tuple[t.SqlType | None, ...]], t.SqlType]

    def __call__(self, arg_types: tuple[t.SqlType | None, ...]) -> t.SqlType:
        return self.compute(arg_types)

    def sql(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class Signature:
    """One overload. With ``variadic`` one parameter repeats zero or more times (ksqlDB's ``T...``);
    its type is that of each repeated argument. It is the last one unless ``variadic_index`` names
    another (ksqlDB's aggregates may take varargs in the middle: ``(BIGINT, STRING..., INT, INT)``)."""

    params: tuple[Param, ...]
    returns: ReturnType
    kernel: Kernel | TableKernel
    variadic: bool = False
    description: str = ""
    variadic_index: int | None = None


@dataclass(frozen=True, slots=True)
class ScalarFunction:
    """A scalar function: one value per input row."""

    name: str
    category: str
    description: str
    signatures: tuple[Signature, ...]
    kind: FunctionKind = FunctionKind.SCALAR


@dataclass(frozen=True, slots=True)
class TableFunction:
    """A table function (EXPLODE, CUBE...): zero or more output rows per input row."""

    name: str
    category: str
    description: str
    signatures: tuple[Signature, ...]
    kind: FunctionKind = FunctionKind.TABLE


@dataclass(frozen=True, slots=True)
class _DeferredGroup:
    """Functions whose module is not imported yet: their names (None when unknown until loaded)
    and what loads them."""

    names: frozenset[str] | None
    loader: Callable[[], Iterable[Any]]
    aggregates: bool


@dataclass(frozen=True, slots=True)
class ResolvedFunction:
    """The outcome of resolving a call: which overload, the types the arguments must be cast to, and
    the return type. ``positions`` holds, for each argument, the index of the declared parameter it
    fills (a variadic parameter's index repeats), so a caller can tell which arguments fill, say, the
    parameters that must be literals."""

    function: ScalarFunction | TableFunction
    signature: Signature
    param_types: tuple[t.SqlType, ...]
    return_type: t.SqlType
    positions: tuple[int, ...] = ()

    @property
    def kernel(self) -> Any:
        return self.signature.kernel

    def context(
        self,
        length: int,
        config: Mapping[str, Any] | None = None,
        lambdas: tuple[CompiledLambda, ...] = (),
    ) -> CallContext:
        """A CallContext for one batch of ``length`` rows."""
        return CallContext(self.param_types, self.return_type, length, config or {}, lambdas)


class FunctionRegistry:
    """Functions by upper-cased name. Registration of a second function under a name is an error; a
    function with several overloads is one :class:`ScalarFunction` with several signatures.

    Families of functions may be *deferred* (:meth:`defer`): their modules are imported and their
    functions registered when first needed, so that building the product's registry costs the
    shell's start-up nothing. Scalar and table functions, and aggregates, are deferred apart, so
    asking whether ``UCASE`` is an aggregate loads no string functions.
    """

    def __init__(self) -> None:
        self._functions: dict[str, ScalarFunction | TableFunction] = {}
        self._aggregates: dict[str, Any] = {}
        self._deferred: dict[str, _DeferredGroup] = {}
        self._deferred_aggregates: dict[str, _DeferredGroup] = {}
        self._open_groups: list[_DeferredGroup] = []
        self._loading = RLock()

    def register(self, function: ScalarFunction | TableFunction) -> None:
        key = function.name.upper()
        self._check_free(key)
        self._functions[key] = function

    def register_aggregate(self, name: str, aggregate: Any) -> None:
        """Aggregates share the namespace of scalar functions (see ``headwater.engine.aggregates``)."""
        key = name.upper()
        self._check_free(key)
        self._aggregates[key] = aggregate

    def defer(
        self,
        loader: Callable[[], Iterable[Any]],
        *,
        names: Iterable[str] | None = None,
        aggregates: bool = False,
    ) -> None:
        """Register the functions (or, with ``aggregates``, the aggregate functions) ``loader``
        returns when they are first needed: when one of ``names`` is looked up (the loader must return
        exactly those), or, without ``names``, when any name of that kind is not found otherwise and
        when every name is listed.

        Raises:
            ValueError: a name is already taken.
        """
        known = None if names is None else frozenset(n.upper() for n in names)
        group = _DeferredGroup(known, loader, aggregates)
        if known is None:
            self._open_groups.append(group)
            return
        for key in known:
            self._check_free(key)
        target = self._deferred_aggregates if aggregates else self._deferred
        for key in known:
            target[key] = group

    def lookup(self, name: str) -> ScalarFunction | TableFunction | None:
        return self._find(name.upper(), self._functions, self._deferred, aggregates=False)

    def aggregate(self, name: str) -> Any | None:
        return self._find(name.upper(), self._aggregates, self._deferred_aggregates, aggregates=True)

    def _find(
        self, key: str, registered: dict[str, Any], deferred: dict[str, _DeferredGroup], *, aggregates: bool
    ) -> Any:
        """``registered[key]``, loading its deferred group (or the open groups) first when needed.

        Safe against a load finishing on another thread between the reads: a load registers its
        functions before it takes their names off ``deferred``, so a name found in neither place
        has been registered meanwhile, and the last read finds it."""
        found = registered.get(key)
        if found is not None:
            return found
        group = deferred.get(key)
        if group is not None:
            self._load(group)
        elif self._has_open(aggregates=aggregates):
            self._load_open(aggregates=aggregates)
        return registered.get(key)

    def names(self) -> list[str]:
        """Every function's name, scalar, table and aggregate (deferred ones with known names are
        not loaded for it)."""
        for aggregates in (False, True):
            if self._has_open(aggregates=aggregates):
                self._load_open(aggregates=aggregates)
        with self._loading:  # no load may change the dictionaries while they are read
            return sorted({*self._functions, *self._aggregates, *self._deferred, *self._deferred_aggregates})

    def functions(self) -> list[ScalarFunction | TableFunction]:
        """Every scalar and table function (loading the deferred ones)."""
        self._load_all(aggregates=False)
        with self._loading:
            return [self._functions[n] for n in sorted(self._functions)]

    def aggregates(self) -> list[Any]:
        """Every aggregate function (loading the deferred ones)."""
        self._load_all(aggregates=True)
        with self._loading:
            return [self._aggregates[n] for n in sorted(self._aggregates)]

    def find(self, name: str) -> ScalarFunction | TableFunction | Any | None:
        """The scalar, table or aggregate function called ``name`` (what DESCRIBE FUNCTION shows: each
        has ``name``, ``description``, ``category``, ``kind`` and ``signatures`` whose ``params``,
        ``returns``, ``variadic`` and ``description`` describe the overloads), or None."""
        return self.lookup(name) or self.aggregate(name)

    def _check_free(self, key: str) -> None:
        taken = (self._functions, self._aggregates, self._deferred, self._deferred_aggregates)
        if any(key in names for names in taken):
            raise ValueError(f"function {key} is registered twice")

    def _has_open(self, *, aggregates: bool) -> bool:
        return any(group.aggregates == aggregates for group in self._open_groups)

    def _load_open(self, *, aggregates: bool) -> None:
        with self._loading:
            groups = [g for g in self._open_groups if g.aggregates == aggregates]
        for group in groups:
            self._load(group)

    def _load_all(self, *, aggregates: bool) -> None:
        self._load_open(aggregates=aggregates)
        with self._loading:
            named = self._deferred_aggregates if aggregates else self._deferred
            groups = list({id(g): g for g in named.values()}.values())
        for group in groups:
            self._load(group)

    def _load(self, group: _DeferredGroup) -> None:
        """Import and register a deferred group, once. Its names stay deferred until its functions
        are registered, so a concurrent lookup waits for the load instead of missing the name."""
        with self._loading:
            target = self._deferred_aggregates if group.aggregates else self._deferred
            if group.names is None:
                if group not in self._open_groups:
                    return  # loaded meanwhile
            elif target.get(next(iter(group.names))) is not group:
                return
            loaded = list(group.loader())
            found = {function.name.upper() for function in loaded}
            if group.names is not None and found != group.names:
                raise ValueError(
                    f"deferred functions {sorted(group.names)} loaded as {sorted(found)}: the index is stale"
                )
            registered = self._aggregates if group.aggregates else self._functions
            for function in loaded:
                key = function.name.upper()
                if key in self._functions or key in self._aggregates or (
                    key not in (group.names or ()) and (key in self._deferred or key in self._deferred_aggregates)
                ):
                    raise ValueError(f"function {key} is registered twice")
                registered[key] = function
            if group.names is None:
                self._open_groups.remove(group)
            else:
                for key in group.names:
                    del target[key]

    def resolve(self, name: str, arg_types: Sequence[t.SqlType | None]) -> ResolvedFunction:
        """Pick the overload of ``name`` for arguments of ``arg_types``.

        ``None`` in ``arg_types`` stands for an untyped NULL literal, which matches any parameter.
        A lambda argument is passed as a :class:`LambdaType` whose ``output`` is None until the binder
        has typed the body; see :func:`headwater.engine.functions.resolution.resolve` for the protocol.

        Raises:
            PlanError: unknown function, or no overload accepts these types (ksqlDB's wording:
                "Function 'X' does not accept parameters (...)").
        """
        function = self.lookup(name)
        if function is None:
            raise PlanError(f"Can't find any functions with the name '{name.upper()}'")
        from headwater.engine.functions.resolution import resolve_signature

        return resolve_signature(function, tuple(arg_types))


def rowwise(fn: Callable[..., Any], *, null_in_null_out: bool = True) -> Kernel:
    """Build a kernel from a per-row Python function (the measured exception, never the default).

    ``fn`` receives Python values (``as_py()`` of each argument for the row) and returns a Python value
    convertible to the return type. With ``null_in_null_out`` a row with any NULL argument yields NULL
    without calling ``fn``. Raising :class:`FunctionError` marks the row as failed.
    """
    from headwater.engine.types import to_arrow

    def kernel(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
        columns: list[list[Any]] = []
        for arg in args:
            if isinstance(arg, pa.Scalar):
                columns.append([arg.as_py()] * ctx.length)
            else:
                columns.append(arg.to_pylist())
        out: list[Any] = []
        for row in zip(*columns) if columns else ([()] * ctx.length):
            if null_in_null_out and any(v is None for v in row):
                out.append(None)
            else:
                out.append(fn(*row))
        return pa.array(out, type=to_arrow(ctx.return_type))

    kernel.__name__ = getattr(fn, "__name__", "rowwise_kernel")
    kernel.rowwise = True  # type: ignore[attr-defined]  # listed in docs/architecture.md's fallback table
    return kernel

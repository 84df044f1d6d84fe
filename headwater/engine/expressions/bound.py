"""Bound expressions: the expression tree after names are resolved and every node is typed.

The binder (:mod:`~headwater.engine.expressions.binder`) turns the parser's tree into these nodes;
the compiler (:mod:`~headwater.engine.expressions.compiler`) turns them into vectorized evaluators.
Each node is a frozen, slotted dataclass with a ``type``: plans may hold and compare them.

Conversions the language performs implicitly (INTEGER to BIGINT in ``i + l``, a STRING to TIMESTAMP in
``ts < '2020-01-01'``, an argument to its function's parameter type) appear as
:class:`BoundCast` nodes with ``implicit=True``, so the compiler needs no typing rules of its own:
operands of an arithmetic, comparison, IN list or CASE node already have the types the operation works
in.

Example:
    >>> from headwater.parser import types as t
    >>> BoundLiteral(1, t.INT).type
    Primitive(kind=<PrimitiveKind.INTEGER: 'INTEGER'>)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from headwater.engine.expressions.scope import ColumnKind
from headwater.engine.functions.registry import INTERVAL_UNIT, LambdaType, ResolvedFunction
from headwater.parser import types as t
from headwater.parser.expressions import ArithmeticOp, ComparisonOp, LogicalOp, TimeUnit
from headwater.parser.trees import dataclass_children, walk_depth_first

__all__ = [
    "Bound",
    "BoundArithmetic",
    "BoundArray",
    "BoundBetween",
    "BoundCall",
    "BoundCase",
    "BoundCast",
    "BoundColumn",
    "BoundComparison",
    "BoundDereference",
    "BoundInList",
    "BoundIntervalUnit",
    "BoundIsNull",
    "BoundLambda",
    "BoundLambdaVariable",
    "BoundLike",
    "BoundLiteral",
    "BoundLogical",
    "BoundMap",
    "BoundNegate",
    "BoundNot",
    "BoundNull",
    "BoundStruct",
    "BoundSubscript",
    "bound_children",
    "walk_bound",
]


class Bound:
    """Base of every bound node; each subclass has a ``type`` field."""

    __slots__ = ()

    type: Any


@dataclass(frozen=True, slots=True)
class BoundLiteral(Bound):
    """A constant: ``value`` is the Python value of ``type`` (int, Decimal, float, str, bool, bytes...)."""

    value: Any
    type: t.SqlType


@dataclass(frozen=True, slots=True)
class BoundNull(Bound):
    """A NULL. Its type comes from the context (a cast, the other branches of a CASE, a function
    parameter); the binder refuses a NULL whose type nothing determines."""

    type: t.SqlType | None = None


@dataclass(frozen=True, slots=True)
class BoundColumn(Bound):
    """A column of the input batch: ``field`` is the batch column, ``name``/``source`` as written."""

    field: str
    type: t.SqlType
    name: str = ""
    source: str | None = None
    kind: ColumnKind = ColumnKind.VALUE


@dataclass(frozen=True, slots=True)
class BoundLambdaVariable(Bound):
    """A parameter of an enclosing lambda."""

    name: str
    type: t.SqlType


@dataclass(frozen=True, slots=True)
class BoundIntervalUnit(Bound):
    """A time unit passed to a function (``TIMESTAMPADD(SECONDS, ...)``); reaches the kernel as a string
    scalar holding the unit's name."""

    unit: TimeUnit
    type: t.SqlType = INTERVAL_UNIT


@dataclass(frozen=True, slots=True)
class BoundCast(Bound):
    """``CAST(operand AS type)``; ``implicit`` marks a conversion the language inserted."""

    operand: Bound
    type: t.SqlType
    implicit: bool = False


@dataclass(frozen=True, slots=True)
class BoundNegate(Bound):
    """Unary minus (unary plus binds to its operand)."""

    operand: Bound
    type: t.SqlType


@dataclass(frozen=True, slots=True)
class BoundArithmetic(Bound):
    """``left op right``. Operands have the operation's type: both the result type for INTEGER,
    BIGINT, DOUBLE and STRING (concatenation); their own DECIMAL types for a DECIMAL result."""

    op: ArithmeticOp
    left: Bound
    right: Bound
    type: t.SqlType


@dataclass(frozen=True, slots=True)
class BoundComparison(Bound):
    """``left op right`` on operands of one type; NULL operands make it FALSE, except for IS [NOT]
    DISTINCT FROM, as in ksqlDB."""

    op: ComparisonOp
    left: Bound
    right: Bound
    type: t.SqlType = t.BOOLEAN


@dataclass(frozen=True, slots=True)
class BoundBetween(Bound):
    """``value [NOT] BETWEEN low AND high``: the two comparisons ``value >= low`` and ``value <= high``
    (FALSE on NULL), negated as a whole."""

    value: Bound
    low: Bound
    high: Bound
    negated: bool = False
    type: t.SqlType = t.BOOLEAN


@dataclass(frozen=True, slots=True)
class BoundInList(Bound):
    """``value [NOT] IN (items)``: items of the value's type, NULL items dropped; a NULL value matches
    nothing; ARRAY, MAP and STRUCT values match when equal element by element (NULL equal to NULL)."""

    value: Bound
    items: tuple[Bound, ...]
    negated: bool = False
    type: t.SqlType = t.BOOLEAN


@dataclass(frozen=True, slots=True)
class BoundLike(Bound):
    """``value [NOT] LIKE pattern [ESCAPE c]``: ``%`` any run of characters, ``_`` one, case-sensitive."""

    value: Bound
    pattern: Bound
    escape: str | None = None
    negated: bool = False
    type: t.SqlType = t.BOOLEAN


@dataclass(frozen=True, slots=True)
class BoundIsNull(Bound):
    """``operand IS [NOT] NULL``."""

    operand: Bound
    negated: bool = False
    type: t.SqlType = t.BOOLEAN


@dataclass(frozen=True, slots=True)
class BoundNot(Bound):
    """``NOT operand`` (NULL stays NULL)."""

    operand: Bound
    type: t.SqlType = t.BOOLEAN


@dataclass(frozen=True, slots=True)
class BoundLogical(Bound):
    """``left AND right`` / ``left OR right`` with three-valued logic; the right side is evaluated only
    for the rows the left side does not decide (it may fail on the others)."""

    op: LogicalOp
    left: Bound
    right: Bound
    type: t.SqlType = t.BOOLEAN


@dataclass(frozen=True, slots=True)
class BoundCase(Bound):
    """Searched CASE (a simple CASE is bound as one): the first WHEN whose condition is TRUE gives the
    result, else ``default`` (NULL when absent). Results are evaluated only for the rows that take them."""

    whens: tuple[tuple[Bound, Bound], ...]
    default: Bound | None
    type: t.SqlType


@dataclass(frozen=True, slots=True)
class BoundCall(Bound):
    """A scalar or table function call; ``args`` already have ``function.param_types`` (lambda
    arguments are :class:`BoundLambda`)."""

    function: ResolvedFunction = field(compare=False)
    args: tuple[Bound, ...]
    type: t.SqlType
    name: str = ""


@dataclass(frozen=True, slots=True)
class BoundLambda(Bound):
    """A lambda argument: parameters, their types, and the typed body."""

    params: tuple[str, ...]
    param_types: tuple[t.SqlType, ...]
    body: Bound
    type: LambdaType


@dataclass(frozen=True, slots=True)
class BoundDereference(Bound):
    """``base->field`` (NULL when the struct is NULL)."""

    base: Bound
    field: str
    type: t.SqlType


@dataclass(frozen=True, slots=True)
class BoundSubscript(Bound):
    """``base[index]``: a 1-based array index (negative counts from the end, out of range is NULL) or a
    map key (absent is NULL)."""

    base: Bound
    index: Bound
    type: t.SqlType


@dataclass(frozen=True, slots=True)
class BoundArray(Bound):
    """``ARRAY[...]``; items have the element type."""

    items: tuple[Bound, ...]
    type: t.SqlType


@dataclass(frozen=True, slots=True)
class BoundMap(Bound):
    """``MAP(k := v, ...)``; keys and values have the map's key and value types."""

    keys: tuple[Bound, ...]
    values: tuple[Bound, ...]
    type: t.SqlType


@dataclass(frozen=True, slots=True)
class BoundStruct(Bound):
    """``STRUCT(name := value, ...)``; never NULL itself."""

    fields: tuple[tuple[str, Bound], ...]
    type: t.SqlType


def bound_children(node: Bound) -> Iterator[Bound]:
    """The direct children of ``node``, in field order.

    Example:
        >>> from headwater.parser import types as t
        >>> [c.type for c in bound_children(BoundNot(BoundLiteral(True, t.BOOLEAN)))]
        [Primitive(kind=<PrimitiveKind.BOOLEAN: 'BOOLEAN'>)]
    """
    return dataclass_children(node, Bound)


def walk_bound(node: Bound) -> Iterator[Bound]:
    """``node`` and every node below it, parents first."""
    return walk_depth_first(node, bound_children)

"""Expressions of ksqlDB SQL: one immutable tree type, used from the parser through the binder.

Every node is a frozen, slotted dataclass, so trees compare and hash by value and cannot change once
built; plans hold them safely. Each node carries an optional :class:`Span` (where it came from in the
script) that takes no part in equality, so ``parse(print(tree)) == tree`` holds although positions
differ. Names are resolved as ksqlDB resolves them: unquoted identifiers upper-cased, quoted ones kept.

Why our own tree rather than sqlglot's is recorded in docs/architecture.md; sqlglot still renders these
trees as DuckDB SQL for historical queries.

Example:
    >>> ColumnRef("ID") == ColumnRef("ID", span=Span(0, 2, 1, 1))
    True
"""

# ruff: noqa: RUF009  (every node's span/text default is a dataclasses.field() built by a helper)

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum

from headwater.parser.trees import dataclass_children, walk_depth_first
from headwater.parser.types import SqlType

# --------------------------------------------------------------------------------------------------------
# Positions


@dataclass(frozen=True, slots=True)
class Span:
    """Where a node came from: character offsets [start, end) into the parsed text, and the 1-based
    line and column of ``start``."""

    start: int
    end: int
    line: int
    column: int


def _span() -> Span | None:
    return field(default=None, compare=False, kw_only=True, repr=False)


class Node:
    """Base of every tree node. Every concrete node has a ``span`` (declared here for type checkers)."""

    __slots__ = ()
    span: Span | None


# --------------------------------------------------------------------------------------------------------
# Time units and durations (WINDOW, WITHIN, GRACE PERIOD, RETENTION, TIMEOUT, function arguments)


class TimeUnit(Enum):
    """A unit of time as ksqlDB spells it; singular and plural spellings parse to the same member."""

    MILLISECONDS = 1
    SECONDS = 1_000
    MINUTES = 60_000
    HOURS = 3_600_000
    DAYS = 86_400_000

    @property
    def millis(self) -> int:
        """Length of one unit in milliseconds."""
        return self.value


TIME_UNIT_NAMES: dict[str, TimeUnit] = {
    spelling: unit
    for unit in TimeUnit
    for spelling in (unit.name, unit.name[:-1])
}
"""Every spelling of a unit ksqlDB accepts in SQL (``SECOND`` and ``SECONDS``...), upper-case, to its unit."""


@dataclass(frozen=True, slots=True)
class Duration(Node):
    """``value unit``, e.g. ``10 SECONDS``; printed back in the same unit."""

    value: int
    unit: TimeUnit
    span: Span | None = _span()

    @property
    def millis(self) -> int:
        return self.value * self.unit.millis


# --------------------------------------------------------------------------------------------------------
# Expressions


class Expression(Node):
    """Base of every expression node."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class NullLiteral(Expression):
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class BooleanLiteral(Expression):
    value: bool
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class IntegerLiteral(Expression):
    """An integer literal; ksqlDB types it INT when it fits in 32 bits, BIGINT otherwise."""

    value: int
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class DecimalLiteral(Expression):
    """A literal with a decimal point and no exponent (``1.50``): an exact DECIMAL that keeps its scale."""

    value: Decimal
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class DoubleLiteral(Expression):
    """A literal with an exponent (``1.5E3``): a DOUBLE."""

    value: float
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class StringLiteral(Expression):
    """A quoted string; ``''`` inside the quotes has already been turned into one ``'``."""

    value: str
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class TypedLiteral(Expression):
    """``identifier 'text'``, ksqlDB's type constructor (e.g. ``DATE '2020-01-01'``)."""

    type_name: str
    value: str
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class ColumnRef(Expression):
    """A column, optionally qualified by a source name or alias: ``ID``, ``s.ID``."""

    name: str
    source: str | None = None
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class LambdaVariable(Expression):
    """A reference to a lambda parameter inside the lambda's body."""

    name: str
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Dereference(Expression):
    """Struct field access ``base->field``; ``field`` is the resolved (case-kept or upper-cased) name."""

    base: Expression
    field: str
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Subscript(Expression):
    """``base[index]``: 1-based array index (negative counts from the end) or map key."""

    base: Expression
    index: Expression
    span: Span | None = _span()


class ArithmeticOp(Enum):
    ADD = "+"
    SUBTRACT = "-"
    MULTIPLY = "*"
    DIVIDE = "/"
    MODULUS = "%"


@dataclass(frozen=True, slots=True)
class ArithmeticUnary(Expression):
    """``-x`` or ``+x``; ``negative`` tells which."""

    negative: bool
    operand: Expression
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class ArithmeticBinary(Expression):
    op: ArithmeticOp
    left: Expression
    right: Expression
    span: Span | None = _span()


class ComparisonOp(Enum):
    EQUAL = "="
    NOT_EQUAL = "<>"  # '!=' parses to this too
    LESS_THAN = "<"
    LESS_THAN_OR_EQUAL = "<="
    GREATER_THAN = ">"
    GREATER_THAN_OR_EQUAL = ">="
    IS_DISTINCT_FROM = "IS DISTINCT FROM"
    IS_NOT_DISTINCT_FROM = "IS NOT DISTINCT FROM"


@dataclass(frozen=True, slots=True)
class Comparison(Expression):
    op: ComparisonOp
    left: Expression
    right: Expression
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Between(Expression):
    value: Expression
    low: Expression
    high: Expression
    negated: bool = False
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class InList(Expression):
    value: Expression
    items: tuple[Expression, ...]
    negated: bool = False
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Like(Expression):
    """``value [NOT] LIKE pattern [ESCAPE 'c']``."""

    value: Expression
    pattern: Expression
    escape: str | None = None
    negated: bool = False
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class IsNull(Expression):
    """``value IS [NOT] NULL``."""

    value: Expression
    negated: bool = False
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Not(Expression):
    operand: Expression
    span: Span | None = _span()


class LogicalOp(Enum):
    AND = "AND"
    OR = "OR"


@dataclass(frozen=True, slots=True)
class LogicalBinary(Expression):
    op: LogicalOp
    left: Expression
    right: Expression
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class WhenClause(Node):
    condition: Expression
    result: Expression
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class SearchedCase(Expression):
    """``CASE WHEN cond THEN r ... [ELSE d] END``."""

    whens: tuple[WhenClause, ...]
    default: Expression | None = None
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class SimpleCase(Expression):
    """``CASE operand WHEN value THEN r ... [ELSE d] END``."""

    operand: Expression
    whens: tuple[WhenClause, ...]
    default: Expression | None = None
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Cast(Expression):
    operand: Expression
    type: SqlType
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class ArrayConstructor(Expression):
    """``ARRAY[a, b, ...]``."""

    items: tuple[Expression, ...]
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class MapConstructor(Expression):
    """``MAP(k := v, ...)``."""

    entries: tuple[tuple[Expression, Expression], ...]
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class StructConstructor(Expression):
    """``STRUCT(name := v, ...)``; names resolved like identifiers."""

    fields: tuple[tuple[str, Expression], ...]
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class IntervalUnit(Expression):
    """A time unit written as a function argument, e.g. ``TIMESTAMPADD(SECONDS, 5, ts)``."""

    unit: TimeUnit
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Lambda(Expression):
    """``x => body`` or ``(x, y) => body``; references to the parameters in ``body`` are LambdaVariable."""

    params: tuple[str, ...]
    body: Expression
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class FunctionCall(Expression):
    """``NAME(args)``; ``star`` is True for ``COUNT(*)`` (then ``args`` is empty). Names are upper-cased
    unless quoted, and looked up case-insensitively by the engine."""

    name: str
    args: tuple[Expression, ...] = ()
    star: bool = False
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class AtTimeZone(Expression):
    """``value AT TIME ZONE 'zone'``."""

    value: Expression
    zone: str
    span: Span | None = _span()


def iter_children(node: Node) -> Iterator[Node]:
    """Yield the direct child nodes of ``node`` in field order (tuples and pairs are looked into).

    Example:
        >>> [c for c in iter_children(Not(ColumnRef("A")))]
        [ColumnRef(name='A', source=None)]
    """
    return dataclass_children(node, Node)


def walk(node: Node) -> Iterator[Node]:
    """Yield ``node`` and every node below it, depth first, parents before children."""
    return walk_depth_first(node, iter_children)


# A literal list, so that type checkers see what `from headwater.parser.expressions import *` (as in
# headwater.parser.ast) brings in; a test checks it against the module's public classes and functions.
__all__ = [
    "ArithmeticBinary", "ArithmeticOp", "ArithmeticUnary", "ArrayConstructor", "AtTimeZone", "Between",
    "BooleanLiteral", "Cast", "ColumnRef", "Comparison", "ComparisonOp", "DecimalLiteral", "Dereference",
    "DoubleLiteral", "Duration", "Expression", "FunctionCall", "InList", "IntegerLiteral", "IntervalUnit",
    "IsNull", "Lambda", "LambdaVariable", "Like", "LogicalBinary", "LogicalOp", "MapConstructor", "Node",
    "Not", "NullLiteral", "SearchedCase", "SimpleCase", "Span", "StringLiteral", "StructConstructor",
    "Subscript", "TimeUnit", "TypedLiteral", "WhenClause", "iter_children", "walk",
]  # fmt: skip

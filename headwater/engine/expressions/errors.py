"""The errors of binding an expression, one class per kind of problem ksqlDB reports differently.

All are :class:`~headwater.errors.PlanError`\\ s with ksqlDB's wording. The planner adds the clause
ksqlDB names in front of some of them (``"Error in WHERE expression: "``, ``"Invalid Predicate: "``):
the class tells it which, because ksqlDB raises them at different stages.

=============================  =========================================================================
class                          raised when (ksqlDB's stage)
=============================  =========================================================================
``UnresolvedColumnError``      a column or source name is unknown (analysis)
``AmbiguousColumnError``       an unqualified name exists in several joined sources (analysis)
``ExpressionTypeError``        operands do not fit the operator or function (type checking)
``CoercionError``              an IN list or a constructor has no common type (code generation)
``AggregateNotAllowedError``   an aggregate call where only scalar expressions may appear
=============================  =========================================================================

Row-level failures at run time are not exceptions: they are reported per row through the caller's
callback (see :mod:`headwater.engine.expressions.compiler`).

Example:
    >>> error = UnresolvedColumnError("UNKNOWN", clause="SELECT")
    >>> str(error), isinstance(error, PlanError)
    ("SELECT column 'UNKNOWN' cannot be resolved.", True)
"""

from __future__ import annotations

from headwater.errors import PlanError
from headwater.parser.expressions import Span

__all__ = [
    "AggregateNotAllowedError",
    "AmbiguousColumnError",
    "CoercionError",
    "ExpressionError",
    "ExpressionTypeError",
    "UnknownSourceError",
    "UnresolvedColumnError",
    "location_prefix",
]


def location_prefix(span: Span | None) -> str:
    """ksqlDB's position prefix (``"Line: 3, Col: 38: "``) for a node, or '' when its position is unknown."""
    if span is None:
        return ""
    return f"Line: {span.line}, Col: {span.column}: "


class ExpressionError(PlanError):
    """Base of the errors of binding an expression."""


class UnresolvedColumnError(ExpressionError):
    """A column reference matches no column in scope.

    Attributes:
        column_text: the reference as written, qualified when it was (``T.IID``).
        clause: the clause the planner named, if any (``SELECT``, ``WHERE``, ``JOIN ON``...).
    """

    def __init__(self, column_text: str, *, clause: str | None = None, span: Span | None = None) -> None:
        self.column_text = column_text
        self.clause = clause
        subject = f"{clause} column" if clause else "Column"
        super().__init__(f"{location_prefix(span)}{subject} '{column_text}' cannot be resolved.")


class UnknownSourceError(UnresolvedColumnError):
    """A qualified reference names a source or alias that is not in the query."""

    def __init__(self, source: str, column_text: str, *, span: Span | None = None) -> None:
        ExpressionError.__init__(self, f"'{source}' is not a valid stream/table name or alias.")
        self.column_text = column_text
        self.clause = None
        self.source = source


class AmbiguousColumnError(ExpressionError):
    """An unqualified name exists in more than one source of a join.

    Attributes:
        column: the name.
        candidates: the qualified names it could mean (``I1.F0``, ``I2.F0``).
    """

    def __init__(self, column: str, candidates: tuple[str, ...], *, span: Span | None = None) -> None:
        self.column = column
        self.candidates = candidates
        options = (
            ", ".join(candidates[:-1]) + " or " + candidates[-1] if len(candidates) > 1 else candidates[0]
        )
        super().__init__(f"{location_prefix(span)}Column '{column}' is ambiguous. Could be {options}.")


class ExpressionTypeError(ExpressionError):
    """Operands that the operator or function does not accept (ksqlDB's type checking)."""


class CoercionError(ExpressionError):
    """An IN list or an ARRAY / MAP constructor whose items have no common type, or a string literal in
    one that does not parse as the common type (ksqlDB raises these while generating code)."""


class AggregateNotAllowedError(ExpressionError):
    """An aggregate function where only scalar expressions are allowed (the planner replaces aggregate
    calls by columns of the aggregation's output before binding what follows it).

    Attributes:
        function: the aggregate's name.
    """

    def __init__(self, function: str) -> None:
        self.function = function
        super().__init__(f"Aggregate function {function} is not allowed here.")

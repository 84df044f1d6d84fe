"""Questions the planner asks about expressions before binding them.

Example:
    >>> from headwater.parser.expressions import ArithmeticBinary, ArithmeticOp, ColumnRef
    >>> referenced_columns(ArithmeticBinary(ArithmeticOp.ADD, ColumnRef("A"), ColumnRef("A", "S")))
    (ColumnRef(name='A', source=None), ColumnRef(name='A', source='S'))
"""

from __future__ import annotations

from headwater.engine.expressions.bound import Bound, BoundColumn, walk_bound
from headwater.engine.functions.registry import FunctionRegistry
from headwater.parser.expressions import ColumnRef, Expression, FunctionCall, Node, iter_children, walk

__all__ = ["aggregate_calls", "bound_fields", "contains_aggregate", "referenced_columns"]


def referenced_columns(expression: Expression) -> tuple[ColumnRef, ...]:
    """The column references in ``expression``, each once, in order of appearance (lambda parameters
    are not column references)."""
    found = dict.fromkeys(node for node in walk(expression) if isinstance(node, ColumnRef))
    return tuple(found)


def contains_aggregate(expression: Expression, registry: FunctionRegistry) -> bool:
    """Whether ``expression`` calls an aggregate function anywhere.

    Example:
        >>> contains_aggregate(ColumnRef("A"), FunctionRegistry())
        False
    """
    return any(
        isinstance(node, FunctionCall) and registry.aggregate(node.name) is not None
        for node in walk(expression)
    )


def aggregate_calls(expression: Expression, registry: FunctionRegistry) -> tuple[FunctionCall, ...]:
    """The outermost aggregate calls in ``expression``, each once, in order (``SUM(COUNT(X))`` gives
    ``SUM(COUNT(X))``; the planner reports nested aggregates)."""
    found: dict[FunctionCall, None] = {}

    def visit(node: Node) -> None:
        if isinstance(node, FunctionCall) and registry.aggregate(node.name) is not None:
            found[node] = None
            return
        for child in iter_children(node):
            visit(child)

    visit(expression)
    return tuple(found)


def bound_fields(bound: Bound) -> tuple[str, ...]:
    """The batch columns a bound expression reads, each once, in order."""
    return tuple(dict.fromkeys(node.field for node in walk_bound(bound) if isinstance(node, BoundColumn)))

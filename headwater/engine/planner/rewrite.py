"""Small tree transforms over the parser's expression tree (frozen dataclasses, rebuilt on change)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from headwater.parser import ast

__all__ = ["transform"]


def transform(node: Any, replace: Callable[[Any], Any | None]) -> Any:
    """Rebuild ``node`` top-down: ``replace(n)`` returns a replacement for ``n`` (used as is,
    not descended into) or None to keep ``n`` and transform its children.

    Example:
        >>> e = ast.ArithmeticBinary(ast.ArithmeticOp.ADD, ast.ColumnRef("A"), ast.IntegerLiteral(1))
        >>> swap = lambda n: ast.ColumnRef("B") if n == ast.ColumnRef("A") else None
        >>> transform(e, swap).left
        ColumnRef(name='B', source=None)
    """
    replaced = replace(node)
    if replaced is not None:
        return replaced
    if isinstance(node, tuple):
        items = tuple(transform(item, replace) for item in node)
        return items if any(a is not b for a, b in zip(items, node)) else node
    if not isinstance(node, ast.Node) or not dataclasses.is_dataclass(node):
        return node
    changes = {}
    for f in dataclasses.fields(node):
        if f.name in ("span", "text"):
            continue
        value = getattr(node, f.name)
        new_value = transform(value, replace)
        if new_value is not value:
            changes[f.name] = new_value
    return dataclasses.replace(node, **changes) if changes else node

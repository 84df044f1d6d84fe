"""Walking trees of frozen dataclasses: the parser's expressions and the binder's bound expressions.

Both trees keep their children in dataclass fields, alone or in (nested) tuples, so one way of finding
the children and one depth-first walk serve both.

Example:
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Leaf:
    ...     name: str
    >>> @dataclass(frozen=True)
    ... class Pair:
    ...     left: object
    ...     rights: tuple
    >>> tree = Pair(Leaf("a"), (Leaf("b"), (Leaf("c"),)))
    >>> [leaf.name for leaf in dataclass_children(tree, Leaf)]
    ['a', 'b', 'c']
    >>> [type(node).__name__ for node in walk_depth_first(tree, lambda n: dataclass_children(n, (Leaf, Pair)))]
    ['Pair', 'Leaf', 'Leaf', 'Leaf']
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

__all__ = ["dataclass_children", "walk_depth_first"]

NodeT = TypeVar("NodeT")


def dataclass_children(node: Any, kind: type[NodeT] | tuple[type, ...]) -> Iterator[NodeT]:
    """The ``kind`` instances among ``node``'s field values, in field order, looking into tuples (pairs
    of a map constructor, lists of arguments) at any depth."""
    for f in dataclasses.fields(node):
        yield from _instances_in(getattr(node, f.name), kind)


def _instances_in(value: object, kind: type[NodeT] | tuple[type, ...]) -> Iterator[NodeT]:
    if isinstance(value, kind):
        yield value  # type: ignore[misc]
    elif isinstance(value, tuple):
        for item in value:
            yield from _instances_in(item, kind)


def walk_depth_first(root: NodeT, children: Callable[[NodeT], Iterable[NodeT]]) -> Iterator[NodeT]:
    """``root`` and every node below it, depth first, parents before children, children in order."""
    stack = [root]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(list(children(current))))

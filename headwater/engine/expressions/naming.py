"""Names ksqlDB gives to unaliased SELECT items, and the text of its per-row error messages.

ksqlDB's rules (its ``ColumnNames``):

* a column reference keeps the column's name (after a join, the joined name such as ``I1_BAR``);
* a struct dereference ``a->b->c`` is named after its last field, ``C``, made unique against the
  source columns and earlier generated names by a numeric suffix (``C_1``, ``C_2``...);
* anything else is ``KSQL_COL_<n>``, ``n`` counting generated names from 0 and skipping the numbers
  the sources' own ``KSQL_COL_<n>`` columns use.

Example:
    >>> from headwater.parser.expressions import ColumnRef, Dereference, FunctionCall
    >>> names = ColumnAliasGenerator(["ITEMID", "B"])
    >>> [names.alias_for(x) for x in (ColumnRef("B"), Dereference(ColumnRef("A"), "B"),
    ...                               FunctionCall("ABS", (ColumnRef("B"),)), Dereference(ColumnRef("C"), "B"))]
    ['B', 'B_1', 'KSQL_COL_0', 'B_2']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from headwater.engine.expressions.formatting import format_expression
from headwater.engine.expressions.scope import Scope
from headwater.errors import PlanError
from headwater.parser.expressions import ColumnRef, Dereference, Expression

__all__ = ["GENERATED_PREFIX", "ColumnAliasGenerator", "error_context", "select_column_names"]

GENERATED_PREFIX = "KSQL_COL"

_NUMBERED = re.compile(r"(?P<name>.*?)(?:_(?P<number>\d+))?")


def _split(name: str) -> tuple[str, int]:
    match = _NUMBERED.fullmatch(name)
    assert match is not None
    number = match.group("number")
    return match.group("name"), 0 if number is None else int(number)


class _Counter:
    """Hands out ``PREFIX`` / ``PREFIX_n`` names not already used (index 0 is the bare prefix, except
    for generated names, which always carry their number)."""

    def __init__(self, prefix: str, used: set[int]) -> None:
        self.prefix = prefix
        self.used = used
        self.next = 0

    def take(self) -> str:
        while self.next in self.used:
            self.next += 1
        index = self.next
        self.next += 1
        if index == 0 and self.prefix != GENERATED_PREFIX:
            return self.prefix
        return f"{self.prefix}_{index}"


class ColumnAliasGenerator:
    """Names for the unaliased items of one SELECT, unique against ``source_columns`` (the names of
    every column of every source of the query), in the order the items are asked for."""

    def __init__(self, source_columns: Iterable[str]) -> None:
        used: dict[str, set[int]] = {}
        for name in source_columns:
            base, number = _split(name)
            used.setdefault(base, set()).add(number)
        self._counters = {base: _Counter(base, numbers) for base, numbers in used.items()}
        self._counters.setdefault(GENERATED_PREFIX, _Counter(GENERATED_PREFIX, set()))

    def next_generated(self) -> str:
        """The next ``KSQL_COL_<n>``."""
        return self._counters[GENERATED_PREFIX].take()

    def alias_for(self, expression: Expression, scope: Scope | None = None) -> str:
        """The name of an unaliased item (see the module docstring). With ``scope``, a column reference
        is named after the batch column it resolves to (``I1_BAR`` after a join)."""
        if isinstance(expression, ColumnRef):
            if scope is not None:
                try:
                    return scope.resolve(expression).field
                except PlanError:
                    pass
            return expression.name
        if isinstance(expression, Dereference):
            base, _ = _split(expression.field)
            counter = self._counters.get(base)
            if counter is None:
                counter = self._counters[base] = _Counter(base, set())
            return counter.take()
        return self.next_generated()


def select_column_names(
    items: Sequence[tuple[Expression, str | None]], source_columns: Iterable[str], scope: Scope | None = None
) -> list[str]:
    """The output names of a SELECT list: each item's alias, or ksqlDB's generated name.

    Example:
        >>> from headwater.parser.expressions import ColumnRef, IntegerLiteral
        >>> select_column_names([(ColumnRef("A"), None), (IntegerLiteral(1), None), (ColumnRef("A"), "X")], ["A"])
        ['A', 'KSQL_COL_0', 'X']
    """
    generator = ColumnAliasGenerator(source_columns)
    return [alias if alias is not None else generator.alias_for(expr, scope) for expr, alias in items]


def error_context(expression: Expression, column: str, index: int) -> str:
    """ksqlDB's processing-log text for a SELECT item that failed on a row.

    Example:
        >>> from headwater.parser.expressions import ColumnRef
        >>> error_context(ColumnRef("A"), "KSQL_COL_0", 1)
        'Error computing expression A for column KSQL_COL_0 with index 1'
    """
    return (
        f"Error computing expression {format_expression(expression)} for column {column} with index {index}"
    )

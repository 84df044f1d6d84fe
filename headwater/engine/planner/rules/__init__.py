"""Rewrite rules the planner applies to a query's expressions before binding them, one per module.

Each rule is a plain function from an expression to an expression (returning its input when nothing
applies), listed in :data:`WHERE_RULES` in the order they run. A rule only rewrites what ksqlDB's own
statement rewriters rewrite; each module names the ksqlDB class it follows.
"""

from __future__ import annotations

from collections.abc import Callable

from headwater.engine.planner.rules.pseudo_timestamp_literals import pseudo_timestamp_literals
from headwater.parser import expressions as pe

__all__ = ["WHERE_RULES", "apply_rules"]

Rule = Callable[[pe.Expression], pe.Expression]

WHERE_RULES: tuple[Rule, ...] = (pseudo_timestamp_literals,)
"""The rules applied to a WHERE clause, in order."""


def apply_rules(expression: pe.Expression, rules: tuple[Rule, ...]) -> pe.Expression:
    """``expression`` after every rule of ``rules``, in order."""
    for rule in rules:
        expression = rule(expression)
    return expression

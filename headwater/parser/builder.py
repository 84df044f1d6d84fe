"""The tree builder: every grammar callback, statements and expressions together.

lark wraps these methods into the parse table's reductions (:mod:`headwater.parser.lalr`); each is
named after a rule or alias of ``grammar.lark``. The builder keeps no state between calls, so one
instance serves every thread.
"""

from __future__ import annotations

from headwater.parser.build_expressions import ExpressionCallbacks
from headwater.parser.build_statements import StatementCallbacks

__all__ = ["Builder"]


class Builder(StatementCallbacks, ExpressionCallbacks):
    """All grammar callbacks. (Every rule has one; the tests check that no lark Tree is left in a
    parsed statement.)"""

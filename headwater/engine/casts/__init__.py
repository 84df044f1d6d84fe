"""CAST between SQL types, with ksqlDB's rules and Java's arithmetic and text, vectorized over Arrow.

The planner asks :func:`check_cast` (or :func:`can_cast`) whether ``CAST(x AS T)`` is allowed and gets
ksqlDB's error otherwise; the expression compiler calls :func:`cast` on whole columns; function
resolution and type inference use :func:`implicit_cast_allowed` and :func:`common_super_type`.

================================  =====================================================================
name                              use
================================  =====================================================================
``cast(values, from, to)``        convert a column (or a literal scalar); a bad row raises
                                  ``FunctionError`` with ksqlDB's message
``try_cast(values, from, to)``    the same, returning every row failure instead of raising
``can_cast`` / ``check_cast``     is the cast allowed; ``check_cast`` raises ``PlanError``
                                  ``Cast of X to Y is not supported``
``implicit_cast_allowed``         may a value of one type be passed where another is expected
``super_type`` /                  the common type of CASE / IN / COALESCE / constructor operands;
``common_super_type``             ``IncompatibleTypesError`` when there is none
``type_text``                     a type as ksqlDB prints it in messages
================================  =====================================================================

The modules hold one family each: :mod:`.numeric`, :mod:`.text` (to and from STRING),
:mod:`.temporal`, :mod:`.nested` (ARRAY, MAP, STRUCT element-wise), with Java's number formatting and
parsing in :mod:`.java_text` (shared with the key and value formats), and DECIMALs whose unscaled values
fit 64 bits handled as numpy words in :mod:`.decimal_words` (shared with the expressions' arithmetic).

Example:
    >>> import pyarrow as pa
    >>> from headwater.parser import types as t
    >>> cast(pa.array([1.5, 1e10, None]), t.DOUBLE, t.STRING).to_pylist()
    ['1.5', '1.0E10', None]
    >>> cast(pa.array([" 42 ", "7"]), t.STRING, t.INT).to_pylist()
    [42, 7]
    >>> try_cast(pa.array(["x"]), t.STRING, t.INT).failures
    {0: 'For input string: "x"'}
"""

from __future__ import annotations

from headwater.engine.casts.dispatch import cast, try_cast
from headwater.engine.casts.outcome import CastResult
from headwater.engine.casts.rules import (
    BIGINT_AS_DECIMAL,
    INT_AS_DECIMAL,
    IncompatibleTypesError,
    can_cast,
    check_cast,
    common_super_type,
    decimal_for,
    implicit_cast_allowed,
    super_type,
    type_text,
    unsupported_cast_message,
)

__all__ = [
    "BIGINT_AS_DECIMAL",
    "INT_AS_DECIMAL",
    "CastResult",
    "IncompatibleTypesError",
    "can_cast",
    "cast",
    "check_cast",
    "common_super_type",
    "decimal_for",
    "implicit_cast_allowed",
    "super_type",
    "try_cast",
    "type_text",
    "unsupported_cast_message",
]

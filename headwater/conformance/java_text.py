"""Java's text of values, where ksqlDB's expected outputs depend on it.

The harness reads KAFKA-format doubles back through ``BigDecimal.valueOf(double)``, which goes through
``Double.toString``; ksqlDB's test UDTF turns its arguments into strings with ``String.valueOf``. Both
formats differ from Python's (``1.0E10`` rather than ``1e10``; ``Struct{A=bar}`` for a Connect struct).
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from headwater.parser import types as t

__all__ = ["java_double_text", "java_string_of"]


def java_double_text(value: float) -> str:
    """Java's ``Double.toString``: plain notation for 1e-3 <= |v| < 1e7 with at least one decimal, else
    ``d.dddE<n>``; the digits are the shortest that read back as the same double.

    Example:
        >>> java_double_text(3.1), java_double_text(1e10), java_double_text(0.0001)
        ('3.1', '1.0E10', '1.0E-4')
    """
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    shortest = Decimal(repr(value))
    if 1e-3 <= abs(value) < 1e7:
        text = format(shortest, "f")
        return text if "." in text else text + ".0"
    sign, digit_tuple, exponent = shortest.normalize().as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(str(d) for d in digit_tuple)
    power = len(digits) - 1 + exponent
    return f"{'-' if sign else ''}{digits[0]}.{digits[1:] or '0'}E{power}"


def java_string_of(value: Any, sql_type: t.SqlType) -> str:
    """Java's ``String.valueOf`` / ``toString`` of a value of ``sql_type`` as TestUdtf formats it:
    doubles as ``Double.toString``, decimals as ``BigDecimal.toString``, structs as Kafka Connect's
    ``Struct{A=bar}`` (NULL fields left out)."""
    if value is None:
        return "null"
    if isinstance(sql_type, t.Struct):
        inner = ",".join(
            f"{name}={java_string_of(value.get(name), field_type)}"
            for name, field_type in sql_type.fields
            if value.get(name) is not None
        )
        return "Struct{" + inner + "}"
    if sql_type == t.DOUBLE:
        return java_double_text(float(value))
    if sql_type == t.BOOLEAN:
        return "true" if value else "false"
    return str(value)

"""Java's text forms of numbers, which ksqlDB's functions expose (ARRAY_JOIN, TO_JSON_STRING...).

``Double.toString`` writes a decimal that reads back as the same double, in plain notation between 10^-3
and 10^7 (``1.0``, ``0.001``, ``1234567.0``) and in computerized scientific notation outside (``1.0E7``,
``1.0E-4``). It is the casts' :func:`~headwater.engine.casts.java_text.java_double_str` (one
implementation, checked digit for digit against a JDK 17's, e.g. ``Double.MIN_VALUE`` is ``4.9E-324``).
``BigDecimal.toString`` switches to scientific notation when the exponent is below -6.

Example:
    >>> [java_double_str(v) for v in (1.0, 12345678.0, 0.0001, float("nan"), -0.0)]
    ['1.0', '1.2345678E7', '1.0E-4', 'NaN', '-0.0']
"""

from __future__ import annotations

import decimal

from headwater.engine.casts.java_text import java_double_str

__all__ = ["java_decimal_str", "java_double_str"]


def java_decimal_str(value: decimal.Decimal) -> str:
    """Java's ``BigDecimal.toString()``: plain unless the adjusted exponent is below -6 or the scale
    is negative, then scientific with ``E``."""
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    coefficient = "".join(map(str, digits)) or "0"
    scale = -exponent
    adjusted = len(coefficient) - 1 - scale
    text: str
    if scale >= 0 and adjusted >= -6:
        if scale == 0:
            text = coefficient
        elif len(coefficient) > scale:
            text = coefficient[:-scale] + "." + coefficient[-scale:]
        else:
            text = "0." + "0" * (scale - len(coefficient)) + coefficient
    else:
        text = coefficient[0] + ("." + coefficient[1:] if len(coefficient) > 1 else "")
        text += "E" + ("+" if adjusted > 0 else "") + str(adjusted)
    return ("-" if sign else "") + text

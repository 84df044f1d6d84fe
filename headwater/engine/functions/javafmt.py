"""Java's text forms of numbers, which ksqlDB's functions expose (ARRAY_JOIN, TO_JSON_STRING...).

``Double.toString`` writes the shortest decimal that reads back as the same double, in plain notation
between 10^-3 and 10^7 (``1.0``, ``0.001``, ``1234567.0``) and in computerized scientific notation
outside (``1.0E7``, ``1.0E-4``); Python's ``repr`` finds the same digits, so only the layout differs.
``BigDecimal.toString`` switches to scientific notation when the exponent is below -6.

Example:
    >>> [java_double_str(v) for v in (1.0, 12345678.0, 0.0001, float("nan"), -0.0)]
    ['1.0', '1.2345678E7', '1.0E-4', 'NaN', '-0.0']
"""

from __future__ import annotations

import decimal
import math

__all__ = ["java_decimal_str", "java_double_str"]


def java_double_str(value: float) -> str:
    """Java's ``Double.toString(value)``."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    magnitude = abs(value)
    if 1e-3 <= magnitude < 1e7:
        text = repr(value)
        if "e" in text or "E" in text:
            text = format(decimal.Decimal(text), "f")
        return text if "." in text else text + ".0"
    sign = "-" if value < 0 else ""
    digits, exponent = _shortest_digits(magnitude)
    mantissa = digits[0] + "." + (digits[1:] or "0")
    return f"{sign}{mantissa}E{exponent}"


def _shortest_digits(magnitude: float) -> tuple[str, int]:
    """The shortest round-trip significant digits of a positive double and its decimal exponent
    (the power of ten of the first digit)."""
    text = repr(magnitude)
    mantissa, _, exp_text = text.partition("e")
    exponent = int(exp_text) if exp_text else 0
    integer, _, fraction = mantissa.partition(".")
    fraction = fraction.rstrip("0") if fraction != "0" else ""
    digits = (integer + fraction).lstrip("0")
    leading_zeros = len(integer + fraction) - len((integer + fraction).lstrip("0"))
    exponent += len(integer) - 1 - leading_zeros
    return digits.rstrip("0") or "0", exponent


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

"""Java's text of values, where ksqlDB's expected outputs depend on it.

The harness reads KAFKA-format doubles back through ``BigDecimal.valueOf(double)``, which goes through
``Double.toString``; ksqlDB's test UDTF turns its arguments into strings with ``String.valueOf``. Both
formats differ from Python's (``1.0E10`` rather than ``1e10``; ``Struct{A=bar}`` for a Connect struct).
``Double.toString`` is the engine's port of the JDK's (``java_double_text`` here), exact digit for digit.
"""

from __future__ import annotations

from typing import Any

from headwater.engine.casts.java_text import java_double_str as java_double_text
from headwater.parser import types as t

__all__ = ["java_double_text", "java_string_of"]


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

"""Validation of WITH clauses, as ksqlDB does it while it builds a statement.

ksqlDB checks a CREATE statement's properties in its parser (``CreateSourceProperties`` and
``CreateSourceAsProperties`` are built inside the AstBuilder), so a bad property is a parse failure
there: unknown names, values of the wrong type, both FORMAT and VALUE_FORMAT, a malformed WINDOW_SIZE
or TIMESTAMP_FORMAT. The same checks, with ksqlDB's messages, run here. What a property means (does
the format exist, does the topic?) is the engine's business.

Example:
    >>> parse_duration_text("10 SECONDS").millis
    10000
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from headwater.parser import expressions as ex
from headwater.parser.ast import Property
from headwater.parser.expressions import TIME_UNIT_NAMES, Duration, Span, TimeUnit
from headwater.parser.positions import AstCheckError

__all__ = [
    "INSERT_PROPERTIES",
    "SOURCE_AS_PROPERTIES",
    "SOURCE_PROPERTIES",
    "PropertyKind",
    "parse_duration_text",
    "validate_properties",
]


class PropertyKind:
    """The value types of ksqlDB's ConfigDef."""

    STRING = "STRING"
    INT = "INT"
    SHORT = "SHORT"
    LONG = "LONG"
    BOOLEAN = "BOOLEAN"


@dataclass(frozen=True, slots=True)
class PropertySpec:
    """One known property: its value type, whether it must be given, whether it may be empty."""

    name: str
    kind: str
    required: bool = False
    non_empty: bool = False


def _common(topic_required: bool) -> tuple[PropertySpec, ...]:
    """CommonCreateConfigs, in ksqlDB's definition order (which decides which error comes first)."""
    return (
        PropertySpec("KAFKA_TOPIC", PropertyKind.STRING, required=topic_required, non_empty=True),
        PropertySpec("PARTITIONS", PropertyKind.INT),
        PropertySpec("REPLICAS", PropertyKind.SHORT),
        PropertySpec("RETENTION_MS", PropertyKind.LONG),
        PropertySpec("VALUE_FORMAT", PropertyKind.STRING),
        PropertySpec("TIMESTAMP", PropertyKind.STRING),
        PropertySpec("TIMESTAMP_FORMAT", PropertyKind.STRING),
        PropertySpec("WRAP_SINGLE_VALUE", PropertyKind.BOOLEAN),
        PropertySpec("VALUE_AVRO_SCHEMA_FULL_NAME", PropertyKind.STRING),
        PropertySpec("KEY_SCHEMA_FULL_NAME", PropertyKind.STRING),
        PropertySpec("VALUE_SCHEMA_FULL_NAME", PropertyKind.STRING),
        PropertySpec("KEY_DELIMITER", PropertyKind.STRING),
        PropertySpec("VALUE_DELIMITER", PropertyKind.STRING),
        PropertySpec("KEY_FORMAT", PropertyKind.STRING),
        PropertySpec("FORMAT", PropertyKind.STRING),
        PropertySpec("KEY_SCHEMA_ID", PropertyKind.INT),
        PropertySpec("VALUE_SCHEMA_ID", PropertyKind.INT),
        PropertySpec("KEY_PROTOBUF_NULLABLE_REPRESENTATION", PropertyKind.STRING),
        PropertySpec("VALUE_PROTOBUF_NULLABLE_REPRESENTATION", PropertyKind.STRING),
        PropertySpec("CLEANUP_POLICY", PropertyKind.STRING),
    )


# CREATE STREAM / CREATE TABLE (CreateConfigs): the topic is required, windowing may be declared.
SOURCE_PROPERTIES: tuple[PropertySpec, ...] = (
    PropertySpec("WINDOW_TYPE", PropertyKind.STRING),
    PropertySpec("WINDOW_SIZE", PropertyKind.STRING),
    PropertySpec("SOURCE_CONNECTOR", PropertyKind.STRING),
    PropertySpec("SOURCED_BY_CONNECTOR", PropertyKind.STRING),
    *_common(topic_required=True),
)
# CREATE STREAM|TABLE ... AS SELECT (CreateAsConfigs).
SOURCE_AS_PROPERTIES: tuple[PropertySpec, ...] = _common(topic_required=False)
# INSERT INTO ... SELECT (InsertIntoConfigs).
INSERT_PROPERTIES: tuple[PropertySpec, ...] = (PropertySpec("QUERY_ID", PropertyKind.STRING),)

_WINDOW_TYPES = ("SESSION", "HOPPING", "TUMBLING")

# The SQL spellings, plus MILLIS; NANOS and MICROS map to None and are refused as unknown units.
_DURATION_UNITS: dict[str, TimeUnit | None] = {
    "NANOS": None,
    "MICROS": None,
    "MILLIS": TimeUnit.MILLISECONDS,
    **TIME_UNIT_NAMES,
}


def parse_duration_text(text: str) -> Duration:
    """A duration written as text (``'10 SECONDS'``), as ksqlDB's DurationParser reads WINDOW_SIZE.

    Raises:
        ValueError: with ksqlDB's message, e.g. ``Invalid duration: '30 bobs'. Unknown time unit: 'BOBS'``.
    """
    parts = re.split(r"\s", text)
    if len(parts) != 2:
        raise ValueError(f"Invalid duration: '{text}'. Expected 2 tokens, got: {len(parts)}")
    number, unit_name = parts
    if not re.fullmatch(r"[+-]?[0-9]+", number) or not -(2**63) <= int(number) < 2**63:
        raise ValueError(f"Invalid duration: '{text}'. Not numeric: '{number}'")
    unit = _DURATION_UNITS.get(unit_name.upper())
    if unit is None:
        raise ValueError(f"Invalid duration: '{text}'. Unknown time unit: '{unit_name.upper()}'")
    return Duration(int(number), unit)


def _java_value(value: ex.Expression) -> object:
    """The Java object ksqlDB's Literal.getValue() gives for a property value."""
    if isinstance(value, ex.StringLiteral):
        return value.value
    if isinstance(value, ex.IntegerLiteral | ex.DecimalLiteral | ex.DoubleLiteral | ex.BooleanLiteral):
        return value.value
    return None


def _java_class(value: object) -> str:
    if isinstance(value, bool):
        return "java.lang.Boolean"
    if isinstance(value, int):
        return "java.lang.Integer" if -(2**31) <= value < 2**31 else "java.lang.Long"
    if isinstance(value, Decimal):
        return "java.math.BigDecimal"
    if isinstance(value, float):
        return "java.lang.Double"
    return "java.lang.String"


def _java_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _type_error(spec: PropertySpec, value: object) -> str | None:
    """ConfigDef.parseType's complaint about ``value`` for ``spec``, or None when it fits."""
    kind = spec.kind
    if value is None:
        return None
    if kind == PropertyKind.STRING:
        if isinstance(value, str):
            return None
        return f"Expected value to be a string, but it was a {_java_class(value)}"
    if kind == PropertyKind.BOOLEAN:
        if isinstance(value, bool) or (isinstance(value, str) and value.strip().lower() in ("true", "false")):
            return None
        return "Expected value to be either true or false"
    bits, label = {
        PropertyKind.INT: (32, "a 32-bit integer"),
        PropertyKind.SHORT: (16, "a 16-bit integer (short)"),
        PropertyKind.LONG: (64, "a 64-bit integer (long)"),
    }[kind]
    number: int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, Decimal | float) and kind == PropertyKind.SHORT:
        number = int(value)  # ksqlDB narrows any number to short for SHORT properties
    elif isinstance(value, str) and re.fullmatch(r"\s*[+-]?[0-9]+\s*", value):
        number = int(value)
    if number is not None and -(2 ** (bits - 1)) <= number < 2 ** (bits - 1):
        return None
    if isinstance(value, int) and kind == PropertyKind.INT and not isinstance(value, bool):
        return f"Expected value to be {label}, but it was a {_java_class(value)}"
    if isinstance(value, str):
        return f"Not a number of type {kind}"
    return f"Expected value to be {label}, but it was a {_java_class(value)}"


def _fail(message: str, where: Span | None) -> AstCheckError:
    return AstCheckError.at(f"Failed to prepare statement: {message}", where)


def validate_properties(
    properties: Sequence[Property],
    specs: Sequence[PropertySpec],
    where: Span | None,
    *,
    window_checks: bool = False,
) -> None:
    """Check a WITH clause against ``specs`` as ksqlDB's PropertiesConfig and CreateSourceProperties do.

    Args:
        properties: the clause, names already upper-cased.
        specs: the properties this statement kind knows.
        where: the statement's position, for errors about missing properties.
        window_checks: also check WINDOW_TYPE and WINDOW_SIZE (CREATE STREAM|TABLE without AS).

    Raises:
        AstCheckError: with ksqlDB's message.
    """
    given: dict[str, Property] = {}
    for item in properties:
        if item.name in given:
            first = given[item.name]
            raise _fail(
                f"Multiple entries with same key: {item.name}={_literal_text(first.value)} "
                f"and {item.name}={_literal_text(item.value)}",
                item.span,
            )
        given[item.name] = item
    known = {spec.name: spec for spec in specs}
    # ConfigDef.parse: types and required values first, in definition order.
    for spec in specs:
        prop = given.get(spec.name)
        if prop is None:
            if spec.required:
                raise _fail(f'Missing required property "{spec.name}" which has no default value.', where)
            continue
        value = _java_value(prop.value)
        problem = _type_error(spec, value)
        if problem is not None:
            raise _fail(f"Invalid value {_java_text(value)} for property {spec.name}: {problem}", prop.span)
        if spec.non_empty and isinstance(value, str) and not value.strip():
            raise _fail(
                f"Invalid value {value} for property {spec.name}: String must be non-empty", prop.span
            )
        window_type_ok = not isinstance(value, str) or value.upper() in _WINDOW_TYPES
        if window_checks and spec.name == "WINDOW_TYPE" and not window_type_ok:
            raise _fail(
                f"Invalid value {value} for property WINDOW_TYPE: String must be one of: "
                + ", ".join(_WINDOW_TYPES),
                prop.span,
            )
        if window_checks and spec.name == "WINDOW_SIZE" and isinstance(value, str):
            try:
                parse_duration_text(value)
            except ValueError as error:
                raise _fail(f"Configuration WINDOW_SIZE is invalid: {error}", prop.span) from error
    unknown = [name for name in given if name not in known]
    if unknown:
        raise _fail(
            "Invalid config variable(s) in the WITH clause: " + ",".join(unknown), given[unknown[0]].span
        )
    _check_formats(given)
    timestamp_format = given.get("TIMESTAMP_FORMAT")
    if timestamp_format is not None:
        pattern = _java_value(timestamp_format.value)
        if isinstance(pattern, str):
            reason = datetime_pattern_error(pattern)
            if reason is not None:
                raise _fail(
                    f"Invalid datetime format for config:TIMESTAMP_FORMAT, reason:{reason}",
                    timestamp_format.span,
                )
    if window_checks:
        _check_window(given, where)


def _literal_text(value: ex.Expression) -> str:
    java = _java_value(value)
    return "null" if java is None else _java_text(java)


def _check_formats(given: dict[str, Property]) -> None:
    """CommonCreateConfigs.validateKeyValueFormats."""
    format_prop = given.get("FORMAT")
    if format_prop is not None and _java_value(format_prop.value) is not None:
        for other in ("KEY_FORMAT", "VALUE_FORMAT"):
            prop = given.get(other)
            if prop is not None and _java_value(prop.value) is not None:
                raise _fail(
                    f"Cannot supply both '{other}' and 'FORMAT' properties, as 'FORMAT' sets both key and "
                    "value formats. Either use just 'FORMAT', or use 'KEY_FORMAT' and 'VALUE_FORMAT'.",
                    prop.span,
                )
    avro_name = given.get("VALUE_AVRO_SCHEMA_FULL_NAME")
    schema_name = given.get("VALUE_SCHEMA_FULL_NAME")
    both_names = avro_name is not None and _java_value(avro_name.value) is not None
    if both_names and schema_name is not None and _java_value(schema_name.value) is not None:
        raise _fail(
            "Cannot supply both 'VALUE_AVRO_SCHEMA_FULL_NAME' and 'VALUE_SCHEMA_FULL_NAME' properties. "
            "Please only set 'VALUE_SCHEMA_FULL_NAME'.",
            schema_name.span,
        )


def _check_window(given: dict[str, Property], where: Span | None) -> None:
    """CreateSourceProperties.validateWindowInfo."""
    type_prop = given.get("WINDOW_TYPE")
    size_prop = given.get("WINDOW_SIZE")
    window_type = _java_value(type_prop.value) if type_prop is not None else None
    window_size = _java_value(size_prop.value) if size_prop is not None else None
    requires_size = isinstance(window_type, str) and window_type.upper() != "SESSION"
    if requires_size and window_size is None:
        assert isinstance(window_type, str)
        raise _fail(
            f"{window_type.upper()} windows require 'WINDOW_SIZE' to be provided in the WITH clause. "
            "For example: 'WINDOW_SIZE'='10 SECONDS'",
            type_prop.span if type_prop is not None else where,
        )
    if not requires_size and window_size is not None:
        raise _fail(
            "'WINDOW_SIZE' should not be set for SESSION windows.",
            size_prop.span if size_prop is not None else where,
        )


# Pattern letters of java.time.format.DateTimeFormatter.
_PATTERN_LETTERS = frozenset("GuyDMLdQqYwWEecFaBhKkHmsSAnNVvzOXxZp")
_RESERVED_PATTERN_CHARS = frozenset("#{}")


def datetime_pattern_error(pattern: str) -> str | None:
    """Why Java's DateTimeFormatter.ofPattern would reject ``pattern``, or None if it accepts it.

    Covers the checks that matter in practice: unknown letters, reserved characters, unclosed quotes
    and optional sections, and over-long letter runs.
    """
    index = 0
    depth = 0
    length = len(pattern)
    while index < length:
        char = pattern[index]
        if char == "'":
            close = index + 1
            while True:
                close = pattern.find("'", close)
                if close == -1:
                    return f"Pattern ends with an incomplete string literal: {pattern}"
                if close + 1 < length and pattern[close + 1] == "'":
                    close += 2
                    continue
                break
            index = close + 1
            continue
        if char == "[":
            depth += 1
        elif char == "]":
            if depth == 0:
                return "Pattern invalid as it contains ] without previous ["
            depth -= 1
        elif char in _RESERVED_PATTERN_CHARS:
            return f"Pattern includes reserved character: '{char}'"
        elif char.isascii() and char.isalpha():
            run = index
            while run < length and pattern[run] == char:
                run += 1
            count = run - index
            if char not in _PATTERN_LETTERS:
                return f"Unknown pattern letter: {char}"
            if count > _MAX_RUN.get(char, 20):
                return f"Too many pattern letters: {char}"
            index = run
            continue
        index += 1
    return None


_MAX_RUN = {
    "G": 5, "u": 19, "y": 19, "Y": 19, "D": 3, "M": 5, "L": 5, "d": 2, "Q": 5, "q": 5, "w": 2, "W": 1,
    "E": 5, "e": 5, "c": 5, "F": 1, "a": 1, "B": 5, "h": 2, "K": 2, "k": 2, "H": 2, "m": 2, "s": 2,
    "S": 9, "A": 19, "n": 19, "N": 19, "V": 2, "v": 4, "z": 4, "O": 4, "X": 5, "x": 5, "Z": 5, "p": 19,
}  # fmt: skip

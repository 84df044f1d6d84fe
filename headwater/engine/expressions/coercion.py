"""Common types for user-written lists: IN lists and the ARRAY and MAP constructors (ksqlDB's
CoercionUtil), and the conversions that bring a bound expression to a type.

ksqlDB finds the type a list's items meet in by folding them left to right:

* NULL literals take no part (they take the common type afterwards);
* numbers widen (INTEGER < BIGINT < DECIMAL < DOUBLE, DECIMALs widened to hold both);
* a STRING literal beside numbers is read as the number it spells (``'4.000'`` is a DECIMAL(4, 3),
  ``'10 - not a number'`` is an error), beside BOOLEANs it must spell a boolean;
* ARRAY, MAP and STRUCT constructors are matched element by element (a STRUCT's fields are the union
  of both sides' fields);
* any other pair must convert one way or the other (ksqlDB's ``canCoerce`` both ways), with the LAX
  rules for a literal (a number or a BOOLEAN can become a STRING) and the STRICT ones for any other
  expression, else: "operator does not exist: BOOLEAN = INTEGER (10)". So ``ID IN (10, VAL0)`` for a
  STRING ``ID`` accepts 10 and then refuses a DOUBLE ``VAL0``.

The items are then converted: literals become literals of the common type at bind time, other
expressions get an implicit cast.

Example:
    >>> from headwater.parser import types as t
    >>> str(coerce_type(t.Array(t.INT), t.Array(t.BIGINT)))
    'ARRAY<BIGINT>'
    >>> string_numeric_type("4.000"), string_numeric_type("2147483648")
    (Decimal(precision=4, scale=3), Primitive(kind=<PrimitiveKind.BIGINT: 'BIGINT'>))
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from headwater.engine.casts.rules import super_type
from headwater.engine.expressions.bound import (
    Bound,
    BoundArray,
    BoundCast,
    BoundLiteral,
    BoundMap,
    BoundNull,
    BoundStruct,
)
from headwater.engine.expressions.errors import CoercionError
from headwater.engine.schema import format_type
from headwater.engine.types import (
    base_type_name,
    common_numeric_type,
    decimal_literal_type,
    is_numeric,
    numeric_rank,
    widen_decimals,
)
from headwater.parser import expressions as e
from headwater.parser import types as t

if TYPE_CHECKING:
    from headwater.engine.expressions.binder import Binder

__all__ = [
    "coerce_type",
    "coerce_user_list",
    "convert",
    "convert_literal_value",
    "parse_boolean",
    "string_numeric_type",
]

_LITERALS = (
    e.IntegerLiteral,
    e.DecimalLiteral,
    e.DoubleLiteral,
    e.StringLiteral,
    e.BooleanLiteral,
    e.TypedLiteral,
)
"""What ksqlDB's ``CoercionUtil`` treats as a literal: coerced with its LAX rules, not its STRICT ones."""
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_BIGINT_MIN, _BIGINT_MAX = -(2**63), 2**63 - 1


class _NoCommonType(CoercionError):
    """Two items that do not convert either way (re-worded by an enclosing constructor)."""


def parse_boolean(text: str) -> bool | None:
    """ksqlDB's lenient boolean spelling: a non-empty prefix of TRUE or YES, FALSE or NO, any case.

    Example:
        >>> parse_boolean("tr"), parse_boolean("N"), parse_boolean("maybe")
        (True, False, None)
    """
    lowered = text.strip().lower()
    if not lowered:
        return None
    if "true".startswith(lowered) or "yes".startswith(lowered):
        return True
    if "false".startswith(lowered) or "no".startswith(lowered):
        return False
    return None


def _parse_decimal(text: str) -> Decimal | None:
    stripped = text.strip()
    if not stripped or "_" in stripped:
        return None
    try:
        value = Decimal(stripped)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def string_numeric_type(text: str) -> t.SqlType | None:
    """The numeric type a string spells, as ksqlDB reads string literals in numeric lists: an integer
    strictly inside the 32-bit range is an INTEGER, inside the 64-bit range a BIGINT, anything else a
    DECIMAL of its digits. None when the text is not a number."""
    value = _parse_decimal(text)
    if value is None:
        return None
    scientific = any(c in text for c in ".eE")
    if not scientific and value == value.to_integral_value():
        whole = int(value)
        if _INT_MIN < whole < _INT_MAX:
            return t.INT
        if _BIGINT_MIN < whole < _BIGINT_MAX:
            return t.BIGINT
    return decimal_literal_type(value)


def coerce_type(source: t.SqlType, target: t.SqlType) -> t.SqlType | None:
    """The type ``source`` values take to meet ``target`` values, widening only, or None.

    Numbers widen to the wider kind (a DECIMAL target widens to hold both); ARRAY and MAP recurse; a
    STRUCT becomes the union of both field lists, common fields coerced.
    """
    if source == target:
        return target
    if is_numeric(source) and is_numeric(target):
        src_rank, dst_rank = numeric_rank(source), numeric_rank(target)
        assert src_rank is not None and dst_rank is not None
        if src_rank > dst_rank:
            return None
        return widen_decimals(source, target) if isinstance(target, t.Decimal) else target
    if isinstance(source, t.Array) and isinstance(target, t.Array):
        element = coerce_type(source.element, target.element)
        return None if element is None else t.Array(element)
    if isinstance(source, t.Map) and isinstance(target, t.Map):
        key = coerce_type(source.key, target.key)
        value = coerce_type(source.value, target.value)
        return None if key is None or value is None else t.Map(key, value)
    if isinstance(source, t.Struct) and isinstance(target, t.Struct):
        fields: list[tuple[str, t.SqlType]] = []
        for name in dict.fromkeys([n for n, _ in target.fields] + [n for n, _ in source.fields]):
            src, dst = source.field(name), target.field(name)
            if src is None or dst is None:
                fields.append((name, src or dst))  # type: ignore[arg-type]
                continue
            common = coerce_type(src, dst)
            if common is None:
                return None
            fields.append((name, common))
        return t.Struct(tuple(fields))
    return None


def coerce_user_list(binder: Binder, nodes: Sequence[e.Expression]) -> tuple[t.SqlType | None, list[Bound]]:
    """Bind ``nodes``, find their common type and convert each to it.

    Returns:
        (common type, converted items); the type is None when every item is a NULL literal, and the
        items are then returned as bound.

    Raises:
        CoercionError: no common type, or a string literal that does not spell the common type.
    """
    bounds = [binder.bind(node) for node in nodes]
    common: t.SqlType | None = None
    for node, bound in zip(nodes, bounds):
        common = _combine(binder, node, bound.type, common)
    if common is None:
        return None, bounds
    return common, [_to_common(binder, n, b, common) for n, b in zip(nodes, bounds)]


def _combine(
    binder: Binder, node: e.Expression, source: t.SqlType | None, common: t.SqlType | None
) -> t.SqlType | None:
    if common is None:
        return source
    if source is None:
        return common
    if isinstance(node, e.ArrayConstructor):
        return _structured(binder, node, source, common, _array_common)
    if isinstance(node, e.MapConstructor):
        return _structured(binder, node, source, common, _map_common)
    if isinstance(node, e.StructConstructor):
        return _structured(binder, node, source, common, _struct_common)
    if isinstance(node, e.StringLiteral):
        if is_numeric(common):
            return _numeric_from_string(node.value, common)
        if common == t.BOOLEAN:
            if parse_boolean(node.value) is None:
                raise CoercionError(_syntax(node.value, common))
            return common
    # a literal meets the list with ksqlDB's LAX rules (the number 10 can be a STRING), any other
    # expression with the STRICT ones (a DOUBLE column cannot)
    found = super_type(source, common, lax=isinstance(node, _LITERALS))
    if found is None:
        raise _NoCommonType(_no_operator(common, source, binder.text(node)))
    return found


def _no_operator(target: t.SqlType, source: t.SqlType, text: str) -> str:
    return (
        f"operator does not exist: {format_type(target)} = {format_type(source)} ({text})\n"
        "Hint: You might need to add explicit type casts."
    )


def _syntax(value: str, target: t.SqlType) -> str:
    return f'invalid input syntax for type {base_type_name(target)}: "{value}".'


def _numeric_from_string(value: str, target: t.SqlType) -> t.SqlType:
    source = string_numeric_type(value)
    if source is None:
        raise CoercionError(_syntax(value, target))
    if t.DOUBLE in (source, target):
        return t.DOUBLE
    if isinstance(source, t.Decimal) or isinstance(target, t.Decimal):
        return widen_decimals(source, target)
    return common_numeric_type(source, target)


def _structured(
    binder: Binder, node: e.Expression, source: t.SqlType, common: t.SqlType, rule: Any
) -> t.SqlType:
    try:
        result: t.SqlType = rule(binder, node, common)
    except _NoCommonType:
        raise _NoCommonType(_no_operator(common, source, binder.text(node))) from None
    return result


def _fold(binder: Binder, target: t.SqlType, nodes: Sequence[e.Expression]) -> t.SqlType:
    common: t.SqlType | None = target
    for node in nodes:
        common = _combine(binder, node, binder.bind(node).type, common)
    assert common is not None
    return common


def _array_common(binder: Binder, node: e.ArrayConstructor, common: t.SqlType) -> t.SqlType:
    if not isinstance(common, t.Array):
        raise _NoCommonType("")
    return t.Array(_fold(binder, common.element, node.items))


def _map_common(binder: Binder, node: e.MapConstructor, common: t.SqlType) -> t.SqlType:
    if not isinstance(common, t.Map):
        raise _NoCommonType("")
    key = _fold(binder, common.key, [k for k, _ in node.entries])
    value = _fold(binder, common.value, [v for _, v in node.entries])
    return t.Map(key, value)


def _struct_common(binder: Binder, node: e.StructConstructor, common: t.SqlType) -> t.SqlType:
    if not isinstance(common, t.Struct):
        raise _NoCommonType("")
    given = dict(node.fields)
    fields: list[tuple[str, t.SqlType]] = []
    for name in dict.fromkeys([n for n, _ in node.fields] + [n for n, _ in common.fields]):
        target = common.field(name)
        if name not in given:
            assert target is not None
            fields.append((name, target))
            continue
        source = binder.bind(given[name]).type
        if target is None:
            if source is None:
                raise _NoCommonType("")
            fields.append((name, source))
        else:
            fields.append((name, _combine(binder, given[name], source, target) or target))
    return t.Struct(tuple(fields))


def _to_common(binder: Binder, node: e.Expression, bound: Bound, common: t.SqlType) -> Bound:
    """Convert one item to the list's common type, rebuilding constructors element by element so that
    their literals are converted at bind time too."""
    if bound.type is None:
        return BoundNull(common)
    if bound.type == common:
        return bound
    if isinstance(node, e.ArrayConstructor) and isinstance(common, t.Array):
        items = tuple(_to_common(binder, i, binder.bind(i), common.element) for i in node.items)
        return BoundArray(items, common)
    if isinstance(node, e.MapConstructor) and isinstance(common, t.Map):
        keys = tuple(_to_common(binder, k, binder.bind(k), common.key) for k, _ in node.entries)
        values = tuple(_to_common(binder, v, binder.bind(v), common.value) for _, v in node.entries)
        return BoundMap(keys, values, common)
    if isinstance(node, e.StructConstructor) and isinstance(common, t.Struct):
        given = dict(node.fields)
        fields = tuple(
            (
                name,
                _to_common(binder, given[name], binder.bind(given[name]), ft)
                if name in given
                else BoundNull(ft),
            )
            for name, ft in common.fields
        )
        return BoundStruct(fields, common)
    if isinstance(node, e.StringLiteral) and (is_numeric(common) or common == t.BOOLEAN):
        value = convert_literal_value(node.value, t.STRING, common)
        if value is None:
            raise CoercionError(_syntax(node.value, common))
        return BoundLiteral(value, common)
    return convert(bound, common)


def convert_literal_value(value: Any, source: t.SqlType, target: t.SqlType) -> Any:
    """A literal's value as a value of ``target`` (numbers widened, strings parsed), or None when the
    conversion is not one the binder does itself."""
    if target == t.BOOLEAN and isinstance(value, str):
        return parse_boolean(value)
    number: Decimal | None
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        number = _parse_decimal(value)
    elif isinstance(value, int | Decimal):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value)) if value == value and abs(value) != float("inf") else None
    else:
        return None
    if number is None:
        return None
    if target == t.DOUBLE:
        return float(number)
    if isinstance(target, t.Decimal):
        return number.quantize(Decimal(1).scaleb(-target.scale), rounding=ROUND_HALF_UP)
    if target in (t.INT, t.BIGINT):
        if number != number.to_integral_value():
            return None
        whole = int(number)
        low, high = (_INT_MIN, _INT_MAX) if target == t.INT else (_BIGINT_MIN, _BIGINT_MAX)
        return whole if low <= whole <= high else None
    return None


def convert(bound: Bound, target: t.SqlType) -> Bound:
    """``bound`` as a value of ``target``: itself when the type matches, a typed NULL, a literal
    converted now, or an implicit cast."""
    if bound.type == target:
        return bound
    if isinstance(bound, BoundNull):
        return BoundNull(target)
    if isinstance(bound, BoundLiteral) and is_numeric(bound.type) and is_numeric(target):
        value = convert_literal_value(bound.value, bound.type, target)
        if value is not None:
            return BoundLiteral(value, target)
    return BoundCast(bound, target, implicit=True)

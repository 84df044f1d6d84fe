"""Which conversions ksqlDB allows between SQL types: explicit CAST, implicit widening, common types.

Three tables from ksqlDB, kept apart because they answer different questions:

* **CAST** (``CastEvaluator``): every pair below, plus the identity and the element-wise casts of
  ARRAY, MAP and STRUCT whose element casts are themselves supported. Anything else is a statement
  error, ``Cast of BOOLEAN to INTEGER is not supported``.

  ==========  ===================================================================
  from        to
  ==========  ===================================================================
  BOOLEAN     STRING
  INTEGER     BIGINT, DECIMAL, DOUBLE, STRING
  BIGINT      INTEGER, DECIMAL, DOUBLE, STRING
  DECIMAL     INTEGER, BIGINT, DECIMAL, DOUBLE, STRING
  DOUBLE      INTEGER, BIGINT, DECIMAL, STRING
  STRING      BOOLEAN, INTEGER, BIGINT, DECIMAL, DOUBLE, TIMESTAMP, TIME, DATE, BYTES
  TIMESTAMP   STRING, TIME, DATE
  DATE        TIMESTAMP, STRING
  TIME        STRING
  ARRAY       ARRAY, STRING
  MAP         MAP, STRING
  STRUCT      STRUCT, STRING
  ==========  ===================================================================

* **Implicit casts** (``SqlBaseType.canImplicitlyCast``), used to resolve function calls: a type to
  itself, a number to a wider number (INTEGER -> BIGINT -> DECIMAL -> DOUBLE), and STRING to the time
  types and BYTES (so ``'2020-01-01'`` can be passed where a DATE is expected). Containers widen
  element-wise.
* **Common types** (``DefaultSqlValueCoercer.STRICT``, or ``LAX`` for literals), used by CASE, IN,
  COALESCE and the ARRAY/MAP/STRUCT constructors: the widest of two types, where an integer widens to
  a DECIMAL that holds it (INTEGER is DECIMAL(10, 0), BIGINT is DECIMAL(19, 0)) and two structs widen
  to the union of their fields.

Types print in messages as ksqlDB prints them, struct field names in backticks (:func:`type_text`).

Example:
    >>> from headwater.parser import types as t
    >>> can_cast(t.STRING, t.DATE), can_cast(t.BOOLEAN, t.INT)
    (True, False)
    >>> common_super_type([t.INT, None, t.Decimal(4, 2)])
    Decimal(precision=12, scale=2)
"""

from __future__ import annotations

from collections.abc import Sequence

from headwater.engine.types import (
    BIGINT_AS_DECIMAL,
    INT_AS_DECIMAL,
    base_type_name,
    to_decimal_type,
    widen_decimals,
)
from headwater.errors import PlanError
from headwater.parser import types as t

__all__ = [
    "BIGINT_AS_DECIMAL",
    "INT_AS_DECIMAL",
    "IncompatibleTypesError",
    "base_name",
    "can_cast",
    "check_cast",
    "common_super_type",
    "decimal_for",
    "implicit_cast_allowed",
    "super_type",
    "type_text",
    "unsupported_cast_message",
]

_K = t.PrimitiveKind
_NUMBER_ORDER = {"INTEGER": 0, "BIGINT": 1, "DECIMAL": 2, "DOUBLE": 3}

_CASTS: dict[str, frozenset[str]] = {
    "BOOLEAN": frozenset({"STRING"}),
    "INTEGER": frozenset({"BIGINT", "DECIMAL", "DOUBLE", "STRING"}),
    "BIGINT": frozenset({"INTEGER", "DECIMAL", "DOUBLE", "STRING"}),
    "DECIMAL": frozenset({"INTEGER", "BIGINT", "DECIMAL", "DOUBLE", "STRING"}),
    "DOUBLE": frozenset({"INTEGER", "BIGINT", "DECIMAL", "STRING"}),
    "STRING": frozenset(
        {"BOOLEAN", "INTEGER", "BIGINT", "DECIMAL", "DOUBLE", "TIMESTAMP", "TIME", "DATE", "BYTES"}
    ),
    "TIMESTAMP": frozenset({"STRING", "TIME", "DATE"}),
    "DATE": frozenset({"TIMESTAMP", "STRING"}),
    "TIME": frozenset({"STRING"}),
    "ARRAY": frozenset({"ARRAY", "STRING"}),
    "MAP": frozenset({"MAP", "STRING"}),
    "STRUCT": frozenset({"STRUCT", "STRING"}),
    "BYTES": frozenset(),
}


class IncompatibleTypesError(PlanError):
    """Two types with no common type (ksqlDB: ``operator does not exist: A = B``).

    Attributes:
        target: the common type found so far.
        source: the type that does not fit it.
        index: the position of ``source`` in the list given to :func:`common_super_type`.
    """

    def __init__(self, target: t.SqlType, source: t.SqlType, index: int) -> None:
        self.target = target
        self.source = source
        self.index = index
        super().__init__(f"operator does not exist: {type_text(target)} = {type_text(source)}")

    def with_expression(self, expression_sql: str) -> str:
        """ksqlDB's full message, naming the offending expression."""
        return (
            f"operator does not exist: {type_text(self.target)} = {type_text(self.source)} ({expression_sql})"
            "\nHint: You might need to add explicit type casts."
        )


def _resolved(sql_type: t.SqlType) -> t.SqlType:
    if isinstance(sql_type, t.UserType):
        raise TypeError(f"type {sql_type} must be resolved before casts can reason about it")
    return sql_type


def base_name(sql_type: t.SqlType) -> str:
    """ksqlDB's base type name: ``INTEGER``, ``DECIMAL``, ``ARRAY``, ``STRUCT``... (a user type must be
    resolved first: the cast tables know only the built-in ones)."""
    sql_type = _resolved(sql_type)
    if not _is_sql_type(sql_type):
        raise TypeError(f"not a SQL type: {sql_type!r}")
    return base_type_name(sql_type)


def _is_sql_type(sql_type: t.SqlType) -> bool:
    return isinstance(sql_type, (t.Primitive, t.Decimal, t.Array, t.Map, t.Struct))


def type_text(sql_type: t.SqlType) -> str:
    """A type as ksqlDB prints it in messages: ``STRUCT<`A` INTEGER, `b` ARRAY<STRING>>``."""
    if isinstance(sql_type, t.Array):
        return f"ARRAY<{type_text(sql_type.element)}>"
    if isinstance(sql_type, t.Map):
        return f"MAP<{type_text(sql_type.key)}, {type_text(sql_type.value)}>"
    if isinstance(sql_type, t.Struct):
        inner = ", ".join(
            "`" + name.replace("`", "``") + "` " + type_text(ft) for name, ft in sql_type.fields
        )
        return f"STRUCT<{inner}>"
    return sql_type.sql()


def unsupported_cast_message(from_type: t.SqlType, to_type: t.SqlType) -> str:
    """ksqlDB's text for a CAST it refuses."""
    return f"Cast of {type_text(from_type)} to {type_text(to_type)} is not supported"


def can_cast(from_type: t.SqlType | None, to_type: t.SqlType) -> bool:
    """Whether ``CAST(x AS to_type)`` is allowed for ``x`` of ``from_type`` (None: an untyped NULL,
    which casts to anything)."""
    if from_type is None:
        return True
    from_type, to_type = _resolved(from_type), _resolved(to_type)
    if from_type == to_type:
        return True
    source, target = base_name(from_type), base_name(to_type)
    if target not in _CASTS[source]:
        return False
    if isinstance(from_type, t.Array) and isinstance(to_type, t.Array):
        return can_cast(from_type.element, to_type.element)
    if isinstance(from_type, t.Map) and isinstance(to_type, t.Map):
        return can_cast(from_type.key, to_type.key) and can_cast(from_type.value, to_type.value)
    if isinstance(from_type, t.Struct) and isinstance(to_type, t.Struct):
        return all(
            can_cast(field_type, target_field)
            for name, field_type in from_type.fields
            if (target_field := to_type.field(name)) is not None
        )
    return True


def check_cast(from_type: t.SqlType | None, to_type: t.SqlType) -> None:
    """Raise ksqlDB's statement error if ``CAST`` from ``from_type`` to ``to_type`` is not allowed.

    Raises:
        PlanError: ``Cast of X to Y is not supported``.
    """
    if not can_cast(from_type, to_type):
        assert from_type is not None
        raise PlanError(unsupported_cast_message(from_type, to_type))


def implicit_cast_allowed(from_type: t.SqlType | None, to_type: t.SqlType) -> bool:
    """Whether a value of ``from_type`` may be passed where ``to_type`` is expected without a CAST.

    Numbers widen INTEGER -> BIGINT -> DECIMAL -> DOUBLE (any DECIMAL to any DECIMAL, as ksqlDB's
    function resolution treats DECIMAL as one type); STRING goes to TIMESTAMP, TIME, DATE and BYTES;
    arrays, maps and structs (same field names, in order) widen element-wise. None (a NULL literal)
    goes anywhere. Types that are not SQL types (the function registry's generics and parameter
    kinds) are implicitly castable only to themselves.
    """
    if from_type is None:
        return True
    from_type, to_type = _resolved(from_type), _resolved(to_type)
    if from_type == to_type:
        return True
    if not (_is_sql_type(from_type) and _is_sql_type(to_type)):
        return False  # a parameter kind of the function registry (generic, any-decimal...): no cast
    source, target = base_name(from_type), base_name(to_type)
    if source in _NUMBER_ORDER and target in _NUMBER_ORDER:
        return _NUMBER_ORDER[source] <= _NUMBER_ORDER[target]
    if source == "STRING" and target in ("TIMESTAMP", "TIME", "DATE", "BYTES"):
        return True
    if isinstance(from_type, t.Array) and isinstance(to_type, t.Array):
        return implicit_cast_allowed(from_type.element, to_type.element)
    if isinstance(from_type, t.Map) and isinstance(to_type, t.Map):
        return implicit_cast_allowed(from_type.key, to_type.key) and implicit_cast_allowed(
            from_type.value, to_type.value
        )
    if isinstance(from_type, t.Struct) and isinstance(to_type, t.Struct):
        return len(from_type.fields) == len(to_type.fields) and all(
            fn == tn and implicit_cast_allowed(ft, tt)
            for (fn, ft), (tn, tt) in zip(from_type.fields, to_type.fields)
        )
    return False


def decimal_for(sql_type: t.SqlType) -> t.Decimal:
    """The DECIMAL that holds every value of an integral or decimal type (``DecimalUtil.toSqlDecimal``).

    Raises:
        TypeError: for any other type.
    """
    decimal = to_decimal_type(sql_type)
    if decimal is None:
        raise TypeError(f"Cannot convert {base_name(sql_type)} to DECIMAL.")
    return decimal


_LAX_EXTRA: dict[str, frozenset[str]] = {
    "BOOLEAN": frozenset({"STRING"}),
    "INTEGER": frozenset({"STRING"}),
    "BIGINT": frozenset({"STRING"}),
    "DECIMAL": frozenset({"STRING"}),
    "DOUBLE": frozenset({"STRING"}),
    "STRING": frozenset({"BOOLEAN", "INTEGER", "BIGINT", "DECIMAL", "DOUBLE"}),
    "TIMESTAMP": frozenset({"STRING"}),
    "TIME": frozenset({"STRING"}),
    "DATE": frozenset({"STRING"}),
}


def _coerce_to(source: t.SqlType, target: t.SqlType, lax: bool) -> t.SqlType | None:
    """ksqlDB's ``canCoerce(source, target)``: the type able to hold both, or None."""
    s, g = base_name(source), base_name(target)
    if s == g and s not in ("DECIMAL", "ARRAY", "MAP", "STRUCT"):
        return target
    if s in _NUMBER_ORDER and g in _NUMBER_ORDER and _NUMBER_ORDER[s] <= _NUMBER_ORDER[g] and s != "DOUBLE":
        if g == "DECIMAL":
            return widen_decimals(source, target)
        return target
    if s == "STRING" and g in ("TIMESTAMP", "TIME", "DATE", "BYTES"):
        return target
    if isinstance(source, t.Array) and isinstance(target, t.Array):
        element = _coerce_to(source.element, target.element, lax)
        return None if element is None else t.Array(element)
    if isinstance(source, t.Map) and isinstance(target, t.Map):
        key = _coerce_to(source.key, target.key, lax)
        value = _coerce_to(source.value, target.value, lax)
        return None if key is None or value is None else t.Map(key, value)
    if isinstance(source, t.Struct) and isinstance(target, t.Struct):
        names = list(dict.fromkeys([n for n, _ in source.fields] + [n for n, _ in target.fields]))
        fields: list[tuple[str, t.SqlType]] = []
        for name in names:
            from_field, to_field = source.field(name), target.field(name)
            if from_field is None:
                assert to_field is not None
                fields.append((name, to_field))
            elif to_field is None:
                fields.append((name, from_field))
            else:
                common = _coerce_to(from_field, to_field, lax)
                if common is None:
                    return None
                fields.append((name, common))
        return t.Struct(tuple(fields))
    if lax and g in _LAX_EXTRA.get(s, frozenset()):
        return target
    return None


def super_type(a: t.SqlType, b: t.SqlType, *, lax: bool = False) -> t.SqlType | None:
    """The narrowest type both ``a`` and ``b`` convert to, or None.

    ``b`` is tried as the target first, then ``a`` (ksqlDB's order, which matters only for LAX
    STRING/number pairs). ``lax`` adds the conversions ksqlDB allows for literals typed by the user
    (STRING to and from BOOLEAN and the numbers, the time types to STRING).
    """
    a, b = _resolved(a), _resolved(b)
    if a == b:
        return a
    return _coerce_to(a, b, lax) or _coerce_to(b, a, lax)


def common_super_type(
    types: Sequence[t.SqlType | None], *, lax: bool | Sequence[bool] = False
) -> t.SqlType | None:
    """The common type of a list (CASE branches, IN lists, COALESCE arguments, constructor elements).

    None entries (NULL literals) are skipped; an empty or all-None list gives None. ``lax`` may be
    one flag for the whole list or one per entry: ksqlDB coerces the entries that are literals with
    its LAX rules (``ID IN (10, VAL0)`` accepts the literal 10 for a STRING ``ID``, then rejects the
    DOUBLE column ``VAL0``).

    Raises:
        IncompatibleTypesError: at the first type with nothing in common with those before it.
    """
    flags = [lax] * len(types) if isinstance(lax, bool) else list(lax)
    if len(flags) != len(types):
        raise ValueError("one lax flag per type is needed")
    common: t.SqlType | None = None
    for index, (sql_type, lax_entry) in enumerate(zip(types, flags)):
        if sql_type is None:
            continue
        if common is None:
            common = _resolved(sql_type)
            continue
        widened = super_type(sql_type, common, lax=lax_entry)
        if widened is None:
            raise IncompatibleTypesError(common, sql_type, index)
        common = widened
    return common

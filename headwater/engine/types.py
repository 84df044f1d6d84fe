"""ksqlDB's SQL types on Arrow, and the typing rules of expressions: the one mapping every part of the
engine uses.

=================  ============================  ==================================================
SQL type           Arrow type                    why
=================  ============================  ==================================================
BOOLEAN            bool
INTEGER            int32
BIGINT             int64
DOUBLE             float64
DECIMAL(p, s)      decimal128(p, s)              decimal256 above precision 38
STRING             string                        32-bit offsets: batches stay far below 2 GiB
BYTES              binary
DATE               date32                        days since the epoch, as ksqlDB stores DATE
TIME               time32[ms]                    ksqlDB's TIME has millisecond precision
TIMESTAMP          timestamp[ms]                 UTC milliseconds, no zone attached, as in ksqlDB
ARRAY<T>           list<T>
MAP<K, V>          map<K, V>
STRUCT<...>        struct<...>                   field names kept exactly
=================  ============================  ==================================================

The second half of the module holds ksqlDB's typing rules for expressions, used by the binder
(:mod:`headwater.engine.expressions`): literal types (``integer_literal_type``,
``decimal_literal_type``), the numeric widening order INTEGER < BIGINT < DECIMAL < DOUBLE
(``numeric_rank``, ``common_numeric_type``, ``widen_decimals``), arithmetic result types with
DECIMAL precision and scale rules (``arithmetic_result_type``, ``decimal_result_type``) and which
types compare (``comparison_allowed``). CAST rules live in :mod:`headwater.engine.casts`.

Example:
    >>> from headwater.parser import types as t
    >>> to_arrow(t.Array(t.Decimal(4, 2)))
    ListType(list<item: decimal128(4, 2)>)
    >>> from_arrow(to_arrow(t.Map(t.STRING, t.BIGINT))) == t.Map(t.STRING, t.BIGINT)
    True
"""

from __future__ import annotations

from decimal import Decimal as PyDecimal

import pyarrow as pa

from headwater.parser import types as t
from headwater.parser.expressions import ArithmeticOp, ComparisonOp

__all__ = [
    "BIGINT_AS_DECIMAL",
    "INT_AS_DECIMAL",
    "arithmetic_result_type",
    "base_type_name",
    "common_numeric_type",
    "comparison_allowed",
    "decimal_literal_type",
    "decimal_result_type",
    "from_arrow",
    "integer_literal_type",
    "is_numeric",
    "is_temporal",
    "numeric_rank",
    "to_arrow",
    "to_decimal_type",
    "widen_decimals",
]

_PRIMITIVE_TO_ARROW: dict[t.PrimitiveKind, pa.DataType] = {
    t.PrimitiveKind.BOOLEAN: pa.bool_(),
    t.PrimitiveKind.INTEGER: pa.int32(),
    t.PrimitiveKind.BIGINT: pa.int64(),
    t.PrimitiveKind.DOUBLE: pa.float64(),
    t.PrimitiveKind.STRING: pa.string(),
    t.PrimitiveKind.BYTES: pa.binary(),
    t.PrimitiveKind.DATE: pa.date32(),
    t.PrimitiveKind.TIME: pa.time32("ms"),
    t.PrimitiveKind.TIMESTAMP: pa.timestamp("ms"),
}
_ARROW_TO_PRIMITIVE = {v: t.Primitive(k) for k, v in _PRIMITIVE_TO_ARROW.items()}
_ARROW_TO_PRIMITIVE.update(
    {pa.large_string(): t.STRING, pa.large_binary(): t.BYTES, pa.string_view(): t.STRING}
)


def to_arrow(sql_type: t.SqlType) -> pa.DataType:
    """The Arrow type that holds values of ``sql_type``.

    Raises:
        TypeError: for a :class:`~headwater.parser.types.UserType`, which the catalog must resolve first.
    """
    if isinstance(sql_type, t.Primitive):
        return _PRIMITIVE_TO_ARROW[sql_type.kind]
    if isinstance(sql_type, t.Decimal):
        if sql_type.precision <= 38:
            return pa.decimal128(sql_type.precision, sql_type.scale)
        return pa.decimal256(sql_type.precision, sql_type.scale)
    if isinstance(sql_type, t.Array):
        return pa.list_(to_arrow(sql_type.element))
    if isinstance(sql_type, t.Map):
        return pa.map_(to_arrow(sql_type.key), to_arrow(sql_type.value))
    if isinstance(sql_type, t.Struct):
        return pa.struct([pa.field(name, to_arrow(ft)) for name, ft in sql_type.fields])
    raise TypeError(f"type {sql_type} must be resolved before it can be mapped to Arrow")


def from_arrow(arrow_type: pa.DataType) -> t.SqlType:
    """The SQL type of an Arrow column (the inverse of :func:`to_arrow`; wider Arrow types map to the
    nearest SQL type: int8/int16 to INTEGER, float32 to DOUBLE, large strings to STRING).

    Raises:
        TypeError: for an Arrow type with no SQL counterpart (e.g. a union).
    """
    found = _ARROW_TO_PRIMITIVE.get(arrow_type)
    if found is not None:
        return found
    if pa.types.is_int8(arrow_type) or pa.types.is_int16(arrow_type) or pa.types.is_uint8(arrow_type):
        return t.INT
    if pa.types.is_uint16(arrow_type) or pa.types.is_uint32(arrow_type):
        return t.BIGINT
    if pa.types.is_float32(arrow_type) or pa.types.is_float16(arrow_type):
        return t.DOUBLE
    if pa.types.is_timestamp(arrow_type):
        return t.TIMESTAMP
    if pa.types.is_time(arrow_type):
        return t.TIME
    if pa.types.is_date(arrow_type):
        return t.DATE
    if pa.types.is_decimal(arrow_type):
        return t.Decimal(arrow_type.precision, arrow_type.scale)
    if pa.types.is_map(arrow_type):
        return t.Map(from_arrow(arrow_type.key_type), from_arrow(arrow_type.item_type))
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return t.Array(from_arrow(arrow_type.value_type))
    if pa.types.is_struct(arrow_type):
        return t.Struct(tuple((f.name, from_arrow(f.type)) for f in arrow_type))
    if pa.types.is_null(arrow_type):
        return t.STRING
    raise TypeError(f"Arrow type {arrow_type} has no SQL counterpart")


# --------------------------------------------------------------------------------------------------------
# Typing rules of expressions (ksqlDB's SqlBaseType, DecimalUtil, SqlDecimal, Operator, ComparisonUtil)

INT_AS_DECIMAL = t.Decimal(10, 0)
"""The DECIMAL an INTEGER becomes in decimal arithmetic (ksqlDB's ``INT_UPCAST_TO_DECIMAL``)."""

BIGINT_AS_DECIMAL = t.Decimal(19, 0)
"""The DECIMAL a BIGINT becomes in decimal arithmetic (ksqlDB's ``BIGINT_UPCAST_TO_DECIMAL``)."""

_INT32_RANGE = range(-(2**31), 2**31)

_NUMERIC_RANK = {t.PrimitiveKind.INTEGER: 0, t.PrimitiveKind.BIGINT: 1, t.PrimitiveKind.DOUBLE: 3}
_DECIMAL_RANK = 2

_TEMPORAL_KINDS = (t.PrimitiveKind.DATE, t.PrimitiveKind.TIME, t.PrimitiveKind.TIMESTAMP)


def base_type_name(sql_type: t.SqlType) -> str:
    """ksqlDB's ``SqlBaseType`` name of a type, as its messages print it (``DECIMAL``, ``ARRAY``...).

    Example:
        >>> base_type_name(t.Decimal(4, 2)), base_type_name(t.Array(t.INT)), base_type_name(t.INT)
        ('DECIMAL', 'ARRAY', 'INTEGER')
    """
    if isinstance(sql_type, t.Primitive):
        return sql_type.kind.value
    if isinstance(sql_type, t.Decimal):
        return "DECIMAL"
    if isinstance(sql_type, t.Array):
        return "ARRAY"
    if isinstance(sql_type, t.Map):
        return "MAP"
    if isinstance(sql_type, t.Struct):
        return "STRUCT"
    return sql_type.sql()


def numeric_rank(sql_type: t.SqlType | None) -> int | None:
    """Position of a numeric type on ksqlDB's implicit widening order INTEGER < BIGINT < DECIMAL < DOUBLE,
    or None for a type that is not a number."""
    if isinstance(sql_type, t.Decimal):
        return _DECIMAL_RANK
    if isinstance(sql_type, t.Primitive):
        return _NUMERIC_RANK.get(sql_type.kind)
    return None


def is_numeric(sql_type: t.SqlType | None) -> bool:
    """True for INTEGER, BIGINT, DECIMAL and DOUBLE."""
    return numeric_rank(sql_type) is not None


def is_temporal(sql_type: t.SqlType | None) -> bool:
    """True for DATE, TIME and TIMESTAMP."""
    return isinstance(sql_type, t.Primitive) and sql_type.kind in _TEMPORAL_KINDS


def integer_literal_type(value: int) -> t.SqlType:
    """An integer literal is an INTEGER when it fits in 32 bits, a BIGINT otherwise.

    Example:
        >>> integer_literal_type(2147483647), integer_literal_type(2147483648)
        (Primitive(kind=<PrimitiveKind.INTEGER: 'INTEGER'>), Primitive(kind=<PrimitiveKind.BIGINT: 'BIGINT'>))
    """
    return t.INT if value in _INT32_RANGE else t.BIGINT


def decimal_literal_type(value: PyDecimal) -> t.Decimal:
    """The DECIMAL type of an exact literal, keeping its scale: ``1.50`` is DECIMAL(3, 2).

    As ksqlDB's ``DecimalUtil.fromValue``: a value strictly between -1 and 1 has precision scale + 1
    (``0.05`` is DECIMAL(3, 2), not the DECIMAL(1, 2) its digits alone would give); a negative exponent
    (``1E+2`` written as a decimal) is brought to scale 0.

    Example:
        >>> decimal_literal_type(PyDecimal("1.50")), decimal_literal_type(PyDecimal("0.05"))
        (Decimal(precision=3, scale=2), Decimal(precision=3, scale=2))
    """
    _sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):
        raise ValueError(f"not a finite decimal: {value}")
    scale = -exponent
    if scale < 0:
        digits = digits + (0,) * (-scale)
        scale = 0
    while len(digits) > 1 and digits[0] == 0:
        digits = digits[1:]
    if -1 < value < 1:
        return t.Decimal(scale + 1, scale)
    return t.Decimal(max(len(digits), scale, 1), scale)


def to_decimal_type(sql_type: t.SqlType) -> t.Decimal | None:
    """The DECIMAL that holds every value of an INTEGER, BIGINT or DECIMAL type (None otherwise)."""
    if isinstance(sql_type, t.Decimal):
        return sql_type
    if sql_type == t.INT:
        return INT_AS_DECIMAL
    if sql_type == t.BIGINT:
        return BIGINT_AS_DECIMAL
    return None


def widen_decimals(left: t.SqlType, right: t.SqlType) -> t.Decimal:
    """ksqlDB's ``DecimalUtil.widen``: a DECIMAL wide enough for both (integers count as DECIMAL(10, 0)
    and DECIMAL(19, 0)).

    Example:
        >>> widen_decimals(t.Decimal(4, 2), t.INT)
        Decimal(precision=12, scale=2)
    """
    a, b = to_decimal_type(left), to_decimal_type(right)
    if a is None or b is None:
        raise ValueError(f"cannot widen {left} and {right} to DECIMAL")
    scale = max(a.scale, b.scale)
    whole = max(a.precision - a.scale, b.precision - b.scale)
    return t.Decimal(whole + scale, scale)


def common_numeric_type(left: t.SqlType, right: t.SqlType) -> t.SqlType:
    """The type two numbers meet in (comparisons, IN lists, constructors): DOUBLE if either is, a widened
    DECIMAL if either is a DECIMAL, else the wider of INTEGER and BIGINT.

    Example:
        >>> str(common_numeric_type(t.INT, t.Decimal(4, 2))), str(common_numeric_type(t.INT, t.BIGINT))
        ('DECIMAL(12, 2)', 'BIGINT')
    """
    lr, rr = numeric_rank(left), numeric_rank(right)
    if lr is None or rr is None:
        raise ValueError(f"{left} and {right} are not both numbers")
    if t.DOUBLE in (left, right):
        return t.DOUBLE
    if lr == _DECIMAL_RANK or rr == _DECIMAL_RANK:
        return widen_decimals(left, right)
    return left if lr >= rr else right


def decimal_result_type(op: ArithmeticOp, left: t.Decimal, right: t.Decimal) -> t.Decimal:
    """The type of ``left op right`` for two DECIMALs, as ksqlDB's ``SqlDecimal`` computes it.

    ======  ==========================================================  =============================
    op      precision                                                   scale
    ======  ==========================================================  =============================
    + -     max(s1, s2) + max(p1 - s1, p2 - s2) + 1                     max(s1, s2)
    ``*``   p1 + p2 + 1                                                 s1 + s2
    /       p1 - s1 + s2 + max(6, s1 + p2 + 1)                          max(6, s1 + p2 + 1)
    %       min(p1 - s1, p2 - s2) + max(s1, s2)                         max(s1, s2)
    ======  ==========================================================  =============================

    Example:
        >>> decimal_result_type(ArithmeticOp.DIVIDE, t.Decimal(4, 2), t.Decimal(4, 2))
        Decimal(precision=11, scale=7)
    """
    p1, s1, p2, s2 = left.precision, left.scale, right.precision, right.scale
    if op in (ArithmeticOp.ADD, ArithmeticOp.SUBTRACT):
        scale = max(s1, s2)
        return t.Decimal(scale + max(p1 - s1, p2 - s2) + 1, scale)
    if op is ArithmeticOp.MULTIPLY:
        return t.Decimal(p1 + p2 + 1, s1 + s2)
    if op is ArithmeticOp.DIVIDE:
        scale = max(6, s1 + p2 + 1)
        return t.Decimal(p1 - s1 + s2 + scale, scale)
    scale = max(s1, s2)
    return t.Decimal(min(p1 - s1, p2 - s2) + scale, scale)


def arithmetic_result_type(op: ArithmeticOp, left: t.SqlType, right: t.SqlType) -> t.SqlType | None:
    """The type of ``left op right`` (ksqlDB's ``Operator.resultType``), or None when ksqlDB refuses it.

    Numbers widen along INTEGER, BIGINT, DECIMAL, DOUBLE: the narrower side takes the wider side's type,
    except that two DECIMALs (an integer beside a DECIMAL counts as DECIMAL(10, 0) or DECIMAL(19, 0))
    give :func:`decimal_result_type`. STRING + STRING is concatenation.

    Example:
        >>> str(arithmetic_result_type(ArithmeticOp.ADD, t.Decimal(4, 2), t.INT))
        'DECIMAL(13, 2)'
        >>> arithmetic_result_type(ArithmeticOp.ADD, t.BOOLEAN, t.INT) is None
        True
    """
    if op is ArithmeticOp.ADD and left == t.STRING and right == t.STRING:
        return t.STRING
    lr, rr = numeric_rank(left), numeric_rank(right)
    if lr is None or rr is None:
        return None
    if lr <= rr and rr != _DECIMAL_RANK:
        return right
    if rr <= lr and lr != _DECIMAL_RANK:
        return left
    a, b = to_decimal_type(left), to_decimal_type(right)
    assert a is not None and b is not None
    return decimal_result_type(op, a, b)


def comparison_allowed(left: t.SqlType, op: ComparisonOp, right: t.SqlType) -> bool:
    """Whether ksqlDB accepts ``left op right`` (its ``ComparisonUtil``).

    Numbers compare with numbers; STRING with STRING and with DATE, TIME, TIMESTAMP (the string is
    parsed); DATE and TIMESTAMP with each other and with STRING; TIME with TIME and STRING; BYTES with
    BYTES. BOOLEAN, ARRAY, MAP and STRUCT compare with their own kind, for (in)equality only.

    Example:
        >>> comparison_allowed(t.INT, ComparisonOp.LESS_THAN, t.Decimal(4, 2))
        True
        >>> comparison_allowed(t.BOOLEAN, ComparisonOp.LESS_THAN, t.BOOLEAN)
        False
    """
    equality = op in (
        ComparisonOp.EQUAL,
        ComparisonOp.NOT_EQUAL,
        ComparisonOp.IS_DISTINCT_FROM,
        ComparisonOp.IS_NOT_DISTINCT_FROM,
    )
    if is_numeric(left):
        return is_numeric(right)
    if left == t.STRING:
        return right == t.STRING or is_temporal(right)
    if left == t.BOOLEAN:
        return right == t.BOOLEAN and equality
    if isinstance(left, t.Array):
        return isinstance(right, t.Array) and equality
    if isinstance(left, t.Map):
        return isinstance(right, t.Map) and equality
    if isinstance(left, t.Struct):
        return isinstance(right, t.Struct) and equality
    if left == t.TIME:
        return right in (t.TIME, t.STRING)
    if left in (t.DATE, t.TIMESTAMP):
        return right in (t.DATE, t.TIMESTAMP, t.STRING)
    if left == t.BYTES:
        return right == t.BYTES
    return False

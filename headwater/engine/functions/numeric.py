"""Numeric functions: ABS, CEIL, FLOOR, ROUND, TRUNC, SIGN, the exponential, logarithmic and
trigonometric functions, POWER, RANDOM, PI and GEO_DISTANCE.

ksqlDB declares most of them once per numeric type, and the overload decides the result type:
``ABS(INT)`` is an INT, ``ABS(DECIMAL(p, s))`` keeps DECIMAL(p, s), ``ROUND(DOUBLE)`` is a BIGINT (Java's
``Math.round``: ties go toward positive infinity), ``ROUND(DECIMAL(p, s))`` is DECIMAL(p - s, 0) and
``ROUND(DECIMAL(p, s), n)`` keeps the scale s. The transcendental functions take INT, BIGINT or DOUBLE and
return DOUBLE, with IEEE results (NaN, ±Infinity) rather than errors, as Java's ``Math`` does.

ROUND and TRUNC of a DOUBLE to ``n`` places round the *shortest decimal representation* of the double
(Java's ``BigDecimal.valueOf``), not its binary value: ROUND(1.005, 2) is 1.01. The kernels compute this
in floating point and recompute, per row with Python's ``decimal``, only the rows whose scaled value
lies so close to a rounding boundary that binary arithmetic could decide differently (a handful in a
million for real data).

Example:
    >>> import pyarrow as pa
    >>> from headwater.engine.functions.registry import CallContext
    >>> from headwater.parser import types as t
    >>> _round_double([pa.array([1.5, -1.5, 2.4999])], CallContext((t.DOUBLE,), t.BIGINT, 3)).to_pylist()
    [2, -1, 2]
"""

from __future__ import annotations

import decimal
import math
import random
from collections.abc import Callable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.functions.columns import (
    apply_by_distinct,
    as_array,
    as_numpy,
    is_scalar,
    scalar_value,
    valid_mask,
)
from headwater.engine.functions.registry import (
    AnyDecimal,
    CallContext,
    ComputedType,
    Datum,
    FunctionError,
    Param,
    ScalarFunction,
    Signature,
)
from headwater.engine.types import to_arrow
from headwater.parser import types as t

__all__ = ["FUNCTIONS", "as_decimal"]

CATEGORY = "MATHEMATICAL"
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1
_INT_TYPES = (t.INT, t.BIGINT)
_DECIMAL = AnyDecimal()


# --------------------------------------------------------------------------------------------------------
# Shared plumbing


def _doubles(datum: Datum, length: int) -> tuple[np.ndarray, np.ndarray]:
    """(values as float64 with NULLs as NaN, validity mask)."""
    array = as_array(datum, length)
    valid = valid_mask(array)
    values = as_numpy(array.cast(pa.float64()), fill=0.0).astype(np.float64, copy=False)
    return values, valid


def _from_numpy(values: np.ndarray, valid: np.ndarray, arrow_type: pa.DataType) -> pa.Array:
    mask = None if valid.all() else ~valid
    return pa.array(values, type=arrow_type, mask=mask)


def _double_kernel(fn: Callable[..., pa.Array]) -> Callable[[Sequence[Datum], CallContext], pa.Array]:
    """A kernel applying an Arrow function to DOUBLE views of every argument (NULL in, NULL out).

    The transcendental functions run on Arrow's kernels, which call the C library's ``sin``,
    ``exp``... one value at a time: numpy's SIMD versions can differ from them, and from Java's
    ``Math``, in the last bit, which ksqlDB's results (and ROUND of them) expose."""

    def kernel(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
        columns = [as_array(a, ctx.length).cast(pa.float64()) for a in args]
        return fn(*columns)

    kernel.__name__ = getattr(fn, "__name__", "double_kernel")
    return kernel


def _numpy_kernel(fn: Callable[[np.ndarray], np.ndarray]) -> Callable[[pa.Array], pa.Array]:
    """An Arrow-style function from a numpy one, for the few functions Arrow lacks (``cbrt``)."""

    def apply(column: pa.Array) -> pa.Array:
        values, valid = _doubles(column, len(column))
        with np.errstate(all="ignore"):
            return _from_numpy(fn(values), valid, pa.float64())

    apply.__name__ = getattr(fn, "__name__", "numpy_function")
    return apply


def _numeric_overloads(
    names: Sequence[str], kernel: Callable[[Sequence[Datum], CallContext], pa.Array], description: str
) -> tuple[Signature, ...]:
    """INT, BIGINT and DOUBLE overloads (all arguments of one type) returning DOUBLE, as ksqlDB declares
    its transcendental functions."""
    return tuple(
        Signature(
            params=tuple(Param(n, sql_type, description) for n in names),
            returns=t.DOUBLE,
            kernel=kernel,
            description=f"{description} ({sql_type.sql()} arguments).",
        )
        for sql_type in (t.INT, t.BIGINT, t.DOUBLE)
    )


def _unary_double_function(name: str, fn: Callable[..., pa.Array], description: str) -> ScalarFunction:
    return ScalarFunction(
        name=name,
        category=CATEGORY,
        description=description,
        signatures=_numeric_overloads(("value",), _double_kernel(fn), description),
    )


def _identity(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    return as_array(args[0], ctx.length).cast(to_arrow(ctx.return_type))


def _decimal_widened(array: pa.Array, extra_digits: int) -> pa.Array:
    """The decimal column with room for ``extra_digits`` more integer digits, so that rounding up
    (9.95 -> 10.0) cannot overflow silently."""
    dtype = array.type
    precision = min(dtype.precision + extra_digits, 76)
    wide = pa.decimal128(precision, dtype.scale) if precision <= 38 else pa.decimal256(precision, dtype.scale)
    return array.cast(wide)


def _decimal_to(array: pa.Array, sql_type: t.SqlType) -> pa.Array:
    """Cast a rounded decimal column to the result type, failing like ksqlDB when it no longer fits."""
    try:
        return array.cast(to_arrow(sql_type))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        raise FunctionError(f"Numeric field overflow: a value does not fit {sql_type.sql()}") from error


# --------------------------------------------------------------------------------------------------------
# ABS, CEIL, FLOOR, SIGN


def _abs(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    # pc.abs wraps on overflow like Java's Math.abs(Integer.MIN_VALUE).
    return pc.abs(as_array(args[0], ctx.length))


def _rounding_kernel(op: Callable[[pa.Array], pa.Array]) -> Callable[[Sequence[Datum], CallContext], pa.Array]:
    def kernel(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
        array = as_array(args[0], ctx.length)
        if pa.types.is_decimal(array.type):
            return _decimal_to(op(_decimal_widened(array, 1)), ctx.return_type)
        if pa.types.is_integer(array.type):
            return array  # already integral (Arrow's ceil/floor would return a double)
        return op(array)

    return kernel


def _sign(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    array = as_array(args[0], ctx.length)
    if pa.types.is_floating(array.type):
        values, valid = _doubles(array, ctx.length)
        signs = np.nan_to_num(np.sign(values), nan=0.0)  # (int) Math.signum(NaN) is 0
        return _from_numpy(signs.astype(np.int32), valid, pa.int32())
    return pc.sign(array).cast(pa.int32())


def _same_type_overloads(
    kernel: Callable[[Sequence[Datum], CallContext], pa.Array], description: str
) -> tuple[Signature, ...]:
    return (
        Signature((Param("value", t.INT),), t.INT, kernel),
        Signature((Param("value", t.BIGINT),), t.BIGINT, kernel),
        Signature((Param("value", t.DOUBLE),), t.DOUBLE, kernel),
        Signature((Param("value", _DECIMAL),), ComputedType("DECIMAL", _same_decimal), kernel, description=description),
    )


# --------------------------------------------------------------------------------------------------------
# ROUND and TRUNC


def _java_round_to_long(values: np.ndarray) -> np.ndarray:
    """Java's ``Math.round(double)``: nearest long, ties toward positive infinity, NaN -> 0, and
    saturation at the ends of the long range."""
    with np.errstate(all="ignore"):
        floor = np.floor(values)
        rounded = floor + ((values - floor) >= 0.5)
    out = np.zeros(len(values), dtype=np.int64)
    finite = np.isfinite(rounded) & (rounded > -(2.0**63)) & (rounded < 2.0**63)
    out[finite] = rounded[finite].astype(np.int64)
    out[(rounded >= 2.0**63)] = _LONG_MAX
    out[(rounded <= -(2.0**63))] = _LONG_MIN
    return out


def _java_double_to_long(values: np.ndarray) -> np.ndarray:
    """Java's ``(long) double``: truncation toward zero, NaN -> 0, saturating."""
    with np.errstate(all="ignore"):
        truncated = np.trunc(values)
    out = np.zeros(len(values), dtype=np.int64)
    finite = np.isfinite(truncated) & (truncated > -(2.0**63)) & (truncated < 2.0**63)
    out[finite] = truncated[finite].astype(np.int64)
    out[truncated >= 2.0**63] = _LONG_MAX
    out[truncated <= -(2.0**63)] = _LONG_MIN
    return out


def _round_double(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    values, valid = _doubles(args[0], ctx.length)
    return _from_numpy(_java_round_to_long(values), valid, pa.int64())


def _trunc_double(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    values, valid = _doubles(args[0], ctx.length)
    return _from_numpy(_java_double_to_long(values), valid, pa.int64())


def _decimal_places_exact(value: float, places: int, mode: str) -> float:
    """One value the way ksqlDB does it: ``BigDecimal.valueOf(value).setScale(places, mode)``."""
    if not math.isfinite(value):
        raise FunctionError(f"Infinite or NaN value cannot be rounded: {value}")
    exact = decimal.Decimal(repr(value))
    quantum = decimal.Decimal(1).scaleb(-places)
    if mode == "round":
        rounding = decimal.ROUND_HALF_UP if exact > 0 else decimal.ROUND_HALF_DOWN
    else:
        rounding = decimal.ROUND_DOWN
    with decimal.localcontext() as context:
        context.prec = 400
        return float(exact.quantize(quantum, rounding=rounding))


def _double_to_places(values: np.ndarray, places: int, mode: str) -> np.ndarray:
    """ROUND / TRUNC of doubles to ``places`` decimal places, vectorized with an exact fallback for
    rows near a rounding boundary (see the module docstring)."""
    if not -15 <= places <= 15:
        return np.array([_decimal_places_exact(float(v), places, mode) for v in values], dtype=np.float64)
    scale = 10.0 ** abs(places)
    with np.errstate(all="ignore"):
        scaled = values * scale if places >= 0 else values / scale
        if mode == "round":
            boundary_distance = np.abs((scaled - np.floor(scaled)) - 0.5)
            rounded = np.floor(scaled + 0.5)
        else:
            boundary_distance = np.abs(scaled - np.round(scaled))
            rounded = np.trunc(scaled)
        out = rounded / scale if places >= 0 else rounded * scale
    unsure = ~np.isfinite(scaled) | (np.abs(scaled) >= 1e15) | (boundary_distance < 1e-6)
    for index in np.nonzero(unsure)[0]:
        out[index] = _decimal_places_exact(float(values[index]), places, mode)
    return out


def _places_kernel(mode: str) -> Callable[[Sequence[Datum], CallContext], pa.Array]:
    def kernel(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
        values, valid = _doubles(args[0], ctx.length)

        def compute(places: int, rows: np.ndarray) -> pa.Array:
            subset_valid = valid[rows]
            subset = np.where(subset_valid, values[rows], 0.0)
            return _from_numpy(_double_to_places(subset, places, mode), subset_valid, pa.float64())

        return apply_by_distinct(args[1], ctx.length, pa.float64(), compute)

    kernel.__name__ = f"{mode}_double_places"
    return kernel


def _decimal_round_mode(mode: str) -> str:
    # Arrow's "half_up" sends ties toward positive infinity, which is ksqlDB's HALF_UP for positive
    # values and HALF_DOWN for negative ones; "towards_zero" is BigDecimal's DOWN.
    return "half_up" if mode == "round" else "towards_zero"


def _decimal_zero_places_kernel(mode: str) -> Callable[[Sequence[Datum], CallContext], pa.Array]:
    def kernel(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
        array = _decimal_widened(as_array(args[0], ctx.length), 1)
        rounded = pc.round(array, ndigits=0, round_mode=_decimal_round_mode(mode))
        return _decimal_to(rounded, ctx.return_type)

    return kernel


def _decimal_places_kernel(mode: str) -> Callable[[Sequence[Datum], CallContext], pa.Array]:
    def kernel(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
        array = _decimal_widened(as_array(args[0], ctx.length), 1)

        def compute(places: int, rows: np.ndarray) -> pa.Array:
            subset = array.take(pa.array(rows))
            if places >= array.type.scale:
                return _decimal_to(subset, ctx.return_type)
            rounded = pc.round(subset, ndigits=places, round_mode=_decimal_round_mode(mode))
            return _decimal_to(rounded, ctx.return_type)

        return apply_by_distinct(args[1], ctx.length, to_arrow(ctx.return_type), compute)

    return kernel


def as_decimal(sql_type: t.SqlType | None) -> t.Decimal:
    """The DECIMAL an argument of ``sql_type`` becomes in a DECIMAL parameter (ksqlDB's
    ``DecimalUtil.toSqlDecimal``): itself, DECIMAL(10, 0) for INT, DECIMAL(19, 0) for BIGINT."""
    if isinstance(sql_type, t.Decimal):
        return sql_type
    return t.Decimal(19, 0) if sql_type == t.BIGINT else t.Decimal(10, 0)


def _same_decimal(types: tuple[t.SqlType | None, ...]) -> t.SqlType:
    return as_decimal(types[0])


def _integral_part_type(types: tuple[t.SqlType | None, ...]) -> t.SqlType:
    dec = as_decimal(types[0])
    return t.Decimal(max(dec.precision - dec.scale, 1), 0)


def _place_functions(name: str, mode: str, description: str) -> ScalarFunction:
    places = Param("decimalPlaces", t.INT, "The number of decimal places.")
    return ScalarFunction(
        name=name,
        category=CATEGORY,
        description=description,
        signatures=(
            Signature((Param("val", t.BIGINT),), t.BIGINT, _identity),
            Signature((Param("val", t.INT),), t.BIGINT, _identity),
            Signature((Param("val", t.DOUBLE),), t.BIGINT, _round_double if mode == "round" else _trunc_double),
            Signature((Param("val", t.DOUBLE), places), t.DOUBLE, _places_kernel(mode)),
            Signature((Param("val", _DECIMAL),), ComputedType("DECIMAL", _integral_part_type),
                      _decimal_zero_places_kernel(mode)),
            Signature((Param("val", _DECIMAL), places), ComputedType("DECIMAL", _same_decimal),
                      _decimal_places_kernel(mode)),
        ),
    )


# --------------------------------------------------------------------------------------------------------
# LOG, POWER, RANDOM, PI, GEO_DISTANCE


def _log_with_base(base: pa.Array, value: pa.Array) -> pa.Array:
    out = pc.divide(pc.ln(value), pc.ln(base))
    bad_base = pc.or_(pc.less_equal(base, 0.0), pc.equal(base, 1.0))
    return pc.if_else(bad_base, pa.scalar(float("nan")), out)


def _cot(values: pa.Array) -> pa.Array:
    return pc.divide(1.0, pc.tan(values))


def _degrees(values: pa.Array) -> pa.Array:
    return pc.multiply(values, 57.29577951308232)  # Java's Math.toDegrees constant


def _radians(values: pa.Array) -> pa.Array:
    return pc.multiply(values, 0.017453292519943295)  # Java's Math.toRadians constant


def _random(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    return pa.array(np.random.default_rng(random.getrandbits(64)).random(ctx.length), pa.float64())


def _pi(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    return pa.array(np.full(ctx.length, math.pi), pa.float64())


_MILES = ("mi", "mile", "miles")
_KILOMETRES = ("km", "kilometer", "kilometers", "kilometre", "kilometres")


def _earth_radius(unit: str | None) -> float:
    if unit is None or not unit.strip():
        return 6371.0
    unit = unit.strip().lower()
    if unit in _MILES:
        return 3959.0
    if unit in _KILOMETRES:
        return 6371.0
    valid = ", ".join((*_MILES, *_KILOMETRES)[:-1]) + " or " + _KILOMETRES[-1]
    raise FunctionError(
        f"GeoDistance function units parameter must be one of {valid}. Values are case-insensitive."
    )


def _geo_distance(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    columns = [_doubles(a, ctx.length) for a in args[:4]]
    lat1, lon1, lat2, lon2 = (values for values, _ in columns)
    valid = np.logical_and.reduce([v for _, v in columns])
    if len(args) == 5:
        unit_array = as_array(args[4], ctx.length)
        if is_scalar(args[4]):
            radius = np.full(ctx.length, _earth_radius(scalar_value(args[4])))
        else:
            radius = np.array([_earth_radius(u) for u in unit_array.to_pylist()], dtype=np.float64)
    else:
        radius = np.full(ctx.length, 6371.0)
    if (valid & ((np.abs(lat1) > 90) | (np.abs(lat2) > 90))).any():
        raise FunctionError(
            "valid latitude values for GeoDistance function are in the range of -90 to 90 decimal degrees"
        )
    if (valid & ((np.abs(lon1) > 180) | (np.abs(lon2) > 180))).any():
        raise FunctionError(
            "valid longitude values for GeoDistance function are in the range of -180 to +180"
            " decimal degrees"
        )
    lat1_a, lon1_a, lat2_a, lon2_a = (pa.array(v) for v in (lat1, lon1, lat2, lon2))
    half_lat = pc.sin(pc.divide(_radians(pc.subtract(lat2_a, lat1_a)), 2.0))
    half_lon = pc.sin(pc.divide(_radians(pc.subtract(lon2_a, lon1_a)), 2.0))
    a = pc.add(
        pc.multiply(half_lat, half_lat),
        pc.multiply(pc.multiply(pc.multiply(half_lon, half_lon), pc.cos(_radians(lat1_a))), pc.cos(_radians(lat2_a))),
    )
    distance = pc.multiply(pc.multiply(pc.asin(pc.sqrt(a)), 2.0), pa.array(radius))
    return _from_numpy(np.asarray(distance.to_numpy(zero_copy_only=False), dtype=np.float64), valid, pa.float64())


def _geo_signatures() -> tuple[Signature, ...]:
    points = (
        Param("lat1", t.DOUBLE, "The latitude of the first point in decimal degrees."),
        Param("lon1", t.DOUBLE, "The longitude of the first point in decimal degrees."),
        Param("lat2", t.DOUBLE, "The latitude of the second point in decimal degrees."),
        Param("lon2", t.DOUBLE, "The longitude of the second point in decimal degrees."),
    )
    return (
        Signature(
            (*points, Param("units", t.STRING, "The units for the return value. Either MILES or KM.")),
            t.DOUBLE,
            _geo_distance,
            description="The distance in the given units (MI or KM).",
        ),
        Signature(points, t.DOUBLE, _geo_distance, description="The distance in kilometers."),
    )


FUNCTIONS: tuple[ScalarFunction, ...] = (
    ScalarFunction(
        "Abs",
        CATEGORY,
        "Returns the absolute value of its argument. If the argument is not negative, the argument is "
        "returned. If the argument is negative, the negation of the argument is returned.",
        _same_type_overloads(_abs, "The absolute value, with the argument's DECIMAL type."),
    ),
    ScalarFunction(
        "Ceil",
        CATEGORY,
        "Returns the smallest integer greater than or equal to the specified numeric expression.",
        _same_type_overloads(_rounding_kernel(pc.ceil), "The ceiling, keeping the DECIMAL type."),
    ),
    ScalarFunction(
        "Floor",
        CATEGORY,
        "Returns the largest integer less than or equal to the specified numeric expression.",
        _same_type_overloads(_rounding_kernel(pc.floor), "The floor, keeping the DECIMAL type."),
    ),
    _place_functions(
        "Round",
        "round",
        "Round a value to the number of decimal places as specified by scale to the right of the "
        "decimal point. If scale is negative then value is rounded to the right of the decimal point. "
        "Numbers equidistant to the nearest value are rounded up (in the positive direction). If the "
        "number of decimal places is not provided it defaults to zero.",
    ),
    _place_functions(
        "trunc",
        "trunc",
        "Truncates a value to the number of decimal places as specified by scale to the right of the "
        "decimal point. If scale is negative then value is truncated to the right of the decimal point.",
    ),
    ScalarFunction(
        "sign",
        CATEGORY,
        "The sign of a value: 1, 0 or -1.",
        tuple(
            Signature((Param("value", st, "The value to get the sign of."),), t.INT, _sign)
            for st in (t.INT, t.BIGINT, t.DOUBLE)
        ),
    ),
    _unary_double_function("acos", pc.acos, "Returns the inverse (arc) cosine of a value, in radians."),
    _unary_double_function("asin", pc.asin, "Returns the inverse (arc) sine of a value, in radians."),
    _unary_double_function("atan", pc.atan, "Returns the inverse (arc) tangent of a value, in radians."),
    ScalarFunction(
        "atan2",
        CATEGORY,
        "Returns the inverse (arc) tangent of y / x, in radians.",
        _numeric_overloads(("y", "x"), _double_kernel(pc.atan2), "The arc tangent of y / x"),
    ),
    _unary_double_function("cbrt", _numpy_kernel(np.cbrt), "Returns the cube root of a value."),
    _unary_double_function("cos", pc.cos, "Returns the cosine of a value given in radians."),
    _unary_double_function("cosh", pc.cosh, "Returns the hyperbolic cosine of a value."),
    _unary_double_function("cot", _cot, "Returns the cotangent of a value given in radians."),
    _unary_double_function("degrees", _degrees, "Converts a value from radians to degrees."),
    _unary_double_function("exp", pc.exp, "The exponential of a value: e raised to its power."),
    _unary_double_function("ln", pc.ln, "Returns the natural logarithm of a value."),
    ScalarFunction(
        "log",
        CATEGORY,
        "The logarithm of a value: natural with one argument (as ksqlDB computes it), in the given "
        "base with two.",
        _numeric_overloads(("value",), _double_kernel(pc.ln), "The logarithm of the value")
        + _numeric_overloads(("base", "value"), _double_kernel(_log_with_base), "The logarithm in a base"),
    ),
    ScalarFunction(
        "power",
        CATEGORY,
        "Given a base and an exponent, returns the result of the base raised to the exponent.",
        _numeric_overloads(("base", "exponent"), _double_kernel(pc.power), "The base raised to the exponent"),
    ),
    _unary_double_function("radians", _radians, "Converts a value from degrees to radians."),
    _unary_double_function("sin", pc.sin, "Returns the sine of a value given in radians."),
    _unary_double_function("sinh", pc.sinh, "Returns the hyperbolic sine of a value."),
    _unary_double_function("sqrt", pc.sqrt, "Returns the square root of a value."),
    _unary_double_function("tan", pc.tan, "Returns the tangent of a value given in radians."),
    _unary_double_function("tanh", pc.tanh, "Returns the hyperbolic tangent of a value."),
    ScalarFunction(
        "pi",
        CATEGORY,
        "Returns an approximate value of pi.",
        (Signature((), t.DOUBLE, _pi),),
    ),
    ScalarFunction(
        "random",
        CATEGORY,
        "Returns a random DOUBLE value between 0.0 and 1.0.",
        (Signature((), t.DOUBLE, _random),),
    ),
    ScalarFunction(
        "geo_distance",
        CATEGORY,
        'Compute the distance between two points on the surface of the earth, according to the '
        'Haversine formula for "great circle distance".',
        _geo_signatures(),
    ),
)

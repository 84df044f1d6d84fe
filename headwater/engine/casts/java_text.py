"""Numbers as Java writes and reads them, over whole Arrow columns.

ksqlDB is a Java program, so every number that becomes text (``CAST(x AS STRING)``, JSON and DELIMITED
output) is formatted by ``Double.toString`` or ``BigDecimal.toString`` / ``toPlainString``, and every text
that becomes a number is parsed by ``Integer.parseInt``, ``Long.parseLong``, ``Double.parseDouble`` or
``new BigDecimal(String)``. Python's formats differ (``1e+16`` against Java's ``1.0E16``; Python's
``float('inf')`` accepts text Java rejects), so this module reproduces the Java rules, vectorized:

* ``Double.toString``: JDK 17's digits (not always the shortest that read back: ``1e23`` is
  ``9.999999999999999E22``, ``2^62`` is ``4.6116860184273879E18``), computed by
  :mod:`~headwater.engine.casts.java_double_digits`, laid out plainly for ``1e-3 <= |x| < 1e7``
  (``100.0``, ``0.001``) and as ``d.dddE<n>`` otherwise (``1.0E7``, ``1.0E-4``); ``NaN``, ``Infinity``.
* ``BigDecimal.toString``: plain unless the adjusted exponent is below -6 (``1E-7``, ``0E-8``), which
  for ksqlDB's non-negative scales happens only for tiny values with a scale of 7 or more; Arrow's
  decimal-to-string cast follows the same rule, and ``toPlainString`` rewrites those rows.
* Parsing: each Java grammar as an RE2 pattern (Arrow's own parsers accept hexadecimal integers,
  ``inf``, ``nan`` and reject ``+5``, so they only run after the Java grammar has been checked).

The vectorized functions return a :class:`Parsed` (values plus a mask of rows Java would reject);
per-value twins (``java_double_str``...) serve the per-row paths.

Example:
    >>> import pyarrow as pa
    >>> java_double_text(pa.array([1.0, 1e16, 0.0001, 123.5, None])).to_pylist()
    ['1.0', '1.0E16', '1.0E-4', '123.5', None]
    >>> parse_java_int(pa.array(["+7", " 7", "0x7"]), bits=32).values.to_pylist()
    [7, None, None]
"""

from __future__ import annotations

import decimal
import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.casts.java_double_columns import jdk_double_text_column
from headwater.engine.casts.java_double_digits import jdk_double_string

__all__ = [
    "JAVA_TRIM_CHARS",
    "Parsed",
    "java_decimal_str",
    "java_decimal_text",
    "java_double_str",
    "java_double_text",
    "java_trim",
    "parse_java_bigdecimal",
    "parse_java_double",
    "parse_java_double_str",
    "parse_java_int",
    "parse_java_int_str",
]

JAVA_TRIM_CHARS = "".join(chr(c) for c in range(0x21))
"""What Java's ``String.trim`` removes from both ends: every char up to and including the space."""

INT_PATTERN = r"^[+-]?[0-9]+$"
DOUBLE_PATTERN = (
    r"^[+-]?(?:NaN|Infinity|(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[fFdD]?)"
    r"|(?:0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?[0-9]+[fFdD]?))$"
)
BIGDECIMAL_PATTERN = r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
_HEX_FLOAT = r"[xX]"
_DOUBLE_RE = re.compile(DOUBLE_PATTERN[1:-1])

_INT_BOUNDS = {32: (-(2**31), 2**31 - 1), 64: (-(2**63), 2**63 - 1)}
_SMALLEST_NORMAL = 2.2250738585072014e-308


@dataclass(frozen=True, slots=True)
class Parsed:
    """Text parsed to numbers: ``values`` is null where the text was null or invalid; ``invalid`` marks
    the rows Java would have rejected (null text is not invalid)."""

    values: pa.Array
    invalid: np.ndarray

    def invalid_rows(self) -> np.ndarray:
        """Indices of the rejected rows."""
        return np.flatnonzero(self.invalid)


def _as_array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    return values


def _mask(values: pa.Array) -> np.ndarray:
    """A boolean Arrow array as a numpy mask, null counting as False."""
    return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False), dtype=bool)


def _value_bytes(strings: pa.Array) -> bytes:
    """The concatenated bytes of a string or binary array's values."""
    data = strings.buffers()[2]
    if data is None or len(strings) == 0:
        return b""
    offsets = np.frombuffer(
        strings.buffers()[1], dtype=np.int32, count=len(strings) + 1, offset=strings.offset * 4
    )
    return data.slice(int(offsets[0]), int(offsets[-1] - offsets[0])).to_pybytes()


def _only(strings: pa.Array, allowed: bytes) -> bool:
    """Whether every value consists of ``allowed`` bytes only (one C pass over the values)."""
    return not _value_bytes(strings).translate(None, allowed)


def _direct(strings: pa.Array, target: pa.DataType, allowed: bytes) -> pa.Array | None:
    """Arrow's own cast, when the text can only hold forms on which Arrow and Java agree; None if
    some value falls outside those forms or Arrow rejects one (the caller then checks value by value)."""
    if not pa.types.is_string(strings.type) or not _only(strings, allowed):
        return None
    try:
        return pc.cast(strings, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


_INTEGER_BYTES = b"0123456789-"
_NUMBER_BYTES = b"0123456789-+.eE"


def java_trim(strings: pa.Array) -> pa.Array:
    """Java's ``String.trim``: strips every char ``<= ' '`` (controls included) from both ends."""
    return pc.utf8_trim(strings, characters=JAVA_TRIM_CHARS)


# --------------------------------------------------------------------------------------------------
# Double.toString


def java_double_str(value: float) -> str:
    """``Double.toString(value)`` for one double as JDK 17 prints it (the per-row twin of
    :func:`java_double_text`)."""
    return jdk_double_string(value)


def java_double_text(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """``Double.toString`` of every value of a float64 column as JDK 17 prints it (null stays null),
    vectorized except for the magnitudes the JDK divides with big integers (see
    :func:`~headwater.engine.casts.java_double_columns.jdk_double_text_column`)."""
    return jdk_double_text_column(values)


# --------------------------------------------------------------------------------------------------
# BigDecimal.toString / toPlainString


def java_decimal_str(value: decimal.Decimal) -> str:
    """``BigDecimal.toString()``: Python's Decimal follows the same specification (plain unless the
    exponent is positive or the adjusted exponent is below -6)."""
    return str(value)


def java_decimal_text(values: pa.Array | pa.ChunkedArray, *, plain: bool = False) -> pa.Array:
    """``BigDecimal.toString()`` (or ``toPlainString()`` with ``plain``) of a decimal column.

    Arrow's decimal-to-string cast is exactly ``toString`` (``1.2E-7`` for values whose adjusted
    exponent is below -6, which needs a scale of 7 or more); for ``toPlainString`` those few rows are
    rewritten one by one.
    """
    values = _as_array(values)
    text = pc.cast(values, pa.string())
    if not plain or values.type.scale < 7 or len(values) == 0:
        return text
    scientific = pc.fill_null(pc.match_substring(text, "E"), False)
    if not pc.any(scientific).as_py():
        return text
    py = text.to_pylist()
    for row in np.flatnonzero(_mask(scientific)):
        py[row] = f"{values[int(row)].as_py():f}"
    return pa.array(py, pa.string())


# --------------------------------------------------------------------------------------------------
# Parsing


def parse_java_int_str(text: str, bits: int) -> int:
    """``Integer.parseInt`` (bits=32) / ``Long.parseLong`` (bits=64) of one string.

    Raises:
        ValueError: with Java's message, ``For input string: "x"``.
    """
    low, high = _INT_BOUNDS[bits]
    if text and (text.isascii() and ((text[0] in "+-" and text[1:].isdigit()) or text.isdigit())):
        value = int(text)
        if low <= value <= high:
            return value
    raise ValueError(f'For input string: "{text}"')


def parse_java_int(strings: pa.Array | pa.ChunkedArray, *, bits: int) -> Parsed:
    """``Integer.parseInt`` / ``Long.parseLong`` over a string column (no trimming, as Java)."""
    strings = _as_array(strings)
    target = pa.int32() if bits == 32 else pa.int64()
    if len(strings) == 0:
        return Parsed(pa.array([], target), np.zeros(0, dtype=bool))
    # Digits and minus signs only: Arrow parses exactly what Java would (no hex, no blanks).
    direct = _direct(strings, target, _INTEGER_BYTES)
    if direct is not None:
        return Parsed(direct, np.zeros(len(strings), dtype=bool))
    well_formed = pc.match_substring_regex(strings, INT_PATTERN)
    unsigned = pc.utf8_ltrim(strings, characters="+-")
    digits = pc.utf8_ltrim(unsigned, characters="0")
    short_enough = pc.less_equal(pc.utf8_length(digits), 19)
    candidate = pc.and_(well_formed, short_enough)
    plus = pc.starts_with(strings, "+")
    text = pc.if_else(plus, pc.utf8_slice_codeunits(strings, 1), strings)
    text = pc.if_else(candidate, text, pa.scalar(None, pa.string()))
    wide = pc.cast(text, pa.decimal128(20, 0))
    low, high = _INT_BOUNDS[bits]
    in_range = pc.and_(
        pc.greater_equal(wide, pa.scalar(decimal.Decimal(low), pa.decimal128(20, 0))),
        pc.less_equal(wide, pa.scalar(decimal.Decimal(high), pa.decimal128(20, 0))),
    )
    ok = pc.and_(candidate, in_range)
    values = pc.cast(pc.if_else(ok, wide, pa.scalar(None, wide.type)), target)
    invalid = _mask(pc.and_(strings.is_valid(), pc.invert(pc.fill_null(ok, False))))
    return Parsed(values, invalid)


def parse_java_double_str(text: str) -> float:
    """``Double.parseDouble`` of one string (it trims, and accepts ``NaN``, ``Infinity``, a trailing
    ``d``/``f`` and hexadecimal floats).

    Raises:
        ValueError: ``empty String`` or ``For input string: "x"``, as Java.
    """
    trimmed = text.strip(JAVA_TRIM_CHARS)
    if not trimmed:
        raise ValueError("empty String")
    if not _DOUBLE_RE.fullmatch(trimmed):
        raise ValueError(f'For input string: "{text}"')
    if "x" in trimmed or "X" in trimmed:
        body = trimmed.rstrip("fFdD") if "p" in trimmed.lower() else trimmed
        sign = -1.0 if body.startswith("-") else 1.0
        return sign * float.fromhex(body.lstrip("+-"))
    return float(trimmed.rstrip("fFdD"))


def parse_java_double(strings: pa.Array | pa.ChunkedArray) -> Parsed:
    """``Double.parseDouble`` over a string column (Java trims first)."""
    strings = _as_array(strings)
    if len(strings) == 0:
        return Parsed(pa.array([], pa.float64()), np.zeros(0, dtype=bool))
    # Plain decimal notation only (no NaN, inf, hex, suffix or blank): Arrow agrees with Java.
    direct = _direct(strings, pa.float64(), _NUMBER_BYTES)
    if direct is not None:
        return Parsed(direct, np.zeros(len(strings), dtype=bool))
    trimmed = java_trim(strings)
    well_formed = pc.fill_null(pc.match_substring_regex(trimmed, DOUBLE_PATTERN), False)
    hexadecimal = pc.and_(well_formed, pc.match_substring_regex(trimmed, _HEX_FLOAT))
    decimal_ok = pc.and_(well_formed, pc.invert(hexadecimal))
    body = pc.utf8_rtrim(trimmed, characters="fFdD")
    body = pc.if_else(decimal_ok, body, pa.scalar(None, pa.string()))
    values = pc.cast(body, pa.float64())
    if pc.any(hexadecimal).as_py():
        py = values.to_pylist()
        for row in np.flatnonzero(_mask(hexadecimal)):
            py[row] = parse_java_double_str(strings[int(row)].as_py())
        values = pa.array(py, pa.float64())
    invalid = _mask(pc.and_(strings.is_valid(), pc.invert(well_formed)))
    return Parsed(values, invalid)


def parse_java_bigdecimal(
    strings: pa.Array | pa.ChunkedArray, target: pa.DataType, *, exact: bool
) -> tuple[Parsed, np.ndarray]:
    """``new BigDecimal(s)`` over a string column, fitted to the decimal type ``target``.

    With ``exact`` (the serde rule, ``DecimalUtil.ensureFit``) a value needing rounding is rejected;
    otherwise (the CAST rule, ``DecimalUtil.cast``) it is rounded HALF_UP. Either way a value whose
    magnitude is not below ``10^(precision - scale)`` overflows.

    Returns:
        The parsed values, and a mask of the rows rejected for overflow or rounding (a subset of
        ``Parsed.invalid``, so callers can word the two failures differently).
    """
    strings = _as_array(strings)
    n = len(strings)
    if n == 0:
        return Parsed(pa.array([], target), np.zeros(0, dtype=bool)), np.zeros(0, dtype=bool)
    # Arrow refuses any value that needs rounding or overflows, so its success is exact either way.
    direct = _direct(strings, target, _NUMBER_BYTES)
    if direct is not None:
        return Parsed(direct, np.zeros(n, dtype=bool)), np.zeros(n, dtype=bool)
    well_formed = pc.fill_null(pc.match_substring_regex(strings, BIGDECIMAL_PATTERN), False)
    text = pc.if_else(well_formed, strings, pa.scalar(None, pa.string()))
    fits = np.zeros(n, dtype=bool)
    out: pa.Array | None = None
    try:
        # Fast: every value already has at most `scale` fraction digits, so no rounding is involved.
        wide = pc.cast(text, _widened(target))
        limit = pa.scalar(decimal.Decimal(10) ** (target.precision - target.scale), wide.type)
        ok = pc.fill_null(pc.less(pc.abs(wide), limit), False)
        fits = _mask(ok)
        out = pc.cast(pc.if_else(ok, wide, pa.scalar(None, wide.type)), target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        out = None
    if out is None and not exact:
        out, fits = _rounded(text, target)
    if out is None:
        fits = np.zeros(n, dtype=bool)
        py: list[decimal.Decimal | None] = [None] * n
        for row in np.flatnonzero(_mask(well_formed)):
            raw = text[int(row)].as_py()
            py[row] = fit_decimal(decimal.Decimal(raw), target.precision, target.scale, exact=exact)
            fits[row] = py[row] is not None
        out = pa.array(py, target)
    rejected_fit = _mask(well_formed) & ~fits
    invalid = _mask(strings.is_valid()) & ~fits
    return Parsed(out, invalid), rejected_fit


def _rounded(text: pa.Array, target: pa.DataType) -> tuple[pa.Array | None, np.ndarray]:
    """HALF_UP rounding of decimal text to ``target``'s scale, vectorized: the text is read at the
    finest scale that still leaves room for one digit of overflow, checked, then rounded. None when
    some value has more fraction digits than that (the caller then goes value by value)."""
    whole = target.precision - target.scale
    if target.precision > 38 or whole + 1 > 38:
        return None, np.zeros(len(text), dtype=bool)
    wide_type = pa.decimal128(38, 38 - whole - 1)
    try:
        wide = pc.cast(text, wide_type)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None, np.zeros(len(text), dtype=bool)
    limit = pa.scalar(decimal.Decimal(10) ** whole, wide_type)
    rounded = pc.round(wide, ndigits=target.scale, round_mode="half_towards_infinity")
    ok = pc.fill_null(pc.and_(pc.less(pc.abs(wide), limit), pc.less(pc.abs(rounded), limit)), False)
    fits = _mask(ok)
    return pc.cast(pc.if_else(ok, rounded, pa.scalar(None, wide_type)), target), fits


def _widened(target: pa.DataType) -> pa.DataType:
    """A decimal type with the target's scale and room for any overflowing value to be compared."""
    if target.precision <= 38 and target.scale <= 38 - 1:
        return pa.decimal128(38, target.scale)
    return pa.decimal256(76, target.scale)


def fit_decimal(value: decimal.Decimal, precision: int, scale: int, *, exact: bool) -> decimal.Decimal | None:
    """One decimal fitted to DECIMAL(precision, scale): None if it overflows (``ensureMax``) or, with
    ``exact``, if it would need rounding; otherwise rescaled, HALF_UP."""
    if not value.is_finite():
        return None
    if value.copy_abs() >= decimal.Decimal(10) ** (precision - scale):  # abs() would round to 28 digits
        return None
    quantum = decimal.Decimal(1).scaleb(-scale)
    with decimal.localcontext() as ctx:
        ctx.prec = max(precision, len(value.as_tuple().digits)) + 2
        rounded = value.quantize(quantum, rounding=decimal.ROUND_HALF_UP)
    if exact and rounded != value:
        return None
    if rounded.copy_abs() >= decimal.Decimal(10) ** (precision - scale):
        return None
    return rounded

"""The decimal digits JDK 17's ``Double.toString`` chooses (``FloatingDecimal.BinaryToASCIIBuffer.dtoa``).

ksqlDB runs on JDKs before 19, whose ``Double.toString`` does not print the shortest decimal that reads
back as the double (Python's ``repr``): 1e23 is ``9.999999999999999E22``, 2^62 is
``4.6116860184273879E18``, ``Double.MIN_VALUE`` is ``4.9E-324``. The digits come from a digit-by-digit
long division whose details decide the output, so this module follows the JDK's algorithm step by step:

* ``estimateDecExp``: the decimal exponent is first guessed from a linear approximation of ``log10``;
  when the guess is one too high the first quotient digit is zero and is dropped (unless the stopping
  test already fires, in which case the zero is kept and rounded up).
* Whole numbers below 2^63 (``nTinyBits == 0``) are written from the integer itself, rounded half up
  at the decimal places their binary exponent makes insignificant (``developLongDigits``).
* Otherwise ``B / S`` (the value scaled to ``[1, 10)``) is divided digit by digit and ``M`` (half a unit
  in the last binary place, halved again for powers of two) bounds the remainder: the generation stops
  when the remainder is below ``M`` (``low``) or within ``M`` of the next digit (``high``). The JDK does
  this in Java ``int`` arithmetic when every quantity fits in 32 bits, in ``long`` when it fits in 64
  (both wrap on overflow, and an overflowed ``M`` stops the loop), and in ``FDBigInteger`` otherwise,
  where the ``high`` test is ``>=`` instead of ``>``. Each path is reproduced with its own comparisons
  and wrap-around.
* Scientific notation forces a second digit (unless the first one was dropped); the last digit is
  rounded up by ``roundup``, whose carry leaves trailing zeros in place (they are printed).

:func:`jdk_double_string` prints one value; the division paths find their digit count directly
(the loop stops at the fewest digits that come within ``M`` of the value, which the shortest
round-trip count nearly always is), and ``stepwise=True`` runs the loops literally, the reference they
are tested against. :mod:`~headwater.engine.casts.java_double_columns` does the same over columns.
Checked against a JDK 17 on the 19,976 values of tests/fixtures/java/double_to_string.tsv.

Example:
    >>> jdk_double_digits(1e23)
    ('9999999999999999', 23)
    >>> jdk_double_string(2.0**62), jdk_double_string(5e-324), jdk_double_string(0.001)
    ('4.6116860184273879E18', '4.9E-324', '0.001')
"""

from __future__ import annotations

import math
import struct

__all__ = ["jdk_double_digits", "jdk_double_string", "layout_java_double"]

EXP_SHIFT = 52
FRACT_HOB = 1 << EXP_SHIFT
SIGNIFICAND_MASK = FRACT_HOB - 1
EXP_BIAS = 1023
MAX_SMALL_BIN_EXP = 62
MIN_SMALL_BIN_EXP = -(63 // 3)
LONG_5_POW_LENGTH = 27
"""``FDBigInteger.LONG_5_POW`` holds 5^0 .. 5^26."""

INSIGNIFICANT_DIGITS_NUMBER = (
    0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7,
    8, 8, 8, 9, 9, 9, 9, 10, 10, 10, 11, 11, 11, 12, 12, 12, 12, 13, 13, 13, 14, 14, 14,
    15, 15, 15, 15, 16, 16, 16, 17, 17, 17, 18, 18, 18, 19,
)  # fmt: skip
"""``insignificantDigitsNumber[p]``: the decimal digits below 2^p (``floor(log10(2^p))``)."""

N_5_BITS = (
    0, 3, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28, 31, 33, 35, 38, 40, 42, 45, 47, 49, 52, 54, 56, 59, 61,
)  # fmt: skip
"""``N_5_BITS[i]``: the JDK's approximation of ``ceil(log2(5^i))``, which picks the arithmetic path."""

_STRUCT_DOUBLE = struct.Struct("<d")
_STRUCT_LONG = struct.Struct("<q")


def _wrap(value: int, bits: int) -> int:
    """``value`` as a Java ``int`` (bits=32) or ``long`` (bits=64): two's complement wrap-around."""
    mask = (1 << bits) - 1
    value &= mask
    return value - (1 << bits) if value >> (bits - 1) else value


def _n5_bits(power: int) -> int:
    return N_5_BITS[power] if power < len(N_5_BITS) else power * 3


def estimate_decimal_exponent(fract_bits: int, binary_exponent: int) -> int:
    """``estimateDecExp``: ``floor`` of an approximation of ``log10`` of the value, from its significand
    scaled to ``[1, 2)`` and its binary exponent (it may be one too high, never too low)."""
    scaled = _STRUCT_DOUBLE.unpack(
        _STRUCT_LONG.pack((EXP_BIAS << EXP_SHIFT) | (fract_bits & SIGNIFICAND_MASK))
    )[0]
    estimate = (scaled - 1.5) * 0.289529654 + 0.176091259 + float(binary_exponent) * 0.301029995663981
    return math.floor(estimate)


def _long_digits(whole: int, insignificant: int) -> tuple[str, int]:
    """``developLongDigits``: a whole number's digits without trailing zeros, after rounding half up at
    ``insignificant`` decimal places; the exponent is Java's ``decExponent`` (digits before the point)."""
    exponent = 0
    if insignificant:
        unit = 10**insignificant
        whole, residue = divmod(whole, unit)
        exponent += insignificant
        if residue >= unit >> 1:
            whole += 1
    text = str(whole)
    return text.rstrip("0"), exponent + len(text)


def _roundup(digits: list[int], exponent: int) -> tuple[list[int], int]:
    """``roundup``: add one to the last digit; a carry through nines leaves zeros behind it, and a carry
    out of the first digit makes it ``1`` (the other digits stay, as zeros) one decade higher."""
    i = len(digits) - 1
    q = digits[i]
    if q == 9:
        while q == 9 and i > 0:
            digits[i] = 0
            i -= 1
            q = digits[i]
        if q == 9:
            digits[0] = 1
            return digits, exponent + 1
    digits[i] = q + 1
    return digits, exponent


def _fixed_width_digits(
    bits: int, fract: int, b5: int, b2: int, s5: int, s2: int, m5: int, m2: int, dec_exp: int
) -> tuple[list[int], int, bool, bool, int]:
    """The ``int`` (bits=32) or ``long`` (bits=64) digit loop, with Java's wrap-around on overflow.

    Returns:
        The digits, the (possibly decremented) decimal exponent estimate, ``low``, ``high`` and
        ``lowDigitDifference``.
    """
    b = _wrap((fract * 5**b5) << b2, bits)
    s = _wrap(5**s5 << s2, bits)
    m = _wrap(5**m5 << m2, bits)
    tens = _wrap(s * 10, bits)
    digits: list[int] = []
    q, b = divmod(b, s)
    b = _wrap(10 * b, bits)
    m = _wrap(m * 10, bits)
    low = b < m
    high = _wrap(b + m, bits) > tens
    if q == 0 and not high:
        dec_exp -= 1
    else:
        digits.append(q)
    if dec_exp < -3 or dec_exp >= 8:
        high = low = False
    top = 1 << (bits - 1)
    while not low and not high:
        q, b = divmod(b, s)
        b *= 10  # below 10 S, which fits: no wrap
        m *= 10
        if not -top <= m < top:
            m = _wrap(m, bits)
        if m > 0:
            low = b < m
            total = b + m
            high = (total if total < top else _wrap(total, bits)) > tens
        else:  # the JDK's guard: an overflowed M is certainly larger than the remainder
            low = high = True
        digits.append(q)
    low_digit_difference = _wrap(_wrap(b << 1, bits) - tens, bits)
    return digits, dec_exp, low, high, low_digit_difference


def _fixed_width_at_once(
    bits: int, fract: int, b5: int, b2: int, s5: int, s2: int, m5: int, m2: int, dec_exp: int, guess: int
) -> tuple[str, int] | None:
    """What :func:`_fixed_width_digits` and the rounding after it yield, found as
    :func:`big_digits_at_once` finds it, for the rows where Java's arithmetic never overflows.

    The ``int`` / ``long`` loop tests ``high`` strictly (``B + M > 10 S``); as long as ``M * 10^k +
    10 S`` stays below 2^(bits-1) at the digit count ``k`` where it stops, no wrap-around occurred on
    the way and the exact arithmetic gives its answer. (``lowDigitDifference`` may wrap in the middle
    of Java's expression but not in its result, which lies within ``10 S`` of zero.)

    Returns:
        The digits and ``decExponent``; None where Java's arithmetic would overflow or the first
        quotient is 10 or more (the literal loop then reproduces it).
    """
    top = 1 << (bits - 1)
    s = 5**s5 << s2
    b = (fract * 5**b5) << b2
    m = 5**m5 << m2
    tens = 10 * s
    if b >= top or tens >= top or 10 * m + tens >= top:
        return None
    q, r = divmod(b, s)
    if q >= 10:
        return None
    fewest = 2 if dec_exp < -3 or dec_exp >= 8 else 1
    if q == 0 and r + m <= s:
        b, m, dec_exp, fewest = b * 10, m * 10, dec_exp - 1, 1

    def stops(count: int) -> bool:
        scale = 10 ** (count - 1)
        rest = b * scale % s
        return rest < m * scale or rest + m * scale > s

    count = max(fewest, min(guess, 20))
    if stops(count):
        while count > fewest and stops(count - 1):
            count -= 1
    else:
        while not stops(count):
            count += 1
    scale = 10 ** (count - 1)
    if m * scale * 10 + tens >= top:
        return None
    whole, rest = divmod(b * scale, s)
    bound = m * scale
    low, high = rest < bound, rest + bound > s
    exponent = dec_exp + 1
    if high and (not low or 2 * rest > s or (2 * rest == s and whole & 1)):
        text = str(whole + 1).zfill(count)
        if len(text) > count:  # a carry out of the first digit: the JDK keeps the digit count
            return text[:count], exponent + 1
        return text, exponent
    return str(whole).zfill(count), exponent


def _big_digits(
    fract: int, b5: int, b2: int, s5: int, s2: int, m5: int, m2: int, dec_exp: int
) -> tuple[list[int], int, bool, bool, int]:
    """The ``FDBigInteger`` digit loop: exact arithmetic, and ``high`` when ``B + M >= 10 S``.

    The JDK normalizes S by a power of two for its word-wise division; scaling B, S and M alike
    changes no comparison, so it is left out.
    """
    s = 5**s5 << s2
    b = (fract * 5**b5) << b2
    m = 5 ** (m5 + 1) << (m2 + 1)
    tens = 10 * s
    digits: list[int] = []
    q, b = divmod(b, s)
    b *= 10
    low = b < m
    high = tens <= b + m
    if q == 0 and not high:
        dec_exp -= 1
    else:
        digits.append(q)
    if dec_exp < -3 or dec_exp >= 8:
        high = low = False
    while not low and not high:
        q, b = divmod(b, s)
        b *= 10
        m *= 10
        low = b < m
        high = tens <= b + m
        digits.append(q)
    low_digit_difference = (2 * b > tens) - (2 * b < tens) if high and low else 0
    return digits, dec_exp, low, high, low_digit_difference


def big_digits_at_once(
    fract: int, b5: int, b2: int, s5: int, s2: int, m5: int, m2: int, dec_exp: int, guess: int
) -> tuple[str, int] | None:
    """What :func:`_big_digits` and the rounding after it yield, without the digit-by-digit loop.

    The loop stops at the first digit count ``k`` whose remainder ``r`` (of ``B * 10^(k-1)`` by ``S``)
    is below ``M * 10^(k-1)`` or within it of ``S``: that is, at the fewest digits for which a
    ``k``-digit decimal lies in ``(value - M, value + M]``, a property that holds for every larger ``k``
    too. So ``k`` is found by testing counts around ``guess`` (the shortest round-trip digit count,
    usually the answer), and the digits are the quotient ``B * 10^(k-1) // S``, rounded as the JDK does.
    A dropped first digit (the estimate one too high) rescales B and M by ten and, as in the JDK, the
    next digit is tested without forcing a second one.

    Returns:
        The digits (zero-padded to ``k``) and ``decExponent``; None when the first quotient is 10 or more
        (an estimate too low, which the JDK asserts never happens; the loop then reproduces it).
    """
    s = 5**s5 << s2
    b = (fract * 5**b5) << b2
    m = 5**m5 << m2
    q, r = divmod(b, s)
    if q >= 10:
        return None
    fewest = 2 if dec_exp < -3 or dec_exp >= 8 else 1
    if q == 0 and r + m < s:
        b, m, dec_exp, fewest = b * 10, m * 10, dec_exp - 1, 1

    def stops(count: int) -> bool:
        scale = 10 ** (count - 1)
        rest = b * scale % s
        return rest < m * scale or rest + m * scale >= s

    count = max(fewest, min(guess, 20))
    if stops(count):
        while count > fewest and stops(count - 1):
            count -= 1
    else:
        while not stops(count):
            count += 1
    scale = 10 ** (count - 1)
    whole, rest = divmod(b * scale, s)
    bound = m * scale
    low, high = rest < bound, rest + bound >= s
    exponent = dec_exp + 1
    if high and (not low or 2 * rest > s or (2 * rest == s and whole & 1)):
        text = str(whole + 1).zfill(count)
        if len(text) > count:  # a carry out of the first digit: the JDK keeps the digit count
            return text[:count], exponent + 1
        return text, exponent
    return str(whole).zfill(count), exponent


def _dtoa(
    binary_exponent: int, fract_bits: int, significant_bits: int, guess: int = 17, *, stepwise: bool = False
) -> tuple[str, int]:
    """``BinaryToASCIIBuffer.dtoa`` with ``isCompatibleFormat`` (the ``Double.toString`` mode).

    ``guess`` is the shortest round-trip digit count, where the division paths start looking for their
    digit count (:func:`_fixed_width_at_once`, :func:`big_digits_at_once`); ``stepwise`` runs the
    JDK's digit loops literally instead (the reference the direct forms are tested against).
    """
    tail_zeros = (fract_bits & -fract_bits).bit_length() - 1
    fract_bit_count = EXP_SHIFT + 1 - tail_zeros
    tiny_bits = max(0, fract_bit_count - binary_exponent - 1)
    if (
        MIN_SMALL_BIN_EXP <= binary_exponent <= MAX_SMALL_BIN_EXP
        and tiny_bits < LONG_5_POW_LENGTH
        and fract_bit_count + N_5_BITS[tiny_bits] < 64
        and tiny_bits == 0
    ):
        insignificant = 0
        if binary_exponent > significant_bits:
            power = binary_exponent - significant_bits - 1
            if 1 < power < len(INSIGNIFICANT_DIGITS_NUMBER):
                insignificant = INSIGNIFICANT_DIGITS_NUMBER[power]
        if binary_exponent >= EXP_SHIFT:
            whole = fract_bits << (binary_exponent - EXP_SHIFT)
        else:
            whole = fract_bits >> (EXP_SHIFT - binary_exponent)
        return _long_digits(whole, insignificant)

    dec_exp = estimate_decimal_exponent(fract_bits, binary_exponent)
    b5 = max(0, -dec_exp)
    b2 = b5 + tiny_bits + binary_exponent
    s5 = max(0, dec_exp)
    s2 = s5 + tiny_bits
    m5 = b5
    m2 = b2 - significant_bits
    fract = fract_bits >> tail_zeros
    b2 -= fract_bit_count - 1
    common = min(b2, s2)
    b2 -= common
    s2 -= common
    m2 -= common
    if fract_bit_count == 1:  # a power of two: the next smaller double is half as far
        m2 -= 1
    if m2 < 0:
        b2 -= m2
        s2 -= m2
        m2 = 0
    b_bits = fract_bit_count + b2 + _n5_bits(b5)
    ten_s_bits = s2 + 1 + _n5_bits(s5 + 1)
    if b_bits < 64 and ten_s_bits < 64:
        width = 32 if b_bits < 32 and ten_s_bits < 32 else 64
        direct = (
            None if stepwise else _fixed_width_at_once(width, fract, b5, b2, s5, s2, m5, m2, dec_exp, guess)
        )
        if direct is not None:
            return direct
        digits, dec_exp, low, high, difference = _fixed_width_digits(
            width, fract, b5, b2, s5, s2, m5, m2, dec_exp
        )
    else:
        direct = None if stepwise else big_digits_at_once(fract, b5, b2, s5, s2, m5, m2, dec_exp, guess)
        if direct is not None:
            return direct
        digits, dec_exp, low, high, difference = _big_digits(fract, b5, b2, s5, s2, m5, m2, dec_exp)
    exponent = dec_exp + 1
    if high and (not low or difference > 0 or (difference == 0 and digits[-1] & 1)):
        digits, exponent = _roundup(digits, exponent)
    # A digit of 10 or more (never expected) would print as the char after '9', as the JDK's would.
    return bytes(48 + d for d in digits).decode("latin-1"), exponent  # 48: the char 0


def _shortest_digit_count(value: float) -> int:
    """How many significant digits Python's ``repr`` (the shortest round trip) gives ``value``."""
    return len(repr(value).partition("e")[0].replace(".", "").lstrip("-0").rstrip("0")) or 1


def jdk_double_digits(value: float, *, stepwise: bool = False) -> tuple[str, int]:
    """The digits JDK 17 prints for a finite non-zero double's magnitude, and its ``decExponent``
    (the value is ``0.<digits> * 10^decExponent``, so 1e23's ``9999999999999999`` comes with 23).

    The digits may end in zeros (a ``roundup`` carry leaves them), and they are printed. ``stepwise``
    runs the JDK's digit loops literally (see :func:`_dtoa`).
    """
    bits = _STRUCT_LONG.unpack(_STRUCT_DOUBLE.pack(value))[0]
    fract_bits = bits & SIGNIFICAND_MASK
    binary_exponent = (bits >> EXP_SHIFT) & 0x7FF
    if binary_exponent == 0x7FF or (binary_exponent == 0 and fract_bits == 0):
        raise ValueError(f"{value!r} has no digits: only finite non-zero doubles do")
    if binary_exponent:
        fract_bits |= FRACT_HOB
        significant_bits = 53
    else:  # subnormal: normalize so the high-order bit sits where a normal double's hidden bit does
        leading_zeros = 64 - fract_bits.bit_length()
        shift = leading_zeros - 11
        fract_bits <<= shift
        binary_exponent = 1 - shift
        significant_bits = 64 - leading_zeros
    guess = _shortest_digit_count(value)
    return _dtoa(binary_exponent - EXP_BIAS, fract_bits, significant_bits, guess, stepwise=stepwise)


def layout_java_double(negative: bool, digits: str, exponent: int) -> str:
    """``BinaryToASCIIBuffer.getChars``: plain for ``0 < decExponent < 8`` (``123.0``), ``0.00ddd``
    for ``-3 < decExponent <= 0``, else ``d.dddE<n>`` (at least one digit after the point)."""
    sign = "-" if negative else ""
    if 0 < exponent < 8:
        if len(digits) <= exponent:
            return f"{sign}{digits}{'0' * (exponent - len(digits))}.0"
        return f"{sign}{digits[:exponent]}.{digits[exponent:]}"
    if -3 < exponent <= 0:
        return f"{sign}0.{'0' * -exponent}{digits}"
    shown = exponent - 1
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{shown}"


def jdk_double_string(value: float) -> str:
    """``Double.toString(value)`` as JDK 17 (ksqlDB's runtime) prints it, for any double."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    negative = math.copysign(1.0, value) < 0
    if value == 0:
        return "-0.0" if negative else "0.0"
    digits, exponent = jdk_double_digits(value)
    return layout_java_double(negative, digits, exponent)

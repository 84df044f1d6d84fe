"""JDK 17's ``Double.toString`` over a whole float64 column (see :mod:`.java_double_digits`).

The whole-number path and the ``int`` / ``long`` digit loops run in numpy over all their rows at once
(numpy's ``int32`` / ``int64`` wrap on overflow as Java's do, so the JDK's overflow guards behave
alike); the big-integer path runs in numpy object arrays with its digit count found directly; the
text is laid out by one gather over byte rows.

Most values never reach that port: where :func:`_proven_shortest` proves the JDK's digits are the
shortest round-trip ones (a division path with no wrap-around and no tie, or a whole number below
2^53), Arrow's float-to-string cast already holds them, laid out as Java does (``.0`` added to whole
numbers, ``1.5E21`` for ``1.5e+21``). One million values, best of three on a shared machine, the port
alone -> with the fast path (Arrow's cast alone): prices ``round(uniform(1, 1e4), 2)`` 0.52 -> 0.26 s
(0.06), uniform ``[0, 1)`` 0.83 -> 0.29 s (0.08), whole numbers below 1e6 0.34 -> 0.12 s (0.05), random
bit patterns 4.8 -> 0.9 s (0.10). Checked against a JDK 17 on 950,000 random values besides the fixture.

Example:
    >>> import pyarrow as pa
    >>> jdk_double_text_column(pa.array([1e23, 0.001, None, -2.0**62, 5e-324])).to_pylist()
    ['9.999999999999999E22', '0.001', None, '-4.6116860184273879E18', '4.9E-324']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.casts.java_double_digits import (
    EXP_BIAS,
    EXP_SHIFT,
    FRACT_HOB,
    INSIGNIFICANT_DIGITS_NUMBER,
    LONG_5_POW_LENGTH,
    MAX_SMALL_BIN_EXP,
    MIN_SMALL_BIN_EXP,
    N_5_BITS,
    SIGNIFICAND_MASK,
    big_digits_at_once,
    jdk_double_digits,
    jdk_double_string,
)

__all__ = ["jdk_double_text_column"]


_DIGIT_COLUMNS = 24
"""Room for a row's digits: the JDK's buffer holds 20."""
_PADDING = 3
"""Zeros ahead of the digits in a row of chars, so ``0.00ddd`` is one slice of the row."""

_FIVE_POWERS = np.array([5**i for i in range(LONG_5_POW_LENGTH)], dtype=np.int64)
_N_5_BITS_ARRAY = np.array(N_5_BITS, dtype=np.int64)
_INSIGNIFICANT_ARRAY = np.array(INSIGNIFICANT_DIGITS_NUMBER, dtype=np.int64)
_TEN_POWERS = np.array([10**i for i in range(19)], dtype=np.int64)
_ZERO_CHAR = ord("0")
_NINE_CHAR = ord("9")


@dataclass(frozen=True, slots=True)
class _Unpacked:
    """The ``dtoa`` inputs of a column: significand (high-order bit at 2^52), unbiased binary exponent
    and the count of significant bits (53, fewer for subnormals)."""

    fract_bits: np.ndarray
    binary_exponent: np.ndarray
    significant_bits: np.ndarray

    def take(self, rows: np.ndarray) -> _Unpacked:
        return _Unpacked(self.fract_bits[rows], self.binary_exponent[rows], self.significant_bits[rows])


@dataclass(frozen=True, slots=True)
class _Scaled:
    """``dtoa``'s ``B = fract * 5^b5 * 2^b2``, ``S = 5^s5 * 2^s2``, ``M = 5^m5 * 2^m2`` of some rows, and
    the decimal exponent estimate."""

    fract: np.ndarray
    b5: np.ndarray
    b2: np.ndarray
    s5: np.ndarray
    s2: np.ndarray
    m5: np.ndarray
    m2: np.ndarray
    dec_exp: np.ndarray

    def take(self, rows: np.ndarray) -> _Scaled:
        return _Scaled(*(getattr(self, name)[rows] for name in self.__slots__))


def _bit_length(values: np.ndarray) -> np.ndarray:
    """Bit length of non-negative integers below 2^53 (exact through float64's ``frexp``)."""
    return np.frexp(values.astype(np.float64))[1].astype(np.int64)


def _unpack(bits: np.ndarray) -> _Unpacked:
    """``getBinaryToASCIIConverter``'s unpacking of finite non-zero doubles' raw bits."""
    fract = bits & SIGNIFICAND_MASK
    biased = (bits >> EXP_SHIFT) & 0x7FF
    subnormal = biased == 0
    length = _bit_length(fract)
    shift = np.where(subnormal, 53 - length, 0)
    fract = np.where(subnormal, fract << shift, fract | FRACT_HOB)
    biased = np.where(subnormal, 1 - shift, biased)
    significant = np.where(subnormal, length, 53)
    return _Unpacked(fract, biased - EXP_BIAS, significant)


def _write_digits(chars: np.ndarray, rows: np.ndarray, whole: np.ndarray, count: np.ndarray) -> None:
    """Writes the ``count`` lowest decimal digits of each non-negative int64 ``whole`` (zero-padded on
    the left) into ``chars`` at ``rows``."""
    for column in range(int(count.max(initial=0))):
        place = count - 1 - column
        digit = (whole // _TEN_POWERS[np.maximum(place, 0)]) % 10
        chars[rows, _PADDING + column] = np.where(place >= 0, digit + _ZERO_CHAR, _ZERO_CHAR)


def _long_digits_column(
    chars: np.ndarray, rows: np.ndarray, unpacked: _Unpacked
) -> tuple[np.ndarray, np.ndarray]:
    """``developLongDigits`` for whole numbers below 2^63, vectorized: writes the digits into ``chars``
    at ``rows`` and returns the digit count (trailing zeros dropped) and ``decExponent``."""
    binary_exponent = unpacked.binary_exponent
    fract = unpacked.fract_bits
    whole = np.where(
        binary_exponent >= EXP_SHIFT,
        fract << np.maximum(binary_exponent - EXP_SHIFT, 0),
        fract >> np.maximum(EXP_SHIFT - binary_exponent, 0),
    )
    power = binary_exponent - unpacked.significant_bits - 1
    usable = (power > 1) & (power < _INSIGNIFICANT_ARRAY.size)
    insignificant = np.where(
        usable, _INSIGNIFICANT_ARRAY[np.clip(power, 0, _INSIGNIFICANT_ARRAY.size - 1)], 0
    )
    unit = _TEN_POWERS[insignificant]
    whole, residue = np.divmod(whole, unit)
    whole = whole + ((insignificant > 0) & (residue >= unit >> 1))
    count = np.searchsorted(_TEN_POWERS, whole, side="right").astype(np.int64)
    _write_digits(chars, rows, whole, count)
    trailing = np.zeros_like(count)
    rest = whole
    zero_ended = rest % 10 == 0
    while zero_ended.any():
        trailing += zero_ended
        rest = np.where(zero_ended, rest // 10, rest)
        zero_ended = rest % 10 == 0
    return count - trailing, count + insignificant


def _division_column(
    chars: np.ndarray, rows: np.ndarray, scaled: _Scaled, dtype: type[np.signedinteger]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_fixed_width_digits` over many rows at once, in numpy ``int32`` / ``int64`` (which wrap on
    overflow as Java's ``int`` / ``long`` do), writing the digits into ``chars`` at ``rows``. Each step
    works on the rows still generating.

    Returns:
        Digit count, decimal exponent estimate (decremented where the first digit was dropped), ``low``,
        ``high`` and the sign of ``lowDigitDifference``.
    """
    ten = dtype(10)
    b = (scaled.fract.astype(dtype) * _FIVE_POWERS[scaled.b5].astype(dtype)) << scaled.b2.astype(dtype)
    s = _FIVE_POWERS[scaled.s5].astype(dtype) << scaled.s2.astype(dtype)
    m = _FIVE_POWERS[scaled.m5].astype(dtype) << scaled.m2.astype(dtype)
    tens = s * ten
    q, b = np.divmod(b, s)
    b = b * ten
    m = m * ten
    low = b < m
    high = b + m > tens
    dropped = (q == 0) & ~high
    dec_exp = scaled.dec_exp - dropped
    kept = np.flatnonzero(~dropped)
    chars[rows[kept], _PADDING] = q[kept].astype(np.uint8) + _ZERO_CHAR
    count = (~dropped).astype(np.int64)
    forced = (dec_exp < -3) | (dec_exp >= 8)
    low &= ~forced
    high &= ~forced
    active = np.flatnonzero(~low & ~high)
    b_now, m_now, s_now, tens_now, count_now = b[active], m[active], s[active], tens[active], count[active]
    while active.size:
        q, b_now = np.divmod(b_now, s_now)
        b_now = b_now * ten
        m_now = m_now * ten
        overflowed = m_now <= 0  # the JDK's guard: an overflowed M is certainly larger than the rest
        low_now = overflowed | (b_now < m_now)
        high_now = overflowed | (b_now + m_now > tens_now)
        chars[rows[active], _PADDING + count_now] = q.astype(np.uint8) + _ZERO_CHAR
        count_now += 1
        done = low_now | high_now
        if done.any():
            finished = active[done]
            b[finished], low[finished], high[finished] = b_now[done], low_now[done], high_now[done]
            count[finished] = count_now[done]
            going = ~done
            active, b_now, m_now, s_now, tens_now, count_now = (
                active[going],
                b_now[going],
                m_now[going],
                s_now[going],
                tens_now[going],
                count_now[going],
            )
    difference = (b << dtype(1)) - tens
    sign = (difference > 0).astype(np.int64) - (difference < 0).astype(np.int64)
    return count, dec_exp, low, high, sign


_BIG_TEN_POWERS = np.array([10**i for i in range(19)], dtype=object)


def _shortest_digit_counts(magnitudes: np.ndarray) -> np.ndarray:
    """``_shortest_digit_count`` (:mod:`.java_double_digits`) of a column, from Arrow's float-to-string cast (shortest digits,
    as ``1.5e-05``)."""
    text = pc.cast(pa.array(magnitudes), pa.string())
    mantissa = pc.replace_substring(pc.replace_substring_regex(text, r"e.*$", ""), ".", "")
    digits = pc.utf8_length(pc.utf8_trim(mantissa, characters="0"))
    return np.maximum(np.asarray(digits.to_numpy(zero_copy_only=False), dtype=np.int64), 1)


def _big_division_column(
    chars: np.ndarray, rows: np.ndarray, scaled: _Scaled, guess: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`big_digits_at_once` over many rows: numpy object arrays of Python integers (exact, each
    operation one C loop over the rows, only the big-integer arithmetic itself per element).

    Only the digit count ``guess`` (the shortest round trip's) and the one below it are tested; a row
    whose count is elsewhere, or above 18 digits, is left to the caller.

    Returns:
        The rows settled here (a mask over ``rows``), and their digit count and ``decExponent``.
    """
    fives = np.array([5**i for i in range(int(max(scaled.b5.max(), scaled.s5.max())) + 1)], dtype=object)
    s = fives[scaled.s5] << scaled.s2.astype(object)
    b = scaled.fract.astype(object) * fives[scaled.b5] << scaled.b2.astype(object)
    m = fives[scaled.m5] << scaled.m2.astype(object)
    q = b // s
    r = b - q * s
    dropped = (q == 0) & (r + m < s)
    b = np.where(dropped, b * 10, b)
    m = np.where(dropped, m * 10, m)
    dec_exp = scaled.dec_exp - dropped
    fewest = np.where(dropped | ((dec_exp >= -3) & (dec_exp < 8)), 1, 2)
    count = np.maximum(fewest, np.minimum(guess, 18))

    scale = _BIG_TEN_POWERS[count - 1]
    scaled_b = b * scale
    whole = scaled_b // s
    rest = scaled_b - whole * s
    bound = m * scale
    low = rest < bound
    high = rest + bound >= s
    stopped = low | high
    # One digit fewer, from the same division: ten times its remainder is rest + (last digit) * S.
    rest_before = whole % 10 * s + rest
    stopped_before = ((rest_before < bound) | (rest_before + bound >= s * 10)) & (count > fewest)
    settled = (q < 10) & stopped & ~stopped_before
    up = high & (~low | (rest * 2 > s) | ((rest * 2 == s) & (whole % 2 == 1)))
    whole = (whole + up)[settled].astype(np.int64)
    count = count[settled]
    exponent = dec_exp[settled] + 1
    carried = whole == _TEN_POWERS[count]  # a carry out of the first digit: the JDK keeps the count
    whole = np.where(carried, _TEN_POWERS[count - 1], whole)
    _write_digits(chars, rows[settled], whole, count)
    return settled, count, exponent + carried


def _roundup_column(chars: np.ndarray, rows: np.ndarray, count: np.ndarray, exponent: np.ndarray) -> None:
    """:func:`_roundup` on ``rows`` of ``chars`` (``count`` and ``exponent`` indexed alike), in place,
    one carry step at a time for all of them."""
    position = _PADDING + count[rows] - 1
    while rows.size:
        digit = chars[rows, position]
        nine = digit == _NINE_CHAR
        carry = nine & (position > _PADDING)
        out = nine & (position == _PADDING)
        done = ~nine
        chars[rows[done], position[done]] = digit[done] + 1
        chars[rows[out], _PADDING] = _ZERO_CHAR + 1
        exponent[rows[out]] += 1
        chars[rows[carry], position[carry]] = _ZERO_CHAR
        rows, position = rows[carry], position[carry] - 1


def _scale(
    unpacked: _Unpacked, fract_bit_count: np.ndarray, tail_zeros: np.ndarray, tiny_bits: np.ndarray
) -> _Scaled:
    """``dtoa``'s estimate of the decimal exponent and its powers of 2 and 5 in B, S and M."""
    binary_exponent = unpacked.binary_exponent
    fract_bits = unpacked.fract_bits
    scaled = (np.int64(EXP_BIAS << EXP_SHIFT) | (fract_bits & SIGNIFICAND_MASK)).view(np.float64)
    estimate = (
        (scaled - 1.5) * 0.289529654 + 0.176091259 + binary_exponent.astype(np.float64) * 0.301029995663981
    )
    dec_exp = np.floor(estimate).astype(np.int64)
    b5 = np.maximum(0, -dec_exp)
    b2 = b5 + tiny_bits + binary_exponent
    s5 = np.maximum(0, dec_exp)
    s2 = s5 + tiny_bits
    m2 = b2 - unpacked.significant_bits
    b2 = b2 - (fract_bit_count - 1)
    common = np.minimum(b2, s2)
    b2, s2, m2 = b2 - common, s2 - common, m2 - common
    m2 = m2 - (fract_bit_count == 1)  # a power of two: the next smaller double is half as far
    lift = np.minimum(m2, 0)
    return _Scaled(fract_bits >> tail_zeros, b5, b2 - lift, s5, s2 - lift, b5, m2 - lift, dec_exp)


def _n5_bits_column(power: np.ndarray) -> np.ndarray:
    return np.where(
        power < _N_5_BITS_ARRAY.size, _N_5_BITS_ARRAY[np.minimum(power, _N_5_BITS_ARRAY.size - 1)], power * 3
    )


def _digit_column(unpacked: _Unpacked, magnitudes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`jdk_double_digits` of every row (finite, non-zero magnitudes), as a matrix of ASCII
    digits behind :data:`_PADDING` zeros and padded with zeros, the digit count and ``decExponent``.

    Whole numbers and the ``int`` / ``long`` loops run in numpy over all their rows. The
    ``FDBigInteger`` rows (magnitudes below about 1e-3 or above about 1e18, with a fraction) need exact
    integers of up to ~1,100 digits, which numpy has only as object arrays: each operation is still one
    C loop over the rows, but the arithmetic itself is per element (several microseconds a row). A row
    whose digit count is not the shortest round trip's (or one more) falls back to a per-row Python
    call, as no vectorized form finds its count.
    """
    rows = unpacked.fract_bits.size
    chars = np.full((rows, _PADDING + _DIGIT_COLUMNS), _ZERO_CHAR, dtype=np.uint8)
    count = np.zeros(rows, dtype=np.int64)
    exponent = np.zeros(rows, dtype=np.int64)
    binary_exponent = unpacked.binary_exponent
    tail_zeros = _bit_length(unpacked.fract_bits & -unpacked.fract_bits) - 1
    fract_bit_count = EXP_SHIFT + 1 - tail_zeros
    tiny_bits = np.maximum(0, fract_bit_count - binary_exponent - 1)
    whole = (binary_exponent >= MIN_SMALL_BIN_EXP) & (binary_exponent <= MAX_SMALL_BIN_EXP) & (tiny_bits == 0)
    if whole.any():
        picked = np.flatnonzero(whole)
        count[picked], exponent[picked] = _long_digits_column(chars, picked, unpacked.take(picked))
    divided = np.flatnonzero(~whole)
    if divided.size == 0:
        return chars, count, exponent
    scaled = _scale(unpacked.take(divided), fract_bit_count[divided], tail_zeros[divided], tiny_bits[divided])
    b_bits = fract_bit_count[divided] + scaled.b2 + _n5_bits_column(scaled.b5)
    ten_s_bits = scaled.s2 + 1 + _n5_bits_column(scaled.s5 + 1)
    fits_long = (b_bits < 64) & (ten_s_bits < 64)
    fits_int = fits_long & (b_bits < 32) & (ten_s_bits < 32)
    big_local = np.flatnonzero(~fits_long)
    big = divided[big_local]
    if big.size:  # the FDBigInteger path (see _digit_column's docstring)
        powers = scaled.take(big_local)
        guess = _shortest_digit_counts(magnitudes[big])
        settled, settled_count, settled_exponent = _big_division_column(chars, big, powers, guess)
        count[big[settled]], exponent[big[settled]] = settled_count, settled_exponent
        rest = np.flatnonzero(~settled)
        results = [
            big_digits_at_once(*row[:-1]) or jdk_double_digits(row[-1], stepwise=True)
            for row in zip(
                powers.fract[rest].tolist(),
                powers.b5[rest].tolist(),
                powers.b2[rest].tolist(),
                powers.s5[rest].tolist(),
                powers.s2[rest].tolist(),
                powers.m5[rest].tolist(),
                powers.m2[rest].tolist(),
                powers.dec_exp[rest].tolist(),
                guess[rest].tolist(),
                magnitudes[big[rest]].tolist(),
                strict=True,
            )
        ]
        if results:
            padded = "".join(digits.ljust(_DIGIT_COLUMNS, "0") for digits, _ in results).encode("ascii")
            unsettled = big[rest]
            chars[unsettled, _PADDING:] = np.frombuffer(padded, dtype=np.uint8).reshape(rest.size, -1)
            count[unsettled] = [len(digits) for digits, _ in results]
            exponent[unsettled] = [power for _, power in results]
    for mask, dtype in ((fits_int, np.int32), (fits_long & ~fits_int, np.int64)):
        local = np.flatnonzero(mask)
        if local.size == 0:
            continue
        picked = divided[local]
        picked_count, dec_exp, low, high, difference = _division_column(
            chars, picked, scaled.take(local), dtype
        )
        picked_exponent = dec_exp + 1
        last = chars[picked, _PADDING + np.maximum(picked_count - 1, 0)]
        rounds = high & (~low | (difference > 0) | ((difference == 0) & (last % 2 == 1)))
        count[picked], exponent[picked] = picked_count, picked_exponent
        _roundup_column(chars, picked[rounds], count, exponent)
    return chars, count, exponent


_MINUS_COLUMN = _PADDING + _DIGIT_COLUMNS
_POINT_COLUMN = _MINUS_COLUMN + 1
_E_COLUMN = _MINUS_COLUMN + 2
_POWER_COLUMN = _MINUS_COLUMN + 3
"""Columns after the digits in :func:`_layout_column`'s source rows: ``-``, ``.``, ``E``, and the
decimal exponent's magnitude as three digits."""


def _layout_column(
    chars: np.ndarray, count: np.ndarray, exponent: np.ndarray, negative: np.ndarray
) -> pa.Array:
    """``getChars`` for every row: the text is a sequence of pieces (sign, whole part, point, fraction,
    ``E``, exponent sign, exponent digits), each a run of one source row (the digit row extended with
    the punctuation and the exponent's digits); all runs are gathered with one index array.

    The digit row's padding does the rest: three zeros ahead of the digits give ``0.00ddd``, and the
    zeros after them give ``100.0`` and ``1.0E10`` their ``0`` after the point.
    """
    rows = chars.shape[0]
    power = exponent - 1
    magnitude = np.abs(power)
    source = np.empty((rows, _POWER_COLUMN + 3), dtype=np.uint8)
    source[:, :_MINUS_COLUMN] = chars
    source[:, _MINUS_COLUMN] = ord("-")
    source[:, _POINT_COLUMN] = ord(".")
    source[:, _E_COLUMN] = ord("E")
    source[:, _POWER_COLUMN] = magnitude // 100 + _ZERO_CHAR
    source[:, _POWER_COLUMN + 1] = magnitude // 10 % 10 + _ZERO_CHAR
    source[:, _POWER_COLUMN + 2] = magnitude % 10 + _ZERO_CHAR
    plain = (exponent > 0) & (exponent < 8)
    small = (exponent <= 0) & (exponent > -3)
    scientific = ~plain & ~small
    whole_start = np.where(small, 0, _PADDING)
    whole_stop = np.where(plain, _PADDING + exponent, np.where(small, 1, _PADDING + 1))
    fraction_start = np.where(scientific, _PADDING + 1, _PADDING + exponent)
    power_digits = 1 + (magnitude >= 10) + (magnitude >= 100)
    starts = np.stack(
        [
            np.full(rows, _MINUS_COLUMN),
            whole_start,
            np.full(rows, _POINT_COLUMN),
            fraction_start,
            np.full(rows, _E_COLUMN),
            np.full(rows, _MINUS_COLUMN),
            _POWER_COLUMN + 3 - power_digits,
        ],
        axis=1,
    )
    lengths = np.stack(
        [
            negative.astype(np.int64),
            whole_stop - whole_start,
            np.ones(rows, dtype=np.int64),
            np.maximum(_PADDING + count - fraction_start, 1),
            scientific.astype(np.int64),
            (scientific & (power < 0)).astype(np.int64),
            np.where(scientific, power_digits, 0),
        ],
        axis=1,
    )
    run_lengths = lengths.ravel()
    run_starts = (starts + (np.arange(rows) * source.shape[1])[:, None]).ravel()
    run_offsets = np.cumsum(run_lengths) - run_lengths
    total = int(run_lengths.sum())
    index = np.repeat(run_starts - run_offsets, run_lengths) + np.arange(total)
    data = source.ravel()[index]
    offsets = np.zeros(rows + 1, dtype=np.int32)
    np.cumsum(lengths.sum(axis=1), out=offsets[1:])
    return pa.StringArray.from_buffers(rows, pa.py_buffer(offsets), pa.py_buffer(data))


_PLAIN_LOW = 1e-3
_PLAIN_HIGH = 1e7
"""Magnitudes the JDK writes without an exponent (``decExponent`` in ``(-3, 8)``); Arrow's cast writes
them without one too (checked per row all the same)."""
_EXACT_WHOLE_LIMIT = float(2**53)
"""Below it every whole double is printed by its exact digits, by the JDK and as the shortest round trip."""
_LOG2_FIVE = float(np.log2(5.0))
_LOG2_TEN = float(np.log2(10.0))
_LOG2_MARGIN = 1e-6
"""Slack for float64 rounding in the overflow bound (its errors are near 1e-13 in a log2 of at most 63)."""


def _numbers_of(array: pa.Array, dtype: type[np.generic]) -> np.ndarray:
    return np.asarray(array.to_numpy(zero_copy_only=False), dtype=dtype)


def _plain_shape(picked: pa.Array, negative: np.ndarray, above_one: np.ndarray) -> tuple[np.ndarray, ...]:
    """Digit count and ``decExponent`` of Arrow texts without an exponent and with a fraction (``123.45``,
    ``-0.00123``), and whether each is so shaped."""
    length = _numbers_of(pc.binary_length(picked), np.int64)
    point = _numbers_of(pc.find_substring(picked, "."), np.int64)
    significant = _numbers_of(pc.binary_length(pc.utf8_ltrim(picked, characters="-0.")), np.int64)
    count = np.where(above_one, significant - 1, significant)
    exponent = np.where(above_one, point - negative, significant + negative + 2 - length)
    return count, exponent, point >= 0


def _scientific_shape(picked: pa.Array, negative: np.ndarray) -> tuple[np.ndarray, ...]:
    """Digit count and ``decExponent`` of Arrow texts with an exponent (``-1.25e+21``, ``1e-05``)."""
    point = _numbers_of(pc.find_substring(picked, "."), np.int64)
    e_at = _numbers_of(pc.find_substring(picked, "e"), np.int64)
    power = _numbers_of(pc.cast(pc.replace_substring_regex(picked, r"^.*e\+?", ""), pa.int64()), np.int64)
    return e_at - negative - (point >= 0), power + 1, e_at >= 0


def _division_proven(magnitudes: np.ndarray, count: np.ndarray, exponent: np.ndarray) -> np.ndarray:
    """Whether the JDK's ``dtoa`` division paths print exactly ``count`` digits at ``decExponent``
    ``exponent`` (the shortest round trip's, the closest of them) for these finite magnitudes, as laid
    out in :func:`_proven_shortest`'s docstring."""
    unpacked = _unpack(magnitudes.view(np.int64))
    tail_zeros = _bit_length(unpacked.fract_bits & -unpacked.fract_bits) - 1
    fract_bit_count = EXP_SHIFT + 1 - tail_zeros
    binary_exponent = unpacked.binary_exponent
    tiny_bits = np.maximum(0, fract_bit_count - binary_exponent - 1)
    scaled = _scale(unpacked, fract_bit_count, tail_zeros, tiny_bits)
    b_bits = fract_bit_count + scaled.b2 + _n5_bits_column(scaled.b5)
    ten_s_bits = scaled.s2 + 1 + _n5_bits_column(scaled.s5 + 1)
    fits_long = (b_bits < 64) & (ten_s_bits < 64)
    width = np.where((b_bits < 32) & (ten_s_bits < 32), 31, 63)
    log_m = scaled.m5 * _LOG2_FIVE + scaled.m2 + (count + 1) * _LOG2_TEN
    log_ten_s = scaled.s5 * _LOG2_FIVE + scaled.s2 + _LOG2_TEN
    larger = np.maximum(log_m, log_ten_s)
    no_wrap = larger + np.log2(1.0 + np.exp2(np.minimum(log_m, log_ten_s) - larger)) < width - _LOG2_MARGIN
    last_place = exponent - count
    first_place = exponent - 1
    whole_path = (
        (tiny_bits == 0) & (binary_exponent >= MIN_SMALL_BIN_EXP) & (binary_exponent <= MAX_SMALL_BIN_EXP)
    )
    return (
        ~whole_path
        & (unpacked.significant_bits == 53)
        & (fract_bit_count > 1)
        & (count > 1)
        & ((first_place == scaled.dec_exp) | (first_place == scaled.dec_exp - 1))
        & (~fits_long | no_wrap)
        & ~_tie_possible(unpacked.fract_bits, binary_exponent - EXP_SHIFT, tail_zeros, last_place)
    )


def _tie_possible(
    fract: np.ndarray, unit_power: np.ndarray, tail_zeros: np.ndarray, place: np.ndarray
) -> np.ndarray:
    """Whether a decimal whose last digit is at ``10^place`` or above may lie exactly ``M`` (half the
    unit ``2^unit_power`` of the 53-bit significand ``fract``) from the value, or the value exactly
    between two of them (False proves neither can).

    Such a decimal is a multiple of ``10^place``; ``value +- M = (2 fract +- 1) 2^(unit_power - 1)`` is
    one only if ``unit_power - 1 >= place`` and, for ``place >= 1``, ``5^place`` divides ``2 fract +- 1``.
    The value is the midpoint of two, ``(2 D + 1) 10^place / 2``, only if its 2-adic valuation
    ``tail_zeros + unit_power`` is ``place - 1`` and, for ``place >= 1``, ``5^place`` divides ``fract``.
    5^26 exceeds 2^54, so a larger ``place`` clipped to 26 leaves every remainder non-zero, as it is.
    """
    off_by_m = unit_power - 1 >= place
    midpoint = tail_zeros + unit_power == place - 1
    candidates = np.flatnonzero(off_by_m | midpoint)  # few rows: the remainders only for them
    if candidates.size:
        place, fract = place[candidates], fract[candidates]
        five = _FIVE_POWERS[np.clip(place, 0, _FIVE_POWERS.size - 1)]
        fractional = place <= 0
        off_by_m[candidates] &= fractional | ((2 * fract + 1) % five == 0) | ((2 * fract - 1) % five == 0)
        midpoint[candidates] &= fractional | (fract % five == 0)
    return off_by_m | midpoint


def _proven_shortest(
    numbers: np.ndarray, magnitudes: np.ndarray, finite: np.ndarray, text: pa.Array
) -> tuple[np.ndarray, np.ndarray]:
    """The rows whose JDK text is Arrow's ``text`` re-laid out: those whose JDK digits are provably the
    shortest round-trip digits, the closest of them, which Arrow's cast prints. Returns a mask of the
    plain ones (the text as is, ``.0`` added to whole numbers) and one of the scientific ones.

    Whole numbers below 2^53 take ``developLongDigits`` with nothing insignificant: their exact digits
    (any decimal of fewer digits is another whole number, at least 1 away, and ``M <= 1/2``), which are
    the shortest; those in ``[1, 1e7)`` are plain, the larger ones are taken where Arrow writes an
    exponent. Any other finite value, with ``k`` the shortest digit count and ``E``
    its ``decExponent``, qualifies when it takes a division path (not ``developLongDigits``) and:

    * it is normal, not a power of two (the JDK narrows the interval above it), and ``k > 1`` (which
      rules out the estimate too high by one with the zero kept and rounded up to ``1``, and the forced
      second digit);
    * ``E - 1`` is the estimate or one below it (the first digit dropped), not above it;
    * in ``int`` / ``long`` arithmetic, ``M * 10^(k+1) + 10 S < 2^(bits-1)``: nothing wraps up to ``k``
      digits (``FDBigInteger`` is exact);
    * no tie is possible (:func:`_tie_possible`): no decimal of ``k`` digits or fewer lies exactly ``M``
      from the value, and the value is not exactly between two ``k``-digit decimals.

    Then no decimal of fewer digits is within ``M`` (it would be a shorter round trip; at exactly ``M``,
    where ``FDBigInteger``'s ``high`` test would stop, is a tie), the shortest decimal is strictly within
    ``M`` (within it as a round trip, not at it), so the loop stops at ``k`` digits, and of the truncation
    and its successor it keeps the nearer one, as the shortest closest digits are.
    """
    has_exponent = _numbers_of(pc.match_substring(text, "e"), np.bool_)
    in_range = finite & (magnitudes >= _PLAIN_LOW) & (magnitudes < _PLAIN_HIGH)
    whole = in_range & (np.floor(magnitudes) == magnitudes)
    plain = whole.copy()
    scientific = (
        has_exponent
        & (magnitudes >= _PLAIN_HIGH)
        & (magnitudes < _EXACT_WHOLE_LIMIT)
        & (np.floor(magnitudes) == magnitudes)
    )
    negative = np.signbit(numbers).astype(np.int64)
    for rows, is_plain in (
        (np.flatnonzero(in_range & ~whole & ~has_exponent), True),
        (np.flatnonzero(finite & ~in_range & has_exponent), False),
    ):
        if rows.size == 0:
            continue
        picked = text if rows.size == len(text) else text.take(pa.array(rows))
        if is_plain:
            count, exponent, shaped = _plain_shape(picked, negative[rows], magnitudes[rows] >= 1.0)
        else:
            count, exponent, shaped = _scientific_shape(picked, negative[rows])
        proven = rows[shaped & _division_proven(magnitudes[rows], count, exponent)]
        (plain if is_plain else scientific)[proven] = True
    return plain, scientific


def _java_scientific(text: pa.Array) -> pa.Array:
    """Arrow's ``-1.25e+21`` / ``1e-05`` as Java writes the same digits: ``-1.25E21`` / ``1.0E-5``."""
    pointed = pc.replace_substring_regex(text, r"^(-?\d)e", r"\1.0e")
    return pc.replace_substring_regex(pointed, r"e\+?(-?)0*(\d)", r"E\1\2")


def _exact_text_column(numbers: np.ndarray) -> pa.Array:
    """The JDK's text of every value (no nulls) by the port of ``dtoa``: the digits from
    :func:`_digit_column`, the layout from :func:`_layout_column`, then NaN, the infinities and zeros."""
    finite = np.isfinite(numbers) & (numbers != 0.0)
    magnitudes = np.where(finite, np.abs(numbers), 1.0)
    chars, count, exponent = _digit_column(_unpack(magnitudes.view(np.int64)), magnitudes)
    text = _layout_column(chars, count, exponent, np.signbit(numbers))
    special = np.flatnonzero(~finite)
    if special.size:
        names = [jdk_double_string(value) for value in numbers[special].tolist()]
        mask = np.zeros(numbers.size, dtype=bool)
        mask[special] = True
        text = pc.replace_with_mask(text, pa.array(mask), pa.array(names, pa.string()))
    return text


def jdk_double_text_column(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """``Double.toString`` as JDK 17 prints it, for every value of a float64 column (null stays null).

    Rows :func:`_proven_shortest` proves are taken from Arrow's float-to-string cast, re-laid out; the
    rest go through the port of ``dtoa`` (:func:`_exact_text_column`).
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    values = values.cast(pa.float64())
    if len(values) == 0:
        return pa.array([], pa.string())
    filled = values.fill_null(1.0)
    numbers = np.asarray(filled.to_numpy(zero_copy_only=False), dtype=np.float64)
    finite = np.isfinite(numbers) & (numbers != 0.0)
    magnitudes = np.where(finite, np.abs(numbers), 1.0)
    text = pc.cast(filled, pa.string())
    plain, scientific = _proven_shortest(numbers, magnitudes, finite, text)
    whole = plain & (np.floor(magnitudes) == magnitudes)
    if whole.any():
        text = pc.if_else(pa.array(whole), pc.binary_join_element_wise(text, ".0", ""), text)
    replaced = ~plain
    if replaced.any():
        slow = np.flatnonzero(~plain & ~scientific)
        relaid = np.flatnonzero(scientific)
        pieces = pa.concat_arrays(
            [_exact_text_column(numbers[slow]), _java_scientific(text.take(pa.array(relaid)))]
        )
        order = np.argsort(np.concatenate([slow, relaid]), kind="stable")
        text = pc.replace_with_mask(text, pa.array(replaced), pieces.take(pa.array(order)))
    if values.null_count:
        text = pc.if_else(values.is_valid(), text, pa.scalar(None, pa.string()))
    return text

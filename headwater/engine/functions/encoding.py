"""Bytes and encodings: TO_BYTES, FROM_BYTES, ENCODE, INT_FROM_BYTES, BIGINT_FROM_BYTES and
DOUBLE_FROM_BYTES.

The encodings are ``hex``, ``utf8``, ``ascii`` and ``base64`` (case-insensitive names), with Java's
conversions: text that does not fit ASCII becomes ``?`` when encoded, undecodable bytes become U+FFFD
when decoded, FROM_BYTES writes upper-case hex while ENCODE writes lower-case, and the base64 of
TO_BYTES / FROM_BYTES is Java's MIME flavour (lines of 76 characters) while ENCODE's is unbroken.
ENCODE accepts ``0x...`` and ``X'...'`` hex literals, as ksqlDB does.

Hex, UTF-8 and ASCII run vectorized on the raw buffers with numpy; base64 goes through Python's C
codec one row at a time (listed in docs/architecture.md's fallback table).

Example:
    >>> import pyarrow as pa
    >>> hex_encode(pa.array([b"!", None, b"\\x1a\\xb2"]), upper=True).to_pylist()
    ['21', None, '1AB2']
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.functions.columns import apply_by_distinct, as_array, valid_mask, with_nulls
from headwater.engine.functions.registry import (
    CallContext,
    Datum,
    FunctionError,
    Param,
    ScalarFunction,
    Signature,
)
from headwater.engine.functions.text import buffers, from_buffers
from headwater.parser import types as t

__all__ = ["FUNCTIONS", "hex_decode", "hex_encode"]

_ENCODINGS = ("hex", "utf8", "ascii", "base64")
_HEX_UPPER = np.frombuffer(b"0123456789ABCDEF", dtype=np.uint8)
_HEX_LOWER = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_REPLACEMENT = np.frombuffer("\ufffd".encode(), dtype=np.uint8)


def _validity(array: pa.Array) -> pa.Array | None:
    return array.is_valid() if array.null_count else None


# --------------------------------------------------------------------------------------------------------
# Vectorized codecs


def hex_encode(values: pa.Array, *, upper: bool) -> pa.Array:
    """Bytes (or the UTF-8 of strings) as hex text."""
    offsets, data = buffers(values)
    chunk = data[offsets[0] : offsets[-1]]
    table = _HEX_UPPER if upper else _HEX_LOWER
    out = np.empty(len(chunk) * 2, dtype=np.uint8)
    out[0::2] = table[chunk >> 4]
    out[1::2] = table[chunk & 0x0F]
    return from_buffers(pa.string(), (offsets - offsets[0]) * 2, out, _validity(values))


def hex_decode(values: pa.Array) -> pa.Array:
    """Hex text (either case) as bytes.

    Raises:
        FunctionError: odd length or a character that is not a hex digit.
    """
    offsets, data = buffers(values)
    lengths = offsets[1:] - offsets[:-1]
    valid = valid_mask(values)
    odd = valid & (lengths % 2 == 1)
    if odd.any():
        raise FunctionError(f"Invalid input length {int(lengths[np.flatnonzero(odd)[0]])}")
    chunk = data[offsets[0] : offsets[-1]].astype(np.int16)
    digits = np.full(len(chunk), -1, dtype=np.int16)
    for low, high, base in ((48, 57, 0), (65, 70, 10), (97, 102, 10)):
        inside = (chunk >= low) & (chunk <= high)
        digits[inside] = chunk[inside] - low + base
    if (digits < 0).any():
        bad = chr(int(chunk[np.flatnonzero(digits < 0)[0]]))
        raise FunctionError(f"Unrecognized character: {bad}")
    out = ((digits[0::2] << 4) | digits[1::2]).astype(np.uint8)
    return from_buffers(pa.binary(), (offsets - offsets[0]) // 2, out, _validity(values))


def _utf8_decode(values: pa.Array) -> pa.Array:
    """Bytes as UTF-8 text; rows with malformed sequences get U+FFFD like Java's decoder."""
    try:
        return values.cast(pa.string())
    except pa.ArrowInvalid:
        return pa.array(
            [None if v is None else v.decode("utf-8", errors="replace") for v in values.to_pylist()],
            pa.string(),
        )


def _ascii_decode(values: pa.Array) -> pa.Array:
    """Bytes as US-ASCII text: every byte above 0x7F becomes U+FFFD."""
    offsets, data = buffers(values)
    chunk = data[offsets[0] : offsets[-1]]
    high = chunk >= 0x80
    if not high.any():
        return values.cast(pa.string())
    sizes = np.where(high, 3, 1)
    new_positions = np.concatenate([[0], np.cumsum(sizes)])
    out = np.empty(int(new_positions[-1]), dtype=np.uint8)
    low_positions = new_positions[:-1][~high]
    out[low_positions] = chunk[~high]
    high_positions = new_positions[:-1][high]
    for k in range(3):
        out[high_positions + k] = _REPLACEMENT[k]
    new_offsets = new_positions[offsets - offsets[0]]
    return from_buffers(pa.string(), new_offsets, out, _validity(values))


def _ascii_encode(values: pa.Array) -> pa.Array:
    """Text as US-ASCII bytes: every character outside ASCII becomes '?'."""
    return pc.replace_substring_regex(values, pattern="[^\\x00-\\x7F]", replacement="?").cast(pa.binary())


def _base64_decode_one(text: str) -> bytes:
    """Java's MIME decoder: characters outside the alphabet are skipped, padding is optional."""
    cleaned = "".join(ch for ch in text if ch.isalnum() or ch in "+/")
    end = text.find("=")
    if end >= 0:
        cleaned = "".join(ch for ch in text[:end] if ch.isascii() and (ch.isalnum() or ch in "+/"))
    if len(cleaned) % 4 == 1:
        raise FunctionError("Last unit does not have enough valid bits")
    try:
        return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4))
    except binascii.Error as error:
        raise FunctionError(f"Illegal base64 input: {error}") from error


def _base64_encode_one(data: bytes, mime: bool) -> str:
    text = base64.b64encode(data).decode("ascii")
    if mime and len(text) > 76:
        text = "\r\n".join(text[i : i + 76] for i in range(0, len(text), 76))
    return text


def _rowwise_binary(values: pa.Array, fn: Callable[[bytes], str]) -> pa.Array:
    return pa.array([None if v is None else fn(v) for v in values.to_pylist()], pa.string())


def _to_bytes(values: pa.Array, encoding: str) -> pa.Array:
    if encoding == "hex":
        return hex_decode(values)
    if encoding == "utf8":
        return values.cast(pa.binary())
    if encoding == "ascii":
        return _ascii_encode(values)
    return pa.array(
        [None if v is None else _base64_decode_one(v) for v in values.to_pylist()], pa.binary()
    )


def _from_bytes(values: pa.Array, encoding: str, *, upper_hex: bool = True, mime: bool = True) -> pa.Array:
    if encoding == "hex":
        return hex_encode(values, upper=upper_hex)
    if encoding == "utf8":
        return _utf8_decode(values)
    if encoding == "ascii":
        return _ascii_decode(values)
    return _rowwise_binary(values, lambda v: _base64_encode_one(v, mime))


def _encoding(name: str) -> str:
    lowered = name.lower()
    if lowered not in _ENCODINGS:
        raise FunctionError(
            f"Unknown encoding type '{name}'. Supported formats are 'hex', 'utf8', 'ascii', and 'base64'."
        )
    return lowered


# --------------------------------------------------------------------------------------------------------
# Kernels


def _to_bytes_kernel(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    values = as_array(args[0], ctx.length)

    def compute(encoding: str, rows: np.ndarray) -> pa.Array:
        return _to_bytes(values.take(pa.array(rows)), _encoding(encoding))

    return apply_by_distinct(args[1], ctx.length, pa.binary(), compute)


def _from_bytes_kernel(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    values = as_array(args[0], ctx.length)

    def compute(encoding: str, rows: np.ndarray) -> pa.Array:
        return _from_bytes(values.take(pa.array(rows)), _encoding(encoding))

    return apply_by_distinct(args[1], ctx.length, pa.string(), compute)


def _hex_strip(values: pa.Array) -> pa.Array:
    """ENCODE's treatment of hex literals: ``0x`` drops its prefix (a zero is prepended when the
    remaining digit count is odd) and ``X'..'`` / ``x'..'`` drop their quotes."""
    prefixed = pc.starts_with(values, "0x")
    lengths = pc.utf8_length(values)
    odd = pc.equal(pc.bit_wise_and(lengths, 1), 1)
    without_prefix = pc.utf8_slice_codeunits(values, 2)
    with_zero = pc.binary_join_element_wise("0", without_prefix, "")
    from_0x = pc.if_else(odd, with_zero, without_prefix)
    quoted = pc.match_substring_regex(values, "^[xX]'.*'$")
    from_quotes = pc.utf8_slice_codeunits(pc.utf8_slice_codeunits(values, 2), 0, -1)
    return pc.if_else(prefixed, from_0x, pc.if_else(quoted, from_quotes, values))


def _encode_kernel(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    values = as_array(args[0], ctx.length)

    def compute(key: tuple[str, str], rows: np.ndarray) -> pa.Array:
        source, target = key[0].lower(), key[1].lower()
        if source not in _ENCODINGS or target not in _ENCODINGS or source == target:
            raise FunctionError("Supported input and output encodings are: hex, utf8, ascii and base64")
        subset = values.take(pa.array(rows))
        if source == "hex":
            raw = hex_decode(_hex_strip(subset))
        elif source == "base64":
            raw = pa.array(
                [None if v is None else _commons_base64_decode(v) for v in subset.to_pylist()], pa.binary()
            )
        elif source == "ascii":
            raw = _ascii_encode(subset)
        else:
            raw = subset.cast(pa.binary())
        return _from_bytes(raw, target, upper_hex=False, mime=False)

    return with_nulls(apply_by_distinct([args[1], args[2]], ctx.length, pa.string(), compute), ~valid_mask(values))


def _commons_base64_decode(text: str) -> bytes:
    """Apache Commons ``Base64.decodeBase64``: lenient, ignores characters outside the alphabet."""
    cleaned = "".join(ch for ch in text if ch.isascii() and (ch.isalnum() or ch in "+/-_"))
    cleaned = cleaned.replace("-", "+").replace("_", "/")
    cleaned = cleaned[: len(cleaned) - len(cleaned) % 4] if len(cleaned) % 4 == 1 else cleaned
    return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4))


def _number_from_bytes(size: int, dtype: str) -> Callable[[Sequence[Datum], CallContext], pa.Array]:
    arrow_type = {"i4": pa.int32(), "i8": pa.int64(), "f8": pa.float64()}[dtype]
    sql_name = {"i4": "INT", "i8": "BIGINT", "f8": "DOUBLE"}[dtype]

    def kernel(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
        values = as_array(args[0], ctx.length)
        order_arg: Datum = args[1] if len(args) > 1 else pa.scalar("BIG_ENDIAN")

        def compute(order: str, rows: np.ndarray) -> pa.Array:
            if order.upper() not in ("BIG_ENDIAN", "LITTLE_ENDIAN"):
                raise FunctionError(
                    f"Byte order must be BIG_ENDIAN or LITTLE_ENDIAN. Unknown byte order '{order}'."
                )
            subset = values.take(pa.array(rows))
            offsets, data = buffers(subset)
            lengths = offsets[1:] - offsets[:-1]
            valid = valid_mask(subset)
            wrong = valid & (lengths != size)
            if wrong.any():
                found = int(lengths[np.flatnonzero(wrong)[0]])
                raise FunctionError(
                    f"Number of bytes must be equal to {size}, but found {found}"
                    f" (converting BYTES to {sql_name})"
                )
            starts = offsets[:-1][valid]
            gathered = data[(starts[:, None] + np.arange(size)).reshape(-1)] if len(starts) else data[:0]
            endian = ">" if order.upper() == "BIG_ENDIAN" else "<"
            numbers = np.zeros(len(subset), dtype=f"{endian}{dtype}")
            numbers[valid] = np.frombuffer(gathered.tobytes(), dtype=f"{endian}{dtype}")
            return pa.array(numbers.astype(dtype), arrow_type, mask=~valid if not valid.all() else None)

        return apply_by_distinct(order_arg, ctx.length, arrow_type, compute)

    kernel.__name__ = f"{sql_name.lower()}_from_bytes"
    return kernel


def _conversion(name: str, size: int, dtype: str, returns: t.SqlType) -> ScalarFunction:
    kernel = _number_from_bytes(size, dtype)
    value = Param("value", t.BYTES, "The bytes value to convert.")
    order = Param("byteOrder", t.STRING, "The byte order of the number bytes representation.")
    return ScalarFunction(
        name,
        "CONVERSIONS",
        f"Converts a BYTES value of {size} bytes to a {returns.sql()} value (big-endian unless told).",
        (Signature((value,), returns, kernel), Signature((value, order), returns, kernel)),
    )


FUNCTIONS: tuple[ScalarFunction, ...] = (
    ScalarFunction(
        "to_bytes",
        "STRING",
        "Converts a STRING value in the specified encoding to BYTES. The accepted encoders are "
        "'hex', 'utf8', 'ascii', and 'base64'.",
        (
            Signature(
                (Param("value", t.STRING, "The string to convert."), Param("encoding", t.STRING, "The type of encoding.")),
                t.BYTES,
                _to_bytes_kernel,
            ),
        ),
    ),
    ScalarFunction(
        "from_bytes",
        "STRING",
        "Converts a BYTES value to STRING in the specified encoding. The accepted encoders are "
        "'hex', 'utf8', 'ascii', and 'base64'.",
        (
            Signature(
                (Param("value", t.BYTES, "The bytes value to convert."),
                 Param("encoding", t.STRING, "The encoding to use on conversion.")),
                t.STRING,
                _from_bytes_kernel,
            ),
        ),
    ),
    ScalarFunction(
        "encode",
        "STRING",
        "Takes an input string s, which is encoded as input_encoding, and encodes it as "
        "output_encoding. The accepted input and output encodings are: hex, utf8, ascii and base64.",
        (
            Signature(
                (
                    Param("str", t.STRING, "The source string."),
                    Param("inputEncoding", t.STRING, "The input encoding."),
                    Param("outputEncoding", t.STRING, "The output encoding."),
                ),
                t.STRING,
                _encode_kernel,
            ),
        ),
    ),
    _conversion("int_from_bytes", 4, "i4", t.INT),
    _conversion("bigint_from_bytes", 8, "i8", t.BIGINT),
    _conversion("double_from_bytes", 8, "f8", t.DOUBLE),
)

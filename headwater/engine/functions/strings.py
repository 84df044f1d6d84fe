"""String functions: SUBSTRING, CONCAT, CONCAT_WS, LEN, LCASE, UCASE, TRIM, INITCAP, INSTR, LPAD,
RPAD, REPLACE, SPLIT, SPLIT_TO_MAP, ELT, FIELD, CHR, MASK and its variants, MD5 and UUID.

ksqlDB's semantics, which differ from SQL's usual ones in places:

* SUBSTRING is 1-based; a negative position counts from the end; positions past either end clamp
  instead of failing. With ``ksql.functions.substring.legacy.args`` the old 0-based
  ``(start, end)`` form applies, where an out-of-range index fails the row as Java's
  ``String.substring`` does.
* CONCAT treats NULL arguments as empty; CONCAT_WS skips them and is NULL only when the separator is.
* LEN counts UTF-16 code units, as Java's ``String.length()``; other positions count characters
  (code points), which is the same thing except beside characters outside the Basic Multilingual
  Plane.
* TRIM removes every character up to U+0020 at both ends (Java's ``String.trim``); INITCAP drops
  leading whitespace, lower-cases everything and upper-cases the first character of each
  whitespace-delimited word.
* INSTR returns 0 rather than NULL for NULL arguments, and reproduces ksqlDB's arithmetic for a
  missing occurrence after a start position (see :func:`_instr_one`).

Per-row Python (the measured exception, listed in docs/architecture.md): INSTR with a position or
occurrence, CHR of an escape string, MD5, UUID, and REPLACE with an empty search string.

Example:
    >>> import pyarrow as pa
    >>> from headwater.engine.functions.registry import CallContext
    >>> from headwater.parser import types as t
    >>> ctx = CallContext((t.STRING, t.INT, t.INT), t.STRING, 2)
    >>> _substring([pa.array(["stream", "ab"]), pa.scalar(2), pa.scalar(3)], ctx).to_pylist()
    ['tre', 'b']
"""

from __future__ import annotations

import hashlib
import unicodedata
import uuid
from collections.abc import Callable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.functions.columns import (
    apply_by_distinct,
    as_array,
    as_numpy,
    choose_rows,
    is_scalar,
    rebuild_list,
    rebuild_map,
    scalar_value,
    valid_mask,
    with_nulls,
)
from headwater.engine.functions.registry import (
    CallContext,
    Datum,
    FunctionError,
    Param,
    ScalarFunction,
    Signature,
    rowwise,
)
from headwater.engine.functions.text import (
    buffers,
    codepoint_lengths,
    from_buffers,
    java_lengths,
    slice_bytes,
    slice_codepoints,
    split_characters,
)
from headwater.parser import types as t

__all__ = ["FUNCTIONS"]

CATEGORY = "STRING"
LEGACY_SUBSTRING = "ksql.functions.substring.legacy.args"
_JAVA_TRIM = "".join(chr(c) for c in range(0x21))
_JAVA_WHITESPACE = " \t\n\x0b\x0c\r"

Kernel = Callable[[Sequence[Datum], CallContext], pa.Array]


def _ints(datum: Datum, length: int) -> tuple[np.ndarray, np.ndarray]:
    array = as_array(datum, length)
    return as_numpy(array.cast(pa.int64()), fill=0).astype(np.int64), valid_mask(array)


def _is_binary(array: pa.Array) -> bool:
    return pa.types.is_binary(array.type) or pa.types.is_large_binary(array.type)


# --------------------------------------------------------------------------------------------------------
# SUBSTRING


_INT_MAX = 2**31 - 1


def _scalar_int(datum: Datum) -> int | None:
    """The value of a non-NULL integer scalar argument, else None."""
    if isinstance(datum, pa.Scalar) and datum.is_valid:
        return int(datum.as_py())
    return None


def _substring_uniform(values: pa.Array, args: Sequence[Datum]) -> pa.Array | None:
    """SUBSTRING of a string column by literal, non-negative position and length: Arrow's code point
    slice clamps exactly as ksqlDB does, so no per-row bounds are needed. None when it does not apply
    (a negative literal counts from each row's end, a negative length would mean "from the end" to
    Arrow, and ``start + length`` past Integer.MAX_VALUE wraps in Java)."""
    pos = _scalar_int(args[1])
    if pos is None or pos < 0:
        return None
    start = max(pos - 1, 0)
    if len(args) < 3:
        return pc.utf8_slice_codeunits(values, start=start)
    count = _scalar_int(args[2])
    if count is None or count < 0 or start + count > _INT_MAX:
        return None
    return pc.utf8_slice_codeunits(values, start=start, stop=start + count)


def _substring(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    """ksqlDB's SUBSTRING for strings and bytes, vectorized over per-row positions."""
    values = as_array(args[0], ctx.length)
    binary = _is_binary(values)
    legacy = ctx.config.get(LEGACY_SUBSTRING) in (True, "true", "TRUE", "True")
    if not binary and not legacy:
        uniform = _substring_uniform(values, args)
        if uniform is not None:
            return uniform
    lengths = (
        as_numpy(pc.binary_length(values), fill=0).astype(np.int64) if binary else codepoint_lengths(values)
    )
    pos, pos_valid = _ints(args[1], ctx.length)
    valid = valid_mask(values) & pos_valid
    if legacy:
        start, stop = _legacy_bounds(lengths, pos, args, ctx, valid)
    else:
        start = np.where(pos < 0, np.maximum(lengths + pos, 0), np.clip(pos - 1, 0, lengths))
        if len(args) > 2:
            count, count_valid = _ints(args[2], ctx.length)
            valid &= count_valid
            end = start + count
            end = np.where(end > _INT_MAX, end - 2**32, end)  # Java's int addition wraps
            stop = np.maximum(np.minimum(end, lengths), start)
        else:
            stop = lengths
    sliced = slice_bytes(values, start, stop) if binary else slice_codepoints(values, start, stop)
    return with_nulls(sliced, ~valid)


def _legacy_bounds(
    lengths: np.ndarray, start: np.ndarray, args: Sequence[Datum], ctx: CallContext, valid: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The pre-0.6 SUBSTRING(str, startIndex[, endIndex]): 0-based, end exclusive, out of range fails."""
    if len(args) > 2:
        stop, stop_valid = _ints(args[2], ctx.length)
        valid &= stop_valid
    else:
        stop = lengths
    bad = valid & ((start < 0) | (stop > lengths) | (start > stop))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise FunctionError(
            f"String index out of range: begin {start[row]}, end {stop[row]}, length {lengths[row]}"
        )
    return start, stop


# --------------------------------------------------------------------------------------------------------
# CONCAT, CONCAT_WS, LEN, case, TRIM


def _concat(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    if len(args) < 2:
        raise FunctionError("Concat should have at least two input arguments.")
    columns = [as_array(a, ctx.length) for a in args]
    empty = b"" if _is_binary(columns[0]) else ""
    return pc.binary_join_element_wise(
        *columns, empty, null_handling="replace", null_replacement=empty
    )


def _concat_ws(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    """Joins the non-NULL values of each row with the row's separator. (Arrow's
    ``binary_join_element_wise`` with ``null_handling="skip"`` loses rows whose values are all NULL,
    so the values are gathered into one list per row and joined with ``binary_join``.)"""
    separator = as_array(args[0], ctx.length)
    columns = [as_array(a, ctx.length).cast(separator.type) for a in args[1:]]
    count = len(columns)
    if count:
        interleaved = pa.concat_arrays(columns).take(
            pa.array((np.arange(count)[None, :] * ctx.length + np.arange(ctx.length)[:, None]).reshape(-1))
        )
        present = valid_mask(interleaved)
        values = interleaved.filter(pa.array(present))
        lengths = present.reshape(ctx.length, count).sum(axis=1).astype(np.int64)
    else:
        values = pa.array([], separator.type)
        lengths = np.zeros(ctx.length, dtype=np.int64)
    lists = rebuild_list(lengths, values, None, pa.list_(separator.type))
    return pc.binary_join(lists, separator)


def _len(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    values = as_array(args[0], ctx.length)
    if _is_binary(values):
        return pc.binary_length(values).cast(pa.int32())
    return java_lengths(values).cast(pa.int32())


def _lcase(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    return pc.utf8_lower(as_array(args[0], ctx.length))


def _ucase(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    return pc.utf8_upper(as_array(args[0], ctx.length))


def _trim(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    return pc.utf8_trim(as_array(args[0], ctx.length), characters=_JAVA_TRIM)


def _initcap(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    """Lower-case, drop leading whitespace, upper-case each word's first character. ASCII word
    initials are fixed in the UTF-8 bytes directly; rows with a non-ASCII initial go through Python."""
    values = pc.utf8_ltrim(pc.utf8_lower(as_array(args[0], ctx.length)), characters=_JAVA_WHITESPACE)
    offsets, data = buffers(values)
    if len(data) == 0:
        return values
    data = data.copy()
    is_space = np.isin(data, np.frombuffer(_JAVA_WHITESPACE.encode(), dtype=np.uint8))
    previous_space = np.concatenate([[True], is_space[:-1]])
    row_starts = np.zeros(len(data), dtype=bool)
    row_starts[offsets[:-1][offsets[:-1] < len(data)]] = True
    initial = ~is_space & (previous_space | row_starts)
    lower_ascii = initial & (data >= ord("a")) & (data <= ord("z"))
    data[lower_ascii] -= 32
    result = from_buffers(pa.string(), offsets - offsets[0], data[offsets[0] : offsets[-1]],
                          values.is_valid() if values.null_count else None)
    non_ascii_initial = initial & (data >= 0x80)
    if not non_ascii_initial.any():
        return result
    rows = np.unique(np.searchsorted(offsets, np.flatnonzero(non_ascii_initial), side="right") - 1)
    fixed = pa.array([_initcap_one(text) for text in values.take(pa.array(rows)).to_pylist()], pa.string())
    index = np.arange(len(values), dtype=np.int64)
    index[rows] = len(values) + np.arange(len(rows))
    return pa.concat_arrays([result, fixed]).take(pa.array(index))


def _initcap_one(text: str) -> str:
    words = []
    current = ""
    for ch in text:
        if ch in _JAVA_WHITESPACE:
            current += ch
        else:
            if current and current[-1] in _JAVA_WHITESPACE:
                words.append(current)
                current = ""
            current += ch
    words.append(current)
    return "".join(w[:1].upper() + w[1:] for w in words if w)


# --------------------------------------------------------------------------------------------------------
# INSTR


def _ordinal_index_of(text: str, search: str, ordinal: int) -> int:
    """Apache Commons ``StringUtils.ordinalIndexOf``: overlapping occurrences, -1 when absent."""
    if ordinal <= 0:
        return -1
    if search == "":
        return 0
    index = -1
    for _ in range(ordinal):
        index = text.find(search, index + 1)
        if index < 0:
            return -1
    return index


def _commons_substring(text: str, start: int) -> str:
    """Apache Commons ``StringUtils.substring(str, start)``: a negative start counts from the end."""
    if start < 0:
        start = max(len(text) + start, 0)
    return text[start:] if start <= len(text) else ""


def _instr_one(text: str | None, search: str | None, position: int, occurrence: int) -> int:
    """ksqlDB's INSTR for one row, including its result for a missing occurrence after a start
    position (``position - 1``) and its reverse search for a negative position."""
    if text is None or search is None:
        return 0
    if abs(position) > len(text):
        return 0
    if position < 0:
        reversed_text, reversed_search = text[::-1], search[::-1]
        found = _ordinal_index_of(_commons_substring(reversed_text, -position - 1), reversed_search, occurrence)
        return len(reversed_text) - (-position) - found
    found = _ordinal_index_of(_commons_substring(text, position - 1), search, occurrence)
    return found + position


def _instr_first(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    """INSTR(str, substring): vectorized with Arrow's byte-offset search, converted to characters."""
    texts = as_array(args[0], ctx.length)
    search = args[1]
    if not is_scalar(search) or scalar_value(search) in (None, ""):
        return _instr_rowwise(args, ctx)
    found = as_numpy(pc.find_substring(texts, scalar_value(search)), fill=-1).astype(np.int64)
    result = np.zeros(ctx.length, dtype=np.int64)
    hit = found >= 0
    if hit.any():
        offsets, data = buffers(texts)
        starts = (data & 0xC0) != 0x80
        cumulative = np.concatenate([[0], np.cumsum(starts)])
        result[hit] = cumulative[offsets[:-1][hit] + found[hit]] - cumulative[offsets[:-1][hit]] + 1
    result[~valid_mask(texts)] = 0
    return pa.array(result.astype(np.int32), pa.int32())


def _instr_rowwise(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    columns = [as_array(a, ctx.length).to_pylist() for a in args]
    positions = columns[2] if len(columns) > 2 else [1] * ctx.length
    occurrences = columns[3] if len(columns) > 3 else [1] * ctx.length
    out: list[int | None] = []
    for text, search, position, occurrence in zip(columns[0], columns[1], positions, occurrences):
        if position is None or occurrence is None:
            out.append(None)
        else:
            out.append(_instr_one(text, search, position, occurrence))
    return pa.array(out, pa.int32())


_instr_rowwise.rowwise = True  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------------------------
# LPAD, RPAD


def _pad_uniform(values: pa.Array, args: Sequence[Datum], left: bool) -> pa.Array | None:
    """LPAD/RPAD of a string column to a literal length with a literal padding. The filler a row needs
    depends only on how many code points it lacks, so the candidate fillers (a prefix of the repeated
    padding for each shortfall 0..target) are built once and taken per row; Arrow's code point slice
    then truncates rows longer than the target. None when the arguments are not literals."""
    target = _scalar_int(args[1])
    padding = args[2]
    if target is None or not isinstance(padding, pa.Scalar) or not padding.is_valid or target > 256:
        return None
    pad = padding.as_py()
    if pad == "" or target < 0:
        return pa.nulls(len(values), pa.string())
    full = (pad * (target // len(pad) + 1))[:target]
    prefixes = pa.array([full[:k] for k in range(target + 1)], pa.string())
    shortfall = pc.max_element_wise(pc.subtract(target, pc.utf8_length(values).cast(pa.int64())), 0)
    filler = prefixes.take(pc.fill_null(shortfall, 0))
    joined = pc.binary_join_element_wise(*((filler, values) if left else (values, filler)), "")
    return pc.utf8_slice_codeunits(joined, start=0, stop=target)


def _pad(left: bool) -> Kernel:
    def kernel(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
        values = as_array(args[0], ctx.length)
        binary = _is_binary(values)
        if not binary:
            uniform = _pad_uniform(values, args, left)
            if uniform is not None:
                return uniform
        target, target_valid = _ints(args[1], ctx.length)
        padding = as_array(args[2], ctx.length)
        pad_len = (
            as_numpy(pc.binary_length(padding), fill=0) if binary else codepoint_lengths(padding)
        ).astype(np.int64)
        valid = valid_mask(values) & target_valid & valid_mask(padding) & (pad_len > 0) & (target >= 0)
        lengths = (
            as_numpy(pc.binary_length(values), fill=0).astype(np.int64) if binary else codepoint_lengths(values)
        )
        safe_target = np.where(valid, target, 0)
        repeats = np.where(valid, -(-np.maximum(safe_target - lengths, 0) // np.maximum(pad_len, 1)), 0)
        filler = pc.binary_repeat(pc.fill_null(padding, b"" if binary else ""), pa.array(repeats))
        empty = b"" if binary else ""
        if left:
            pad_up_to = np.maximum(safe_target - lengths, 0)
            cut = slice_bytes if binary else slice_codepoints
            filler = cut(filler, np.zeros(ctx.length, dtype=np.int64), pad_up_to)
            joined = pc.binary_join_element_wise(filler, pc.fill_null(values, empty), empty)
        else:
            joined = pc.binary_join_element_wise(pc.fill_null(values, empty), filler, empty)
        cut = slice_bytes if binary else slice_codepoints
        return with_nulls(cut(joined, np.zeros(ctx.length, dtype=np.int64), safe_target), ~valid)

    kernel.__name__ = "lpad" if left else "rpad"
    return kernel


# --------------------------------------------------------------------------------------------------------
# REPLACE, SPLIT, SPLIT_TO_MAP


def _replace(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    values = as_array(args[0], ctx.length)

    def compute(pair: tuple[str, str], rows: np.ndarray) -> pa.Array:
        old, new = pair
        subset = values.take(pa.array(rows))
        if old == "":
            # Java inserts the replacement around every character; Arrow has no such kernel.
            return pa.array(
                [None if v is None else new + new.join(v) + new for v in subset.to_pylist()], pa.string()
            )
        return pc.replace_substring(subset, pattern=old, replacement=new)

    return with_nulls(apply_by_distinct([args[1], args[2]], ctx.length, pa.string(), compute), ~valid_mask(values))


def _split(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    values = as_array(args[0], ctx.length)
    binary = _is_binary(values)
    out_type = pa.list_(pa.binary() if binary else pa.string())

    def compute(delimiter: str | bytes, rows: np.ndarray) -> pa.Array:
        subset = values.take(pa.array(rows)) if len(rows) != ctx.length else values
        if len(delimiter) == 0:
            return split_characters(subset, binary=binary)
        return pc.split_pattern(subset, pattern=delimiter)

    return with_nulls(apply_by_distinct(args[1], ctx.length, out_type, compute), ~valid_mask(values))


def _split_to_map(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    values = as_array(args[0], ctx.length)
    map_type = pa.map_(pa.string(), pa.string())

    def compute(delimiters: tuple[str, str], rows: np.ndarray) -> pa.Array:
        entry_delimiter, kv_delimiter = delimiters
        subset = values.take(pa.array(rows))
        if not entry_delimiter or not kv_delimiter or entry_delimiter == kv_delimiter:
            return pa.nulls(len(rows), map_type)
        entries = pc.split_pattern(subset, pattern=entry_delimiter)
        flat = pc.list_flatten(entries)
        parent = as_numpy(pc.list_parent_indices(entries)).astype(np.int64)
        keep = as_numpy(pc.match_substring(flat, kv_delimiter), fill=False).astype(bool)
        keep &= as_numpy(pc.not_equal(flat, ""), fill=False).astype(bool)
        flat = flat.filter(pa.array(keep))
        parent = parent[keep]
        parts = pc.split_pattern(flat, pattern=kv_delimiter, max_splits=2)
        keys = pc.list_element(parts, 0)
        # Guava yields the text up to a second delimiter as the value
        items = pc.list_element(parts, 1)
        # the latest value of a duplicated key wins: keep the last occurrence of each (row, key)
        entries = pa.table({"row": pa.array(parent), "key": keys, "index": pa.array(np.arange(len(parent)))})
        last = entries.group_by(["row", "key"], use_threads=False).aggregate([("index", "max")])
        keep_index = np.sort(as_numpy(last.column("index_max").combine_chunks()).astype(np.int64))
        taken = pa.array(keep_index)
        lengths = np.bincount(parent[keep_index], minlength=len(rows)).astype(np.int64)
        return rebuild_map(lengths, keys.take(taken), items.take(taken), valid_mask(subset), map_type)

    return with_nulls(apply_by_distinct([args[1], args[2]], ctx.length, map_type, compute), ~valid_mask(values))



# --------------------------------------------------------------------------------------------------------
# ELT, FIELD, CHR


def _elt(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    index, index_valid = _ints(args[0], ctx.length)
    choices = [as_array(a, ctx.length) for a in args[1:]]
    in_range = index_valid & (index >= 1) & (index <= len(choices))
    if not choices:
        return pa.nulls(ctx.length, pa.string())
    return choose_rows(np.where(in_range, index - 1, -1), choices)


def _field(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    target = as_array(args[0], ctx.length)
    result = np.zeros(ctx.length, dtype=np.int32)
    for position in range(len(args) - 1, 0, -1):
        equal = as_numpy(pc.equal(target, as_array(args[position], ctx.length)), fill=False).astype(bool)
        result[equal] = position
    return pa.array(result, pa.int32())


def _utf8_of_code_points(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """UTF-8 encode one code point per row: (offsets, bytes). Surrogates become '?', as Java writes a
    lone surrogate to UTF-8."""
    codes = np.where((codes >= 0xD800) & (codes <= 0xDFFF), ord("?"), codes).astype(np.int64)
    sizes = np.select([codes < 0x80, codes < 0x800, codes < 0x10000], [1, 2, 3], 4).astype(np.int64)
    offsets = np.zeros(len(codes) + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    out = np.zeros(int(offsets[-1]), dtype=np.uint8)
    start = offsets[:-1]
    one, two, three, four = sizes == 1, sizes == 2, sizes == 3, sizes == 4
    out[start[one]] = codes[one]
    out[start[two]] = 0xC0 | (codes[two] >> 6)
    out[start[two] + 1] = 0x80 | (codes[two] & 0x3F)
    out[start[three]] = 0xE0 | (codes[three] >> 12)
    out[start[three] + 1] = 0x80 | ((codes[three] >> 6) & 0x3F)
    out[start[three] + 2] = 0x80 | (codes[three] & 0x3F)
    out[start[four]] = 0xF0 | (codes[four] >> 18)
    out[start[four] + 1] = 0x80 | ((codes[four] >> 12) & 0x3F)
    out[start[four] + 2] = 0x80 | ((codes[four] >> 6) & 0x3F)
    out[start[four] + 3] = 0x80 | (codes[four] & 0x3F)
    return offsets, out


def _chr_code(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    codes, valid = _ints(args[0], ctx.length)
    valid &= (codes >= 0) & (codes <= 0x10FFFF)
    offsets, data = _utf8_of_code_points(np.where(valid, codes, 0))
    return from_buffers(pa.string(), offsets, data, pa.array(valid))


def _chr_escape_one(text: str) -> str | None:
    """Apache Commons ``unescapeJava`` of a ``\\uXXXX`` string, joining surrogate pairs."""
    if len(text) < 6 or not text.startswith("\\u"):
        return None
    units: list[int] = []
    out: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith("\\u", i):
            j = i + 2
            while j < len(text) and text[j] == "u":
                j += 1
            digits = text[j : j + 4]
            if len(digits) < 4 or any(c not in "0123456789abcdefABCDEF" for c in digits):
                raise FunctionError(f"Unable to parse unicode value: {digits}")
            units.append(int(digits, 16))
            i = j + 4
            continue
        if units:
            out.append(_from_utf16(units))
            units = []
        out.append(text[i])
        i += 1
    if units:
        out.append(_from_utf16(units))
    return "".join(out)


def _from_utf16(units: list[int]) -> str:
    raw = b"".join(u.to_bytes(2, "big") for u in units)
    return raw.decode("utf-16-be", errors="replace")


# --------------------------------------------------------------------------------------------------------
# MASK


_UPPER, _LOWER, _DIGIT, _OTHER = "X", "x", "n", "-"
_CLASS_OTHER, _CLASS_UPPER, _CLASS_LOWER, _CLASS_DIGIT = 0, 1, 2, 3
_CATEGORY_CLASS = {"Lu": _CLASS_UPPER, "Ll": _CLASS_LOWER, "Nd": _CLASS_DIGIT}


def _ascii_classes() -> np.ndarray:
    codes = np.arange(128)
    classes = np.full(128, _CLASS_OTHER, dtype=np.int8)
    classes[(codes >= ord("A")) & (codes <= ord("Z"))] = _CLASS_UPPER
    classes[(codes >= ord("a")) & (codes <= ord("z"))] = _CLASS_LOWER
    classes[(codes >= ord("0")) & (codes <= ord("9"))] = _CLASS_DIGIT
    return classes


_ASCII_CLASSES = _ascii_classes()


def _decode_code_points(data: np.ndarray, starts: np.ndarray, widths: np.ndarray) -> np.ndarray:
    """The code point of each UTF-8 sequence starting at ``starts`` with ``widths`` bytes."""
    padded = np.concatenate([data, np.zeros(3, dtype=np.uint8)]).astype(np.int64)
    b0, b1, b2, b3 = (padded[starts + k] for k in range(4))
    return np.select(
        [widths == 1, widths == 2, widths == 3],
        [b0, ((b0 & 0x1F) << 6) | (b1 & 0x3F), ((b0 & 0x0F) << 12) | ((b1 & 0x3F) << 6) | (b2 & 0x3F)],
        ((b0 & 0x07) << 18) | ((b1 & 0x3F) << 12) | ((b2 & 0x3F) << 6) | (b3 & 0x3F),
    )


def _mask_text(values: pa.Array, masks: tuple[str | None, str | None, str | None, str | None]) -> pa.Array:
    """Mask every character of every row: upper, lower, digit, other (None leaves that class).

    Works on the UTF-8 bytes: each code point is classified (a table for ASCII; the Unicode category,
    Lu / Ll / Nd, looked up once per distinct non-ASCII code point) and replaced by its class's mask
    character or kept, then the output bytes are gathered from the input and the mask characters."""
    upper, lower, digit, other = masks
    by_class: list[str | None] = [other, upper, lower, digit]
    offsets, data = buffers(values)
    data = data[offsets[0] : offsets[-1]]
    offsets = offsets - offsets[0]
    validity = values.is_valid() if values.null_count else None
    if len(data) == 0:
        return from_buffers(pa.string(), offsets, data, validity)
    if not (data >= 0x80).any() and all(m is None or ord(m) < 0x80 for m in by_class):
        table = np.arange(256, dtype=np.uint8)  # one character is one byte: a byte lookup table
        for cls, mask in enumerate(by_class):
            if mask is not None:
                table[:128][np.equal(_ASCII_CLASSES, cls)] = ord(mask)
        return from_buffers(pa.string(), offsets, table[data], validity)
    cp_starts = np.flatnonzero((data & 0xC0) != 0x80)
    widths = np.diff(np.append(cp_starts, len(data)))
    code_points = _decode_code_points(data, cp_starts, widths)
    classes = np.where(code_points < 128, _ASCII_CLASSES[np.minimum(code_points, 127)], _CLASS_OTHER)
    wide = code_points >= 128
    if wide.any():
        distinct, inverse = np.unique(code_points[wide], return_inverse=True)
        lookup = np.array(
            [_CATEGORY_CLASS.get(unicodedata.category(chr(c)), _CLASS_OTHER) for c in distinct], dtype=np.int8
        )
        classes[wide] = lookup[inverse]
    mask_bytes = [None if m is None else m.encode() for m in by_class]
    pool = b"".join(b for b in mask_bytes if b is not None)
    pool_start = np.zeros(4, dtype=np.int64)
    pool_width = np.zeros(4, dtype=np.int64)
    masked_class = np.zeros(4, dtype=bool)
    position = len(data)
    for cls, encoded in enumerate(mask_bytes):
        if encoded is not None:
            masked_class[cls] = True
            pool_start[cls], pool_width[cls] = position, len(encoded)
            position += len(encoded)
    masked = masked_class[classes]
    out_widths = np.where(masked, pool_width[classes], widths)
    source = np.where(masked, pool_start[classes], cp_starts)
    cp_offsets = np.zeros(len(cp_starts) + 1, dtype=np.int64)
    np.cumsum(out_widths, out=cp_offsets[1:])
    total = int(cp_offsets[-1])
    index = np.arange(total, dtype=np.int64) + np.repeat(source - cp_offsets[:-1], out_widths)
    combined = np.concatenate([data, np.frombuffer(pool, dtype=np.uint8)])
    row_offsets = cp_offsets[np.searchsorted(cp_starts, offsets)]
    return from_buffers(pa.string(), row_offsets, combined[index], validity)


def _mask_character(mask: str | None) -> str | None:
    if mask is None:
        return None
    if len(mask) != 1:
        raise FunctionError(f"Invalid mask character. Must be only single character, but was '{mask}'")
    return mask


_NO_MASK = "\x00"  # stands for a NULL mask argument while masks are grouped


def _mask_kernel(mode: str) -> Kernel:
    """MASK (mode "all") and MASK_LEFT / MASK_RIGHT / MASK_KEEP_LEFT / MASK_KEEP_RIGHT."""
    name = {"all": "mask", "left": "mask_left", "right": "mask_right",
            "keep_left": "mask_keep_left", "keep_right": "mask_keep_right"}[mode]

    def kernel(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
        values = as_array(args[0], ctx.length)
        first_mask = 1 if mode == "all" else 2
        explicit = len(args) > first_mask
        # a NULL mask character means "leave this class unmasked", so it must not make the row NULL
        mask_keys: list[Datum] = [
            (pa.scalar(_NO_MASK) if not m.is_valid else m) if isinstance(m, pa.Scalar)
            else pc.fill_null(as_array(m, ctx.length), _NO_MASK)
            for m in args[first_mask:]
        ]
        keys: list[Datum] = [pa.scalar(0) if mode == "all" else args[1], *mask_keys]

        def compute(key: tuple, rows: np.ndarray) -> pa.Array:
            count = key[0]
            if count < 0:
                raise FunctionError(
                    f"function {name} requires a non-negative number of characters to mask or skip"
                )
            if explicit:
                masks = tuple(None if m == _NO_MASK else _mask_character(m) for m in key[1:])
            else:
                masks = (_UPPER, _LOWER, _DIGIT, _OTHER)
            subset = values.take(pa.array(rows))
            if mode == "all":
                return _mask_text(subset, masks)  # type: ignore[arg-type]
            lengths = codepoint_lengths(subset)
            split = np.minimum(count, lengths)
            if mode in ("right", "keep_right"):
                split = lengths - split
            zeros = np.zeros(len(rows), dtype=np.int64)
            head = slice_codepoints(subset, zeros, split)
            tail = slice_codepoints(subset, split, lengths)
            if mode in ("left", "keep_right"):
                head = _mask_text(head, masks)  # type: ignore[arg-type]
            else:
                tail = _mask_text(tail, masks)  # type: ignore[arg-type]
            return pc.binary_join_element_wise(head, tail, "")

        return with_nulls(apply_by_distinct(keys, ctx.length, pa.string(), compute), ~valid_mask(values))

    kernel.__name__ = name
    return kernel


def _mask_function(name: str, mode: str, description: str) -> ScalarFunction:
    kernel = _mask_kernel(mode)
    text = Param("input", t.STRING, "The STRING to be masked.")
    masks = (
        Param("upper", t.STRING, "Upper-case mask, or NULL to leave upper-case characters."),
        Param("lower", t.STRING, "Lower-case mask, or NULL to leave lower-case characters."),
        Param("digit", t.STRING, "Digit mask, or NULL to leave digits."),
        Param("other", t.STRING, "Mask for other characters, or NULL to leave them."),
    )
    if mode == "all":
        signatures = (
            Signature((text,), t.STRING, kernel, description="Masks with the default rules."),
            Signature((text, *masks), t.STRING, kernel, description="Masks with the given characters."),
        )
    else:
        count = Param("numChars", t.INT, "The number of characters.")
        signatures = (
            Signature((text, count), t.STRING, kernel, description="Masks with the default rules."),
            Signature((text, count, *masks), t.STRING, kernel, description="Masks with the given characters."),
        )
    return ScalarFunction(name, CATEGORY, description, signatures)


# --------------------------------------------------------------------------------------------------------
# MD5, UUID


def _md5_one(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def _uuid(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    return pa.array([str(uuid.uuid4()) for _ in range(ctx.length)], pa.string())


_uuid.rowwise = True  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------------------------
# The catalog


def _p(name: str, sql_type: t.SqlType, description: str = "") -> Param:
    return Param(name, sql_type, description)


_STR = _p("str", t.STRING, "The source string.")
_BYTES = _p("bytes", t.BYTES, "The source bytes.")
_POS = _p("pos", t.INT, "The base-one position to start from.")
_LEN = _p("len", t.INT, "The length to extract.")

FUNCTIONS: tuple[ScalarFunction, ...] = (
    ScalarFunction(
        "substring",
        CATEGORY,
        "Returns the portion of the string or bytes passed in value.",
        (
            Signature((_STR, _POS), t.STRING, _substring, description="The portion of str from pos to the end."),
            Signature((_STR, _POS, _LEN), t.STRING, _substring, description="The portion of str from pos, len long."),
            Signature((_BYTES, _POS), t.BYTES, _substring, description="The bytes from pos to the end."),
            Signature((_BYTES, _POS, _LEN), t.BYTES, _substring, description="The bytes from pos, len long."),
        ),
    ),
    ScalarFunction(
        "concat",
        CATEGORY,
        "Concatenate an arbitrary number of string or bytes fields together; NULLs count as empty.",
        (
            Signature((_p("inputs", t.STRING, "The strings to concatenate."),), t.STRING, _concat, variadic=True),
            Signature((_p("inputs", t.BYTES, "The bytes to concatenate."),), t.BYTES, _concat, variadic=True),
        ),
    ),
    ScalarFunction(
        "concat_ws",
        CATEGORY,
        "Concatenate several strings or bytes, inserting a separator between them and skipping NULLs.",
        (
            Signature(
                (_p("separator", t.STRING, "The separator."), _p("args", t.STRING, "The strings to join.")),
                t.STRING,
                _concat_ws,
                variadic=True,
            ),
            Signature(
                (_p("separator", t.BYTES, "The separator."), _p("args", t.BYTES, "The bytes to join.")),
                t.BYTES,
                _concat_ws,
                variadic=True,
            ),
        ),
    ),
    ScalarFunction(
        "len",
        CATEGORY,
        "Returns the length of a string (in UTF-16 code units, as Java counts) or of bytes.",
        (
            Signature((_STR,), t.INT, _len, description="The length of a string."),
            Signature((_BYTES,), t.INT, _len, description="The number of bytes."),
        ),
    ),
    ScalarFunction("lcase", CATEGORY, "Converts a string to lower case.", (Signature((_STR,), t.STRING, _lcase),)),
    ScalarFunction("ucase", CATEGORY, "Converts a string to upper case.", (Signature((_STR,), t.STRING, _ucase),)),
    ScalarFunction(
        "trim",
        CATEGORY,
        "Remove whitespace from the beginning and end of a string.",
        (Signature((_p("input", t.STRING, "The string to trim."),), t.STRING, _trim),),
    ),
    ScalarFunction(
        "initcap",
        CATEGORY,
        "Capitalizes the first letter of each word in a string and the rest lowercased. Words are "
        "delimited by whitespace.",
        (Signature((_STR,), t.STRING, _initcap),),
    ),
    ScalarFunction(
        "instr",
        CATEGORY,
        "Returns the 1-based position of substring in string, optionally from a position (negative "
        "searches backwards) and for the n-th occurrence; 0 when absent.",
        (
            Signature((_p("str", t.STRING), _p("substring", t.STRING)), t.INT, _instr_first),
            Signature((_p("str", t.STRING), _p("substring", t.STRING), _p("position", t.INT)), t.INT, _instr_rowwise),
            Signature(
                (_p("str", t.STRING), _p("substring", t.STRING), _p("position", t.INT), _p("occurrence", t.INT)),
                t.INT,
                _instr_rowwise,
            ),
        ),
    ),
    ScalarFunction(
        "LPad",
        CATEGORY,
        "Pads the input string or bytes, starting from the beginning, with the specified padding until "
        "the target length is reached. Longer input is truncated. NULL if the padding is empty or NULL, "
        "or the target length is negative.",
        (
            Signature((_p("input", t.STRING), _p("length", t.INT), _p("padding", t.STRING)), t.STRING, _pad(True)),
            Signature((_p("input", t.BYTES), _p("length", t.INT), _p("padding", t.BYTES)), t.BYTES, _pad(True)),
        ),
    ),
    ScalarFunction(
        "RPad",
        CATEGORY,
        "Pads the input string or bytes, starting from the end, with the specified padding until the "
        "target length is reached. Longer input is truncated. NULL if the padding is empty or NULL, or "
        "the target length is negative.",
        (
            Signature((_p("input", t.STRING), _p("length", t.INT), _p("padding", t.STRING)), t.STRING, _pad(False)),
            Signature((_p("input", t.BYTES), _p("length", t.INT), _p("padding", t.BYTES)), t.BYTES, _pad(False)),
        ),
    ),
    ScalarFunction(
        "replace",
        CATEGORY,
        "Replaces all occurrences of a substring in a string with a new string.",
        (
            Signature(
                (_STR, _p("target", t.STRING, "The substring to replace."),
                 _p("replacement", t.STRING, "The replacement.")),
                t.STRING,
                _replace,
            ),
        ),
    ),
    ScalarFunction(
        "split",
        CATEGORY,
        "Splits a string or bytes into an array based on a delimiter; an empty delimiter splits every "
        "character or byte.",
        (
            Signature((_p("string", t.STRING), _p("delimiter", t.STRING)), t.Array(t.STRING), _split),
            Signature((_p("bytes", t.BYTES), _p("delimiter", t.BYTES)), t.Array(t.BYTES), _split),
        ),
    ),
    ScalarFunction(
        "split_to_map",
        CATEGORY,
        "Splits a string into key-value pairs and creates a map from them; the latest value of a "
        "repeated key wins. NULL if the input or either delimiter is NULL or empty.",
        (
            Signature(
                (_p("input", t.STRING), _p("entryDelimiter", t.STRING), _p("kvDelimiter", t.STRING)),
                t.Map(t.STRING, t.STRING),
                _split_to_map,
            ),
        ),
    ),
    ScalarFunction(
        "elt",
        CATEGORY,
        "Returns element n (1-based) of the arguments, or NULL if n is out of range.",
        (Signature((_p("n", t.INT), _p("args", t.STRING)), t.STRING, _elt, variadic=True),),
    ),
    ScalarFunction(
        "field",
        CATEGORY,
        "Returns the 1-based position of str in args, or 0 if not found (a NULL str is never found).",
        (Signature((_p("str", t.STRING), _p("args", t.STRING)), t.INT, _field, variadic=True),),
    ),
    ScalarFunction(
        "Chr",
        CATEGORY,
        "Returns a single-character string corresponding to the input character code.",
        (
            Signature((_p("decimalCode", t.INT, "Decimal codepoint"),), t.STRING, _chr_code),
            Signature(
                (_p("utf16Code", t.STRING, "UTF16 code for the desired character e.g. '\\u004b'"),),
                t.STRING,
                rowwise(_chr_escape_one),
            ),
        ),
    ),
    _mask_function("mask", "all", "Returns a version of the input string with every character masked."),
    _mask_function("mask_left", "left", "Masks the first numChars characters of the input string."),
    _mask_function("mask_right", "right", "Masks the last numChars characters of the input string."),
    _mask_function("mask_keep_left", "keep_left", "Masks all but the first numChars characters."),
    _mask_function("mask_keep_right", "keep_right", "Masks all but the last numChars characters."),
    ScalarFunction(
        "md5",
        CATEGORY,
        "Returns the hex-encoded MD5 digest of the UTF-8 bytes of a string.",
        (Signature((_STR,), t.STRING, rowwise(_md5_one)),),
    ),
    ScalarFunction(
        "uuid",
        CATEGORY,
        "Returns a random version 4 UUID as a string.",
        (Signature((), t.STRING, _uuid),),
    ),
)


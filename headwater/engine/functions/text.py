"""Per-row slicing of string and bytes columns, vectorized over the columns' raw buffers.

Arrow's string kernels slice every row by the same amounts; ksqlDB's SUBSTRING, LPAD, MASK_LEFT and
friends take the amounts from other columns, so each row needs its own. These helpers work on the
UTF-8 bytes directly with numpy: a byte starts a code point unless it is a continuation byte
(``0b10xxxxxx``), so the byte position of code point ``k`` of row ``i`` is one lookup in the array of
code point start positions. Slicing, splitting into characters and measuring then cost a few numpy
passes over the data, whatever the number of distinct amounts.

Lengths follow ksqlDB where it matters: :func:`java_lengths` counts UTF-16 code units, as Java's
``String.length()`` does (a character outside the Basic Multilingual Plane counts twice); positions for
slicing count code points.

Example:
    >>> import numpy as np, pyarrow as pa
    >>> slice_codepoints(pa.array(["héllo", None, "ab"]), np.array([1, 0, 0]), np.array([3, 0, 5])).to_pylist()
    ['él', None, 'ab']
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "buffers",
    "codepoint_lengths",
    "from_buffers",
    "gather_spans",
    "java_lengths",
    "slice_bytes",
    "slice_codepoints",
    "spans_to_strings",
    "split_characters",
]


def buffers(array: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(offsets as int64 of length n + 1, data bytes as uint8) of a string or binary array, with the
    array's own slice offset applied (offsets index into the returned data)."""
    if pa.types.is_large_string(array.type) or pa.types.is_large_binary(array.type):
        offset_dtype: type = np.int64
    else:
        offset_dtype = np.int32
    bufs = array.buffers()
    raw_offsets: np.ndarray = np.frombuffer(bufs[1], dtype=offset_dtype) if bufs[1] is not None else np.zeros(1, offset_dtype)
    offsets = raw_offsets[array.offset : array.offset + len(array) + 1].astype(np.int64)
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
    return offsets, data


def from_buffers(
    arrow_type: pa.DataType, offsets: np.ndarray, data: np.ndarray, validity: pa.Array | None
) -> pa.Array:
    """A string or binary array from int64 offsets (starting at 0) and the data bytes; ``validity`` is a
    boolean array (True = valid) or None."""
    length = len(offsets) - 1
    null_count = 0
    validity_buffer = None
    if validity is not None:
        valid = np.asarray(validity.to_numpy(zero_copy_only=False), dtype=bool)
        if not valid.all():
            null_count = int((~valid).sum())
            validity_buffer = pa.py_buffer(np.packbits(valid, bitorder="little").tobytes())
    if offsets[-1] >= 2**31:
        raise ValueError("a string column of more than 2 GiB in one batch")
    offset_buffer = pa.py_buffer(offsets.astype(np.int32).tobytes())
    data_buffer = pa.py_buffer(np.ascontiguousarray(data).tobytes())
    return pa.Array.from_buffers(
        arrow_type, length, [validity_buffer, offset_buffer, data_buffer], null_count=null_count
    )


def _validity(array: pa.Array) -> pa.Array | None:
    if array.null_count == 0:
        return None
    return array.is_valid()


def gather_spans(data: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate ``data[starts[i]:stops[i]]`` for every span: (new offsets, new data). The spans must
    be in ascending order and must not overlap (one piece of each row, or a row's characters, in row
    order), so the bytes to keep are one run-length mask (gap, span, gap, span...) over the data
    instead of one index per output byte."""
    lengths = np.maximum(stops - starts, 0)
    new_offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=new_offsets[1:])
    total = int(new_offsets[-1])
    if total == 0:
        return new_offsets, np.zeros(0, dtype=np.uint8)
    nonempty = lengths > 0
    first, last = starts[nonempty], stops[nonempty]
    lo, hi = int(first[0]), int(last[-1])
    if total * 4 < hi - lo:  # few bytes out of a long stretch: index them directly
        index = np.arange(total, dtype=np.int64) + np.repeat(starts - new_offsets[:-1], lengths)
        return new_offsets, data[index]
    runs = np.empty(2 * len(first), dtype=np.int64)
    runs[0::2] = first - np.concatenate([[lo], last[:-1]])
    runs[1::2] = last - first
    pattern = np.zeros(2 * len(first), dtype=bool)
    pattern[1::2] = True
    return new_offsets, data[lo:hi][np.repeat(pattern, runs)]


def _codepoint_starts(data: np.ndarray) -> np.ndarray:
    """Byte positions where a code point starts, followed by len(data) as a sentinel."""
    starts = np.flatnonzero((data & 0xC0) != 0x80)
    return np.append(starts, len(data))


def codepoint_lengths(array: pa.Array) -> np.ndarray:
    """Code points per row (0 for NULL rows)."""
    return np.asarray(pc.fill_null(pc.utf8_length(array), 0).to_numpy(), dtype=np.int64)


def java_lengths(array: pa.Array) -> pa.Array:
    """Java's ``String.length()`` per row: UTF-16 code units, so characters above U+FFFF count 2."""
    lengths = pc.utf8_length(array)
    offsets, data = buffers(array)
    four_byte = (data >= 0xF0).astype(np.int64)
    if not four_byte.any():
        return lengths
    cumulative = np.concatenate([[0], np.cumsum(four_byte)])
    extra = cumulative[offsets[1:]] - cumulative[offsets[:-1]]
    return pc.add(lengths, pa.array(extra.astype(np.int32)))


def slice_codepoints(array: pa.Array, start: np.ndarray, stop: np.ndarray) -> pa.Array:
    """Row ``i`` becomes its code points ``[start[i], stop[i])``; both are clamped to the row."""
    offsets, data = buffers(array)
    cp_starts = _codepoint_starts(data)
    # number of code points before each row's first byte
    base = np.searchsorted(cp_starts, offsets[:-1])
    row_cp = np.searchsorted(cp_starts, offsets[1:]) - base
    start = np.clip(start.astype(np.int64), 0, row_cp)
    stop = np.clip(stop.astype(np.int64), start, row_cp)
    byte_start = cp_starts[base + start]
    byte_stop = cp_starts[base + stop]
    byte_start = np.minimum(byte_start, offsets[1:])
    byte_stop = np.minimum(byte_stop, offsets[1:])
    new_offsets, new_data = gather_spans(data, byte_start, byte_stop)
    return from_buffers(array.type if not pa.types.is_large_string(array.type) else pa.string(),
                        new_offsets, new_data, _validity(array))


def slice_bytes(array: pa.Array, start: np.ndarray, stop: np.ndarray) -> pa.Array:
    """Row ``i`` becomes its bytes ``[start[i], stop[i])``; both are clamped to the row."""
    offsets, data = buffers(array)
    row_len = offsets[1:] - offsets[:-1]
    start = np.clip(start.astype(np.int64), 0, row_len)
    stop = np.clip(stop.astype(np.int64), start, row_len)
    new_offsets, new_data = gather_spans(data, offsets[:-1] + start, offsets[:-1] + stop)
    return from_buffers(pa.binary(), new_offsets, new_data, _validity(array))


def split_characters(array: pa.Array, *, binary: bool) -> pa.Array:
    """Split every row into its characters (code points, or bytes when ``binary``), ksqlDB's SPLIT with
    an empty delimiter; an empty row gives one empty element, a NULL row gives NULL."""
    offsets, data = buffers(array)
    if binary:
        starts = np.arange(len(data) + 1, dtype=np.int64)
    else:
        starts = _codepoint_starts(data)
    valid = np.ones(len(array), dtype=bool) if array.null_count == 0 else np.asarray(
        array.is_valid().to_numpy(zero_copy_only=False), dtype=bool
    )
    row_begin = np.searchsorted(starts, offsets[:-1])
    row_end = np.searchsorted(starts, offsets[1:])
    pieces = np.where(valid, np.maximum(row_end - row_begin, 1), 0)
    # element boundaries: every character start inside the row plus the row end
    counts = np.where(valid, row_end - row_begin, 0)
    total = int(pieces.sum())
    element_starts = np.empty(total, dtype=np.int64)
    element_stops = np.empty(total, dtype=np.int64)
    list_offsets = np.zeros(len(array) + 1, dtype=np.int64)
    np.cumsum(pieces, out=list_offsets[1:])
    nonempty = counts > 0
    # rows with characters: one element per character
    char_rows = np.repeat(np.arange(len(array)), counts)
    char_index = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(
        np.concatenate([[0], np.cumsum(counts)[:-1]]), counts
    )
    positions = row_begin[char_rows] + char_index
    targets = list_offsets[:-1][char_rows] + char_index
    element_starts[targets] = starts[positions]
    ends = starts[np.minimum(positions + 1, len(starts) - 1)]
    element_stops[targets] = np.minimum(ends, offsets[1:][char_rows])
    # valid empty rows: one empty element
    empty_rows = np.flatnonzero(valid & ~nonempty)
    element_starts[list_offsets[empty_rows]] = offsets[empty_rows]
    element_stops[list_offsets[empty_rows]] = offsets[empty_rows]
    new_offsets, new_data = gather_spans(data, element_starts, element_stops)
    values = from_buffers(pa.binary() if binary else pa.string(), new_offsets, new_data, None)
    mask = None if valid.all() else pa.array(~valid)
    return pa.ListArray.from_arrays(pa.array(list_offsets.astype(np.int32)), values, mask=mask)


def spans_to_strings(values: pa.Array, spans: pa.Array) -> pa.Array:
    """Substrings of ``values`` given (start, length) byte spans from ``extract_regex_span``; a NULL
    span gives NULL."""
    offsets, data = buffers(values)
    span_valid = np.asarray(spans.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    child = pc.fill_null(spans.values, 0)
    flat = np.asarray(child.to_numpy(zero_copy_only=False), dtype=np.int64)
    flat = flat[spans.offset * 2 : (spans.offset + len(spans)) * 2]
    starts = offsets[:-1] + flat[0::2]
    lengths = flat[1::2].astype(np.int64)
    lengths = np.where(span_valid, lengths, 0)
    new_offsets, new_data = gather_spans(data, starts, starts + lengths)
    return from_buffers(pa.string(), new_offsets, new_data, pa.array(span_valid))

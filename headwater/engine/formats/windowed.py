"""Windowed keys as Kafka Streams serialises them around the inner key bytes.

=============  ===================================================  ==========================
window         bytes                                                read back
=============  ===================================================  ==========================
time (tumbling, hopping)  ``inner key`` + 8-byte big-endian start  end = start + window size
session        ``inner key`` + 8-byte big-endian end + 8-byte start  start and end
=============  ===================================================  ==========================

(``TimeWindowedSerializer`` / ``SessionWindowedSerializer``.) The inner key is encoded and decoded by
the key format as usual; these functions only add or strip the window suffix, with numpy over the
batch's buffers. A null key stays null.

Example:
    >>> import pyarrow as pa
    >>> data = wrap_time_windows(pa.array([b"k"]), pa.array([1000], pa.int64()))
    >>> data.to_pylist()
    [b'k\\x00\\x00\\x00\\x00\\x00\\x00\\x03\\xe8']
    >>> keys = unwrap_time_windows(data, window_size_ms=500)
    >>> keys.inner.to_pylist(), keys.start.to_pylist(), keys.end.to_pylist()
    ([b'k'], [1000], [1500])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.formats.base import RowError, as_binary
from headwater.engine.formats.json_decode import binary_offsets

__all__ = [
    "WindowedKeys",
    "unwrap_session_windows",
    "unwrap_time_windows",
    "wrap_session_windows",
    "wrap_time_windows",
]


@dataclass(frozen=True, slots=True)
class WindowedKeys:
    """Windowed keys split into the inner key bytes and the window bounds (epoch milliseconds).

    Attributes:
        inner: the inner key bytes (null where the windowed key was null or malformed).
        start: window starts (int64).
        end: window ends (int64).
        errors: rows too short to hold the window suffix.
    """

    inner: pa.Array
    start: pa.Array
    end: pa.Array
    errors: tuple[RowError, ...] = ()


def _int64s(values: pa.Array | pa.ChunkedArray | np.ndarray) -> np.ndarray:
    if isinstance(values, np.ndarray):
        return values.astype(np.int64, copy=False)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_timestamp(values.type):
        values = values.cast(pa.int64())
    return np.asarray(pc.fill_null(values, 0).to_numpy(zero_copy_only=False), dtype=np.int64)


def _append(inner: pa.Array, suffixes: list[np.ndarray]) -> pa.Array:
    """Each row's bytes followed by its big-endian int64 suffixes."""
    inner = as_binary(inner)
    n = len(inner)
    valid = np.asarray(inner.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    offsets = binary_offsets(inner)
    lengths = np.where(valid, np.diff(offsets), 0)
    extra = 8 * len(suffixes)
    new_lengths = np.where(valid, lengths + extra, 0)
    new_offsets = np.concatenate([[0], np.cumsum(new_lengths)]).astype(np.int64)
    out = np.zeros(int(new_offsets[-1]), dtype=np.uint8)
    buffer = inner.buffers()[2]
    source = np.frombuffer(buffer, dtype=np.uint8) if buffer is not None else np.zeros(0, np.uint8)
    rows = np.flatnonzero(valid)
    if len(rows):
        # copy the inner bytes: a flat gather of every byte position
        counts = lengths[rows]
        total = int(counts.sum())
        if total:
            starts_out = np.repeat(new_offsets[rows], counts)
            starts_in = np.repeat(offsets[rows], counts)
            within = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
            out[starts_out + within] = source[starts_in + within]
        for index, suffix in enumerate(suffixes):
            big_endian = suffix[rows].astype(">i8").view(np.uint8).reshape(-1, 8)
            positions = (new_offsets[rows] + lengths[rows] + 8 * index)[:, None] + np.arange(8)[None, :]
            out[positions.ravel()] = big_endian.ravel()
    large = new_offsets[-1] >= 2**31
    offset_type = np.int64 if large else np.int32
    array = pa.Array.from_buffers(
        pa.large_binary() if large else pa.binary(),
        n,
        [
            pa.py_buffer(np.packbits(valid, bitorder="little").tobytes()),
            pa.py_buffer(new_offsets.astype(offset_type).tobytes()),
            pa.py_buffer(out.tobytes()),
        ],
    )
    return array if not large else array.cast(pa.binary())


def wrap_time_windows(inner: pa.Array | pa.ChunkedArray, start: pa.Array | np.ndarray) -> pa.Array:
    """Time-windowed keys: inner bytes + 8-byte big-endian window start."""
    return _append(as_binary(inner), [_int64s(start)])


def wrap_session_windows(
    inner: pa.Array | pa.ChunkedArray, start: pa.Array | np.ndarray, end: pa.Array | np.ndarray
) -> pa.Array:
    """Session-windowed keys: inner bytes + 8-byte big-endian end + 8-byte big-endian start."""
    return _append(as_binary(inner), [_int64s(end), _int64s(start)])


def _split(
    data: pa.Array | pa.ChunkedArray, suffix_count: int
) -> tuple[pa.Array, list[np.ndarray], np.ndarray, tuple[RowError, ...]]:
    raw = as_binary(data)
    n = len(raw)
    valid = np.asarray(raw.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    offsets = binary_offsets(raw)
    lengths = np.diff(offsets)
    extra = 8 * suffix_count
    short = valid & (lengths < extra)
    errors = tuple(
        RowError(
            int(row),
            "Error deserializing windowed key",
            (f"Windowed key of {lengths[row]} bytes is shorter than {extra}",),
        )
        for row in np.flatnonzero(short)
    )
    good = valid & ~short
    buffer = raw.buffers()[2]
    source = np.frombuffer(buffer, dtype=np.uint8) if buffer is not None else np.zeros(0, np.uint8)
    numbers: list[np.ndarray] = []
    rows = np.flatnonzero(good)
    for index in range(suffix_count):
        values = np.zeros(n, dtype=np.int64)
        if len(rows):
            positions = (offsets[rows] + lengths[rows] - extra + 8 * index)[:, None] + np.arange(8)[None, :]
            values[rows] = (
                source[positions.ravel()].reshape(-1, 8).copy().view(">i8").ravel().astype(np.int64)
            )
        numbers.append(values)
    inner_lengths = np.where(good, lengths - extra, 0)
    inner_offsets = np.concatenate([[0], np.cumsum(inner_lengths)]).astype(np.int64)
    inner_bytes = np.zeros(int(inner_offsets[-1]), dtype=np.uint8)
    counts = inner_lengths[rows]
    total = int(counts.sum())
    if total:
        within = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
        inner_bytes[np.repeat(inner_offsets[rows], counts) + within] = source[
            np.repeat(offsets[rows], counts) + within
        ]
    inner = pa.Array.from_buffers(
        pa.binary(),
        n,
        [
            pa.py_buffer(np.packbits(good, bitorder="little").tobytes()),
            pa.py_buffer(inner_offsets.astype(np.int32).tobytes()),
            pa.py_buffer(inner_bytes.tobytes()),
        ],
    )
    return inner, numbers, good, errors


def unwrap_time_windows(data: pa.Array | pa.ChunkedArray, *, window_size_ms: int) -> WindowedKeys:
    """Split time-windowed keys; the end is start + the window size, as Kafka Streams reads it."""
    inner, (start,), good, errors = _split(data, 1)
    mask = ~good
    return WindowedKeys(
        inner=inner,
        start=pa.array(start, pa.int64(), mask=mask),
        end=pa.array(start + window_size_ms, pa.int64(), mask=mask),
        errors=errors,
    )


def unwrap_session_windows(data: pa.Array | pa.ChunkedArray) -> WindowedKeys:
    """Split session-windowed keys into inner bytes, start and end."""
    inner, (end, start), good, errors = _split(data, 2)
    mask = ~good
    return WindowedKeys(
        inner=inner,
        start=pa.array(start, pa.int64(), mask=mask),
        end=pa.array(end, pa.int64(), mask=mask),
        errors=errors,
    )

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
from headwater.errors import ExecutionError

__all__ = [
    "WindowedKeys",
    "partition_key_bytes",
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


def _gather_bytes(source: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The byte runs ``source[start:start + count]``, concatenated (one numpy gather)."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.uint8)
    within = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    return source[np.repeat(starts, counts) + within]


def _binary(valid: np.ndarray, lengths: np.ndarray, data: np.ndarray) -> pa.Array:
    """A binary array from per-row validity, lengths and the concatenated bytes."""
    offsets = np.concatenate([[0], np.cumsum(np.where(valid, lengths, 0))])
    if offsets[-1] >= 2**31:
        raise ExecutionError("A batch of windowed keys may not exceed 2 GiB; decode it in smaller batches")
    return pa.Array.from_buffers(
        pa.binary(),
        len(valid),
        [
            pa.py_buffer(np.packbits(valid, bitorder="little").tobytes()),
            pa.py_buffer(offsets.astype(np.int32).tobytes()),
            pa.py_buffer(data.tobytes()),
        ],
    )


def _append(inner: pa.Array, suffixes: list[np.ndarray]) -> pa.Array:
    """Each row's bytes followed by its big-endian int64 suffixes."""
    valid = np.asarray(inner.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    offsets = binary_offsets(inner)
    lengths = np.where(valid, np.diff(offsets), 0)
    rows = np.flatnonzero(valid)
    buffer = inner.buffers()[2]
    source = np.frombuffer(buffer, dtype=np.uint8) if buffer is not None else np.zeros(0, np.uint8)
    width = lengths[rows] + 8 * len(suffixes)
    out = np.zeros(int(width.sum()), dtype=np.uint8)
    starts = (np.cumsum(width) - width).astype(np.int64)
    counts = lengths[rows]
    inner_bytes = _gather_bytes(source, offsets[rows], counts)
    within = np.arange(len(inner_bytes)) - np.repeat(np.cumsum(counts) - counts, counts)
    out[np.repeat(starts, counts) + within] = inner_bytes
    for index, suffix in enumerate(suffixes):
        big_endian = suffix[rows].astype(">i8").view(np.uint8).reshape(-1, 8)
        positions = (starts + lengths[rows] + 8 * index)[:, None] + np.arange(8)[None, :]
        out[positions.ravel()] = big_endian.ravel()
    return _binary(valid, np.where(valid, lengths + 8 * len(suffixes), 0), out)


def wrap_time_windows(inner: pa.Array | pa.ChunkedArray, start: pa.Array | np.ndarray) -> pa.Array:
    """Time-windowed keys: inner bytes + 8-byte big-endian window start."""
    return _append(as_binary(inner), [_int64s(start)])


def wrap_session_windows(
    inner: pa.Array | pa.ChunkedArray, start: pa.Array | np.ndarray, end: pa.Array | np.ndarray
) -> pa.Array:
    """Session-windowed keys: inner bytes + 8-byte big-endian end + 8-byte big-endian start."""
    return _append(as_binary(inner), [_int64s(end), _int64s(start)])


def partition_key_bytes(data: pa.Array | pa.ChunkedArray, *, session: bool) -> pa.Array:
    """The bytes that pick a windowed key's partition: the inner key, without its window suffix.

    Kafka Streams writes windowed records with its ``WindowedStreamPartitioner``, which hashes only the
    inner key, so every window of a key lands on the partition the key itself would. Null keys stay
    null. ``data`` is assumed well-formed (this engine's own encoding).

    >>> partition_key_bytes(wrap_time_windows(pa.array([b"k", None]), pa.array([5, 6], pa.int64())),
    ...                     session=False).to_pylist()
    [b'k', None]
    """
    return pc.binary_slice(as_binary(data), 0, -16 if session else -8)


def _split(
    data: pa.Array | pa.ChunkedArray, suffix_count: int
) -> tuple[pa.Array, list[np.ndarray], np.ndarray, tuple[RowError, ...]]:
    """Strip ``suffix_count`` big-endian int64s from the end of every row."""
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
    rows = np.flatnonzero(good)
    buffer = raw.buffers()[2]
    source = np.frombuffer(buffer, dtype=np.uint8) if buffer is not None else np.zeros(0, np.uint8)
    numbers: list[np.ndarray] = []
    for index in range(suffix_count):
        values = np.zeros(n, dtype=np.int64)
        if len(rows):
            positions = (offsets[rows] + lengths[rows] - extra + 8 * index)[:, None] + np.arange(8)[None, :]
            values[rows] = source[positions.ravel()].reshape(-1, 8).copy().view(">i8").ravel()
        numbers.append(values)
    inner_lengths = np.where(good, lengths - extra, 0)
    inner = _binary(good, inner_lengths, _gather_bytes(source, offsets[rows], inner_lengths[rows]))
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

"""Kafka's default partitioner, vectorized: ``toPositive(murmur2(keyBytes)) % numPartitions``.

:func:`murmur2` reproduces ``org.apache.kafka.common.utils.Utils.murmur2`` bit for bit (seed
``0x9747b28c``, 32-bit wrap-around arithmetic, little-endian 4-byte words, the 1-3 byte tail mixed in
before the final avalanche), so a key lands in the partition Kafka's producer would choose.

Vectorization: keys are grouped by their number of whole 4-byte words. Within a group every key
needs the same number of mixing rounds, so the words are gathered into one ``(rows, words)`` uint32
matrix and each round is one numpy expression over all rows of the group; the 0-3 byte tails differ
per row and are mixed in with masks. uint32 numpy arithmetic wraps modulo 2**32 exactly like Java's
``int``. The cost is one pass of O(words) numpy calls per distinct word count, not per key.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from headwater.storage.errors import RecordBatchError

__all__ = ["assign_partitions", "murmur2", "murmur2_bytes", "to_positive"]

_SEED = np.uint32(0x9747B28C)
_M = np.uint32(0x5BD1E995)


def murmur2_bytes(data: bytes) -> int:
    """murmur2 of one byte string as a signed 32-bit int (Kafka's return value).

    Example:
        >>> murmur2_bytes(b"21")
        -973932308
    """
    return int(murmur2(pa.array([data], type=pa.binary()))[0])


def to_positive(values: np.ndarray) -> np.ndarray:
    """Kafka's ``Utils.toPositive``: clear the sign bit (not ``abs``)."""
    return (values.astype(np.int64) & 0x7FFFFFFF).astype(np.int64)


def _binary_parts(keys: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(starts, lengths, data bytes) of a binary array, honouring its slice offset."""
    if pa.types.is_string(keys.type) or pa.types.is_large_string(keys.type):
        keys = keys.cast(pa.large_binary() if pa.types.is_large_string(keys.type) else pa.binary())
    if pa.types.is_binary(keys.type):
        offset_dtype: type = np.int32
    elif pa.types.is_large_binary(keys.type):
        offset_dtype = np.int64
    else:
        raise RecordBatchError(f"Key bytes must be binary or string, got {keys.type}")
    buffers = keys.buffers()
    offsets = np.frombuffer(buffers[1], dtype=offset_dtype)[keys.offset : keys.offset + len(keys) + 1].astype(np.int64)
    data = np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None else np.zeros(0, np.uint8)
    return offsets[:-1], np.diff(offsets), data


def murmur2(keys: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """murmur2 of every key, as signed 32-bit ints (int32 array); null keys hash as if empty.

    Callers that treat null keys differently (Kafka's partitioner does) check ``keys.is_null()``.
    """
    if isinstance(keys, pa.ChunkedArray):
        keys = keys.combine_chunks() if keys.num_chunks != 1 else keys.chunk(0)
    n = len(keys)
    result = np.empty(n, dtype=np.uint32)
    if n == 0:
        return result.view(np.int32)
    starts, lengths, data = _binary_parts(keys)
    words = lengths // 4
    order = np.argsort(words, kind="stable")
    sorted_words = words[order]
    bounds = np.flatnonzero(np.diff(sorted_words)) + 1
    for group in np.split(order, bounds):
        result[group] = _murmur2_group(starts[group], lengths[group], data, int(words[group[0]]))
    return result.view(np.int32)


def _murmur2_group(starts: np.ndarray, lengths: np.ndarray, data: np.ndarray, word_count: int) -> np.ndarray:
    """murmur2 of keys that all have ``word_count`` whole words (their tails may differ)."""
    with np.errstate(over="ignore"):
        h = _SEED ^ lengths.astype(np.uint32)
        if word_count:
            byte_index = starts[:, None] + np.arange(word_count * 4, dtype=np.int64)[None, :]
            matrix = np.ascontiguousarray(data[byte_index]).view("<u4").astype(np.uint32)
            for i in range(word_count):
                k = matrix[:, i] * _M
                k ^= k >> np.uint32(24)
                k *= _M
                h *= _M
                h ^= k
        tail = (lengths - word_count * 4).astype(np.int64)
        if tail.any():
            tail_start = starts + word_count * 4
            last = max(len(data) - 1, 0)
            for j in (2, 1, 0):
                has = tail > j
                if has.any():
                    byte = data[np.minimum(tail_start + j, last)].astype(np.uint32)
                    h = np.where(has, h ^ (byte << np.uint32(8 * j)), h)
            h = np.where(tail > 0, h * _M, h)
        h ^= h >> np.uint32(13)
        h *= _M
        h ^= h >> np.uint32(15)
    return h


def assign_partitions(keys: pa.Array | pa.ChunkedArray, num_partitions: int, keyless_partition: int) -> np.ndarray:
    """Kafka's default partition of each key; rows whose key is null go to ``keyless_partition``.

    Example:
        >>> assign_partitions(pa.array([b"21", None]), 4, keyless_partition=3).tolist()
        [0, 3]
    """
    hashed = to_positive(murmur2(keys)) % num_partitions
    if keys.null_count:
        nulls = np.asarray(keys.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        hashed[nulls] = keyless_partition
    return hashed

"""Kafka's murmur2 and default partitioner, checked against Kafka's own test values and a scalar oracle."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from headwater.storage import assign_partitions, murmur2, murmur2_bytes

# Kafka's UtilsTest.testMurmur2 expectations.
KAFKA_CASES = {
    b"21": -973932308,
    b"foobar": -790332482,
    b"a-little-bit-long-string": -985981536,
    b"a-little-bit-longer-string": -1486304829,
    b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
    b"abc": 479470107,
}


def reference_murmur2(data: bytes) -> int:
    """A line-by-line transcription of Kafka's Utils.murmur2, one key at a time."""
    mask = 0xFFFFFFFF
    m = 0x5BD1E995
    length = len(data)
    h = (0x9747B28C ^ length) & mask
    for i in range(length // 4):
        k = data[4 * i] | data[4 * i + 1] << 8 | data[4 * i + 2] << 16 | data[4 * i + 3] << 24
        k = (k * m) & mask
        k ^= k >> 24
        k = (k * m) & mask
        h = (h * m) & mask
        h ^= k
    tail = length % 4
    base = length & ~3
    if tail >= 3:
        h ^= data[base + 2] << 16
    if tail >= 2:
        h ^= data[base + 1] << 8
    if tail >= 1:
        h ^= data[base]
        h = (h * m) & mask
    h ^= h >> 13
    h = (h * m) & mask
    h ^= h >> 15
    return h - (1 << 32) if h & 0x80000000 else h


def test_kafka_known_values() -> None:
    keys = pa.array(list(KAFKA_CASES), type=pa.binary())
    assert murmur2(keys).tolist() == list(KAFKA_CASES.values())
    for key, expected in KAFKA_CASES.items():
        assert murmur2_bytes(key) == expected
        assert reference_murmur2(key) == expected


def test_kafka_partition_formula() -> None:
    # Utils.toPositive(murmur2("21")) % 4 == 1173551340 % 4 == 0; "foobar": 1357151166 % 7 == 5
    assert assign_partitions(pa.array([b"21"]), 4, keyless_partition=0).tolist() == [1173551340 % 4]
    assert assign_partitions(pa.array([b"foobar"]), 7, keyless_partition=0).tolist() == [(-790332482 & 0x7FFFFFFF) % 7]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=40), min_size=1, max_size=60), st.integers(0, 5))
def test_vectorized_matches_scalar_oracle(keys: list[bytes], cut: int) -> None:
    array = pa.array(keys, type=pa.binary())
    sliced = array.slice(min(cut, len(keys) - 1))
    assert murmur2(array).tolist() == [reference_murmur2(k) for k in keys]
    assert murmur2(sliced).tolist() == [reference_murmur2(k) for k in keys[min(cut, len(keys) - 1):]]
    large = pa.array(keys, type=pa.large_binary())
    assert murmur2(large).tolist() == [reference_murmur2(k) for k in keys]


def test_strings_hash_as_their_utf8_bytes_and_nulls_go_to_the_keyless_partition() -> None:
    strings = pa.array(["\u00fcber", None, "k"])
    hashed = murmur2(strings)
    assert hashed[0] == reference_murmur2("\u00fcber".encode())
    assert hashed[2] == reference_murmur2(b"k")
    parts = assign_partitions(strings, 8, keyless_partition=5)
    assert parts[1] == 5
    assert parts[0] == (reference_murmur2("\u00fcber".encode()) & 0x7FFFFFFF) % 8


def test_chunked_and_empty_inputs() -> None:
    chunked = pa.chunked_array([[b"21"], [b"abc", b""]])
    assert murmur2(chunked).tolist() == [KAFKA_CASES[b"21"], KAFKA_CASES[b"abc"], reference_murmur2(b"")]
    assert murmur2(pa.array([], pa.binary())).dtype == np.int32

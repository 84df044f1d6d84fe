"""KAFKA: a single primitive column in Kafka's own serialisation (``Serdes.Integer()`` and friends).

=========  ==============================================================
INTEGER    4 bytes, big-endian two's complement (``IntegerSerializer``)
BIGINT     8 bytes, big-endian (``LongSerializer``)
DOUBLE     8 bytes, big-endian IEEE 754 (``DoubleSerializer``)
STRING     UTF-8 (``StringSerializer``; malformed bytes read as U+FFFD)
BYTES      the bytes themselves
=========  ==============================================================

Null is null bytes both ways. A value of the wrong size fails with Kafka's message (``Size of data
received by IntegerDeserializer is not 4``). With no columns (a key-less stream) nothing is read or
written. Decoding and encoding are numpy views over the Arrow buffers, no per-row work.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.formats.assembly import BatchAssembly
from headwater.engine.formats.base import Columns, DecodeResult, true_mask
from headwater.engine.formats.encoding import ColumnEncoder
from headwater.engine.formats.json_decode import binary_offsets
from headwater.parser import types as t

__all__ = ["KafkaDecoder", "KafkaEncoder"]

_FIXED: dict[t.SqlType, tuple[int, str, str, pa.DataType]] = {
    t.INT: (4, ">i4", "IntegerDeserializer", pa.int32()),
    t.BIGINT: (8, ">i8", "LongDeserializer", pa.int64()),
    t.DOUBLE: (8, ">f8", "DoubleDeserializer", pa.float64()),
}


class KafkaDecoder:
    """Decodes KAFKA keys or values (zero or one column)."""

    def __init__(self, columns: Columns) -> None:
        self._columns = tuple(columns)

    def decode(self, data: pa.Array | pa.ChunkedArray, *, topic: str = "") -> DecodeResult:
        assembly, raw, valid = BatchAssembly.for_bytes(self._columns, data)
        n = len(raw)
        if not self._columns:
            assembly.null_record[:] = True
            return assembly.result(fast_rows=0, fallback_rows=0)
        sql_type = self._columns[0][1]
        rows = np.flatnonzero(valid)
        if sql_type in _FIXED:
            width, dtype, name, arrow_type = _FIXED[sql_type]
            offsets = binary_offsets(raw)
            lengths = np.diff(offsets)
            wrong = valid & (lengths != width)
            for row in np.flatnonzero(wrong):
                assembly.fail(
                    int(row),
                    f"Error deserializing KAFKA message from topic: {topic}",
                    (f"Size of data received by {name} is not {width}",),
                )
            rows = np.flatnonzero(valid & ~wrong)
            if len(rows):
                buffer = raw.buffers()[2]
                everything = (
                    np.frombuffer(buffer, dtype=np.uint8) if buffer is not None else np.zeros(0, np.uint8)
                )
                if np.array_equal(offsets[rows], offsets[rows[0]] + width * np.arange(len(rows))):
                    start = int(offsets[rows[0]])
                    chunk = everything[start : start + width * len(rows)]
                else:  # rows not contiguous (nulls or bad rows between): gather their bytes
                    gather = (offsets[rows][:, None] + np.arange(width)[None, :]).ravel()
                    chunk = everything[gather]
                numbers = chunk.view(dtype).astype(dtype[1:])
                assembly.add_arrays(rows, [pa.array(numbers, arrow_type)])
            return assembly.result(fast_rows=len(rows), fallback_rows=0)
        if sql_type == t.STRING:
            subset = raw if len(rows) == n else raw.filter(pa.array(valid))
            try:
                strings = subset.cast(pa.string())
            except pa.ArrowInvalid:  # malformed UTF-8: Java's decoder substitutes U+FFFD
                strings = pa.array([v.decode("utf-8", "replace") for v in subset.to_pylist()], pa.string())
            assembly.add_arrays(rows, [strings])
            return assembly.result(fast_rows=len(rows), fallback_rows=0)
        if sql_type == t.BYTES:
            subset = raw if len(rows) == n else raw.filter(pa.array(valid))
            assembly.add_arrays(rows, [subset])
            return assembly.result(fast_rows=len(rows), fallback_rows=0)
        raise ValueError(f"The 'KAFKA' format does not support type '{sql_type}'")


class KafkaEncoder(ColumnEncoder):
    """Encodes one column (or none) as Kafka's serializers write it."""

    def _encode_rows(self, arrays: list[pa.Array], n: int) -> tuple[pa.Array, np.ndarray | None]:
        if not self._columns:
            return pa.nulls(n, pa.binary()), None
        values = arrays[0]
        sql_type = self._columns[0][1]
        if sql_type in _FIXED:
            width, dtype, _, _ = _FIXED[sql_type]
            numbers = pc.fill_null(values, 0).to_numpy(zero_copy_only=False).astype(dtype)
            if sql_type == t.DOUBLE:  # Java's doubleToLongBits writes the one canonical NaN
                numbers[np.isnan(numbers)] = np.nan
            data = np.ascontiguousarray(numbers).view(np.uint8)
            offsets = (np.arange(n + 1, dtype=np.int64) * width).astype(np.int32)
            out = pa.Array.from_buffers(
                pa.binary(), n, [None, pa.py_buffer(offsets.tobytes()), pa.py_buffer(data.tobytes())]
            )
        elif sql_type == t.STRING:
            out = values.cast(pa.binary())
        elif sql_type == t.BYTES:
            out = values
        else:
            raise ValueError(f"The 'KAFKA' format does not support type '{sql_type}'")
        return out, ~true_mask(values.is_valid())

"""Operator state as Arrow data: snapshots are Arrow IPC bytes, never pickled Python objects.

A stateful operator's snapshot is a set of named *sections*, each an Arrow table (the key index, the
accumulators' state columns, a one-row table of scalars such as stream time...). :func:`pack` writes
them into one Arrow IPC stream of a two-column table (``section`` string, ``payload`` binary) whose
payloads are themselves IPC streams, so every byte of a checkpoint is Arrow, readable by any Arrow
implementation, and a restore rebuilds exactly the columns that were saved.

Example:
    >>> import pyarrow as pa
    >>> data = pack({"keys": pa.table({"K": ["a", "b"]}), "clock": scalars(stream_time=5)})
    >>> sections = unpack(data)
    >>> sections["keys"].column("K").to_pylist(), scalar(sections["clock"], "stream_time")
    (['a', 'b'], 5)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from headwater.errors import ExecutionError

__all__ = ["pack", "scalar", "scalars", "table_from_ipc", "table_to_ipc", "unpack"]

_CONTAINER_SCHEMA = pa.schema([pa.field("section", pa.string()), pa.field("payload", pa.binary())])
_MAX_BINARY_BYTES = 2**31 - 1
"""The most bytes a ``binary`` column holds (32-bit offsets)."""


def table_to_ipc(table: pa.Table | pa.RecordBatch) -> bytes:
    """One table as an Arrow IPC stream."""
    return _write_streams([table]).to_pybytes()


def _write_streams(tables: Sequence[pa.Table | pa.RecordBatch], ends: list[int] | None = None) -> pa.Buffer:
    """The IPC streams of ``tables``, one after another, in one buffer; ``ends`` (when given) gets
    where each stream ends.

    The size is measured first (writing to a mock stream copies no data), then the streams are written
    into a buffer of exactly that size: a growing output buffer would copy the state again at every
    doubling, and a snapshot of a large state is written at every checkpoint commit."""
    mock = pa.MockOutputStream()
    for table in tables:
        _write_stream(mock, table)
    buffer = pa.allocate_buffer(mock.size())
    out = pa.FixedSizeBufferWriter(buffer)
    for table in tables:
        _write_stream(out, table)
        if ends is not None:
            ends.append(out.tell())
    return buffer


def _write_stream(sink: Any, table: pa.Table | pa.RecordBatch) -> None:
    with pa.ipc.new_stream(sink, table.schema) as writer:
        if isinstance(table, pa.RecordBatch):
            writer.write_batch(table)
        else:
            writer.write_table(table)


def table_from_ipc(data: bytes) -> pa.Table:
    """The table written by :func:`table_to_ipc`."""
    with pa.ipc.open_stream(pa.py_buffer(data)) as reader:
        return reader.read_all()


def pack(sections: Mapping[str, pa.Table | pa.RecordBatch]) -> bytes:
    """Named tables as one Arrow IPC stream (see the module docstring).

    The sections' IPC streams are written one after another into one buffer, which then *is* the data
    buffer of the ``payload`` column (its offsets are where each stream ended): the state is copied
    once into the sections' streams and once into the container's, instead of once more per section
    for a bytes object and once more for a binary array built from them. A snapshot is written at every
    checkpoint commit, so this is a commit's main cost for a large state.
    """
    names = list(sections)
    ends = [0]
    data = _write_streams([sections[name] for name in names], ends)
    if ends[-1] <= _MAX_BINARY_BYTES:
        offsets = pa.py_buffer(np.asarray(ends, dtype=np.int32).tobytes())
        payloads = pa.Array.from_buffers(pa.binary(), len(names), [None, offsets, data])
    else:  # too large for 32-bit offsets: the container cannot hold it either way, let Arrow say so
        payloads = pa.array([data[ends[i] : ends[i + 1]].to_pybytes() for i in range(len(names))], pa.binary())
    container = pa.table([pa.array(names, pa.string()), payloads], schema=_CONTAINER_SCHEMA)
    return table_to_ipc(container)


def unpack(data: bytes) -> dict[str, pa.Table]:
    """The sections written by :func:`pack`.

    Raises:
        ExecutionError: the bytes are not a snapshot written by :func:`pack`.
    """
    try:
        container = table_from_ipc(data)
        names = container.column("section").to_pylist()
        payloads = container.column("payload").to_pylist()
        return {name: table_from_ipc(payload) for name, payload in zip(names, payloads)}
    except (pa.ArrowInvalid, KeyError, TypeError) as error:
        raise ExecutionError(f"Corrupt operator state: {error}") from None


def scalars(**values: int | float | str | bool | None) -> pa.Table:
    """A one-row table of named scalars (stream time, counters...), typed from the Python values;
    None is stored as a null int64."""
    arrays = {}
    for name, value in values.items():
        arrays[name] = pa.array([value], pa.int64()) if value is None else pa.array([value])
    return pa.table(arrays)


def scalar(table: pa.Table, name: str, default: Any = None) -> Any:
    """The value of ``name`` in a table written by :func:`scalars` (``default`` when absent)."""
    if name not in table.column_names or table.num_rows == 0:
        return default
    return table.column(name)[0].as_py()

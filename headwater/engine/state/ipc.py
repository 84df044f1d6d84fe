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

from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from headwater.errors import ExecutionError

__all__ = ["pack", "scalar", "scalars", "table_from_ipc", "table_to_ipc", "unpack"]

_CONTAINER_SCHEMA = pa.schema([pa.field("section", pa.string()), pa.field("payload", pa.binary())])


def table_to_ipc(table: pa.Table | pa.RecordBatch) -> bytes:
    """One table as an Arrow IPC stream."""
    if isinstance(table, pa.RecordBatch):
        table = pa.Table.from_batches([table])
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def table_from_ipc(data: bytes) -> pa.Table:
    """The table written by :func:`table_to_ipc`."""
    with pa.ipc.open_stream(pa.py_buffer(data)) as reader:
        return reader.read_all()


def pack(sections: Mapping[str, pa.Table | pa.RecordBatch]) -> bytes:
    """Named tables as one Arrow IPC stream (see the module docstring)."""
    names = list(sections)
    payloads = [table_to_ipc(sections[name]) for name in names]
    container = pa.table([pa.array(names, pa.string()), pa.array(payloads, pa.binary())], schema=_CONTAINER_SCHEMA)
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

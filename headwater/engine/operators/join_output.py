"""What every join operator shares: the description of its two inputs and the layout of its output.

A join's output row holds the join key, the columns it carries from the left input, those it carries
from the right input (NULL when that side has no row: outer joins), and the row batch's system columns.
The planner names everything: :class:`JoinSide` lists, for one input, its key columns and the
``(input column, output column)`` pairs it contributes; ``key_names`` names the output key columns, whose
values are the key of the record that produced the row (equal on both sides for matched rows; the
present side's for outer rows, which is ksqlDB's ``COALESCE`` of the two keys).

:func:`join_batch` assembles an output batch from the parts; :func:`ordered` puts rows built in separate
parts back into emission order.

Example:
    >>> import pyarrow as pa
    >>> side = JoinSide(("ID",), (("V", "L_V"),), pa.schema([("ID", pa.int64()), ("V", pa.string())]))
    >>> side.output_schema.names, side.input_names
    (['L_V'], ['V'])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.operators.base import HEADERS_ARROW_TYPE, HEADERS_COLUMN
from headwater.engine.schema import ROWOFFSET, ROWPARTITION, ROWTIME
from headwater.engine.state.changelog import TOMBSTONE_COLUMN

__all__ = ["JoinSide", "JoinType", "event_columns", "event_table", "join_batch", "nulls_for", "ordered"]


class JoinType:
    """ksqlDB's join types."""

    INNER = "INNER"
    LEFT = "LEFT"
    RIGHT = "RIGHT"
    FULL = "FULL"
    ALL = (INNER, LEFT, RIGHT, FULL)


@dataclass(frozen=True, slots=True)
class JoinSide:
    """One input of a join.

    Attributes:
        key_columns: the columns holding the join key (a stream's join expression is computed into a
            column by a projection before the join).
        columns: (input column, output column) for every column carried into the output.
        schema: the types of the input's key and carried columns.
    """

    key_columns: tuple[str, ...]
    columns: tuple[tuple[str, str], ...]
    schema: pa.Schema

    def __post_init__(self) -> None:
        names = set(self.schema.names)
        missing = [c for c in (*self.key_columns, *(i for i, _ in self.columns)) if c not in names]
        if missing:
            raise ValueError(f"join input lacks column(s) {missing}")

    @property
    def input_names(self) -> list[str]:
        return [name for name, _ in self.columns]

    @property
    def key_fields(self) -> list[pa.Field]:
        return [self.schema.field(name) for name in self.key_columns]

    @property
    def value_schema(self) -> pa.Schema:
        """The carried columns under their input names."""
        return pa.schema([self.schema.field(name) for name in self.input_names])

    @property
    def output_schema(self) -> pa.Schema:
        """The carried columns under their output names."""
        return pa.schema([pa.field(out, self.schema.field(name).type) for name, out in self.columns])

    def values(self, batch: pa.RecordBatch | pa.Table) -> pa.Table:
        """The carried columns of ``batch`` (input names), as a table."""
        table = batch if isinstance(batch, pa.Table) else pa.Table.from_batches([batch])
        table = table.select(self.input_names)
        return table.cast(self.value_schema) if table.schema != self.value_schema else table


def nulls_for(schema: pa.Schema, rows: int) -> pa.Table:
    """``rows`` rows of NULLs in every column of ``schema``."""
    return pa.table([pa.nulls(rows, f.type) for f in schema], schema=schema)


def event_columns(batch: pa.RecordBatch, rows: np.ndarray) -> tuple[pa.Array, pa.Array, pa.Array]:
    """ROWPARTITION, ROWOFFSET and headers of ``rows`` of ``batch`` (defaults when absent)."""
    take = pa.array(np.asarray(rows, dtype=np.int64), pa.int64())
    names = batch.schema.names
    count = len(rows)
    partition = batch.column(ROWPARTITION).take(take).cast(pa.int32()) if ROWPARTITION in names else pa.array(np.zeros(count, np.int32))
    offset = batch.column(ROWOFFSET).take(take).cast(pa.int64()) if ROWOFFSET in names else pa.array(np.zeros(count, np.int64))
    headers = batch.column(HEADERS_COLUMN).take(take) if HEADERS_COLUMN in names else pa.nulls(count, HEADERS_ARROW_TYPE)
    return partition, offset, headers


def event_table(batch: pa.RecordBatch) -> pa.Table:
    """ROWPARTITION, ROWOFFSET and headers of every row of ``batch`` (defaults when absent), as a table
    to gather output rows from (:func:`event_columns` of all rows, without a ``take``)."""
    names = batch.schema.names
    count = batch.num_rows
    partition = batch.column(ROWPARTITION).cast(pa.int32()) if ROWPARTITION in names else pa.array(np.zeros(count, np.int32))
    offset = batch.column(ROWOFFSET).cast(pa.int64()) if ROWOFFSET in names else pa.array(np.zeros(count, np.int64))
    headers = batch.column(HEADERS_COLUMN) if HEADERS_COLUMN in names else pa.nulls(count, HEADERS_ARROW_TYPE)
    return pa.table([partition, offset, headers], names=[ROWPARTITION, ROWOFFSET, HEADERS_COLUMN])


def join_batch(
    key_names: Sequence[str],
    keys: Sequence[pa.Array],
    left: pa.Table,
    left_side: JoinSide,
    right: pa.Table,
    right_side: JoinSide,
    rowtime: np.ndarray,
    partition: pa.Array,
    offset: pa.Array,
    headers: pa.Array,
    deleted: np.ndarray | None = None,
    *,
    nulled: bool = False,
) -> pa.RecordBatch:
    """One output batch: key columns, left columns, right columns, system columns, ``__null_value``.
    ``left`` / ``right`` hold each side's carried columns under their input names; ``nulled`` says their
    values are already NULL on the ``deleted`` rows (gathered that way), which saves a pass per column."""
    rows = len(rowtime)
    arrays: list[pa.Array] = []
    names: list[str] = []
    for name, values in zip(key_names, keys):
        arrays.append(_one_array(values))
        names.append(name)
    for table, side in ((left, left_side), (right, right_side)):
        for input_name, output_name in side.columns:
            arrays.append(_one_array(table.column(input_name)))
            names.append(output_name)
    flags = np.zeros(rows, dtype=bool) if deleted is None else deleted
    if not nulled and flags.any():
        mask = pa.array(flags)
        first_value = len(key_names)
        for i in range(first_value, len(arrays)):
            arrays[i] = pc.if_else(mask, pa.nulls(rows, arrays[i].type), arrays[i])
    arrays += [pa.array(np.asarray(rowtime, dtype=np.int64), pa.int64()), partition, offset, headers, pa.array(flags)]
    names += [ROWTIME, ROWPARTITION, ROWOFFSET, HEADERS_COLUMN, TOMBSTONE_COLUMN]
    return pa.RecordBatch.from_arrays(arrays, names=names)


def _one_array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """A column as one array (a single chunk as it is, without a copy)."""
    if isinstance(values, pa.ChunkedArray):
        return values.chunk(0) if values.num_chunks == 1 else values.combine_chunks()
    return values


def ordered(parts: Sequence[tuple[np.ndarray, pa.RecordBatch]]) -> pa.RecordBatch | None:
    """Concatenate batches built separately and sort their rows by the given order keys (stable)."""
    parts = [(order, batch) for order, batch in parts if batch.num_rows]
    if not parts:
        return None
    if len(parts) == 1:
        order, batch = parts[0]
        permutation = np.argsort(order, kind="stable")
        return batch if np.all(permutation == np.arange(len(permutation))) else batch.take(pa.array(permutation))
    table = pa.Table.from_batches([batch for _, batch in parts])
    keys = np.concatenate([order for order, _ in parts])
    permutation = np.argsort(keys, kind="stable")
    return table.take(pa.array(permutation)).combine_chunks().to_batches()[0]

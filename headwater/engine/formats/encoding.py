"""What the encoders share: the input columns as arrays, the null-record mask, and :class:`ColumnEncoder`,
the base that turns them into serialised rows with null records written as null bytes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.formats.base import Columns, EncodeResult
from headwater.engine.types import to_arrow
from headwater.errors import PlanError

__all__ = ["ColumnEncoder", "column_arrays", "null_record_mask", "row_count"]


def column_arrays(
    columns: pa.Table | pa.RecordBatch | Sequence[pa.Array | pa.ChunkedArray], declared: Columns
) -> list[pa.Array]:
    """The columns to encode as contiguous arrays of the declared Arrow types, matched by position.

    Raises:
        PlanError: the number of columns differs from the declaration.
    """
    if isinstance(columns, (pa.Table, pa.RecordBatch)):
        given: list[pa.Array | pa.ChunkedArray] = [columns.column(i) for i in range(columns.num_columns)]
    else:
        given = list(columns)
    if len(given) != len(declared):
        raise PlanError(f"The encoder was declared with {len(declared)} columns but given {len(given)}")
    arrays = []
    for array, (_, sql_type) in zip(given, declared):
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
        target = to_arrow(sql_type)
        if array.type != target:
            array = array.cast(target)
        arrays.append(array)
    return arrays


def null_record_mask(null_record: np.ndarray | pa.Array | pa.ChunkedArray | None, length: int) -> np.ndarray:
    """Which rows are null records (written as null bytes)."""
    if null_record is None:
        return np.zeros(length, dtype=bool)
    if isinstance(null_record, np.ndarray):
        return null_record.astype(bool, copy=False)
    filled = pc.fill_null(null_record, False)
    return np.asarray(filled.to_numpy(zero_copy_only=False), dtype=bool)


def row_count(
    columns: pa.Table | pa.RecordBatch | Sequence[pa.Array | pa.ChunkedArray],
    arrays: Sequence[pa.Array],
    null_record: np.ndarray | pa.Array | pa.ChunkedArray | None,
) -> int:
    """How many rows are being encoded (a table without columns still has rows)."""
    if isinstance(columns, (pa.Table, pa.RecordBatch)):
        return columns.num_rows
    if arrays:
        return len(arrays[0])
    return 0 if null_record is None else len(null_record)


class ColumnEncoder:
    """Base of the encoders of declared columns (an :class:`~headwater.engine.formats.base.Encoder`).

    :meth:`encode` matches the given columns to the declared ones and writes every null record as null
    bytes; a subclass says only how rows become bytes (:meth:`_encode_rows`), so the formats cannot
    differ in how they treat their input or null records.
    """

    def __init__(self, columns: Columns) -> None:
        self._columns = tuple(columns)

    def encode(
        self,
        columns: pa.Table | pa.RecordBatch | Sequence[pa.Array | pa.ChunkedArray],
        *,
        null_record: np.ndarray | pa.Array | None = None,
    ) -> EncodeResult:
        arrays = column_arrays(columns, self._columns)
        n = row_count(columns, arrays, null_record)
        data, null_rows = self._encode_rows(arrays, n)
        nulls = null_record_mask(null_record, n)
        if null_rows is not None:
            nulls = nulls | null_rows
        if nulls.any():
            data = pc.if_else(pa.array(nulls), pa.scalar(None, data.type), data)
        return EncodeResult(data.cast(pa.binary()), ())

    def _encode_rows(self, arrays: list[pa.Array], n: int) -> tuple[pa.Array, np.ndarray | None]:
        """The ``n`` rows of ``arrays`` (one per declared column) serialised as text or bytes, and which
        rows must be null besides the null records (None: no others)."""
        raise NotImplementedError

"""Putting a decoded batch back together in row order.

A batch is decoded in parts: most rows by a vectorized reader, a few one at a time, null rows not at
all. Each part knows which input rows it covers; :class:`BatchAssembly` concatenates the parts column
by column and restores the input order with one ``take``, leaving uncovered rows null.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from headwater.engine.formats.base import (
    Columns,
    DecodeResult,
    RowError,
    as_binary,
    columns_schema,
    true_mask,
)

__all__ = ["BatchAssembly"]


class BatchAssembly:
    """Collects the decoded parts of one batch of ``length`` rows."""

    def __init__(self, columns: Columns, length: int) -> None:
        self._schema = columns_schema(columns)
        self._length = length
        self._parts: list[tuple[np.ndarray, Sequence[pa.Array]]] = []
        self._errors: dict[int, RowError] = {}
        self.null_record = np.zeros(length, dtype=bool)

    @classmethod
    def for_bytes(cls, columns: Columns, data: pa.Array | pa.ChunkedArray) -> tuple[BatchAssembly, pa.Array, np.ndarray]:
        """Where every decoder starts: an assembly for ``data``'s rows whose null byte strings are already
        null records, the bytes as one ``binary`` array, and which rows hold bytes."""
        raw = as_binary(data)
        assembly = cls(columns, len(raw))
        valid = true_mask(raw.is_valid())
        assembly.null_record[~valid] = True
        return assembly, raw, valid

    def add_arrays(self, rows: np.ndarray, arrays: Sequence[pa.Array]) -> None:
        """Decoded columns (one array per column, each ``len(rows)`` long) for ``rows``."""
        if len(rows):
            self._parts.append((np.asarray(rows, dtype=np.int64), arrays))

    def add_python(self, rows: Sequence[int], values: Sequence[Sequence[Any]]) -> None:
        """Decoded rows as Python values (one sequence per row, in column order)."""
        if not rows:
            return
        arrays = []
        for index, field in enumerate(self._schema):
            arrays.append(pa.array([row[index] for row in values], type=field.type))
        self.add_arrays(np.asarray(rows, dtype=np.int64), arrays)

    def fail(self, row: int, message: str, causes: tuple[str, ...] = ()) -> None:
        self._errors[int(row)] = RowError(int(row), message, causes)

    def failed_rows(self) -> set[int]:
        """Rows already reported as failed."""
        return set(self._errors)

    def result(self, *, fast_rows: int, fallback_rows: int) -> DecodeResult:
        covered = np.zeros(self._length, dtype=bool)
        for rows, _ in self._parts:
            covered[rows] = True
        missing = np.flatnonzero(~covered)
        parts = list(self._parts)
        if len(missing):
            parts.append((missing, [pa.nulls(len(missing), field.type) for field in self._schema]))
        if not parts:
            table = self._schema.empty_table()
        elif len(parts) == 1 and np.array_equal(parts[0][0], np.arange(self._length)):
            table = pa.Table.from_arrays(list(parts[0][1]), schema=self._schema)
        else:
            order = np.argsort(np.concatenate([rows for rows, _ in parts]), kind="stable")
            taker = pa.array(order)
            columns = []
            for index, field in enumerate(self._schema):
                pieces = [arrays[index].cast(field.type) for _, arrays in parts]
                columns.append(pa.concat_arrays(pieces).take(taker))
            table = pa.Table.from_arrays(columns, schema=self._schema)
        failed = np.zeros(self._length, dtype=bool)
        if self._errors:
            failed[np.fromiter(self._errors.keys(), dtype=np.int64)] = True
        errors = tuple(self._errors[row] for row in sorted(self._errors))
        return DecodeResult(
            table=table,
            null_record=self.null_record & ~failed,
            failed=failed,
            errors=errors,
            fast_rows=fast_rows,
            fallback_rows=fallback_rows,
        )

"""NONE: a key or value that carries no data.

ksqlDB's ``KsqlVoidSerde`` ignores whatever bytes arrive (a key sent by a producer to a key-less
stream is dropped, not an error) and writes null. The format only fits zero columns.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from headwater.engine.formats.base import Columns, DecodeResult, EncodeResult, as_binary, columns_schema
from headwater.engine.formats.encoding import column_arrays, row_count

__all__ = ["NoneDecoder", "NoneEncoder"]


class NoneDecoder:
    """Reads every row as a null record, whatever its bytes."""

    def __init__(self, columns: Columns) -> None:
        self._schema = columns_schema(columns)

    def decode(self, data: pa.Array | pa.ChunkedArray, *, topic: str = "") -> DecodeResult:
        n = len(as_binary(data))
        return DecodeResult(
            table=self._schema.empty_table()
            if n == 0
            else pa.Table.from_arrays([pa.nulls(n, f.type) for f in self._schema], schema=self._schema),
            null_record=np.ones(n, dtype=bool),
            failed=np.zeros(n, dtype=bool),
            errors=(),
            fast_rows=n,
            fallback_rows=0,
        )


class NoneEncoder:
    """Writes null for every row."""

    def __init__(self, columns: Columns) -> None:
        self._columns = tuple(columns)

    def encode(
        self,
        columns: pa.Table | pa.RecordBatch | Sequence[pa.Array | pa.ChunkedArray],
        *,
        null_record: np.ndarray | pa.Array | None = None,
    ) -> EncodeResult:
        arrays = column_arrays(columns, self._columns) if self._columns else []
        n = row_count(columns, arrays, null_record)
        return EncodeResult(pa.nulls(n, pa.binary()), ())

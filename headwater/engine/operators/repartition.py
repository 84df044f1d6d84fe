"""Repartition: give each row the serialised key that picks its partition in the sink topic.

Kafka's default partitioner, which Headwater keeps so data lands where Kafka would put it, chooses a
record's partition from the murmur2 hash of its *serialised* key. This operator serialises the key
columns of every row in the sink's key format (vectorized, by the formats package) into the hidden
:data:`KEY_BYTES_COLUMN`; the sink hands those bytes to the log, which hashes them. A row whose key cannot
be serialised is dropped and reported, as ksqlDB logs a serialization error and skips the record.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pyarrow as pa

from headwater.engine.operators.base import Operator
from headwater.engine.schema import WINDOWEND, WINDOWSTART
from headwater.engine.serde import SourceSerde

__all__ = ["KEY_BYTES_COLUMN", "RepartitionOperator"]

KEY_BYTES_COLUMN = "__key_bytes"


class RepartitionOperator(Operator):
    """Appends :data:`KEY_BYTES_COLUMN`, the key columns serialised with ``serde``'s key format.

    Args:
        key_columns: names of the row batch's columns that form the key, in key order.
        serde: the sink's serde (its key format and key columns).
        report: called with (row, message) for each row whose key cannot be serialised.
    """

    kind = "repartition"

    def __init__(
        self,
        key_columns: Sequence[str],
        serde: SourceSerde,
        report: Callable[[int, str], None] | None = None,
    ) -> None:
        self.key_columns = list(key_columns)
        self.serde = serde
        self.report = report

    def process(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        if batch.num_rows == 0:
            return []
        columns = [batch.column(name) for name in self.key_columns]
        if self.serde.source.window is not None:
            columns += [batch.column(WINDOWSTART), batch.column(WINDOWEND)]
        key_bytes, errors = self.serde.encode_key(columns, rows=batch.num_rows)
        out = batch.append_column(KEY_BYTES_COLUMN, key_bytes)
        if errors:
            keep = np.ones(batch.num_rows, dtype=bool)
            for row, message in errors:
                keep[row] = False
                if self.report is not None:
                    self.report(row, message)
            out = out.filter(pa.array(keep))
        return [out] if out.num_rows else []

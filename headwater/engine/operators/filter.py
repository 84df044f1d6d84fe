"""Filter: keep the rows for which a predicate is TRUE (FALSE and NULL rows are dropped, as in SQL).

Rows without a value (a stream record with a null value) are dropped before the predicate runs, as
ksqlDB's ``SqlPredicate`` never evaluates a null row.
"""

from __future__ import annotations

import pyarrow as pa

from headwater.engine.operators.base import Evaluator, Operator, without_null_values

__all__ = ["FilterOperator"]


class FilterOperator(Operator):
    """WHERE: one vectorized predicate evaluation and one ``filter`` per batch.

    Example:
        >>> import pyarrow.compute as pc
        >>> class Positive:
        ...     def evaluate(self, batch):
        ...         return pc.greater(batch.column("X"), 0)
        >>> out = FilterOperator(Positive()).process(pa.record_batch({"X": [1, -1, None, 2]}))
        >>> out[0].column("X").to_pylist()
        [1, 2]
    """

    kind = "filter"

    def __init__(self, predicate: Evaluator) -> None:
        self.predicate = predicate

    def process(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        batch = without_null_values(batch)
        if batch.num_rows == 0:
            return []
        mask = self.predicate.evaluate(batch)
        if isinstance(mask, pa.Scalar):
            return [batch] if mask.is_valid and mask.as_py() else []
        kept = batch.filter(mask, null_selection_behavior="drop")
        return [kept] if kept.num_rows else []

"""The batch convention for table changelogs between operators.

A *stream* batch is a row batch (:mod:`headwater.engine.operators.base`): every row is an event. A
*table changelog* batch has the same layout (logical columns by name, ``ROWTIME``, ``ROWPARTITION``,
``ROWOFFSET``, ``__headers``) and every row is a change to the row of its key, in batch order:

========================  ======================================================================
row kind                  marked by
========================  ======================================================================
upsert                    neither flag: the key's row is now this row
delete (tombstone)        :data:`TOMBSTONE_COLUMN` true: the key has no row any more; its value
                          columns are null (key columns and ROWTIME are real)
retraction                :data:`RETRACT_COLUMN` true: "the key's previous row, ``-1``"; carries
                          the *old* values. Only operators that undo contributions (aggregates
                          over a table) ask for retractions, and only the table source operator
                          in retraction mode (:mod:`headwater.engine.operators.table_source`)
                          produces them: an update becomes ``retract(old), upsert(new)``, a
                          delete becomes ``retract(old)``.
========================  ======================================================================

:data:`TOMBSTONE_COLUMN` is the row batches' null-value flag (``__null_value``): a tombstone *is* a row
without a value, so stateless operators (filter, project, sink) treat it the way they treat a stream
record with a null value, and a sink writes it as a null value. Either column may be absent, meaning
all-false. A retraction row is a complete row of old values, so a GROUP BY evaluates its key and
argument expressions on it exactly as on an upsert; that is how ksqlDB's table aggregation applies its
``undo`` to the old value's own group.

Windowed tables carry ``WINDOWSTART`` and ``WINDOWEND`` (BIGINT, ms) as ordinary columns.

Example:
    >>> import pyarrow as pa
    >>> batch = pa.record_batch({"K": ["a", "b"], TOMBSTONE_COLUMN: [False, True]})
    >>> tombstones(batch).tolist(), retractions(batch).tolist()
    ([False, True], [False, False])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.operators import base
from headwater.engine.schema import WINDOWEND, WINDOWSTART

__all__ = [
    "RETRACT_COLUMN",
    "TOMBSTONE_COLUMN",
    "WINDOWEND",
    "WINDOWSTART",
    "flag",
    "retractions",
    "tombstones",
    "with_flag",
]

TOMBSTONE_COLUMN = "__null_value"
"""True for a row that deletes its key (the row batches' null-value flag)."""

RETRACT_COLUMN = base.RETRACT_COLUMN
"""True for a retraction row: the key's previous values, to be undone (a system row column, so a
projection between a table source and an aggregation carries it)."""


def flag(batch: pa.RecordBatch | pa.Table, name: str) -> np.ndarray:
    """The boolean column ``name`` of ``batch`` as numpy (all False when absent; nulls are False)."""
    index = batch.schema.get_field_index(name)
    if index < 0:
        return np.zeros(batch.num_rows, dtype=bool)
    column = batch.column(index)
    if column.null_count:
        column = pc.fill_null(column, False)
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=bool)


def tombstones(batch: pa.RecordBatch | pa.Table) -> np.ndarray:
    """Which rows of ``batch`` are deletes."""
    return flag(batch, TOMBSTONE_COLUMN)


def retractions(batch: pa.RecordBatch | pa.Table) -> np.ndarray:
    """Which rows of ``batch`` are retractions."""
    return flag(batch, RETRACT_COLUMN)


def with_flag(
    arrays: list[pa.Array], names: list[str], name: str, values: np.ndarray | Sequence[bool]
) -> None:
    """Append the flag column ``name`` to ``arrays`` / ``names`` in place (a builder step for operators
    assembling output batches)."""
    arrays.append(pa.array(np.asarray(values, dtype=bool), pa.bool_()))
    names.append(name)

"""The rows an evaluator sees: a batch, a subset of its rows, or the elements a lambda runs over.

Evaluation happens in a :class:`Frame`. The root frame wraps the input batch. A child frame holds, for
each of its rows, the index of its parent's row: CASE evaluates a branch in the frame of the rows that
take it, AND evaluates its right side in the frame of the rows the left side did not decide, a lambda
body runs in the frame of the collection's elements (``parent_index`` being the row each element
belongs to). A child frame gathers (``take``) the parent's columns on first use, so an outer column
used inside a lambda body is repeated once per element, vectorized. A slice frame is a contiguous range
of its parent's rows (zero-copy), used to isolate failing rows by halving.

Rows can *fail* (integer division by zero, a decimal quotient ksqlDB cannot represent): a failure is
recorded against the parent's row, through the chain of parent indexes, up to the nearest
:class:`CaptureFrame`. A capture frame stands for "one guarded evaluation": the compiled expression
evaluates its root in one, and so does each nested value ksqlDB guards (a function call passed to a
function, a CAST, an ARRAY item...; see :mod:`~headwater.engine.expressions.compiler`). Failures stop
at the capture frame, which makes its own value NULL on those rows; whatever a guard made NULL is
*reported* (logged without failing anything) through :meth:`Frame.report`, and the reports reach the
root frame only once the evaluation that produced them has succeeded, so a retried evaluation never
logs twice.

Example:
    >>> import numpy as np, pyarrow as pa
    >>> root = RootFrame(pa.record_batch({"X": [10, 20, 30]}))
    >>> capture = CaptureFrame(root)
    >>> child = capture.subset(np.array([2, 0]))
    >>> child.column("X").to_pylist()
    [30, 10]
    >>> child.fail(np.array([0]), "boom")
    >>> capture.failures.rows()
    {2: 'boom'}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from headwater.errors import ExecutionError

__all__ = ["CaptureFrame", "ChildFrame", "Failures", "Frame", "Report", "RootFrame", "SliceFrame"]

Report = tuple[np.ndarray, str]
"""Rows (of the frame that holds the report) and the message of a guarded failure."""


class Failures:
    """Failed rows of a capture frame, with the first message recorded for each."""

    def __init__(self) -> None:
        self._messages: dict[int, str] = {}

    def add(self, rows: np.ndarray, message: str) -> None:
        for row in rows.tolist():
            self._messages.setdefault(int(row), message)

    def rows(self) -> dict[int, str]:
        """Row index -> message, in no particular order."""
        return self._messages

    def __bool__(self) -> bool:
        return bool(self._messages)


class Frame:
    """Base of the frames; see the module docstring."""

    length: int
    config: Mapping[str, Any]

    def column(self, field: str) -> pa.Array:
        """The values of batch column ``field`` for this frame's rows."""
        raise NotImplementedError

    def variable(self, name: str) -> pa.Array:
        """The values of lambda parameter ``name`` for this frame's rows."""
        raise NotImplementedError

    def fail(self, rows: np.ndarray, message: str) -> None:
        """Record that this frame's ``rows`` (local indexes) failed with ``message``."""
        raise NotImplementedError

    def report(self, rows: np.ndarray, message: str) -> None:
        """Record a guarded failure of this frame's ``rows``: logged, the rows not failed."""
        raise NotImplementedError

    def subset(self, indices: np.ndarray) -> ChildFrame:
        """A frame of this frame's rows at ``indices`` (in that order)."""
        return ChildFrame(self, indices, {})

    def slice(self, start: int, length: int) -> SliceFrame:
        """A frame of ``length`` consecutive rows of this frame from ``start``."""
        return SliceFrame(self, start, length)

    def elements(self, variables: Mapping[str, pa.Array], parent_index: np.ndarray) -> ChildFrame:
        """A frame with one row per element (``parent_index`` gives each element's row here), where
        lambda parameters are bound to ``variables``."""
        return ChildFrame(self, parent_index, dict(variables))


class RootFrame(Frame):
    """The frame of a whole input batch; it keeps the reports of guarded failures, in order."""

    def __init__(self, batch: pa.RecordBatch, config: Mapping[str, Any] | None = None) -> None:
        self.batch = batch
        self.length = batch.num_rows
        self.config = config or {}
        self.failures = Failures()
        self.reports: list[Report] = []

    def column(self, field: str) -> pa.Array:
        index = self.batch.schema.get_field_index(field)
        if index < 0:
            raise ExecutionError(
                f"column {field} is not in the batch (columns: {', '.join(self.batch.schema.names)})"
            )
        return self.batch.column(index)

    def variable(self, name: str) -> pa.Array:
        raise ExecutionError(f"lambda variable {name} is not bound")

    def fail(self, rows: np.ndarray, message: str) -> None:
        self.failures.add(rows, message)

    def report(self, rows: np.ndarray, message: str) -> None:
        if len(rows):
            self.reports.append((np.asarray(rows, dtype=np.int64), message))


class ChildFrame(Frame):
    """Rows of a parent frame picked by index, plus lambda parameters (see the module docstring)."""

    def __init__(self, parent: Frame, index: np.ndarray, variables: dict[str, pa.Array]) -> None:
        self.parent = parent
        self.index = np.asarray(index, dtype=np.int64)
        self.length = len(self.index)
        self.config = parent.config
        self.variables = variables
        self._columns: dict[str, pa.Array] = {}

    def column(self, field: str) -> pa.Array:
        found = self._columns.get(field)
        if found is None:
            found = self.parent.column(field).take(self.index)
            self._columns[field] = found
        return found

    def variable(self, name: str) -> pa.Array:
        found = self.variables.get(name)
        if found is None:
            found = self.parent.variable(name).take(self.index)
            self.variables[name] = found
        return found

    def fail(self, rows: np.ndarray, message: str) -> None:
        if len(rows):
            self.parent.fail(self.index[np.asarray(rows, dtype=np.int64)], message)

    def report(self, rows: np.ndarray, message: str) -> None:
        if len(rows):
            self.parent.report(self.index[np.asarray(rows, dtype=np.int64)], message)


class SliceFrame(Frame):
    """A contiguous range of a parent frame's rows; columns are zero-copy slices."""

    def __init__(self, parent: Frame, start: int, length: int) -> None:
        self.parent, self.start, self.length = parent, start, length
        self.config = parent.config

    def column(self, field: str) -> pa.Array:
        return self.parent.column(field).slice(self.start, self.length)

    def variable(self, name: str) -> pa.Array:
        return self.parent.variable(name).slice(self.start, self.length)

    def fail(self, rows: np.ndarray, message: str) -> None:
        if len(rows):
            self.parent.fail(np.asarray(rows, dtype=np.int64) + self.start, message)

    def report(self, rows: np.ndarray, message: str) -> None:
        if len(rows):
            self.parent.report(np.asarray(rows, dtype=np.int64) + self.start, message)


class CaptureFrame(Frame):
    """Every row of a parent frame, evaluated as one guarded unit: failures stop here (``failures``,
    by local row) and reports wait in ``reports`` until :meth:`commit` passes them on."""

    def __init__(self, parent: Frame) -> None:
        self.parent = parent
        self.length = parent.length
        self.config = parent.config
        self.failures = Failures()
        self.reports: list[Report] = []

    def column(self, field: str) -> pa.Array:
        return self.parent.column(field)

    def variable(self, name: str) -> pa.Array:
        return self.parent.variable(name)

    def fail(self, rows: np.ndarray, message: str) -> None:
        self.failures.add(np.asarray(rows), message)

    def report(self, rows: np.ndarray, message: str) -> None:
        if len(rows):
            self.reports.append((np.asarray(rows, dtype=np.int64), message))

    def commit(self) -> None:
        """Pass the reports of a successful evaluation to the parent frame."""
        for rows, message in self.reports:
            self.parent.report(rows, message)
        self.reports.clear()

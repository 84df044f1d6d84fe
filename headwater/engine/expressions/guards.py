"""Evaluating a compiled node so that failing rows are isolated and made NULL, and ksqlDB's guards:
nested values whose failure makes only themselves NULL.

:func:`evaluate_isolating` runs a node over every row of a frame inside a
:class:`~headwater.engine.expressions.frame.CaptureFrame`:

* rows that operators mark as failed while computing whole columns (division by zero, a DECIMAL
  quotient that needs rounding, a CAST of ``'abc'`` to INTEGER) become NULL;
* a kernel that raises :data:`ROW_ERRORS` fails the whole evaluation, which is then split in halves
  (zero-copy slices), recursively, until the failing rows are isolated: clean halves are still computed
  vectorized, so a few bad rows in a large batch cost a few dozen extra evaluations, not one per row; a
  node that reads no column or lambda variable fails every row at once, without splitting.

The compiled expression evaluates its root this way (a failure anywhere unguarded makes the whole
value NULL). :class:`GuardNode` evaluates a nested value this way: ksqlDB's generated code wraps some
nested values in ``try { ... } catch (Exception e) { log; return null; }`` (``evaluateOrReturnNull``
in ``SqlToJavaVisitor``, on by default through ``ksql.nested.error.handling``), so that a failure
there makes that value NULL, is logged as ``Error processing <what>``, and the enclosing expression
goes on: ``ARRAY[44, STRINGTODATE('foo', 'yyyyMMdd')]`` is ``[44, NULL]`` and
``COALESCE(PARSE_DATE(a, f1), PARSE_DATE(b, f2))`` falls through to its second argument. Which values
are guarded is the compiler's business (:mod:`~headwater.engine.expressions.compiler`).

Example:
    >>> import pyarrow as pa
    >>> from headwater.engine.expressions.frame import RootFrame
    >>> from headwater.engine.expressions.nodes import ArithmeticNode, ColumnNode
    >>> from headwater.parser.expressions import ArithmeticOp
    >>> from headwater.parser import types as t
    >>> divide = ArithmeticNode(ArithmeticOp.DIVIDE, ColumnNode("A"), ColumnNode("B"), t.INT)
    >>> root = RootFrame(pa.record_batch({"A": pa.array([6, 1], pa.int32()), "B": pa.array([3, 0], pa.int32())}))
    >>> guarded = GuardNode(divide, "quotient", pa.int32(), reads_rows=True)
    >>> guarded.evaluate(root).to_pylist(), [(rows.tolist(), m) for rows, m in root.reports]
    ([2, None], [([1], 'Error processing quotient: / by zero')])
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from headwater.engine.expressions.arrays import Datum, broadcast, with_nulls
from headwater.engine.expressions.frame import CaptureFrame, Frame
from headwater.engine.expressions.nodes import Node
from headwater.engine.functions.registry import FunctionError

__all__ = ["ROW_ERRORS", "GuardNode", "cause_of", "evaluate_isolating"]

ROW_ERRORS: tuple[type[BaseException], ...] = (FunctionError, pa.ArrowInvalid, ArithmeticError)
"""Exceptions that mean "some row's input is bad", not "Headwater is broken"."""


def cause_of(error: BaseException) -> str:
    """The text of a row error as the processing log shows it."""
    if isinstance(error, FunctionError):
        return error.message
    return str(error) or type(error).__name__


def evaluate_isolating(
    node: Node, frame: Frame, arrow_type: pa.DataType, *, reads_rows: bool
) -> tuple[Datum, dict[int, str]]:
    """``node`` over every row of ``frame``, failing rows NULL (see the module docstring).

    Args:
        node: the compiled node.
        frame: the rows to evaluate it on.
        arrow_type: the type of the value (the NULLs of a wholly failed evaluation have it).
        reads_rows: whether the node reads a column or a lambda variable (else every row computes
            the same thing, and a failure fails them all).

    Returns:
        The value (a scalar when the node gave one and nothing failed, else an array of the frame's
        length) and the failing rows (frame indexes) with the first message of each.
    """
    length = frame.length
    if length == 0:
        return pa.array([], type=arrow_type), {}
    capture = CaptureFrame(frame)
    try:
        datum = node.evaluate(capture)
    except ROW_ERRORS as error:
        if length == 1 or not reads_rows:
            return pa.nulls(length, arrow_type), dict.fromkeys(range(length), cause_of(error))
        half = length // 2
        first, first_failures = evaluate_isolating(node, frame.slice(0, half), arrow_type, reads_rows=True)
        second, second_failures = evaluate_isolating(
            node, frame.slice(half, length - half), arrow_type, reads_rows=True
        )
        failures = {**first_failures, **{half + row: message for row, message in second_failures.items()}}
        return pa.concat_arrays([broadcast(first, half), broadcast(second, length - half)]), failures
    capture.commit()
    if datum.type != arrow_type:
        datum = datum.cast(arrow_type)
    failed = capture.failures.rows()
    if not failed:
        return datum, {}
    values = broadcast(datum, length)
    mask = np.zeros(length, dtype=bool)
    mask[list(failed)] = True
    return with_nulls(values, mask), dict(failed)


class GuardNode(Node):
    """A nested value ksqlDB guards: rows where it fails are NULL here and reported as
    ``Error processing <what>: <cause>``; the enclosing expression is not failed.

    ``may_fail`` stays the inner node's, so that CASE and AND/OR still evaluate it only on the rows
    that need it (ksqlDB evaluates them lazily, and would log nothing for the other rows).
    """

    def __init__(self, inner: Node, what: str, arrow_type: pa.DataType, *, reads_rows: bool) -> None:
        self.inner, self.what, self.arrow_type, self.reads_rows = inner, what, arrow_type, reads_rows
        self.may_fail = inner.may_fail

    def evaluate(self, frame: Frame) -> Datum:
        values, failed = evaluate_isolating(self.inner, frame, self.arrow_type, reads_rows=self.reads_rows)
        if failed:
            by_message: dict[str, list[int]] = {}
            for row in sorted(failed):
                by_message.setdefault(failed[row], []).append(row)
            for message, rows in by_message.items():
                frame.report(np.array(rows, dtype=np.int64), f"Error processing {self.what}: {message}")
        return values

"""The compiled form of each bound node: an object whose ``evaluate(frame)`` computes the node's value
for every row of the frame at once (see :mod:`~headwater.engine.expressions.frame`).

``may_fail`` says whether evaluating the node (or anything below it) can fail some rows or raise a
row-level error (a function, a CAST, integer or DECIMAL division...). CASE and AND/OR use it: when a
branch or right-hand side may fail, they evaluate it only for the rows that need it, so an error on a
row that would not have taken the branch cannot NULL that row (ksqlDB evaluates them lazily, row by
row); when nothing can fail they take the faster whole-column path.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.expressions import arithmetic, predicates, structured
from headwater.engine.expressions.arrays import Datum, broadcast, is_scalar, scatter, true_mask
from headwater.engine.expressions.casting import is_widening, try_cast_datum
from headwater.engine.expressions.frame import Frame
from headwater.engine.functions.registry import CompiledLambda, FunctionError, ResolvedFunction
from headwater.engine.types import to_arrow
from headwater.errors import ExecutionError
from headwater.parser import types as t
from headwater.parser.expressions import ArithmeticOp, ComparisonOp, LogicalOp

__all__ = [
    "ArithmeticNode",
    "ArrayElementNode",
    "ArrayNode",
    "BetweenNode",
    "CallNode",
    "CaseNode",
    "CastNode",
    "ColumnNode",
    "ComparisonNode",
    "ConstantNode",
    "DereferenceNode",
    "ElementLambda",
    "InListNode",
    "IsNullNode",
    "LambdaNode",
    "LikeNode",
    "LogicalNode",
    "MapNode",
    "MapValueNode",
    "NegateNode",
    "Node",
    "NotNode",
    "StructNode",
    "VariableNode",
]


class Node:
    """Base of the compiled nodes."""

    may_fail: bool = False

    def evaluate(self, frame: Frame) -> Datum:
        raise NotImplementedError


def _any_fail(nodes: Sequence[Node | None]) -> bool:
    return any(n is not None and n.may_fail for n in nodes)


class ConstantNode(Node):
    def __init__(self, value: pa.Scalar) -> None:
        self.value = value

    def evaluate(self, frame: Frame) -> Datum:
        return self.value


class ColumnNode(Node):
    def __init__(self, field: str) -> None:
        self.field = field

    def evaluate(self, frame: Frame) -> Datum:
        return frame.column(self.field)


class VariableNode(Node):
    def __init__(self, name: str) -> None:
        self.name = name

    def evaluate(self, frame: Frame) -> Datum:
        return frame.variable(self.name)


class CastNode(Node):
    def __init__(self, operand: Node, source: t.SqlType, target: t.SqlType) -> None:
        self.operand, self.source, self.target = operand, source, target
        self.may_fail = operand.may_fail or not is_widening(source, target)

    def evaluate(self, frame: Frame) -> Datum:
        values, failures = try_cast_datum(self.operand.evaluate(frame), self.source, self.target)
        if failures:
            if is_scalar(values):  # a constant that does not convert fails every row
                frame.fail(np.arange(frame.length), next(iter(failures.values())))
            else:
                for row, message in failures.items():
                    frame.fail(np.array([row], dtype=np.int64), message)
        return values


class NegateNode(Node):
    def __init__(self, operand: Node, sql_type: t.SqlType) -> None:
        self.operand, self.sql_type = operand, sql_type
        self.may_fail = operand.may_fail

    def evaluate(self, frame: Frame) -> Datum:
        return arithmetic.negate(self.operand.evaluate(frame), self.sql_type)


class ArithmeticNode(Node):
    def __init__(self, op: ArithmeticOp, left: Node, right: Node, sql_type: t.SqlType) -> None:
        self.op, self.left, self.right, self.sql_type = op, left, right, sql_type
        divides = op in (ArithmeticOp.DIVIDE, ArithmeticOp.MODULUS) and sql_type != t.DOUBLE
        self.may_fail = divides or _any_fail([left, right])

    def evaluate(self, frame: Frame) -> Datum:
        return arithmetic.arithmetic(
            self.op, self.left.evaluate(frame), self.right.evaluate(frame), self.sql_type, frame
        )


class ComparisonNode(Node):
    def __init__(self, op: ComparisonOp, left: Node, right: Node, sql_type: t.SqlType) -> None:
        self.op, self.left, self.right, self.sql_type = op, left, right, sql_type
        self.may_fail = _any_fail([left, right])

    def evaluate(self, frame: Frame) -> Datum:
        left, right = self.left.evaluate(frame), self.right.evaluate(frame)
        return predicates.compare(self.op, left, right, self.sql_type, frame.length)


class BetweenNode(Node):
    def __init__(self, value: Node, low: Node, high: Node, negated: bool, sql_type: t.SqlType) -> None:
        self.value, self.low, self.high, self.negated, self.sql_type = value, low, high, negated, sql_type
        self.may_fail = _any_fail([value, low, high])

    def evaluate(self, frame: Frame) -> Datum:
        value = self.value.evaluate(frame)
        return predicates.between(
            value,
            self.low.evaluate(frame),
            self.high.evaluate(frame),
            self.negated,
            self.sql_type,
            frame.length,
        )


class InListNode(Node):
    def __init__(self, value: Node, items: Sequence[Node], negated: bool, sql_type: t.SqlType) -> None:
        self.value, self.items, self.negated, self.sql_type = value, list(items), negated, sql_type
        self.may_fail = _any_fail([value, *items])

    def evaluate(self, frame: Frame) -> Datum:
        items = [i.evaluate(frame) for i in self.items]
        return predicates.in_list(
            self.value.evaluate(frame), items, self.sql_type, frame.length, self.negated
        )


class LikeNode(Node):
    def __init__(self, value: Node, pattern: Node, escape: str | None, negated: bool) -> None:
        self.value, self.pattern, self.escape, self.negated = value, pattern, escape, negated
        self.may_fail = _any_fail([value, pattern]) or (
            escape is not None and not isinstance(pattern, ConstantNode)
        )

    def evaluate(self, frame: Frame) -> Datum:
        try:
            return predicates.like(
                self.value.evaluate(frame),
                self.pattern.evaluate(frame),
                self.escape,
                self.negated,
                frame.length,
            )
        except ValueError as error:  # a pattern ending with the escape character
            raise FunctionError(str(error)) from None


class IsNullNode(Node):
    def __init__(self, operand: Node, negated: bool) -> None:
        self.operand, self.negated = operand, negated
        self.may_fail = operand.may_fail

    def evaluate(self, frame: Frame) -> Datum:
        value = self.operand.evaluate(frame)
        if is_scalar(value):
            return pa.scalar(value.is_valid if self.negated else not value.is_valid)
        return pc.is_valid(value) if self.negated else pc.is_null(value)


class NotNode(Node):
    def __init__(self, operand: Node) -> None:
        self.operand = operand
        self.may_fail = operand.may_fail

    def evaluate(self, frame: Frame) -> Datum:
        return pc.invert(self.operand.evaluate(frame))


class LogicalNode(Node):
    """AND / OR with three-valued logic; the right side only for undecided rows when it may fail."""

    def __init__(self, op: LogicalOp, left: Node, right: Node) -> None:
        self.op, self.left, self.right = op, left, right
        self.kernel = pc.and_kleene if op is LogicalOp.AND else pc.or_kleene
        self.may_fail = _any_fail([left, right])

    def evaluate(self, frame: Frame) -> Datum:
        left = self.left.evaluate(frame)
        if not self.right.may_fail:
            return self.kernel(left, self.right.evaluate(frame))
        n = frame.length
        left_array = broadcast(left, n)
        decided = (
            ~true_mask(pc.invert(left_array), n) if self.op is LogicalOp.AND else ~true_mask(left_array, n)
        )
        rows = np.flatnonzero(decided)
        if rows.size == n:
            return self.kernel(left, self.right.evaluate(frame))
        if rows.size == 0:
            return left_array
        right = broadcast(self.right.evaluate(frame.subset(rows)), rows.size)
        return self.kernel(left_array, scatter([(rows, right)], n, pa.bool_()))


class CaseNode(Node):
    """Searched CASE: whole-column ``case_when`` when nothing can fail, else branch by branch on the
    rows still undecided (conditions) and the rows that take each branch (results)."""

    def __init__(self, whens: Sequence[tuple[Node, Node]], default: Node | None, sql_type: t.SqlType) -> None:
        self.whens, self.default, self.sql_type = list(whens), default, sql_type
        self.arrow_type = to_arrow(sql_type)
        parts: list[Node | None] = [n for pair in whens for n in pair]
        self.may_fail = _any_fail([*parts, default])

    def evaluate(self, frame: Frame) -> Datum:
        n = frame.length
        if not self.may_fail:
            return self._whole_columns(frame)
        remaining = np.arange(n, dtype=np.int64)
        pieces: list[tuple[np.ndarray, pa.Array]] = []
        for condition, result in self.whens:
            if remaining.size == 0:
                break
            sub = frame if remaining.size == n else frame.subset(remaining)
            chosen = true_mask(condition.evaluate(sub), remaining.size)
            taken = remaining[chosen]
            if taken.size:
                pieces.append((taken, broadcast(result.evaluate(self._rows(frame, taken)), taken.size)))
            remaining = remaining[~chosen]
        if self.default is not None and remaining.size:
            pieces.append(
                (remaining, broadcast(self.default.evaluate(self._rows(frame, remaining)), remaining.size))
            )
        return scatter(pieces, n, self.arrow_type)

    def _whole_columns(self, frame: Frame) -> Datum:
        """Every branch over every row: constant results are picked by branch number with one
        ``take``; column results through a chain of ``if_else`` from the last WHEN to the first."""
        n = frame.length
        conditions = [c.evaluate(frame) for c, _ in self.whens]
        results = [r.evaluate(frame) for _, r in self.whens]
        default = self.default.evaluate(frame) if self.default else pa.scalar(None, self.arrow_type)
        if all(is_scalar(r) for r in results) and is_scalar(default):
            branch = np.full(n, len(results), dtype=np.int32)
            for number in range(len(conditions) - 1, -1, -1):
                branch[true_mask(conditions[number], n)] = number
            choices = pa.array([r.as_py() for r in [*results, default]], type=self.arrow_type)
            return choices.take(pa.array(branch))
        value: Datum = default
        for condition, result in zip(reversed(conditions), reversed(results)):
            value = pc.if_else(pc.fill_null(condition, False), result, value)
        return value

    @staticmethod
    def _rows(frame: Frame, rows: np.ndarray) -> Frame:
        return frame if rows.size == frame.length else frame.subset(rows)


class LambdaNode(Node):
    """A lambda argument; evaluated by its function's kernel through :class:`ElementLambda`."""

    def __init__(self, params: Sequence[str], body: Node) -> None:
        self.params, self.body = tuple(params), body
        self.may_fail = body.may_fail

    def evaluate(self, frame: Frame) -> Datum:
        raise ExecutionError("a lambda is evaluated by the function it is passed to")


class ElementLambda(CompiledLambda):
    """A lambda bound to the frame of the call that receives it: ``params`` are arrays of elements,
    ``parent_index`` the frame row of each element (outer columns are gathered by it)."""

    def __init__(self, node: LambdaNode, frame: Frame) -> None:
        self.node, self.frame = node, frame

    def __call__(self, params: Sequence[pa.Array], parent_index: pa.Array) -> pa.Array:
        index = np.asarray(
            parent_index.to_numpy(zero_copy_only=False)
            if isinstance(parent_index, pa.Array)
            else parent_index,
            dtype=np.int64,
        )
        child = self.frame.elements(dict(zip(self.node.params, params)), index)
        return broadcast(self.node.body.evaluate(child), len(index))


class CallNode(Node):
    """A scalar function call: arguments evaluated, lambdas bound to the frame, the kernel called."""

    may_fail = True

    def __init__(self, function: ResolvedFunction, args: Sequence[Node], name: str) -> None:
        self.function, self.args, self.name = function, list(args), name
        self.kernel = function.kernel
        self.arrow_type = to_arrow(function.return_type)

    def evaluate(self, frame: Frame) -> Datum:
        values: list[Datum | None] = []
        lambdas: list[CompiledLambda] = []
        for arg in self.args:
            if isinstance(arg, LambdaNode):
                values.append(None)
                lambdas.append(ElementLambda(arg, frame))
            else:
                values.append(arg.evaluate(frame))
        context = self.function.context(frame.length, frame.config, tuple(lambdas))
        result = self.kernel(values, context)
        if isinstance(result, pa.ChunkedArray):
            result = result.combine_chunks()
        if not isinstance(result, pa.Array | pa.Scalar):
            raise ExecutionError(f"function {self.name} returned {type(result).__name__}, not an Arrow array")
        if isinstance(result, pa.Array) and len(result) != frame.length:
            raise ExecutionError(
                f"function {self.name} returned {len(result)} values for {frame.length} rows"
            )
        if result.type != self.arrow_type:
            result = result.cast(self.arrow_type)
        return result


class DereferenceNode(Node):
    def __init__(self, base: Node, index: int) -> None:
        self.base, self.index = base, index
        self.may_fail = base.may_fail

    def evaluate(self, frame: Frame) -> Datum:
        return structured.field_of(self.base.evaluate(frame), self.index)


class ArrayElementNode(Node):
    def __init__(self, base: Node, index: Node) -> None:
        self.base, self.index = base, index
        self.may_fail = _any_fail([base, index])

    def evaluate(self, frame: Frame) -> Datum:
        return structured.array_element(self.base.evaluate(frame), self.index.evaluate(frame), frame.length)


class MapValueNode(Node):
    def __init__(self, base: Node, key: Node) -> None:
        self.base, self.key = base, key
        self.may_fail = _any_fail([base, key])

    def evaluate(self, frame: Frame) -> Datum:
        return structured.map_value(self.base.evaluate(frame), self.key.evaluate(frame), frame.length)


class ArrayNode(Node):
    def __init__(self, items: Sequence[Node], sql_type: t.Array) -> None:
        self.items, self.sql_type = list(items), sql_type
        self.may_fail = _any_fail(self.items)

    def evaluate(self, frame: Frame) -> Datum:
        return structured.array_of([i.evaluate(frame) for i in self.items], self.sql_type, frame.length)


class MapNode(Node):
    def __init__(self, keys: Sequence[Node], values: Sequence[Node], sql_type: t.Map) -> None:
        self.keys, self.values, self.sql_type = list(keys), list(values), sql_type
        self.may_fail = _any_fail([*self.keys, *self.values])

    def evaluate(self, frame: Frame) -> Datum:
        keys = [k.evaluate(frame) for k in self.keys]
        values = [v.evaluate(frame) for v in self.values]
        return structured.map_of(keys, values, self.sql_type, frame.length)


class StructNode(Node):
    def __init__(self, fields: Sequence[tuple[str, Node]], sql_type: t.Struct) -> None:
        self.fields, self.sql_type = list(fields), sql_type
        self.may_fail = _any_fail([n for _, n in self.fields])

    def evaluate(self, frame: Frame) -> Datum:
        values = [(name, node.evaluate(frame)) for name, node in self.fields]
        return structured.struct_of(values, self.sql_type, frame.length)

"""Many rows into one stream or table at once: INSERT VALUES' checks and coercions, one append.

The server's ``/inserts-stream`` receives rows as JSON objects; running each as an ``INSERT INTO ...
VALUES`` statement costs a parse, a plan and an append per row. :func:`insert_rows` takes the rows as
Python values (JSON's: None, bool, int, ``decimal.Decimal`` or float, str, list, dict) and gives each the
answer INSERT VALUES would give it: the same column checks, the same conversions to the column's type
(a value is read as the literal its JSON spells: an integer as INT or BIGINT, a number with a fraction
as an exact DECIMAL, or a DOUBLE in a DOUBLE column; an object as a STRUCT or MAP as the column says),
and the same messages.

Conversion is by column over all the rows: when every value of a column has the one Python kind its
type takes (ints for INT, strings for STRING or for a DATE/TIME/TIMESTAMP/BYTES read as CAST reads
them...), the column is one Arrow conversion; a column with other values, or whose conversion
refuses some value, goes value by value through :func:`~headwater.engine.expressions.evaluate_literal`,
which finds the first bad row and its message. Rows land in order: the rows before the first refused
row are appended (one batch, keys serialised together), the refused row gets its error and ends the
call, as the inserts stream ends at its first bad row.
"""

from __future__ import annotations

import decimal
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from headwater.engine.catalog import DataSource
from headwater.engine.functions.registry import FunctionError
from headwater.engine.schema import ROWOFFSET, ROWPARTITION, ROWTIME, quote
from headwater.engine.statements.context import StatementContext
from headwater.engine.statements.insert_values import RowRefused, append_rows, insert_target
from headwater.engine.types import to_arrow
from headwater.errors import HeadwaterError, PlanError
from headwater.parser import expressions as pe
from headwater.parser import types as t

__all__ = ["insert_rows"]

_INTEGERS = (t.INT, t.BIGINT)
_FROM_STRING = (t.STRING, t.DATE, t.TIME, t.TIMESTAMP, t.BYTES)


def insert_rows(ctx: StatementContext, target_name: str, rows: Sequence[Mapping[str, Any]]) -> list[HeadwaterError | None]:
    """Append ``rows`` to ``target_name`` as INSERT VALUES would, one row at a time in effect.

    Returns:
        One entry per row looked at: None for a row appended, then the error of the first row
        refused, which ends the list (rows after it are neither checked nor appended).

    Raises:
        PlanError: the target is unknown or read-only (no row can go in).
    """
    target = insert_target(ctx, target_name)
    if target.is_source:
        raise PlanError(f"Cannot insert values into read-only {target.kind.value.lower()}: {target.name}")
    named, refusal = _named_rows(target, rows)
    columns = {c.name: c for c in target.schema}
    arrays: dict[str, pa.Array] = {}
    timestamps = np.full(len(named), int(time.time() * 1000), dtype=np.int64)
    for name in dict.fromkeys(n for row in named for n in row):  # first use first, as a row lists them
        sql_type = t.BIGINT if name == ROWTIME else columns[name].type
        try:
            converted = _column(ctx, [row.get(name) for row in named], sql_type)
        except RowRefused as refused:
            refusal = _earlier(refusal, refused)
            continue
        if name == ROWTIME:
            given = np.asarray(converted.fill_null(0).to_numpy(zero_copy_only=False), dtype=np.int64)
            present = np.asarray([name in row for row in named], dtype=bool)
            timestamps = np.where(present, given, timestamps)
        else:
            arrays[name] = converted
    count = len(named) if refusal is None else refusal.row
    while count:
        try:
            append_rows(ctx, target, {n: a.slice(0, count) for n, a in arrays.items()}, timestamps[:count], count)
            break
        except RowRefused as refused:  # a key or value that does not serialise: the rows before it go in
            refusal = _earlier(refusal, refused)
            count = refused.row
    answers: list[HeadwaterError | None] = [None] * count
    if refusal is not None:
        answers.append(refusal.error)
    return answers


def _earlier(current: RowRefused | None, new: RowRefused) -> RowRefused:
    return new if current is None or new.row < current.row else current


def _named_rows(
    target: DataSource, rows: Sequence[Mapping[str, Any]]
) -> tuple[list[dict[str, Any]], RowRefused | None]:
    """The rows before the first one INSERT VALUES' column checks refuse, each keyed by the target's
    column names (an exact name first, else its upper-case form, as the server's inserts stream
    resolves them), and that refusal (None when every row passes)."""
    columns = {c.name: c for c in target.schema}
    upper = {name.upper(): name for name in columns}
    named: list[dict[str, Any]] = []
    for index, row in enumerate(rows):
        try:
            named.append(_named_row(row, columns, upper))
        except PlanError as error:
            return named, RowRefused(index, error)
    return named, None


def _named_row(row: Mapping[str, Any], columns: Mapping[str, Any], upper: Mapping[str, str]) -> dict[str, Any]:
    """One row keyed by column names (ROWTIME as ROWTIME).

    Raises:
        PlanError: INSERT VALUES' message for a column the row may not set.
    """
    if not row:
        raise PlanError("No columns supplied.")
    resolved: dict[str, Any] = {}
    headers = []
    for key, value in row.items():
        name = key if key in columns else upper.get(key.upper(), key)
        if name not in columns and name.upper() in (ROWPARTITION, ROWOFFSET):
            raise PlanError(f"Inserting into column {quote(name.upper())} is not allowed.")
        if name not in columns and name.upper() == ROWTIME:
            resolved[ROWTIME] = value
            continue
        column = columns.get(name)
        if column is None:
            raise PlanError(f"Column name {quote(name)} does not exist.")
        if column.is_header:
            headers.append(name)
        resolved[name] = value
    if headers:
        raise PlanError("Cannot insert into HEADER columns: " + ", ".join(headers))
    return resolved


# -- values ------------------------------------------------------------------------------------------------


def _column(ctx: StatementContext, values: list[Any], sql_type: t.SqlType) -> pa.Array:
    """``values`` as an array of ``sql_type`` (see the module docstring).

    Raises:
        RowRefused: the first value INSERT VALUES would refuse, with its message.
    """
    fast = _fast_column(values, sql_type)
    if fast is not None:
        return fast
    # Value by value: a per-row loop, because these values (nested, mixed kinds, or one the column
    # conversion refused) need the literal's own typing and message.
    from headwater.engine.expressions import evaluate_literal

    scalars = []
    for index, value in enumerate(values):
        try:
            scalars.append(
                evaluate_literal(
                    _literal(value, sql_type),
                    sql_type,
                    ctx.engine.registry,
                    types=ctx.catalog.resolve_type,
                    config=ctx.config.as_dict(),
                )
            )
        except HeadwaterError as error:
            raise RowRefused(index, error) from None
    arrow_type = to_arrow(sql_type)
    return pa.array([s.as_py() for s in scalars], type=arrow_type) if scalars else pa.nulls(0, arrow_type)


def _fast_column(values: list[Any], sql_type: t.SqlType) -> pa.Array | None:
    """One Arrow conversion when every non-null value is of the kind ``sql_type`` takes as it is;
    None when the values need the value-by-value path."""
    present = [v for v in values if v is not None]
    arrow_type = to_arrow(sql_type)
    try:
        if not present:
            return pa.nulls(len(values), arrow_type)
        if sql_type in _INTEGERS:
            if all(type(v) is int for v in present):
                return pa.array(values, type=arrow_type)  # refuses what does not fit
            return None
        if sql_type == t.DOUBLE:
            if all(type(v) in (int, float, decimal.Decimal) for v in present):
                return pa.array([None if v is None else float(v) for v in values], type=arrow_type)
            return None
        if isinstance(sql_type, t.Decimal):
            if all(type(v) in (int, decimal.Decimal) for v in present):
                return pa.array(values, type=arrow_type)  # refuses a rescale that loses digits, or overflow
            return None
        if sql_type == t.BOOLEAN:
            return pa.array(values, type=arrow_type) if all(type(v) is bool for v in present) else None
        if sql_type in _FROM_STRING and all(type(v) is str for v in present):
            strings = pa.array(values, type=pa.string())
            if sql_type == t.STRING:
                return strings
            from headwater.engine.expressions.casting import cast_datum

            converted = cast_datum(strings, t.STRING, sql_type)
            if isinstance(converted, pa.Array) and converted.null_count == strings.null_count:
                return converted
            return None
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, ArithmeticError, FunctionError, HeadwaterError):
        return None
    return None


def _literal(value: Any, sql_type: t.SqlType | None) -> pe.Expression:
    """The literal a JSON value spells, guided by its column's type (the server's inserts stream
    renders values the same way)."""
    if value is None:
        return pe.NullLiteral()
    if isinstance(value, bool):
        return pe.BooleanLiteral(value)
    if isinstance(value, int | float | decimal.Decimal):
        return _number(value, sql_type)
    if isinstance(value, str):
        return pe.StringLiteral(value)
    if isinstance(value, list | tuple):
        element = sql_type.element if isinstance(sql_type, t.Array) else None
        return pe.ArrayConstructor(tuple(_literal(v, element) for v in value))
    if isinstance(value, dict):
        if isinstance(sql_type, t.Map):
            return pe.MapConstructor(
                tuple((pe.StringLiteral(str(k)), _literal(v, sql_type.value)) for k, v in value.items())
            )
        fields = {name.upper(): (name, ft) for name, ft in sql_type.fields} if isinstance(sql_type, t.Struct) else {}
        return pe.StructConstructor(
            tuple(
                (fields.get(str(k).upper(), (str(k), None))[0], _literal(v, fields.get(str(k).upper(), ("", None))[1]))
                for k, v in value.items()
            )
        )
    raise PlanError(f"Cannot insert a {type(value).__name__} value.")


def _number(value: int | float | decimal.Decimal, sql_type: t.SqlType | None) -> pe.Expression:
    if sql_type == t.DOUBLE or isinstance(value, float):
        return pe.DoubleLiteral(float(value))
    if isinstance(value, int):
        return pe.IntegerLiteral(value)
    if value.is_finite() and value == value.to_integral_value() and sql_type in _INTEGERS:
        return pe.IntegerLiteral(int(value))
    return pe.DecimalLiteral(value)

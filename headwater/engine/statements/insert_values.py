"""INSERT INTO target [(columns)] VALUES (...): one record, serialised in the target's formats.

Values are expressions without columns; each is bound, evaluated once over a one-row batch and cast to
its column's type with CAST's rules. ROWTIME and key columns may be set. The record goes to a raw topic
as key/value bytes in the source's formats, or to a typed topic (another query's sink) as typed columns;
either way its partition comes from the serialised key, as Kafka's producer would choose it.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pyarrow as pa

from headwater.engine.catalog import DataSource
from headwater.engine.entities import Entity, StatementApplied
from headwater.engine.operators.sink import stored_schema
from headwater.engine.schema import ROWOFFSET, ROWPARTITION, ROWTIME, quote
from headwater.engine.serde import SourceSerde
from headwater.engine.statements.context import StatementContext
from headwater.engine.types import to_arrow
from headwater.errors import HeadwaterError, PlanError
from headwater.parser import ast
from headwater.parser import expressions as pe
from headwater.parser import types as t

__all__ = ["RowRefused", "append_rows", "insert_target", "insert_values"]


def insert_target(ctx: StatementContext, name: str) -> DataSource:
    """The stream or table INSERT VALUES writes (ksqlDB's message, with a hint for a name in the wrong case)."""
    source = ctx.catalog.source(name)
    if source is not None:
        return source
    message = f"Cannot insert values into an unknown stream/table: {quote(name)}"
    other = ctx.catalog.find_case_insensitive(name)
    if other is not None:
        if other.name == other.name.upper():
            message += f"\nDid you mean {other.name}? Hint: try removing double quotes from the source name."
        else:
            message += f'\nDid you mean "{other.name}"? Hint: wrap the source name in double quotes to make it case-sensitive.'
    raise PlanError(message)


def _value(ctx: StatementContext, expression: pe.Expression, column: str, sql_type: t.SqlType) -> pa.Array:
    """The value of one VALUES expression as a one-row array of the column's type."""
    from headwater.engine.expressions import evaluate_literal

    scalar = evaluate_literal(
        expression, sql_type, ctx.engine.registry, types=ctx.catalog.resolve_type, config=ctx.config.as_dict()
    )
    return pa.repeat(scalar, 1) if scalar.is_valid else pa.nulls(1, to_arrow(sql_type))


def insert_values(ctx: StatementContext, stmt: ast.InsertValues) -> Entity:
    """Append one record to the target's topic."""
    target = insert_target(ctx, stmt.target)
    if target.is_source:
        raise PlanError(f"Cannot insert values into read-only {target.kind.value.lower()}: {target.name}")
    schema = target.schema
    columns = list(stmt.columns) if stmt.columns is not None else [c.name for c in schema]
    if not columns and stmt.values:
        raise PlanError("No columns supplied.")
    for name in columns:
        if name in (ROWPARTITION, ROWOFFSET):
            raise PlanError(f"Inserting into column {quote(name)} is not allowed.")
    headers = [n for n in columns if (c := schema.find(n)) is not None and c.is_header]
    if headers:
        raise PlanError("Cannot insert into HEADER columns: " + ", ".join(headers))
    if len(columns) != len(stmt.values):
        raise PlanError(
            f"Failed to prepare statement: Expected number columns and values to match: {len(columns)}, {len(stmt.values)}"
        )
    values: dict[str, pa.Array] = {}
    timestamp = int(time.time() * 1000)
    for name, expression in zip(columns, stmt.values):
        if name == ROWTIME:
            timestamp = int(_value(ctx, expression, ROWTIME, t.BIGINT)[0].as_py() or 0)
            continue
        column = schema.find(name)
        if column is None:
            raise PlanError(f"Column name {quote(name)} does not exist.")
        values[name] = _value(ctx, expression, name, column.type)
    try:
        append_rows(ctx, target, values, np.array([timestamp], np.int64), 1)
    except RowRefused as refused:
        raise refused.error from None
    return StatementApplied(stmt.text, message=f"Inserted one record into {target.name}.")


class RowRefused(Exception):
    """The first refused row of an insert: its index and its error."""

    def __init__(self, row: int, error: HeadwaterError) -> None:
        super().__init__(str(error))
        self.row, self.error = row, error


def append_rows(
    ctx: StatementContext, target: DataSource, arrays: dict[str, pa.Array], timestamps: np.ndarray, count: int
) -> None:
    """Serialise and append the first ``count`` rows as one batch, under the topic's writer lock.

    Raises:
        RowRefused: the first row whose key or value does not serialise (nothing is appended then).
    """
    schema = target.schema
    full = {c.name: arrays.get(c.name, pa.nulls(count, to_arrow(c.type))) for c in schema if not c.is_header}
    serde = SourceSerde(target)
    if schema.key_columns:
        key_bytes, key_errors = serde.encode_key([full[c.name] for c in schema.key_columns])
        if key_errors:
            row, message = min(key_errors)
            raise RowRefused(row, PlanError(f"Failed to insert values into '{target.name}'. {message}"))
    else:
        key_bytes = pa.nulls(count, pa.binary())
    topic: Any = ctx.log.topic(target.topic)
    with ctx.engine.sink_lock(target.topic):
        stamps = pa.array(timestamps, pa.int64())
        if getattr(topic, "schema", None) is None:
            value_bytes, value_errors = serde.encode_value([full[c.name] for c in schema.value_columns], rows=count)
            if value_errors:
                row, message = min(value_errors)
                raise RowRefused(row, PlanError(f"Failed to insert values into '{target.name}'. {message}"))
            batch = pa.RecordBatch.from_arrays([key_bytes, value_bytes, stamps], names=["__key", "__value", "__timestamp"])
        else:
            fields = stored_schema(target)
            batch = pa.RecordBatch.from_arrays(
                [full[f.name].cast(f.type) if f.name in full else pa.nulls(count, f.type) for f in fields] + [stamps],
                schema=pa.schema([*fields, pa.field("__timestamp", pa.int64())]),
            )
        if schema.key_columns:
            topic.append(batch, key_bytes=key_bytes)
        else:
            topic.append(batch, partition=0)
        ctx.engine.note_external_append(target.topic)

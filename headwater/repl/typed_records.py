"""Input lines to the columns of a *typed* topic, through the value formats ksqlDB would use.

A typed topic (a query's sink, or any topic created with a schema) stores Arrow columns, so a line must be
decoded into them. Decoding is exactly what a stream over the same bytes would do, so it is delegated to
:mod:`headwater.engine.formats`: JSON lines with the JSON format (fields matched to columns by name,
case-insensitively, with ksqlDB's lenient coercions), CSV lines with the DELIMITED format (fields by
position in the topic's column order, or in the order the ``--header`` line names them). A line the
format cannot decode is a bad line, with ksqlDB's own message as the reason.

Both key and value columns come from the line. The record's partition is chosen from its key columns
serialised in the topic's key format (from the topic's metadata; KAFKA when none is recorded), as
Kafka's partitioner would choose it for the engine's own writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from headwater.engine.types import from_arrow
from headwater.parser import types as t
from headwater.repl.line_records import (
    BadLine,
    CsvLayout,
    ParsedBlock,
    record_lines,
    rows_except,
    select_rows,
)
from headwater.repl.lines import LineBlock
from headwater.storage import Topic
from headwater.storage.columns import is_key_field

if TYPE_CHECKING:
    from headwater.repl.produce import ProduceOptions

__all__ = ["TypedParser", "line_field_count", "typed_parser"]

_HEADER_FIELD_METADATA = b"headwater.header"


def _line_columns(schema: pa.Schema) -> list[pa.Field]:
    """The columns a line provides: every user column except those filled from record headers."""
    return [f for f in schema if not (f.metadata and _HEADER_FIELD_METADATA in f.metadata)]


class TypedParser:
    """Decodes lines into a typed topic's columns with one value format.

    Args:
        topic_name: for messages.
        fields: the columns, in the order the lines give them (CSV) or any order (JSON).
        schema: the topic's user schema (the batch is built in its column order).
        value_format: ``JSON`` or ``DELIMITED``.
        delimiter: DELIMITED's field delimiter.
        key_format: the topic's key format, for the partitioner.
    """

    def __init__(
        self,
        topic_name: str,
        fields: Sequence[pa.Field],
        schema: pa.Schema,
        *,
        value_format: str,
        delimiter: str | None,
        key_format: str,
    ) -> None:
        from headwater.engine import formats

        self.topic_name = topic_name
        self.schema = schema
        self.whitespace_is_blank = value_format == "JSON"
        columns: list[tuple[str, t.SqlType]] = [(f.name, from_arrow(f.type)) for f in fields]
        options: dict[str, Any] = {"is_key": False}
        if delimiter is not None:
            options["delimiter"] = delimiter
        if value_format == "JSON" and len(columns) == 1:
            options["wrap_single"] = True  # a line is an object naming its field, never a bare value
        self.decoder = formats.get_format(value_format).decoder(columns, **options)
        self.line_fields = [f.name for f in fields]
        keys = [f for f in schema if is_key_field(f)]
        self.key_names = [f.name for f in keys]
        self.key_encoder = (
            formats.get_format(key_format).encoder([(f.name, from_arrow(f.type)) for f in keys], is_key=True)
            if keys
            else None
        )

    def parse(self, block: LineBlock) -> ParsedBlock:
        lines, kept = record_lines(block, whitespace_is_blank=self.whitespace_is_blank)
        result = self.decoder.decode(lines, topic=self.topic_name)
        bad_rows = {error.row: ": ".join((error.message, *error.causes)) for error in result.errors}
        for row in np.flatnonzero(result.null_record & ~result.failed):
            bad_rows[int(row)] = "the line is null, not a record"
        table = result.table.select(self.line_fields)
        columns = [table.column(name) for name in self.schema.names]
        key_bytes = None
        if self.key_encoder is not None:
            encoded = self.key_encoder.encode([table.column(name) for name in self.key_names])
            key_bytes = encoded.data
            for error in encoded.errors:
                bad_rows.setdefault(error.row, f"key cannot be serialised: {error.message}")
        good = rows_except(len(lines), bad_rows)
        batch = pa.RecordBatch.from_arrays(
            [select_rows(column.combine_chunks(), good) for column in columns], schema=self.schema
        )
        bad = tuple(BadLine(block.line_number(int(kept[row])), reason) for row, reason in sorted(bad_rows.items()))
        selected_keys = None if key_bytes is None else select_rows(key_bytes, good)
        return ParsedBlock(batch, selected_keys, bad, len(block.lines) - len(kept))


def line_field_count(topic: Topic) -> int:
    """How many fields a CSV line for a typed topic has when no header names them: one per column."""
    assert topic.schema is not None
    return len(_line_columns(topic.schema))


def typed_parser(topic: Topic, options: ProduceOptions, layout: CsvLayout | None) -> TypedParser:
    """The parser for a typed topic: the JSON format for ``--format json``, DELIMITED for csv (fields in
    column order, or in the order a header line names them)."""
    from headwater.repl.produce import ProduceError

    schema = topic.schema
    assert schema is not None
    fields = _line_columns(schema)
    key_format = topic.metadata.get("key_format", "KAFKA")
    if options.input_format == "json":
        return TypedParser(topic.name, fields, schema, value_format="JSON", delimiter=None, key_format=key_format)
    assert layout is not None
    if layout.field_names is not None:
        by_name = {f.name.upper(): f for f in fields}
        unknown = [name for name in layout.field_names if name.upper() not in by_name]
        if unknown:
            raise ProduceError(
                f"The header names fields that topic {topic.name} does not have: {', '.join(unknown)} "
                f"(columns: {', '.join(f.name for f in fields)})"
            )
        missing = [f.name for f in fields if f.name.upper() not in {n.upper() for n in layout.field_names}]
        if missing:
            raise ProduceError(f"The header does not name these columns of topic {topic.name}: {', '.join(missing)}")
        fields = [by_name[name.upper()] for name in layout.field_names]
    return TypedParser(
        topic.name, fields, schema, value_format="DELIMITED", delimiter=layout.delimiter, key_format=key_format
    )

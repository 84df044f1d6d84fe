"""Input lines to records for ``headwater produce``: JSON lines and CSV lines, checked a block at a time.

A *raw* topic stores each line's bytes unchanged as the record value (kcat's behaviour), so nothing the
user wrote is rewritten; the line is only checked (valid JSON; the right number of CSV fields) and, with
``--key FIELD``, the key is taken from it. A *typed* topic stores Arrow columns, so each line is decoded
into the topic's columns with the value formats of :mod:`headwater.engine.formats` (JSON or DELIMITED, as
ksqlDB would decode the same bytes), and the key columns are serialised in the topic's key format to
choose the partition as Kafka's partitioner would.

Checking is vectorized over a whole block of lines:

- JSON: ``pyarrow.json`` parses the block, building only the key column (every other field is parsed
  for validity and dropped). A block it rejects (a bad line, a line that is not an object, a key whose
  JSON type changes between lines) is re-checked line by line with orjson to say which lines are bad and
  why; that per-line path is the exception, taken only for blocks holding such lines.
- CSV: ``pyarrow.csv`` parses the block with an invalid-row handler that reports lines with the wrong
  number of fields; lines with an unbalanced quote (an odd number of ``"``: malformed in RFC 4180) are
  found first with one vectorized count, because they would desynchronise the parser.

Blank lines are not records: they are counted and skipped (for JSON, whitespace-only lines too; for CSV
a line of spaces is a field).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json

from headwater.repl.keys import KeySerializer
from headwater.repl.lines import LineBlock
from headwater.storage import KEY, VALUE

__all__ = [
    "BadLine",
    "CsvLayout",
    "LineParser",
    "ParsedBlock",
    "RawCsvParser",
    "RawJsonParser",
    "newline_joined",
    "non_blank_rows",
    "record_lines",
    "rows_except",
    "select_rows",
]

_BLANK_JSON_LINE = r"^\s*$"


@dataclass(frozen=True, slots=True)
class BadLine:
    """An input line that cannot become a record: its 1-based line number and what is wrong."""

    line: int
    reason: str


@dataclass(frozen=True, slots=True)
class ParsedBlock:
    """The records of one block of lines.

    Attributes:
        batch: the records, ready for ``Topic.append`` (raw: ``__key``/``__value``; typed: user columns).
        key_bytes: serialised keys for the partitioner, when the batch does not carry them itself.
        bad_lines: lines that did not become records.
        blank_lines: lines skipped as blank.
    """

    batch: pa.RecordBatch
    key_bytes: pa.Array | None
    bad_lines: tuple[BadLine, ...]
    blank_lines: int


class LineParser(Protocol):
    """Turns a block of input lines into records."""

    def parse(self, block: LineBlock) -> ParsedBlock: ...


def newline_joined(lines: pa.Array) -> pa.Buffer:
    """The lines as one newline-terminated text buffer, built by Arrow without a loop per line."""
    if len(lines) == 0:
        return pa.py_buffer(b"")
    joined = pc.binary_join_element_wise(lines, pa.scalar(b"", pa.binary()), b"\n")
    offsets = np.frombuffer(joined.buffers()[1], dtype=np.int32)[joined.offset : joined.offset + len(joined) + 1]
    data = joined.buffers()[2]
    assert data is not None
    return data.slice(int(offsets[0]), int(offsets[-1] - offsets[0]))


def non_blank_rows(block: LineBlock, *, whitespace_is_blank: bool) -> np.ndarray:
    """Indexes (into the block) of the lines that are records."""
    if whitespace_is_blank:
        blank = pc.match_substring_regex(block.lines, _BLANK_JSON_LINE)
    else:
        blank = pc.equal(pc.binary_length(block.lines), 0)
    return np.flatnonzero(~blank.to_numpy(zero_copy_only=False))


def record_lines(block: LineBlock, *, whitespace_is_blank: bool) -> tuple[pa.Array, np.ndarray]:
    """The block's non-blank lines and their indexes in the block."""
    kept = non_blank_rows(block, whitespace_is_blank=whitespace_is_blank)
    lines = block.lines if len(kept) == len(block.lines) else select_rows(block.lines, kept)
    return lines, kept


def rows_except(count: int, excluded: Collection[int]) -> np.ndarray | None:
    """The row indexes ``0..count-1`` without ``excluded``, or None when nothing is excluded (the
    common case: callers then keep their arrays as they are, without a copy)."""
    if not excluded:
        return None
    keep = np.ones(count, dtype=bool)
    keep[np.fromiter(excluded, dtype=np.int64, count=len(excluded))] = False
    return np.flatnonzero(keep)


def select_rows(data: pa.Array, rows: np.ndarray | None) -> pa.Array:
    """``data`` at ``rows`` (all of it when ``rows`` is None)."""
    if rows is None:
        return data
    if isinstance(data, pa.ChunkedArray):
        data = data.combine_chunks()
    return data.take(pa.array(rows, pa.int64()))


def _raw_batch(keys: pa.Array, values: pa.Array) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays(
        [keys.cast(pa.binary()), values.cast(pa.binary())], names=[KEY, VALUE]
    )


def _json_type_of(value: Any) -> pa.DataType | None:
    """The Arrow type pyarrow.json builds for a JSON scalar, or None for null, objects and arrays."""
    if isinstance(value, bool):
        return pa.bool_()
    if isinstance(value, int):
        return pa.int64()
    if isinstance(value, float):
        return pa.float64()
    if isinstance(value, str):
        return pa.string()
    return None


class RawJsonParser:
    """JSON lines for a raw topic: every line must be one JSON document; with a key field, an object.

    Args:
        key_field: the field whose value becomes the record key (None: records without keys).
        keys: serialises key values in the chosen key format and type.
    """

    def __init__(self, key_field: str | None, keys: KeySerializer) -> None:
        self.key_field = key_field
        self.keys = keys

    def parse(self, block: LineBlock) -> ParsedBlock:
        lines, kept = record_lines(block, whitespace_is_blank=True)
        fast = self._parse_fast(lines)
        bad_rows: dict[int, str]
        if fast is not None:
            key_values, bad_rows = fast, {}
        else:
            key_values, bad_rows = self._parse_per_line(lines)
        key_bytes, key_errors = self.keys.serialize(key_values)
        bad_rows.update(key_errors)
        good = rows_except(len(lines), bad_rows)
        batch = _raw_batch(select_rows(key_bytes, good), select_rows(lines, good))
        bad = tuple(BadLine(block.line_number(int(kept[row])), reason) for row, reason in sorted(bad_rows.items()))
        return ParsedBlock(batch, None, bad, len(block.lines) - len(kept))

    def _parse_fast(self, lines: pa.Array) -> pa.Array | None:
        """The key values of every line (nulls without a key field), or None if the block needs the
        per-line path."""
        if len(lines) == 0:
            return pa.nulls(0)
        fields: list[pa.Field] = []
        if self.key_field is not None:
            key_type = self._first_key_type(lines)
            if key_type is None:
                return None
            fields.append(pa.field(self.key_field, key_type))
        longest = pc.max(pc.binary_length(lines)).as_py() or 0
        try:
            table = pa_json.read_json(
                pa.BufferReader(newline_joined(lines)),
                read_options=pa_json.ReadOptions(block_size=max(1 << 20, 2 * longest + 16)),
                parse_options=pa_json.ParseOptions(
                    explicit_schema=pa.schema(fields), unexpected_field_behavior="ignore"
                ),
            )
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None
        if table.num_rows != len(lines):
            return None  # e.g. two documents on one line: find it line by line
        if self.key_field is None:
            return pa.nulls(len(lines))
        return table.column(0).combine_chunks()

    def _first_key_type(self, lines: pa.Array) -> pa.DataType | None:
        """The JSON type of the key in the first line that has a non-null one (pyarrow.json needs it
        up front to build only that column); None when the first lines say nothing usable."""
        for value in lines.slice(0, 16).to_pylist():
            try:
                document = orjson.loads(value)
            except orjson.JSONDecodeError:
                return None
            if not isinstance(document, dict):
                return None
            if self.key_field in document and document[self.key_field] is not None:
                return _json_type_of(document[self.key_field])
        return pa.string()

    def _parse_per_line(self, lines: pa.Array) -> tuple[pa.Array, dict[int, str]]:
        """The per-line path (orjson, one call per line): only for blocks the vectorized path rejected,
        to say exactly which lines are bad and why."""
        bad: dict[int, str] = {}
        keys: list[Any] = []
        for row, line in enumerate(lines.to_pylist()):
            try:
                document = orjson.loads(line)
            except orjson.JSONDecodeError as error:
                bad[row] = f"not valid JSON ({error})"
                keys.append(None)
                continue
            if self.key_field is None:
                keys.append(None)
            elif not isinstance(document, dict):
                bad[row] = f"not a JSON object, so it has no field {self.key_field!r} for the key"
                keys.append(None)
            else:
                value = document.get(self.key_field)
                if isinstance(value, dict | list):
                    bad[row] = f"the key field {self.key_field!r} holds a JSON {'object' if isinstance(value, dict) else 'array'}, not a single value"
                    value = None
                keys.append(value)
        return self.keys.from_python(keys, bad), bad


@dataclass(frozen=True, slots=True)
class CsvLayout:
    """What the CSV lines look like: the field names (from ``--header``) or just their number, and the
    field delimiter."""

    field_names: tuple[str, ...] | None
    field_count: int
    delimiter: str = ","

    def field_index(self, field: str) -> int:
        """The 0-based index of a field given by name or 1-based position.

        Raises:
            ValueError: no such field.
        """
        if self.field_names is not None:
            if field in self.field_names:
                return self.field_names.index(field)
            lowered = [name.lower() for name in self.field_names]
            if field.lower() in lowered:
                return lowered.index(field.lower())
        if field.isdigit() and 1 <= int(field) <= self.field_count:
            return int(field) - 1
        names = ", ".join(self.field_names) if self.field_names else f"positions 1 to {self.field_count}"
        raise ValueError(f"no field {field!r} in the CSV input (fields: {names})")


def parse_csv_fields(line: bytes, delimiter: str) -> list[str]:
    """The fields of one CSV line (for a header or the first record), parsed by pyarrow."""
    table = pa_csv.read_csv(
        pa.BufferReader(line + b"\n"),
        read_options=pa_csv.ReadOptions(autogenerate_column_names=True),
        parse_options=pa_csv.ParseOptions(delimiter=delimiter, newlines_in_values=False),
        convert_options=pa_csv.ConvertOptions(strings_can_be_null=False, quoted_strings_can_be_null=False),
    )
    return [str(table.column(i)[0].as_py()) if table.num_rows else "" for i in range(table.num_columns)]


def not_utf8_rows(lines: pa.Array) -> dict[int, str]:
    """The rows of ``lines`` (binary) that are not UTF-8 text, as {row index: reason}.

    CSV fields become strings, and pyarrow's CSV reader cannot even describe such a row to its
    invalid-row handler. One cast checks the whole block; only a block that fails it is looked at line by
    line (a per-line Python loop, taken just for blocks holding undecodable bytes) to say which lines.
    """
    try:
        lines.cast(pa.string())
        return {}
    except pa.ArrowInvalid:
        pass
    bad: dict[int, str] = {}
    for row, line in enumerate(lines.to_pylist()):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as error:
            bad[row] = f"not UTF-8 text (byte 0x{line[error.start]:02x} at position {error.start + 1})"
    return bad


def csv_string_table(lines: pa.Array, field_count: int, delimiter: str) -> tuple[pa.Table, dict[int, str]]:
    """Parse CSV lines into string columns; returns the table of the good lines (in order) and the bad
    lines as {row index: reason}."""
    bad = not_utf8_rows(lines)
    quotes = pc.count_substring(lines, '"').to_numpy(zero_copy_only=False)
    for unbalanced in np.flatnonzero(quotes % 2 == 1):
        bad.setdefault(int(unbalanced), "unbalanced quote (a field that starts with '\"' must end with '\"')")
    usable = quotes % 2 == 0
    usable[list(bad)] = False
    checked = np.flatnonzero(usable)
    candidates = lines.take(pa.array(checked, pa.int64())) if bad else lines
    wrong_width: dict[int, str] = {}

    def invalid_row(row: Any) -> str:
        wrong_width[int(row.number) - 1] = f"has {row.actual_columns} fields, {row.expected_columns} expected"
        return "skip"

    names = [f"f{i}" for i in range(field_count)]
    if len(candidates) == 0:  # every line is bad already (pyarrow refuses an empty input)
        return pa.table({name: pa.array([], pa.string()) for name in names}), bad
    longest = (pc.max(pc.binary_length(candidates)).as_py() or 0) if len(candidates) else 0
    table = pa_csv.read_csv(
        pa.BufferReader(newline_joined(candidates)),
        read_options=pa_csv.ReadOptions(
            column_names=names, use_threads=False, block_size=max(1 << 20, 2 * longest + 16)
        ),
        parse_options=pa_csv.ParseOptions(
            delimiter=delimiter, newlines_in_values=False, invalid_row_handler=invalid_row
        ),
        convert_options=pa_csv.ConvertOptions(
            column_types={name: pa.string() for name in names},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    for row, reason in wrong_width.items():
        bad[int(checked[row])] = reason
    return table, bad


class RawCsvParser:
    """CSV lines for a raw topic: each line must have the layout's number of fields.

    Args:
        layout: the field names or count, and the delimiter.
        key_index: the 0-based field whose text becomes the record key (None: records without keys).
        keys: serialises key values in the chosen key format and type.
    """

    def __init__(self, layout: CsvLayout, key_index: int | None, keys: KeySerializer) -> None:
        self.layout = layout
        self.key_index = key_index
        self.keys = keys

    def parse(self, block: LineBlock) -> ParsedBlock:
        lines, kept = record_lines(block, whitespace_is_blank=False)
        table, bad_rows = csv_string_table(lines, self.layout.field_count, self.layout.delimiter)
        parsed = rows_except(len(lines), bad_rows)  # the lines behind the table's rows
        if self.key_index is None:
            key_values: pa.Array = pa.nulls(table.num_rows)
        else:
            key_values = table.column(self.key_index).combine_chunks()
        key_bytes, key_errors = self.keys.serialize(key_values)
        good = parsed
        if key_errors:  # rows of the parsed table, i.e. positions in `parsed`
            positions = np.arange(len(lines)) if parsed is None else parsed
            for row, reason in key_errors.items():
                bad_rows[int(positions[row])] = reason
            still_good = rows_except(table.num_rows, key_errors)
            key_bytes = select_rows(key_bytes, still_good)
            good = positions[still_good]
        batch = _raw_batch(key_bytes, select_rows(lines, good))
        bad = tuple(BadLine(block.line_number(int(kept[row])), reason) for row, reason in sorted(bad_rows.items()))
        return ParsedBlock(batch, None, bad, len(block.lines) - len(kept))

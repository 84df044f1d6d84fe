"""DELIMITED: one CSV record per key or value, as ksqlDB reads and writes it with Apache Commons CSV.

Reading (``KsqlDelimitedDeserializer``, ``CSVFormat.DEFAULT`` with the chosen delimiter): the first
record of the text is used (empty lines before it are skipped), fields may be quoted with ``"`` (a
doubled ``""`` inside is one quote), an empty field is null, and the number of fields must equal the
number of columns (``Column count mismatch on deserialization``). Each field is parsed as Java parses
it: ``Integer.parseInt``, ``Long.parseLong``, ``Double.parseDouble``, ``new BigDecimal`` (which must fit
the column without rounding), ``Boolean.parseBoolean`` (``true`` in any case, anything else false),
epoch numbers for TIMESTAMP/TIME/DATE, Base64 for BYTES.

Writing (``KsqlDelimitedSerializer``): DOUBLE as ``Double.toString``, DECIMAL as ``toPlainString``,
BOOLEAN ``true``/``false``, BYTES Base64, the time types as numbers, null as an empty field. A field is
quoted (Commons CSV 1.4's minimal quoting) when it contains the delimiter, a quote or a line break,
starts with a char up to ``#`` or ends with one up to the space, and, in the first field only, when it
is empty or starts with anything but an ASCII letter or digit (so ``-10`` as a first field is written
``"-10"``).

The fast path reads every record with no quote, no line break and the right number of delimiters in
one Arrow CSV read with quoting disabled, and converts the text columns with the vectorized Java
parsers of :mod:`headwater.engine.casts.java_text`; other records are split one at a time by
:func:`parse_record`, a port of the Commons CSV lexer.
"""

from __future__ import annotations

import base64
import decimal
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from headwater.engine.casts.java_text import (
    java_decimal_text,
    java_double_text,
    parse_java_bigdecimal,
    parse_java_double,
    parse_java_double_str,
    parse_java_int,
    parse_java_int_str,
)
from headwater.engine.casts.text import bigdecimal_error, decode_java_base64, decode_java_base64_array
from headwater.engine.formats.assembly import BatchAssembly
from headwater.engine.formats.base import Columns, DecodeResult, fast_path_rows, true_mask
from headwater.engine.formats.encoding import ColumnEncoder
from headwater.engine.formats.json_decode import SMALL_BATCH, binary_offsets
from headwater.engine.formats.json_rows import CoercionFailure, ensure_fit
from headwater.engine.types import to_arrow
from headwater.parser import types as t

__all__ = ["CsvSyntaxError", "DelimitedDecoder", "DelimitedEncoder", "parse_record"]

DESERIALIZE_ERROR = "Error deserializing delimited"


class CsvSyntaxError(ValueError):
    """Text Commons CSV cannot split (an unterminated quote, text after a closing quote)."""


# --------------------------------------------------------------------------------------------------
# the Commons CSV lexer, for the records the fast path leaves


def parse_record(text: str, delimiter: str) -> list[str] | None:
    """The first record of ``text`` as Commons CSV's ``CSVFormat.DEFAULT`` splits it; None if the
    text holds no record (empty, or only line breaks).

    Raises:
        CsvSyntaxError: an unterminated quoted field, or a char between a closing quote and the
            delimiter (Commons CSV's IOException texts).
    """
    length = len(text)
    position = 0
    while position < length and text[position] in "\r\n":  # empty lines are skipped
        position += 1
    if position >= length:
        return None
    if '"' not in text:  # no quoting: the first line, split
        end = length
        for separator in "\r\n":
            found = text.find(separator, position)
            if found != -1:
                end = min(end, found)
        return text[position:end].split(delimiter)
    fields: list[str] = []
    while True:
        if position < length and text[position] == '"':
            value, position, end = _quoted(text, position + 1, delimiter)
            fields.append(value)
            if end:
                return fields
            continue
        start = position
        while position < length and text[position] != delimiter and text[position] not in "\r\n":
            position += 1
        fields.append(text[start:position])
        if position >= length or text[position] in "\r\n":
            return fields
        position += 1  # past the delimiter
        if position >= length:
            fields.append("")
            return fields


def _quoted(text: str, position: int, delimiter: str) -> tuple[str, int, bool]:
    """A quoted field from just after its opening quote: (value, next position, record ended)."""
    length = len(text)
    out: list[str] = []
    while True:
        if position >= length:
            raise CsvSyntaxError("(startline 1) EOF reached before encapsulated token finished")
        char = text[position]
        if char == '"':
            if position + 1 < length and text[position + 1] == '"':
                out.append('"')
                position += 2
                continue
            position += 1
            while True:
                if position >= length:
                    return "".join(out), position, True
                char = text[position]
                if char == delimiter:
                    position += 1
                    if position >= length:
                        return "".join(out), position, False
                    return "".join(out), position, False
                if char in "\r\n":
                    return "".join(out), position, True
                if not char.isspace():
                    raise CsvSyntaxError("(line 1) invalid char between encapsulated token and delimiter")
                position += 1
        out.append(char)
        position += 1


# --------------------------------------------------------------------------------------------------
# field text -> typed values


def _time(text: str) -> int:
    millis = parse_java_int_str(text, 64)
    if not 0 <= millis <= 86_400_000:
        raise ValueError("Time values must use number of milliseconds greater than 0 and less than 86400000.")
    return millis


def _decimal_parser(sql_type: t.Decimal) -> Callable[[str], Any]:
    def parse(text: str) -> decimal.Decimal:
        try:
            value = decimal.Decimal(text)
            if not value.is_finite() or text.strip() != text or "_" in text:
                raise decimal.InvalidOperation
        except decimal.InvalidOperation:
            raise ValueError(bigdecimal_error(text)) from None
        try:
            return ensure_fit(value, sql_type)
        except CoercionFailure as failure:
            raise ValueError(failure.message) from None

    return parse


def field_parser(sql_type: t.SqlType) -> Callable[[str], Any]:
    """The function that reads one non-empty field of ``sql_type`` as ksqlDB's DELIMITED parsers do
    (it raises ValueError with the Java exception's message)."""
    parsers: dict[t.SqlType, Callable[[str], Any]] = {
        t.STRING: lambda text: text,
        t.BOOLEAN: lambda text: text.lower() == "true",
        t.INT: lambda text: parse_java_int_str(text, 32),
        t.BIGINT: lambda text: parse_java_int_str(text, 64),
        t.DOUBLE: parse_java_double_str,
        t.TIMESTAMP: lambda text: parse_java_int_str(text, 64),
        t.TIME: _time,
        t.DATE: lambda text: parse_java_int_str(text, 32),
        t.BYTES: decode_java_base64,
    }
    if isinstance(sql_type, t.Decimal):
        return _decimal_parser(sql_type)
    parser = parsers.get(sql_type)
    if parser is None:
        raise ValueError(f"The 'DELIMITED' format does not support type '{sql_type}'")
    return parser


def parse_field(text: str, sql_type: t.SqlType) -> Any:
    """One non-empty field as ksqlDB's DELIMITED parsers read it.

    Raises:
        ValueError: with the Java exception's message.
    """
    return field_parser(sql_type)(text)


def convert_column(strings: pa.Array, sql_type: t.SqlType) -> tuple[pa.Array, dict[int, str]]:
    """A column of field texts (null for empty fields) as ``to_arrow(sql_type)``, vectorized, with
    Java's message for each field that does not parse."""
    failures: dict[int, str] = {}
    if sql_type == t.STRING:
        return strings, failures
    if sql_type == t.BOOLEAN:
        return pc.equal(pc.utf8_lower(strings), "true"), failures
    if sql_type in (t.INT, t.BIGINT, t.TIMESTAMP, t.TIME, t.DATE):
        parsed = parse_java_int(strings, bits=32 if sql_type in (t.INT, t.DATE) else 64)
        for row in parsed.invalid_rows():
            failures[int(row)] = f'For input string: "{strings[int(row)].as_py()}"'
        values = parsed.values
        if sql_type == t.TIMESTAMP:
            values = values.cast(pa.timestamp("ms"))
        elif sql_type == t.DATE:
            values = values.cast(pa.date32())
        elif sql_type == t.TIME:
            bad = true_mask(pc.or_(pc.less(values, 0), pc.greater(values, 86_400_000)))
            for row in np.flatnonzero(bad):
                failures[int(row)] = (
                    "Time values must use number of milliseconds greater than 0 and less than 86400000."
                )
            if bad.any():
                values = pc.if_else(pa.array(bad), pa.scalar(None, values.type), values)
            values = values.cast(pa.int32()).cast(pa.time32("ms"))
        return values, failures
    if sql_type == t.DOUBLE:
        parsed_double = parse_java_double(strings)
        for row in parsed_double.invalid_rows():
            failures[int(row)] = f'For input string: "{strings[int(row)].as_py()}"'
        return parsed_double.values, failures
    if isinstance(sql_type, t.Decimal):
        parsed_decimal, _ = parse_java_bigdecimal(strings, to_arrow(sql_type), exact=True)
        for row in parsed_decimal.invalid_rows():
            try:
                parse_field(strings[int(row)].as_py(), sql_type)
            except ValueError as error:
                failures[int(row)] = str(error)
        return parsed_decimal.values, failures
    if sql_type == t.BYTES:
        return decode_java_base64_array(strings)
    raise ValueError(f"The 'DELIMITED' format does not support type '{sql_type}'")


# --------------------------------------------------------------------------------------------------
# decoding


class DelimitedDecoder:
    """Decodes DELIMITED keys or values for fixed columns (see the module docstring); with
    ``vectorized`` False every record is split and parsed one at a time (to measure or check the
    fast path)."""

    def __init__(self, columns: Columns, *, delimiter: str = ",", vectorized: bool = True) -> None:
        self._columns = tuple(columns)
        self._parsers = [field_parser(sql_type) for _, sql_type in self._columns]
        self._delimiter = delimiter
        self._fast = vectorized and len(delimiter.encode("utf-8")) == 1 and delimiter not in '\r\n"'
        names = [f"c{i}" for i in range(len(self._columns))]
        self._read_options = pcsv.ReadOptions(column_names=names, use_threads=True, block_size=1 << 22)
        self._parse_options = pcsv.ParseOptions(
            delimiter=delimiter if self._fast else ",",
            quote_char=False,
            double_quote=False,
            escape_char=False,
            newlines_in_values=False,
            ignore_empty_lines=False,
        )
        self._convert_options = pcsv.ConvertOptions(
            column_types={name: pa.string() for name in names},
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        )

    def decode(self, data: pa.Array | pa.ChunkedArray, *, topic: str = "") -> DecodeResult:
        assembly, raw, valid = BatchAssembly.for_bytes(self._columns, data)
        n = len(raw)
        if not self._columns:
            assembly.null_record[:] = True  # nothing to read
            return assembly.result(fast_rows=0, fallback_rows=0)
        candidates = fast_path_rows(raw, valid, enabled=self._fast)
        if self._fast and n:
            offsets = binary_offsets(raw)
            values = raw.buffers()[2]
            text = (
                b""
                if values is None
                else values.slice(int(offsets[0]), int(offsets[-1] - offsets[0])).to_pybytes()
            )
            if b'"' in text or b"\n" in text or b"\r" in text:
                candidates &= ~true_mask(pc.match_substring_regex(raw, '["\r\n]'))
        if candidates.sum() < SMALL_BATCH:  # one Arrow read costs more than a few records
            candidates[:] = False
        fast_index = np.flatnonzero(candidates)
        fast_rows = self._decode_fast(raw, fast_index, assembly) if len(fast_index) else 0
        if fast_rows is None:
            # The read failed: some record has the wrong number of fields (or is not UTF-8). Count
            # the delimiters to report the former, and read the others again.
            counts = pc.fill_null(pc.count_substring(raw, self._delimiter), 0).to_numpy(zero_copy_only=False)
            wrong = candidates & (counts != len(self._columns) - 1)
            for row in np.flatnonzero(wrong):
                self._mismatch(assembly, int(row), topic, int(counts[row]) + 1)
            candidates &= ~wrong
            fast_index = np.flatnonzero(candidates)
            fast_rows = self._decode_fast(raw, fast_index, assembly) if len(fast_index) else 0
            if fast_rows is None:
                candidates[:] = False
                fast_rows = 0
        already = assembly.failed_rows()
        slow = [int(row) for row in np.flatnonzero(valid & ~candidates) if int(row) not in already]
        self._decode_slow(raw, slow, assembly, topic)
        return assembly.result(fast_rows=fast_rows, fallback_rows=len(slow))

    def _mismatch(self, assembly: BatchAssembly, row: int, topic: str, got: int) -> None:
        cause = f"Column count mismatch on deserialization. topic: {topic}, expected: {len(self._columns)}, got: {got}"
        assembly.fail(row, DESERIALIZE_ERROR, (cause,))

    def _decode_fast(self, raw: pa.Array, index: np.ndarray, assembly: BatchAssembly) -> int | None:
        """Read ``raw[index]`` (no quotes, no line breaks) in one CSV read: how many rows it decoded,
        or None if the read fails."""
        subset = raw if len(index) == len(raw) else raw.take(pa.array(index))
        joined = pc.binary_join_element_wise(
            subset, pa.scalar(b"\n", pa.binary()), pa.scalar(b"", pa.binary())
        )
        offsets = binary_offsets(joined)
        buffer = joined.buffers()[2].slice(0, int(offsets[-1]))
        try:
            table = pcsv.read_csv(
                pa.BufferReader(buffer),
                read_options=self._read_options,
                parse_options=self._parse_options,
                convert_options=self._convert_options,
            )
        except pa.ArrowInvalid:
            return None
        if table.num_rows != len(index):
            return None
        arrays = []
        failed = np.zeros(len(index), dtype=bool)
        messages: dict[int, str] = {}
        for position, (_, sql_type) in enumerate(self._columns):
            column = table.column(position)
            column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
            converted, failures = convert_column(column, sql_type)
            for row, message in failures.items():
                if not failed[row]:
                    failed[row] = True
                    messages[row] = message
            arrays.append(converted)
        for row, message in messages.items():
            assembly.fail(int(index[row]), DESERIALIZE_ERROR, (message,))
        keep = ~failed
        if not keep.all():
            arrays = [array.filter(pa.array(keep)) for array in arrays]
        assembly.add_arrays(index[keep], arrays)
        return int(keep.sum())

    def _decode_slow(self, raw: pa.Array, rows: Sequence[int], assembly: BatchAssembly, topic: str) -> None:
        parsers = self._parsers
        good_rows: list[int] = []
        good_values: list[list[Any]] = []
        for row in rows:
            data = raw[row].as_py()
            try:
                fields = parse_record(data.decode("utf-8", "replace"), self._delimiter)
                if fields is None:
                    raise CsvSyntaxError("No fields in record")
            except CsvSyntaxError as error:
                assembly.fail(row, DESERIALIZE_ERROR, (str(error),))
                continue
            if len(fields) != len(self._columns):
                self._mismatch(assembly, row, topic, len(fields))
                continue
            try:
                values = [None if not text else parse(text) for text, parse in zip(fields, parsers)]
            except ValueError as error:
                assembly.fail(row, DESERIALIZE_ERROR, (str(error),))
                continue
            good_rows.append(row)
            good_values.append(values)
        assembly.add_python(good_rows, good_values)


# --------------------------------------------------------------------------------------------------
# encoding


def field_text(values: pa.Array, sql_type: t.SqlType) -> pa.Array:
    """The text ksqlDB's serializer writes for each value of a column (null stays null)."""
    if sql_type == t.STRING:
        return values
    if sql_type == t.BOOLEAN:
        return pc.if_else(values, pa.scalar("true"), pa.scalar("false"))
    if sql_type in (t.INT, t.BIGINT):
        return pc.cast(values, pa.string())
    if sql_type == t.DOUBLE:
        return java_double_text(values)
    if isinstance(sql_type, t.Decimal):
        return java_decimal_text(values, plain=True)
    if sql_type == t.TIMESTAMP:
        return pc.cast(values.cast(pa.int64()), pa.string())
    if sql_type in (t.TIME, t.DATE):
        return pc.cast(values.cast(pa.int32()), pa.string())
    if sql_type == t.BYTES:
        return pa.array(
            [None if v is None else base64.b64encode(v).decode("ascii") for v in values.to_pylist()],
            pa.string(),
        )
    raise ValueError(f"The 'DELIMITED' format does not support type '{sql_type}'")


def _quote(text: pa.Array, *, first: bool, delimiter: str) -> pa.Array:
    """Commons CSV 1.4's minimal quoting of one column of field texts."""
    special = "".join(sorted({delimiter, '"', "\r", "\n"}))
    escaped = "".join("\\" + c if c in r"\^-]" else c for c in special)
    pattern = f"^[\\x00-\\x23]|[{escaped}]|[\\x00-\\x20]$"
    if first:
        pattern = "^$|^[^0-9A-Za-z]|" + pattern
    needs = pc.fill_null(pc.match_substring_regex(text, pattern), False)
    if not pc.any(needs).as_py():
        return text
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '""'), '"', "")
    return pc.if_else(needs, quoted, text)


class DelimitedEncoder(ColumnEncoder):
    """Encodes columns as ksqlDB's DELIMITED serializer writes them."""

    def __init__(self, columns: Columns, *, delimiter: str = ",") -> None:
        super().__init__(columns)
        self._delimiter = delimiter

    def _encode_rows(self, arrays: list[pa.Array], n: int) -> tuple[pa.Array, np.ndarray | None]:
        if not self._columns:
            return pa.nulls(n, pa.binary()), None
        texts = []
        for position, (array, (_, sql_type)) in enumerate(zip(arrays, self._columns)):
            text = field_text(array, sql_type)
            texts.append(_quote(text, first=position == 0, delimiter=self._delimiter))
        line = pc.binary_join_element_wise(
            *texts, self._delimiter, null_handling="replace", null_replacement=""
        )
        return line, None

"""A text format for test batches: write a batch as a small table, get an Arrow record batch.

The first non-blank line names the columns and their SQL types (``NAME:TYPE``); every other line is a
row. Cells are separated by whitespace; ``.`` is NULL; a cell in double quotes may hold spaces (``""``
inside is one quote). Values are read as their column's type: integers, decimals (``1.50`` keeps its
scale), doubles, ``true``/``false``, strings, ``YYYY-MM-DD`` dates, ISO timestamps. Nested types are
written as JSON (``[1,2]``, ``{"A":1}``). :func:`to_pretty` prints a batch back in the same layout, for
assertion messages.

Example:
    >>> batch = from_pretty('''
    ...     ID:INT  NAME:STRING  PRICE:DECIMAL(4,2)  TAGS:ARRAY<STRING>
    ...     1       apple        1.50                ["red","sweet"]
    ...     2       "big pear"   .                   []
    ... ''')
    >>> batch.column("NAME").to_pylist(), batch.column("PRICE").to_pylist()
    (['apple', 'big pear'], [Decimal('1.50'), None])
    >>> print(to_pretty(batch))
    ID:INTEGER  NAME:STRING  PRICE:DECIMAL(4, 2)  TAGS:ARRAY<STRING>
    1           apple        1.50                 ["red","sweet"]
    2           "big pear"   .                    []
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import orjson
import pyarrow as pa

from headwater.engine.types import from_arrow, to_arrow
from headwater.parser import types as t

__all__ = ["from_pretty", "to_pretty"]

_CELL = re.compile(r'"(?:[^"]|"")*"|\S+')


def _split_header(line: str) -> list[tuple[str, str]]:
    """``A:INT B:MAP<STRING, INT>``: a type may contain spaces inside ``<>`` or ``()``."""
    columns: list[tuple[str, str]] = []
    depth = 0
    current = ""
    for char in line.strip() + " ":
        if char in "<(":
            depth += 1
        elif char in ">)":
            depth -= 1
        if char.isspace() and depth == 0:
            if current:
                name, _, type_text = current.partition(":")
                if not type_text:
                    raise ValueError(f"column {name!r} needs a type: NAME:TYPE")
                columns.append((name, type_text))
            current = ""
        else:
            current += char
    return columns


def _parse_type(text: str) -> t.SqlType:
    from headwater.parser import parse_type

    return parse_type(text)


def _value(cell: str, sql_type: t.SqlType) -> Any:
    if cell == ".":
        return None
    if cell.startswith('"') and cell.endswith('"') and len(cell) >= 2:
        cell = cell[1:-1].replace('""', '"')
        if sql_type == t.STRING:
            return cell
    if isinstance(sql_type, (t.Array, t.Map, t.Struct)):
        return _nested(orjson.loads(cell), sql_type)
    return _scalar(cell, sql_type)


def _scalar(cell: Any, sql_type: t.SqlType) -> Any:
    if cell is None:
        return None
    if isinstance(sql_type, t.Decimal):
        return Decimal(str(cell))
    if sql_type in (t.INT, t.BIGINT):
        return int(cell)
    if sql_type == t.DOUBLE:
        return float(cell)
    if sql_type == t.BOOLEAN:
        return cell if isinstance(cell, bool) else str(cell).lower() == "true"
    if sql_type == t.BYTES:
        return str(cell).encode()
    if sql_type == t.DATE:
        return dt.date.fromisoformat(str(cell))
    if sql_type == t.TIMESTAMP:
        return dt.datetime.fromisoformat(str(cell)) if not isinstance(cell, int) else cell
    if sql_type == t.TIME:
        return dt.time.fromisoformat(str(cell))
    return str(cell)


def _nested(value: Any, sql_type: t.SqlType) -> Any:
    if value is None:
        return None
    if isinstance(sql_type, t.Array):
        return [_nested(v, sql_type.element) for v in value]
    if isinstance(sql_type, t.Map):
        return [(_scalar(k, sql_type.key), _nested(v, sql_type.value)) for k, v in value.items()]
    if isinstance(sql_type, t.Struct):
        return {name: _nested(value.get(name), ft) for name, ft in sql_type.fields}
    return _scalar(value, sql_type)


def from_pretty(text: str) -> pa.RecordBatch:
    """The batch written in ``text`` (see the module docstring).

    Raises:
        ValueError: a row with the wrong number of cells, or a header cell without a type.
    """
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise ValueError("a pretty batch needs a header line")
    header = [(name, _parse_type(type_text)) for name, type_text in _split_header(lines[0])]
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        cells = _CELL.findall(line)
        if len(cells) != len(header):
            raise ValueError(f"line {number}: {len(cells)} cells for {len(header)} columns: {line.strip()!r}")
        rows.append([_value(cell, sql_type) for cell, (_, sql_type) in zip(cells, header)])
    arrays = [
        pa.array([row[i] for row in rows], type=to_arrow(sql_type)) for i, (_, sql_type) in enumerate(header)
    ]
    return pa.RecordBatch.from_arrays(arrays, names=[name for name, _ in header])


def _cell(value: Any) -> str:
    if value is None:
        return "."
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return orjson.dumps(value, default=str).decode()
    text = value.decode() if isinstance(value, bytes) else str(value)
    if not text or any(c.isspace() for c in text) or text == "." or '"' in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def to_pretty(batch: pa.RecordBatch | pa.Table) -> str:
    """``batch`` in the :func:`from_pretty` layout, columns aligned."""
    header = []
    for field in batch.schema:
        try:
            type_text = from_arrow(field.type).sql()
        except TypeError:
            type_text = str(field.type)
        header.append(f"{field.name}:{type_text}")
    columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
    table = [header] + [[_cell(col[r]) for col in columns] for r in range(batch.num_rows)]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table)

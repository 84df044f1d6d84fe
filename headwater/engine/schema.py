"""Logical schemas: the columns of a stream, a table or a query result, with their namespaces.

A column lives in one of three namespaces, as in ksqlDB: the record's KEY, its VALUE, or its HEADERS
(a ``HEADERS`` column holds every header, a ``HEADER('k')`` column the last value of header ``k``).
System columns (ROWTIME, ROWPARTITION, ROWOFFSET, and WINDOWSTART / WINDOWEND of windowed sources) are
not part of a schema; every source has them and :data:`SYSTEM_COLUMNS` lists them.

Schemas print as ksqlDB prints them in messages, post-conditions and query headers: every name in
backticks, struct field names too (``\\`ID\\` STRING KEY, \\`S\\` STRUCT<\\`A\\` INTEGER>``).

Example:
    >>> from headwater.parser import types as t
    >>> s = LogicalSchema((Column("ID", t.STRING, Namespace.KEY), Column("V", t.INT)))
    >>> str(s)
    '`ID` STRING KEY, `V` INTEGER'
    >>> [c.name for c in s.value_columns]
    ['V']
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum

import pyarrow as pa

from headwater.engine.types import to_arrow
from headwater.parser import types as t

__all__ = [
    "HEADERS_TYPE",
    "PSEUDO_COLUMNS",
    "ROWOFFSET",
    "ROWPARTITION",
    "ROWTIME",
    "SYSTEM_COLUMNS",
    "WINDOWEND",
    "WINDOWSTART",
    "Column",
    "LogicalSchema",
    "Namespace",
    "format_type",
    "quote",
]

ROWTIME = "ROWTIME"
ROWPARTITION = "ROWPARTITION"
ROWOFFSET = "ROWOFFSET"
WINDOWSTART = "WINDOWSTART"
WINDOWEND = "WINDOWEND"

PSEUDO_COLUMNS: dict[str, t.SqlType] = {ROWTIME: t.BIGINT, ROWPARTITION: t.INT, ROWOFFSET: t.BIGINT}
"""The pseudo-columns every source has (ksqlDB's ROWTIME, ROWPARTITION, ROWOFFSET)."""

WINDOW_COLUMNS: dict[str, t.SqlType] = {WINDOWSTART: t.BIGINT, WINDOWEND: t.BIGINT}
"""The window bounds of windowed sources."""

SYSTEM_COLUMNS: frozenset[str] = frozenset(PSEUDO_COLUMNS) | frozenset(WINDOW_COLUMNS)
"""Names a user may not give a column."""

HEADERS_TYPE = t.Array(t.Struct((("KEY", t.STRING), ("VALUE", t.BYTES))))
"""The type a ``HEADERS`` column must have."""


class Namespace(Enum):
    KEY = "KEY"
    VALUE = "VALUE"
    HEADERS = "HEADERS"


def quote(name: str) -> str:
    """A name in backticks, as ksqlDB prints column names in schemas and messages."""
    return "`" + name.replace("`", "``") + "`"


def format_type(sql_type: t.SqlType) -> str:
    """A type as ksqlDB prints it in schemas: like its SQL, with every struct field name quoted.

    Example:
        >>> format_type(t.Struct((("A", t.INT),)))
        'STRUCT<`A` INTEGER>'
    """
    if isinstance(sql_type, t.Array):
        return f"ARRAY<{format_type(sql_type.element)}>"
    if isinstance(sql_type, t.Map):
        return f"MAP<{format_type(sql_type.key)}, {format_type(sql_type.value)}>"
    if isinstance(sql_type, t.Struct):
        return "STRUCT<" + ", ".join(f"{quote(n)} {format_type(ft)}" for n, ft in sql_type.fields) + ">"
    return sql_type.sql()


@dataclass(frozen=True, slots=True)
class Column:
    """One column: name (exact case), SQL type, namespace, and for ``HEADER('k')`` columns the header
    key (None for a ``HEADERS`` column holding every header)."""

    name: str
    type: t.SqlType
    namespace: Namespace = Namespace.VALUE
    header_key: str | None = None

    @property
    def is_key(self) -> bool:
        return self.namespace is Namespace.KEY

    @property
    def is_header(self) -> bool:
        return self.namespace is Namespace.HEADERS

    def __str__(self) -> str:
        text = f"{quote(self.name)} {format_type(self.type)}"
        if self.namespace is Namespace.KEY:
            return text + " KEY"
        if self.namespace is Namespace.HEADERS:
            if self.header_key is None:
                return text + " HEADERS"
            return text + " HEADER('" + self.header_key.replace("'", "''") + "')"
        return text


@dataclass(frozen=True, slots=True)
class LogicalSchema:
    """The ordered columns of a source or result. Names are unique across namespaces (the statement
    layer reports duplicates with ksqlDB's messages before building a schema)."""

    columns: tuple[Column, ...]

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            dup = next(n for n in names if names.count(n) > 1)
            raise ValueError(f"duplicate column {quote(dup)} in schema")

    def __iter__(self) -> Iterator[Column]:
        return iter(self.columns)

    def __len__(self) -> int:
        return len(self.columns)

    def __str__(self) -> str:
        return ", ".join(str(c) for c in self.columns)

    @property
    def key_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.namespace is Namespace.KEY)

    @property
    def value_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.namespace is Namespace.VALUE)

    @property
    def header_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.namespace is Namespace.HEADERS)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def find(self, name: str) -> Column | None:
        """The column called exactly ``name``, or None."""
        for column in self.columns:
            if column.name == name:
                return column
        return None

    def ordered(self) -> LogicalSchema:
        """Key columns first, then value and header columns in their order (ksqlDB's canonical order)."""
        keys = [c for c in self.columns if c.is_key]
        rest = [c for c in self.columns if not c.is_key]
        return LogicalSchema(tuple(keys + rest))

    def with_columns(self, extra: tuple[Column, ...]) -> LogicalSchema:
        """This schema with ``extra`` appended (ALTER ... ADD COLUMN)."""
        return LogicalSchema(self.columns + extra)

    def arrow_fields(self) -> list[pa.Field]:
        """Arrow fields of the user columns; key columns carry ``headwater.key = "true"`` metadata, header
        columns ``headwater.header`` (the header key, or "*" for a HEADERS column)."""
        fields = []
        for column in self.columns:
            metadata: dict[str, str] | None = None
            if column.is_key:
                metadata = {"headwater.key": "true"}
            elif column.is_header:
                metadata = {"headwater.header": "*" if column.header_key is None else column.header_key}
            fields.append(pa.field(column.name, to_arrow(column.type), nullable=True, metadata=metadata))
        return fields

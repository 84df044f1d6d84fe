"""The catalog: every stream and table (a :class:`DataSource`) and every user type, by name.

A data source is a name bound to a topic with a logical schema and the formats its records are
serialised in. The catalog is plain, immutable-valued state: statements compute a new
:class:`DataSource` and put it here; nothing else mutates sources. Its durability comes from the command
topic (:mod:`headwater.engine.commands`): every statement that changes the catalog is recorded and replayed
on start, so the catalog itself is never written to disk.

Names are exact (ksqlDB upper-cases unquoted identifiers in the parser, so ``orders`` and ``ORDERS`` are
the same source, and a quoted ``"orders"`` is another one).

Example:
    >>> from headwater.parser import types as t
    >>> from headwater.engine.schema import Column, LogicalSchema, Namespace
    >>> cat = Catalog()
    >>> src = DataSource(
    ...     name="S", kind=SourceType.STREAM,
    ...     schema=LogicalSchema((Column("ID", t.INT, Namespace.KEY), Column("V", t.STRING))),
    ...     topic="s", key_format=FormatSpec("KAFKA"), value_format=FormatSpec("JSON"))
    >>> cat.put_source(src)
    >>> [s.name for s in cat.sources_on_topic("s")]
    ['S']
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum

from headwater.engine.schema import LogicalSchema
from headwater.errors import PlanError
from headwater.parser import types as t

__all__ = ["Catalog", "DataSource", "FormatSpec", "SourceType", "WindowInfo", "WindowType"]


class SourceType(Enum):
    STREAM = "STREAM"
    TABLE = "TABLE"

    @property
    def title(self) -> str:
        """ "Stream" or "Table", as ksqlDB's messages spell it."""
        return self.value.capitalize()


class WindowType(Enum):
    TUMBLING = "TUMBLING"
    HOPPING = "HOPPING"
    SESSION = "SESSION"


@dataclass(frozen=True, slots=True)
class WindowInfo:
    """The windowing of a source's key: type and, for time windows, the size in milliseconds."""

    type: WindowType
    size_ms: int | None = None

    def __post_init__(self) -> None:
        if self.type is WindowType.SESSION and self.size_ms is not None:
            raise ValueError("session windows have no size")


@dataclass(frozen=True, slots=True)
class FormatSpec:
    """A key or value format: its name (upper case), its properties (e.g. ``delimiter``), and its serde
    features (``WRAP_SINGLES`` / ``UNWRAP_SINGLES``)."""

    name: str
    properties: tuple[tuple[str, str], ...] = ()
    features: frozenset[str] = frozenset()

    def get_property(self, name: str) -> str | None:
        for key, value in self.properties:
            if key == name:
                return value
        return None

    @property
    def wrap_single(self) -> bool | None:
        """True for WRAP_SINGLES, False for UNWRAP_SINGLES, None when neither was asked for."""
        if "WRAP_SINGLES" in self.features:
            return True
        if "UNWRAP_SINGLES" in self.features:
            return False
        return None


@dataclass(frozen=True, slots=True)
class DataSource:
    """A stream or table.

    Attributes:
        name: the source's name, exact case.
        kind: STREAM or TABLE.
        schema: the columns, key columns first.
        topic: the topic in the event log holding the records.
        key_format, value_format: how records are serialised in raw topics, and what sinks encode to.
        timestamp_column: the column holding event time (TIMESTAMP property), or None for the record's.
        timestamp_format: how to parse a STRING timestamp column (TIMESTAMP_FORMAT), or None.
        window: the key's windowing for windowed sources, or None.
        is_source: True for CREATE SOURCE STREAM/TABLE (read-only).
        sql: the statement that created it, for DESCRIBE EXTENDED.
        is_sink: True when a persistent query created it (CSAS/CTAS).
    """

    name: str
    kind: SourceType
    schema: LogicalSchema
    topic: str
    key_format: FormatSpec
    value_format: FormatSpec
    timestamp_column: str | None = None
    timestamp_format: str | None = None
    window: WindowInfo | None = None
    is_source: bool = False
    sql: str = ""
    is_sink: bool = False

    def __post_init__(self) -> None:
        if self.timestamp_column is not None and self.schema.find(self.timestamp_column) is None:
            raise ValueError(f"timestamp column {self.timestamp_column} is not in the schema")

    @property
    def is_table(self) -> bool:
        return self.kind is SourceType.TABLE

    @property
    def is_windowed(self) -> bool:
        return self.window is not None

    def with_schema(self, schema: LogicalSchema, sql: str | None = None) -> DataSource:
        return replace(self, schema=schema, sql=self.sql if sql is None else sql)


@dataclass
class Catalog:
    """Sources and user types by name. Thread-safe for the single writer / many readers the engine has:
    statements change it under the engine's lock; running queries only read the sources they captured."""

    _sources: dict[str, DataSource] = field(default_factory=dict)
    _types: dict[str, t.SqlType] = field(default_factory=dict)
    _references: dict[str, tuple[str, ...]] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    # -- sources ---------------------------------------------------------------------------------------
    def source(self, name: str) -> DataSource | None:
        """The source called exactly ``name``, or None."""
        return self._sources.get(name)

    def require_source(self, name: str) -> DataSource:
        """The source called ``name``.

        Raises:
            PlanError: ksqlDB's "<name> does not exist." message.
        """
        found = self._sources.get(name)
        if found is None:
            raise PlanError(f"Source {name} does not exist.")
        return found

    def sources(self) -> list[DataSource]:
        """Every source, in creation order."""
        return list(self._sources.values())

    def __iter__(self) -> Iterator[DataSource]:
        return iter(self.sources())

    def streams(self) -> list[DataSource]:
        return [s for s in self._sources.values() if s.kind is SourceType.STREAM]

    def tables(self) -> list[DataSource]:
        return [s for s in self._sources.values() if s.kind is SourceType.TABLE]

    def sources_on_topic(self, topic: str) -> list[DataSource]:
        """Every source declared over ``topic`` (the conformance runner serialises with their formats)."""
        return [s for s in self._sources.values() if s.topic == topic]

    def put_source(self, source: DataSource) -> None:
        """Add ``source`` or replace the source of the same name in place (CREATE OR REPLACE keeps the
        position)."""
        with self._lock:
            self._sources[source.name] = source

    def remove_source(self, name: str) -> DataSource | None:
        with self._lock:
            self._references.pop(name, None)
            return self._sources.pop(name, None)

    def add_references(self, name: str, sources: Sequence[str]) -> None:
        """Note that source ``name`` was created (CREATE ... AS SELECT) from ``sources``. The note
        outlives the query, as ksqlDB's metastore keeps it: dropping one of ``sources`` is refused
        until ``name`` itself is dropped, even after its query was terminated."""
        with self._lock:
            known = self._references.get(name, ())
            self._references[name] = known + tuple(s for s in dict.fromkeys(sources) if s not in known)

    def referencing(self, name: str) -> list[str]:
        """The sources created from ``name`` (see :meth:`add_references`), sorted."""
        return sorted(other for other, used in self._references.items() if other != name and name in used)

    def find_case_insensitive(self, name: str) -> DataSource | None:
        """A source whose name equals ``name`` ignoring case (for "Did you mean ...?" hints)."""
        for source in self._sources.values():
            if source.name.upper() == name.upper() and source.name != name:
                return source
        return None

    # -- types -----------------------------------------------------------------------------------------
    def type(self, name: str) -> t.SqlType | None:
        return self._types.get(name.upper())

    def types(self) -> dict[str, t.SqlType]:
        return dict(self._types)

    def put_type(self, name: str, sql_type: t.SqlType) -> None:
        with self._lock:
            self._types[name.upper()] = sql_type

    def remove_type(self, name: str) -> t.SqlType | None:
        with self._lock:
            return self._types.pop(name.upper(), None)

    def resolve_type(self, sql_type: t.SqlType) -> t.SqlType:
        """``sql_type`` with every :class:`~headwater.parser.types.UserType` replaced by its definition.

        Raises:
            PlanError: an unknown type name (ksqlDB: "Unknown type: X").
        """
        if isinstance(sql_type, t.UserType):
            found = self.type(sql_type.name)
            if found is None:
                raise PlanError(f"Cannot resolve unknown type: {sql_type.name}")
            return self.resolve_type(found)
        if isinstance(sql_type, t.Array):
            return t.Array(self.resolve_type(sql_type.element))
        if isinstance(sql_type, t.Map):
            return t.Map(self.resolve_type(sql_type.key), self.resolve_type(sql_type.value))
        if isinstance(sql_type, t.Struct):
            return t.Struct(tuple((n, self.resolve_type(ft)) for n, ft in sql_type.fields))
        return sql_type

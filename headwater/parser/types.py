"""ksqlDB's SQL types as immutable values.

These are the types a user writes (``DECIMAL(10, 2)``, ``STRUCT<a INT, b ARRAY<STRING>>``) and the types
the engine reasons with; the engine maps them to Arrow in :mod:`headwater.engine.types`. They live in the
parser package because the language defines them and the engine imports the parser, never the reverse.

Every type prints as the SQL that parses back to it (``str(t)``), with struct field names quoted only
when they must be, as ksqlDB prints them in ``DESCRIBE``.

Example:
    >>> str(Struct((("A", INT), ("b", Array(STRING)))))
    'STRUCT<A INTEGER, `b` ARRAY<STRING>>'
    >>> Decimal(4, 2) == Decimal(4, 2)
    True
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

__all__ = [
    "BIGINT",
    "BOOLEAN",
    "BYTES",
    "DATE",
    "DOUBLE",
    "INT",
    "STRING",
    "TIME",
    "TIMESTAMP",
    "Array",
    "Decimal",
    "Map",
    "Primitive",
    "PrimitiveKind",
    "SqlType",
    "Struct",
    "UserType",
    "quote_identifier",
]

_PLAIN_IDENTIFIER = re.compile(r"[A-Z_][A-Z0-9_@]*\Z")

# Words that ksqlDB always reserves (they cannot be used unquoted as identifiers). The parser owns the
# authoritative list; this copy is only used to decide when a printed name needs quotes, and quoting a
# name that did not need it is harmless.
_RESERVED_TEXT = (
    "SELECT FROM AS ALL DISTINCT WHERE WITHIN WINDOW GROUP BY HAVING LIMIT AT OR AND IN NOT EXISTS "
    "BETWEEN LIKE IS NULL TRUE FALSE CASE WHEN THEN ELSE END JOIN FULL OUTER INNER LEFT RIGHT ON "
    "PARTITION CREATE TABLE STREAM INSERT INTO VALUES WITH DROP DELETE TOPIC TOPICS STREAMS QUERIES "
    "TERMINATE LIST DESCRIBE PRINT EXTENDED CAST ARRAY MAP STRUCT EMIT CHANGES FINAL TUMBLING HOPPING "
    "SESSION SIZE ADVANCE RETENTION GRACE PERIOD BEGINNING UNSET RUN SCRIPT CONNECTOR CONNECTORS SINK "
    "SOURCE PROPERTIES FUNCTIONS TYPE VARIABLES "
    # The rest of ksqlDB's reserved words (a struct field named DAYS must be quoted to read back).
    "MILLISECOND YEARS MONTHS DAYS HOURS MINUTES SECONDS MILLISECONDS QUERY LOAD TO RENAME SAMPLE "
    "EXPORT CATALOG DECIMAL NAMESPACE MATERIALIZED VIEW"
)
RESERVED_WORDS = frozenset(_RESERVED_TEXT.split())


def quote_identifier(name: str) -> str:
    """Return ``name`` as ksqlDB SQL: bare when it reads back as itself, otherwise in backticks.

    Example:
        >>> quote_identifier("ID"), quote_identifier("id"), quote_identifier("SELECT")
        ('ID', '`id`', '`SELECT`')
    """
    if _PLAIN_IDENTIFIER.match(name) and name not in RESERVED_WORDS:
        return name
    return "`" + name.replace("`", "``") + "`"


class SqlType:
    """Base of every SQL type. Subclasses are frozen dataclasses, so types compare and hash by value."""

    __slots__ = ()

    def sql(self) -> str:
        """The type as ksqlDB SQL, e.g. ``ARRAY<DECIMAL(4, 2)>``."""
        raise NotImplementedError

    def __str__(self) -> str:
        return self.sql()


class PrimitiveKind(Enum):
    """The primitive SQL types, with the name ksqlDB prints for each."""

    BOOLEAN = "BOOLEAN"
    INTEGER = "INTEGER"
    BIGINT = "BIGINT"
    DOUBLE = "DOUBLE"
    STRING = "STRING"
    BYTES = "BYTES"
    DATE = "DATE"
    TIME = "TIME"
    TIMESTAMP = "TIMESTAMP"


@dataclass(frozen=True, slots=True)
class Primitive(SqlType):
    """A type without parameters: BOOLEAN, INTEGER, BIGINT, DOUBLE, STRING, BYTES, DATE, TIME, TIMESTAMP."""

    kind: PrimitiveKind

    def sql(self) -> str:
        return self.kind.value


BOOLEAN = Primitive(PrimitiveKind.BOOLEAN)
INT = Primitive(PrimitiveKind.INTEGER)
BIGINT = Primitive(PrimitiveKind.BIGINT)
DOUBLE = Primitive(PrimitiveKind.DOUBLE)
STRING = Primitive(PrimitiveKind.STRING)
BYTES = Primitive(PrimitiveKind.BYTES)
DATE = Primitive(PrimitiveKind.DATE)
TIME = Primitive(PrimitiveKind.TIME)
TIMESTAMP = Primitive(PrimitiveKind.TIMESTAMP)


@dataclass(frozen=True, slots=True)
class Decimal(SqlType):
    """DECIMAL(precision, scale). ksqlDB allows 1 <= precision and 0 <= scale <= precision."""

    precision: int
    scale: int

    def __post_init__(self) -> None:
        if self.precision < 1:
            raise ValueError(f"DECIMAL precision must be >= 1: DECIMAL({self.precision}, {self.scale})")
        if not 0 <= self.scale <= self.precision:
            raise ValueError(
                f"DECIMAL scale must be between 0 and the precision: DECIMAL({self.precision}, {self.scale})"
            )

    def sql(self) -> str:
        return f"DECIMAL({self.precision}, {self.scale})"


@dataclass(frozen=True, slots=True)
class Array(SqlType):
    """ARRAY<element>."""

    element: SqlType

    def sql(self) -> str:
        return f"ARRAY<{self.element.sql()}>"


@dataclass(frozen=True, slots=True)
class Map(SqlType):
    """MAP<key, value>. ksqlDB allows any primitive key type; most keys are STRING."""

    key: SqlType
    value: SqlType

    def sql(self) -> str:
        return f"MAP<{self.key.sql()}, {self.value.sql()}>"


@dataclass(frozen=True, slots=True)
class Struct(SqlType):
    """STRUCT<name type, ...>; field names are kept exactly (case-sensitive), in declaration order."""

    fields: tuple[tuple[str, SqlType], ...]

    def __post_init__(self) -> None:
        names = [name for name, _ in self.fields]
        if len(set(names)) != len(names):
            dup = next(n for n in names if names.count(n) > 1)
            raise ValueError(f"Duplicate field names found in STRUCT: '{dup}'")

    def field(self, name: str) -> SqlType | None:
        """The type of field ``name`` (exact match), or None."""
        for field_name, field_type in self.fields:
            if field_name == name:
                return field_type
        return None

    def sql(self) -> str:
        inner = ", ".join(f"{quote_identifier(n)} {t.sql()}" for n, t in self.fields)
        return f"STRUCT<{inner}>"


@dataclass(frozen=True, slots=True)
class UserType(SqlType):
    """A reference to a type registered with CREATE TYPE, resolved by the engine's catalog."""

    name: str

    def sql(self) -> str:
        return quote_identifier(self.name)

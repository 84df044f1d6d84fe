"""What an expression can see: the columns in scope, where each lives in the batch, and how names resolve.

A :class:`Scope` lists :class:`ScopeColumn`\\ s: a name, a SQL type, the source (stream, table or alias)
it comes from, the kind of column (key, value, header, pseudo-column, window bound) and ``field``, the
name of the batch column holding it. After a join ksqlDB renames columns (``I1_BAR``); the planner says
so with ``ScopeColumn("BAR", t.INT, source="I1", field="I1_BAR")`` and messages then print ``I1_BAR``
as ksqlDB does.

A scope can also hold *derived* columns: expressions an earlier operator already computed (an
aggregation's ``SUM(VALUE)``, a GROUP BY expression). Binding an expression equal to one of them yields
a column reference, which is how HAVING and the projection after an aggregation are bound.

Resolution follows ksqlDB: ``s.col`` looks in source ``s`` only (an unknown ``s`` is an error of its
own); an unqualified name must exist in exactly one source.

Example:
    >>> from headwater.parser import types as t
    >>> from headwater.parser.expressions import ColumnRef
    >>> scope = Scope((ScopeColumn("ID", t.INT, source="I1"), ScopeColumn("ID", t.INT, source="I2")))
    >>> scope.resolve(ColumnRef("ID", "I2")).source
    'I2'
    >>> scope.resolve(ColumnRef("ID"))
    Traceback (most recent call last):
    ...
    headwater.engine.expressions.errors.AmbiguousColumnError: Column 'ID' is ambiguous. Could be I1.ID or I2.ID.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from headwater.engine.expressions.errors import (
    AmbiguousColumnError,
    UnknownSourceError,
    UnresolvedColumnError,
)
from headwater.engine.schema import PSEUDO_COLUMNS, WINDOW_COLUMNS, LogicalSchema, Namespace
from headwater.parser import types as t
from headwater.parser.expressions import ColumnRef, Expression

__all__ = ["ColumnKind", "Scope", "ScopeColumn"]


class ColumnKind(Enum):
    """Where a column's values come from in the record."""

    KEY = "KEY"
    VALUE = "VALUE"
    HEADER = "HEADER"
    PSEUDO = "PSEUDO"  # ROWTIME, ROWPARTITION, ROWOFFSET
    WINDOW_BOUND = "WINDOW_BOUND"  # WINDOWSTART, WINDOWEND
    DERIVED = "DERIVED"  # computed by an earlier operator (aggregate results, grouping expressions)


@dataclass(frozen=True, slots=True)
class ScopeColumn:
    """One column an expression may reference.

    Attributes:
        name: the column's name (exact case), as references spell it.
        type: its SQL type.
        source: the stream, table or alias it belongs to (for ``s.col``), or None.
        kind: key, value, header, pseudo-column, window bound or derived.
        field: the batch column holding its values; defaults to ``name``.
    """

    name: str
    type: t.SqlType
    source: str | None = None
    kind: ColumnKind = ColumnKind.VALUE
    field: str = ""

    def __post_init__(self) -> None:
        if not self.field:
            object.__setattr__(self, "field", self.name)

    @property
    def qualified_name(self) -> str:
        """``SOURCE.NAME``, or the bare name for a column of no source."""
        return f"{self.source}.{self.name}" if self.source else self.name


@dataclass(frozen=True, slots=True)
class Scope:
    """The columns in scope, the source names valid as qualifiers, and the derived columns.

    Attributes:
        columns: the columns, in schema order.
        sources: names (and aliases) a reference may be qualified with; the sources of ``columns`` are
            always valid, this adds sources that have no column of their own.
        derived: (expression, column) pairs: an expression equal to one of these binds to the column.
    """

    columns: tuple[ScopeColumn, ...] = ()
    sources: tuple[str, ...] = ()
    derived: tuple[tuple[Expression, ScopeColumn], ...] = field(default=())

    @classmethod
    def from_schema(
        cls,
        schema: LogicalSchema,
        *,
        source: str | None = None,
        pseudo_columns: bool = True,
        windowed: bool = False,
    ) -> Scope:
        """The scope of one source: its columns, then ROWTIME, ROWPARTITION and ROWOFFSET, then
        WINDOWSTART and WINDOWEND for a windowed source; batch fields named as the columns.

        Example:
            >>> from headwater.engine.schema import Column
            >>> s = Scope.from_schema(LogicalSchema((Column("V", t.INT),)), source="S")
            >>> [c.name for c in s.columns]
            ['V', 'ROWTIME', 'ROWPARTITION', 'ROWOFFSET']
        """
        kinds = {
            Namespace.KEY: ColumnKind.KEY,
            Namespace.VALUE: ColumnKind.VALUE,
            Namespace.HEADERS: ColumnKind.HEADER,
        }
        columns = [ScopeColumn(c.name, c.type, source, kinds[c.namespace]) for c in schema.columns]
        if pseudo_columns:
            columns += [ScopeColumn(n, ty, source, ColumnKind.PSEUDO) for n, ty in PSEUDO_COLUMNS.items()]
        if windowed:
            columns += [
                ScopeColumn(n, ty, source, ColumnKind.WINDOW_BOUND) for n, ty in WINDOW_COLUMNS.items()
            ]
        return cls(tuple(columns), (source,) if source else ())

    def merged(self, other: Scope) -> Scope:
        """This scope and ``other`` side by side (the two inputs of a join)."""
        return Scope(
            self.columns + other.columns,
            tuple(dict.fromkeys(self.sources + other.sources)),
            self.derived + other.derived,
        )

    def with_derived(self, expression: Expression, column: ScopeColumn) -> Scope:
        """This scope where ``expression`` binds to ``column`` (an aggregate's or GROUP BY's output)."""
        return Scope(self.columns, self.sources, (*self.derived, (expression, column)))

    def source_names(self) -> tuple[str, ...]:
        """Every name valid as a qualifier."""
        names = dict.fromkeys(self.sources)
        names.update(dict.fromkeys(c.source for c in self.columns if c.source))
        return tuple(names)

    def find_derived(self, expression: Expression) -> ScopeColumn | None:
        """The derived column computed by an expression equal to ``expression``, if any."""
        for candidate, column in self.derived:
            if candidate == expression:
                return column
        return None

    def resolve(self, ref: ColumnRef, *, clause: str | None = None) -> ScopeColumn:
        """The column ``ref`` names.

        Raises:
            UnknownSourceError: ``ref`` is qualified by a name that is no source or alias in scope.
            UnresolvedColumnError: no column matches.
            AmbiguousColumnError: an unqualified name matches columns of several sources.
        """
        if ref.source is not None:
            if ref.source not in self.source_names():
                raise UnknownSourceError(ref.source, f"{ref.source}.{ref.name}", span=ref.span)
            for column in self.columns:
                if column.name == ref.name and column.source == ref.source:
                    return column
            raise UnresolvedColumnError(f"{ref.source}.{ref.name}", clause=clause, span=ref.span)
        matches = [c for c in self.columns if c.name == ref.name]
        if not matches:
            raise UnresolvedColumnError(ref.name, clause=clause, span=ref.span)
        sources = list(dict.fromkeys(c.source for c in matches))
        if len(sources) > 1:
            candidates = tuple(f"{s}.{ref.name}" if s else ref.name for s in sources)
            raise AmbiguousColumnError(ref.name, candidates, span=ref.span)
        return matches[0]

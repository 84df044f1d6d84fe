"""The Nexmark queries, one module per query (``q0.py``, ``q1.py``, ...), each defining ``QUERY``.

A query is written three times, once per system, over the same tables: Headwater's ksqlDB SQL as
persistent queries, DuckDB's SQL over views of the Parquet files, and Flink SQL over tables of the Arrow
files (the runner sends its result to a ``blackhole`` sink, Flink's discard sink). Tables and streams are
named after the event kinds: ``person``, ``auction``, ``bid`` (PERSON, AUCTION, BID in Headwater).

Headwater's side is one statement (``CREATE STREAM {sink} AS SELECT ...``) or, where ksqlDB's dialect
needs it, a short **pipeline**: several statements, each persistent query reading what the one before
wrote, the last writing ``{sink}``. Intermediate streams and tables are named ``{sink}_<PART>`` so that one
engine can hold several runs of a query side by side. The runner runs the pipeline's queries one after
another, each to the end of its input, and times them together (see :mod:`benchmarks.nexmark.headwater_run`).

The answer of a query whose result is a table (an aggregation or a join of tables) is the table's final
state: the latest row per key of the sink's changelog, deleted keys left out (:class:`Result`); a stream's
answer is every row of its sink.

Adding a query is adding a module: :func:`all_queries` finds every ``q<N>.py`` here.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from dataclasses import dataclass
from typing import NamedTuple

__all__ = ["Created", "NexmarkQuery", "Result", "all_queries", "query"]

_CREATED = re.compile(r"\bCREATE\s+(STREAM|TABLE)\s+([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE)
_DERIVED = re.compile(r"\bAS\s+SELECT\b", re.IGNORECASE)


class Created(NamedTuple):
    """A stream or table a query's statements create.

    Attributes:
        kind: ``STREAM`` or ``TABLE``.
        name: its name (upper case).
        derived: True for ``CREATE ... AS SELECT`` (a persistent query writes it, into a topic of its
            own); False for a declaration over a topic another statement writes.
    """

    kind: str
    name: str
    derived: bool


@dataclass(frozen=True, slots=True)
class Result:
    """How the answer is read from the sink topic.

    Attributes:
        columns: the answer's columns, in the order DuckDB's SQL gives them (empty: every user column of
            the sink, in its order).
        key: empty for a stream (every row is an answer row); for a table, the sink's key columns
            (window bounds included): the answer is the latest row per key, deleted keys left out.
    """

    columns: tuple[str, ...] = ()
    key: tuple[str, ...] = ()

    @property
    def is_table(self) -> bool:
        return bool(self.key)


@dataclass(frozen=True, slots=True)
class NexmarkQuery:
    """One Nexmark query in each system's SQL.

    Attributes:
        query_id: ``q0``, ``q1``, ...
        title: Nexmark's name for it.
        sources: the event kinds it reads (topic names: ``bid``, ...); its events are theirs.
        headwater_sql: the statements, ``{sink}`` standing for the result's name (see the module docstring).
        duckdb_sql: a SELECT computing the answer in DuckDB.
        flink_sql: a SELECT computing the answer in Flink SQL.
        result: how Headwater's answer is read from its sink.
        windowed: whether it groups by event-time windows; such queries run on events generated at the
            lower event-time rate (see the runner), and Flink's tables declare a watermark on DATETIME.
    """

    query_id: str
    title: str
    sources: tuple[str, ...]
    headwater_sql: str
    duckdb_sql: str
    flink_sql: str
    result: Result = Result()
    windowed: bool = False

    def __post_init__(self) -> None:
        if not re.fullmatch(r"q\d+", self.query_id):
            raise ValueError(f"query id must look like q<N>, got {self.query_id!r}")
        if "{sink}" not in self.headwater_sql:
            raise ValueError(f"{self.query_id}: headwater_sql must name its sink as {{sink}}")
        created = self.created("S")
        if not created or created[-1].name != "S" or not created[-1].derived:
            raise ValueError(f"{self.query_id}: the last statement must create {{sink}}")

    def headwater_statements(self, sink: str) -> str:
        """The statements with the sink's name filled in (one text, statements separated by ``;``)."""
        return self.headwater_sql.format(sink=sink)

    def created(self, sink: str) -> list[Created]:
        """Every stream and table the statements create, in statement order."""
        found = []
        for statement in self.headwater_statements(sink).split(";"):
            match = _CREATED.search(statement)
            if match is not None:
                found.append(Created(match.group(1).upper(), match.group(2).upper(),
                                     _DERIVED.search(statement) is not None))
        return found

    @property
    def is_pipeline(self) -> bool:
        """Whether Headwater runs it as several persistent queries."""
        return sum(1 for c in self.created("S") if c.derived) > 1


def all_queries() -> dict[str, NexmarkQuery]:
    """Every query module's ``QUERY``, by id, in numeric order."""
    found: dict[str, NexmarkQuery] = {}
    for module in pkgutil.iter_modules(__path__):
        if re.fullmatch(r"q\d+", module.name):
            definition = importlib.import_module(f"{__name__}.{module.name}").QUERY
            if definition.query_id != module.name:
                raise ValueError(f"{module.name}.py defines {definition.query_id}")
            found[module.name] = definition
    return dict(sorted(found.items(), key=lambda item: int(item[0][1:])))


def query(query_id: str) -> NexmarkQuery:
    """One query by id.

    Raises:
        KeyError: the id names no query here.
    """
    queries = all_queries()
    if query_id in queries:
        return queries[query_id]
    raise KeyError(f"unknown query {query_id!r}; available: {', '.join(queries)}")

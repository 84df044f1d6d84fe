"""The measures the issues hold Headwater to: the stateless slice of the QTT corpus, and the RQTT shares.

The issue's own words: "stateless JSON/DELIMITED/KAFKA/NONE cases", the cases whose statements use no
GROUP BY, WINDOW or JOIN and no CREATE TABLE AS SELECT or aggregate, and whose formats are only JSON,
DELIMITED, KAFKA and NONE; the target is 95% of them passing.

A case is in the slice when the runner does not skip it (which leaves exactly the JSON, DELIMITED, KAFKA
and NONE formats) and none of its statements needs the stateful engine: no GROUP BY or HAVING (the only
places an aggregate can stand), no WINDOW, no join, no CREATE TABLE AS SELECT, no query reading a table,
no windowed source, and no input or output record with a window. A script that does not parse is
classified from its text, so negative parse cases stay in the slice unless their text names a stateful
clause. This is the definition the engine's own slice test (``tests/engine/conformance``) was written
with; there is one definition, here.

The RQTT measures (:func:`rest_measures`) count the cases that need no schema registry: every RQTT
case the runner does not skip, and those of the ``pull-queries-*.json`` files; the target is 90%.

Example:
    >>> from headwater.conformance.model import TestCase
    >>> stateful_reason(TestCase("f.json", "t", "f - t", (
    ...     "CREATE STREAM S (K INT KEY, V INT) WITH (kafka_topic='s', value_format='JSON');",
    ...     "CREATE TABLE T AS SELECT K, COUNT(*) FROM S GROUP BY K;")))
    'CREATE TABLE AS SELECT'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from headwater.conformance.model import TestCase
from headwater.conformance.results import CaseResult, Status
from headwater.conformance.skips import skip_reason
from headwater.errors import HeadwaterError
from headwater.parser import ast, parse

__all__ = [
    "PULL_QUERY_FILES",
    "REST_TARGET",
    "STATELESS_SLICE",
    "STATELESS_TARGET",
    "RestMeasure",
    "SliceSummary",
    "render_slice",
    "rest_measures",
    "stateful_reason",
    "stateless_names",
    "summarise_slice",
]

STATELESS_SLICE = "stateless JSON/DELIMITED/KAFKA/NONE cases"
"""The slice's name, as the issue words it."""

STATELESS_TARGET = 0.95
"""The share of the slice the stateless engine must pass."""

_STATEFUL_TEXT = re.compile(
    r"\bGROUP\s+BY\b|\bHAVING\b|\bWINDOW\s+(?:TUMBLING|HOPPING|SESSION)\b|\bJOIN\b|\bWINDOW_TYPE\b",
    re.IGNORECASE,
)


def _query_reason(query: ast.Query, tables: set[str]) -> str | None:
    if query.group_by is not None or query.having is not None:
        return "GROUP BY"
    if query.window is not None:
        return "WINDOW"
    relation = query.from_
    if isinstance(relation, ast.Join):
        return "JOIN"
    if isinstance(relation, ast.AliasedRelation) and relation.name in tables:
        return "query over a table"
    return None


def stateful_reason(case: TestCase) -> str | None:
    """Why ``case`` is outside the stateless slice, or None when it is inside."""
    skipped = skip_reason(case)
    if skipped is not None:
        return f"skipped by the runner: {skipped}"
    if any(r.window is not None for r in (*case.inputs, *case.outputs)):
        return "windowed records"
    script = "\n".join(case.statements)
    try:
        statements = parse(script)
    except HeadwaterError:
        match = _STATEFUL_TEXT.search(script)
        return None if match is None else f"unparsable statement naming {match.group(0).upper()}"
    tables: set[str] = set()
    for statement in statements:
        if isinstance(statement, ast.CreateTableAsSelect):
            return "CREATE TABLE AS SELECT"
        if isinstance(statement, ast.CreateTable):
            tables.add(statement.name)
        if isinstance(statement, ast.CreateStream | ast.CreateTable) and any(
            p.name.upper() == "WINDOW_TYPE" for p in statement.properties
        ):
            return "windowed source"
        query = getattr(statement, "query", None)
        if isinstance(query, ast.Query):
            reason = _query_reason(query, tables)
            if reason is not None:
                return reason
    return None


def stateless_names(cases: Iterable[TestCase]) -> set[str]:
    """The expanded names of the enabled cases in the slice."""
    return {c.name for c in cases if c.enabled and stateful_reason(c) is None}


@dataclass(frozen=True, slots=True)
class SliceSummary:
    """How the slice fared: counts, and the failing or erroring cases grouped by their summary line
    (most frequent first, names in corpus order)."""

    total: int
    passed: int
    failures: tuple[tuple[str, tuple[str, ...]], ...]

    @property
    def rate(self) -> float:
        return self.passed / self.total if self.total else 1.0


def summarise_slice(results: Sequence[CaseResult], names: set[str]) -> SliceSummary:
    """The slice's counts among ``results`` (only the slice's cases that ran count)."""
    members = [r for r in results if r.name in names]
    groups: dict[str, list[str]] = {}
    for result in members:
        if result.status in (Status.FAIL, Status.ERROR):
            groups.setdefault(result.summary, []).append(result.name)
    ordered = sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))
    return SliceSummary(
        total=len(members),
        passed=sum(r.status is Status.PASS for r in members),
        failures=tuple((summary, tuple(cases)) for summary, cases in ordered),
    )


def render_slice(summary: SliceSummary) -> str:
    """The slice's line (passed/total, percentage, the target) and its failing cases by reason."""
    lines = [
        f"{STATELESS_SLICE}: {summary.passed}/{summary.total} passed ({100 * summary.rate:.1f}%; "
        f"target {100 * STATELESS_TARGET:.0f}%)"
    ]
    for reason, cases in summary.failures:
        lines.append(f"{len(cases):>6}  {reason}")
        lines.extend(f"          {name}" for name in cases)
    return "\n".join(lines)


REST_TARGET = 0.90
"""The share of the RQTT cases that need no schema registry that must pass (through the engine's API
for the pull-query files, through the real server for all of them)."""

PULL_QUERY_FILES = "pull-queries-"
"""The RQTT files of pull queries start with this name."""


@dataclass(frozen=True, slots=True)
class RestMeasure:
    """One RQTT measure: its name and its counts (skipped cases left out of the total)."""

    name: str
    passed: int
    total: int

    @property
    def rate(self) -> float:
        return self.passed / self.total if self.total else 1.0

    def render(self) -> str:
        return (
            f"{self.name}: {self.passed}/{self.total} passed ({100 * self.rate:.1f}%; "
            f"target {100 * REST_TARGET:.0f}%)"
        )


def rest_measures(results: Sequence[CaseResult]) -> list[RestMeasure]:
    """The issues' RQTT measures over ``results``: every case that needs no schema registry, and those of
    the pull-query files. A skipped case (it needs AVRO, PROTOBUF, JSON_SR, a schema registry or
    protobuf query output) counts in neither."""
    ran = [r for r in results if r.status is not Status.SKIP]
    pull = [r for r in ran if r.file.startswith(PULL_QUERY_FILES)]

    def measure(name: str, members: list[CaseResult]) -> RestMeasure:
        return RestMeasure(name, sum(r.status is Status.PASS for r in members), len(members))

    return [
        measure("RQTT cases that need no schema registry", ran),
        measure("RQTT pull-query cases (pull-queries-*.json) that need no schema registry", pull),
    ]

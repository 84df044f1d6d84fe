"""The stateless slice of ksqlDB's QTT corpus: the cases the stateless engine is measured on.

A case belongs to the slice when the conformance runner does not skip it (formats limited to JSON,
DELIMITED, KAFKA and NONE) and none of its statements needs the stateful engine: no GROUP BY, HAVING,
WINDOW or join, no CREATE TABLE AS SELECT, no query reading a table, no windowed source, and no input or
output record with a window. Statements that do not parse are classified from their text, so negative
parse cases stay in the slice unless their text names a stateful clause.

Run as a script over a ``--json`` file written by ``python -m headwater.conformance`` to get the pass
rate of the slice and the failures grouped by reason::

    .venv/bin/python tests/engine/conformance/stateless_subset.py /tmp/qtt.json [--resumed /tmp/r.json]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from headwater.conformance.loader import load_paths
from headwater.conformance.model import TestCase
from headwater.conformance.skips import skip_reason
from headwater.errors import HeadwaterError
from headwater.parser import ast, parse

__all__ = ["CORPUS", "stateful_reason", "stateless_cases"]

CORPUS = Path("/work/shared/conformance/qtt")

_STATEFUL_TEXT = re.compile(
    r"\bGROUP\s+BY\b|\bHAVING\b|\bWINDOW\s+(?:TUMBLING|HOPPING|SESSION)\b|\bJOIN\b|\bWINDOW_TYPE\b",
    re.IGNORECASE,
)


def _queries(statement: ast.Statement) -> Iterable[ast.Query]:
    query = getattr(statement, "query", None)
    if isinstance(query, ast.Query):
        yield query


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
    try:
        statements = parse("\n".join(case.statements))
    except HeadwaterError:
        text = "\n".join(case.statements)
        match = _STATEFUL_TEXT.search(text)
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
        for query in _queries(statement):
            reason = _query_reason(query, tables)
            if reason is not None:
                return reason
    return None


def stateless_cases(paths: Sequence[Path] = (CORPUS,)) -> list[TestCase]:
    """The enabled cases of the slice, in corpus order."""
    return [c for c in load_paths(paths).cases if c.enabled and stateful_reason(c) is None]


def _summary(results: list[dict[str, str]], names: set[str]) -> dict[str, dict[str, str]]:
    return {r["name"]: r for r in results if r["name"] in names}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("results", help="--json output of python -m headwater.conformance (straight)")
    parser.add_argument("--resumed", help="--json output of the same run with --mode resumed")
    parser.add_argument("--failures", type=int, default=40, help="failure groups to print")
    parser.add_argument("--names", action="store_true", help="list the failing cases by group")
    args = parser.parse_args(argv)
    names = {c.name for c in stateless_cases()}
    straight = _summary(json.loads(Path(args.results).read_text()), names)
    counts = Counter(r["status"] for r in straight.values())
    passed = counts["pass"]
    missing = len(names) - len(straight)
    print(f"stateless slice: {len(names)} cases; in results: {len(straight)}; missing: {missing}")
    print(f"  pass {passed}  fail {counts['fail']}  error {counts['error']}  skip {counts['skip']}")
    print(f"  pass rate {100.0 * passed / max(1, len(names)):.1f}%")
    groups: dict[str, list[str]] = {}
    for name, result in straight.items():
        if result["status"] in ("fail", "error"):
            first = (result.get("reason") or "").strip().split("\n", 1)[0][:160]
            groups.setdefault(first, []).append(name)
    for reason, members in sorted(groups.items(), key=lambda kv: -len(kv[1]))[: args.failures]:
        print(f"{len(members):5d}  {reason}")
        if args.names:
            for member in members:
                print(f"         {member}")
    if args.resumed:
        resumed = _summary(json.loads(Path(args.resumed).read_text()), names)
        differ = [
            n
            for n, r in straight.items()
            if r["status"] == "pass" and (n not in resumed or resumed[n]["status"] != "pass")
        ]
        print(f"resumed: {len(differ)} cases pass straight but not resumed")
        for name in differ:
            print(f"   {name}: {resumed.get(name, {}).get('reason', 'missing')[:160]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

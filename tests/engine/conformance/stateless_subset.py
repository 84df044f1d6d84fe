"""The stateless slice of ksqlDB's QTT corpus: the cases the stateless engine is measured on.

The slice's definition is the conformance runner's (:func:`headwater.conformance.slices.stateful_reason`,
one definition for both): a case belongs to it when the runner does not skip it (formats limited to
JSON, DELIMITED, KAFKA and NONE) and none of its statements needs the stateful engine.

Run as a script over a ``--json`` file written by ``python -m headwater.conformance`` to get the pass
rate of the slice and the failures grouped by reason::

    .venv/bin/python tests/engine/conformance/stateless_subset.py /tmp/qtt.json [--resumed /tmp/r.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from headwater.conformance.loader import load_paths
from headwater.conformance.model import TestCase
from headwater.conformance.slices import stateful_reason

__all__ = ["CORPUS", "stateful_reason", "stateless_cases"]

CORPUS = Path("/work/shared/conformance/qtt")


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

"""Benchmark: parse ksqlDB's whole conformance corpus, grammar loading included.

Runs in a fresh process so the parser is built exactly once, as a real process builds it: the time to
build it (from lark's on-disk cache of the parse table when present) is reported and counted in the
total. Every script of the corpus (qtt/*.json, rqtt/*.json, sql/**/*.sql, {FORMAT} expanded) is then
parsed once, end to end: scanning, keyword decisions, LALR parsing, tree building and ksqlDB's
parse-time checks. Scripts that ksqlDB's tests expect to fail to parse are parsed too (they raise).

Run: ``.venv/bin/python benchmarks/parse.py [--repeat 3]`` (the best of the repeats is reported for
the parse phase; the first repeat is the one a cold process sees).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

_CORPUS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "parser" / "corpus.py"


def _corpus_module():
    spec = importlib.util.spec_from_file_location("headwater_parser_corpus", _CORPUS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--repeat", type=int, default=3, help="parse the corpus this many times")
    arguments = options.parse_args()

    cases = _corpus_module().corpus_cases()
    scripts = [(case.script, case.test_statements) for case in cases]

    started = time.perf_counter()
    from headwater.errors import ParseError
    from headwater.parser import parse
    from headwater.parser.lalr import parser_tables

    parser_tables()
    load_seconds = time.perf_counter() - started

    timings = []
    statements = failures = 0
    for _ in range(arguments.repeat):
        statements = failures = 0
        begin = time.perf_counter()
        for script, test_statements in scripts:
            try:
                statements += len(parse(script, allow_test_statements=test_statements))
            except ParseError:
                failures += 1
        timings.append(time.perf_counter() - begin)

    first, best = timings[0], min(timings)
    print(f"corpus: {len(scripts)} scripts, {statements} statements parsed, {failures} scripts rejected")
    print(f"parser build (import + grammar):  {load_seconds * 1000:8.1f} ms")
    print(
        f"parse, first run:                 {first * 1000:8.1f} ms  ({statements / first:,.0f} statements/s)"
    )
    print(
        f"parse, best of {arguments.repeat}:                {best * 1000:8.1f} ms  ({statements / best:,.0f} statements/s)"
    )
    print(
        f"total, cold (build + first run):  {(load_seconds + first) * 1000:8.1f} ms  (target: under 3,000 ms)"
    )


if __name__ == "__main__":
    main()

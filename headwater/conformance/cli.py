"""``python -m headwater.conformance``: run ksqlDB's functional tests against Headwater.

Usage::

    python -m headwater.conformance PATH... [--json FILE] [--filter REGEX] [--mode straight|resumed]
                                            [--jobs N] [--timeout SECONDS] [--failures N] [--verbose]
    python -m headwater.conformance --rqtt [--http] PATH... [--json FILE] [--filter REGEX] ...

PATH is a QTT file or a directory of them (``../shared/conformance/qtt``), a KsqlTester ``.sql`` script
or a directory of them (``../shared/conformance/sql``), or, with ``--rqtt``, an RQTT (REST) file or a
directory of them (``../shared/conformance/rqtt``). A directory named ``rqtt`` or
``rest-query-validation-tests``, and the files in one, are RQTT without the flag. RQTT cases run through
the engine's Python API, or with ``--http`` through a real server on a loopback port. The command prints
a table per file with
passed, failed, errored and skipped counts, the totals, the skip reasons and the most frequent failure
reasons. The exit status is 0 whatever the cases do; it is 2 for bad arguments and 1 only if the runner
itself breaks.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from headwater.conformance.jsonc import TestFileError
from headwater.conformance.loader import load_paths
from headwater.conformance.results import (
    CaseResult,
    Status,
    failure_groups,
    render_failure_groups,
    render_summary_table,
    summarise,
    to_json_objects,
)
from headwater.conformance.runner import (
    DEFAULT_TIMEOUT_SECONDS,
    RunOptions,
    default_jobs,
    default_work_dir,
    run_qtt,
    run_rqtt,
)
from headwater.conformance.slices import render_slice, rest_measures, stateless_names, summarise_slice

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m headwater.conformance",
        description="Run ksqlDB's query-validation tests (QTT) and KsqlTester scripts against Headwater.",
    )
    parser.add_argument(
        "paths", nargs="+", metavar="PATH", help="QTT .json files / .sql scripts or directories"
    )
    parser.add_argument("--json", metavar="FILE", help="write one JSON object per expanded case to FILE")
    parser.add_argument("--filter", metavar="REGEX", help="run only cases whose expanded name matches REGEX")
    parser.add_argument(
        "--mode",
        choices=("straight", "resumed"),
        default="straight",
        help="resumed: restart the engine half-way through each case's input",
    )
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: one per CPU)")
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_SECONDS,
        help="seconds per case (default %(default)s)",
    )
    parser.add_argument(
        "--failures", type=int, default=25, metavar="N", help="show the N most frequent failure reasons"
    )
    parser.add_argument(
        "--work-dir",
        metavar="DIR",
        default=None,
        help="where each case's temporary data directory is made (default: /dev/shm when available)",
    )
    parser.add_argument("--verbose", action="store_true", help="print every case as it finishes")
    parser.add_argument(
        "--rqtt", action="store_true", help="the .json PATHs are REST query-validation tests (RQTT)"
    )
    parser.add_argument(
        "--http",
        action="store_true",
        help="run RQTT cases through a real server over HTTP instead of the engine's API (implies --rqtt)",
    )
    return parser


RQTT_DIRECTORY_NAMES = ("rqtt", "rest-query-validation-tests")
"""Directories whose .json files are RQTT files without ``--rqtt``."""


def _is_rqtt(path: Path) -> bool:
    directory = path if path.is_dir() else path.parent
    return directory.name in RQTT_DIRECTORY_NAMES


def _split_paths(paths: Sequence[str], rqtt: bool) -> tuple[list[Path], list[Path], list[Path]]:
    """(QTT paths, RQTT paths, KsqlTester paths): .sql files and directories holding .sql files are
    scripts; .json files and directories are RQTT with ``rqtt`` or under an RQTT directory name."""
    qtt: list[Path] = []
    rest: list[Path] = []
    scripts: list[Path] = []
    for raw in paths:
        path = Path(raw)
        is_script = (
            path.suffix == ".sql" if path.is_file() else path.is_dir() and not any(path.glob("*.json"))
        )
        if is_script:
            scripts.append(path)
        elif rqtt or _is_rqtt(path):
            rest.append(path)
        else:
            qtt.append(path)
    return qtt, rest, scripts


def _report(
    results: Sequence[CaseResult],
    out: TextIO,
    failures: int,
    seconds: float,
    slice_names: set[str] | None = None,
    rest_results: Sequence[CaseResult] = (),
) -> None:
    per_file, total = summarise(results)
    print(render_summary_table(per_file, total), file=out)
    print(f"\n{total.total} cases in {seconds:.1f} s", file=out)
    skips = failure_groups(results, [Status.SKIP])
    if skips:
        print("\n" + render_failure_groups("skipped, by reason:", skips), file=out)
    errors = failure_groups(results, [Status.ERROR])
    if errors:
        print("\n" + render_failure_groups("errored, by reason:", errors, failures), file=out)
    fails = failure_groups(results, [Status.FAIL])
    if fails:
        print("\n" + render_failure_groups("failed, by reason:", fails, failures), file=out)
    if slice_names:
        print("\n" + render_slice(summarise_slice(results, slice_names)), file=out)
    if rest_results:
        print("\n" + "\n".join(m.render() for m in rest_measures(rest_results)), file=out)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the command; return its exit status."""
    out = out or sys.stdout
    args = _parser().parse_args(argv)
    jobs = args.jobs or default_jobs()
    work_dir = Path(args.work_dir) if args.work_dir else default_work_dir()
    options = RunOptions(mode=args.mode, jobs=jobs, timeout=args.timeout or None, work_dir=work_dir)

    def progress(result: CaseResult) -> None:
        if args.verbose:
            print(f"{result.status.value:<5} {result.seconds:6.2f}s  {result.name}", file=out, flush=True)
            if result.status in (Status.FAIL, Status.ERROR):
                print("      " + result.summary, file=out, flush=True)

    qtt_paths, rest_paths, script_paths = _split_paths(args.paths, args.rqtt or args.http)
    if rest_paths and args.mode != "straight":
        print("error: --mode resumed applies to QTT cases only", file=sys.stderr)
        return 2
    started = time.perf_counter()
    results: list[CaseResult] = []
    slice_names: set[str] = set()
    rest_results: list[CaseResult] = []
    try:
        if qtt_paths:
            loaded = load_paths(qtt_paths)
            slice_names = stateless_names(loaded.cases)
            results += run_qtt(qtt_paths, options, pattern=args.filter, on_result=progress, loaded=loaded)
        if rest_paths:
            rest_results = run_rqtt(
                rest_paths, options, http=args.http, pattern=args.filter, on_result=progress
            )
            results += rest_results
        if script_paths:
            from headwater.conformance.sql_scripts import run_scripts

            results += run_scripts(script_paths, options, pattern=args.filter, on_result=progress)
    except TestFileError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 1
    _report(results, out, args.failures, time.perf_counter() - started, slice_names, rest_results)
    if args.json:
        Path(args.json).write_text(json.dumps(to_json_objects(results), indent=1) + "\n", encoding="utf-8")
        print(f"\nwrote {len(results)} results to {args.json}", file=out)
    return 0

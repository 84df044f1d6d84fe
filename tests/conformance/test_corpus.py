"""The public corpus end to end: the pass count must not drop below the floor, and a resumed run (the
engine closed and reopened half-way through each case's input) must pass every case a straight run
passes, leaving exactly the same records. The REST tests (RQTT) run twice, through the engine's API and
through a real server over HTTP, each against its own floor.

``tests/conformance/floor.json`` holds the pass counts; raise them when Headwater passes more (the test
prints the current counts). Runs use worker processes, one per CPU, and /dev/shm for the data
directories when it exists.

The resumed comparison runs on a seeded sample of the passing cases by default (it doubles the time of
the corpus run otherwise); ``-m slow`` runs it on every passing case.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from headwater.conformance.loader import load_paths
from headwater.conformance.pool import run_cases
from headwater.conformance.results import CaseResult, Status, failure_groups, render_summary_table, summarise
from headwater.conformance.runner import (
    RunOptions,
    _describe_job,
    _Job,
    _run_job,
    default_jobs,
    default_work_dir,
    run_qtt,
    run_rqtt,
    select_cases,
)
from headwater.conformance.sql_scripts import run_scripts

FLOOR = json.loads((Path(__file__).parent / "floor.json").read_text(encoding="utf-8"))

RESUMED_SAMPLE = 250
RESUMED_SEED = 20240611


def _options(mode: str = "straight") -> RunOptions:
    return RunOptions(mode=mode, jobs=default_jobs(), timeout=120.0, work_dir=default_work_dir())


@pytest.fixture(scope="module")
def straight(qtt_dir: Path) -> list[CaseResult]:
    return run_qtt([qtt_dir], _options())


def _print(results: list[CaseResult]) -> None:
    per_file, total = summarise(results)
    print("\n" + render_summary_table([total], total).splitlines()[-1])
    for summary, count in failure_groups(results, [Status.FAIL, Status.ERROR])[:15]:
        print(f"{count:>6}  {summary}")
    del per_file
    # every failing case by name with its detail: a drop below the floor in CI must say which case and why
    for result in results:
        if result.status in (Status.FAIL, Status.ERROR):
            print(f"\n{result.status.name} {result.name}\n{result.reason[:3000]}")


def _check_resumed(straight: list[CaseResult], qtt_dir: Path, sample: int | None) -> None:
    """Run cases that pass straight again, with a restart half-way through their input."""
    passing = {r.name: r for r in straight if r.status is Status.PASS}
    cases = [c for c in select_cases(load_paths([qtt_dir]).cases, None) if c.name in passing]
    if sample is not None and len(cases) > sample:
        cases = random.Random(RESUMED_SEED).sample(cases, sample)
    options = _options("resumed")
    resumed = run_cases(
        [_Job(c, options) for c in cases], _run_job, _describe_job, jobs=options.jobs, timeout=options.timeout
    )
    broken = [r for r in resumed if r.status is not Status.PASS]
    assert not broken, "resumed runs fail cases that pass straight:\n" + "\n".join(
        f"{r.name}: {r.summary}" for r in broken[:20]
    )
    different = [r.name for r in resumed if r.digest != passing[r.name].digest]
    assert not different, "resumed runs leave different records:\n" + "\n".join(different[:20])


@pytest.mark.timeout(1800)  # the whole corpus, straight and a resumed sample, on a loaded 2-core machine
def test_qtt_pass_count_meets_the_floor_and_resumed_runs_match(
    straight: list[CaseResult], qtt_dir: Path
) -> None:
    """One test, so that test runners spreading tests over processes run the corpus only once."""
    _print(straight)
    passed = sum(r.status is Status.PASS for r in straight)
    assert passed >= FLOOR["qtt"]["passed"], f"{passed} QTT cases pass, the floor is {FLOOR['qtt']['passed']}"
    skipped = [r for r in straight if r.status is Status.SKIP]
    assert all(r.reason.startswith(("needs ", "disabled in its test file")) for r in skipped)
    _check_resumed(straight, qtt_dir, RESUMED_SAMPLE)


@pytest.mark.slow
def test_resumed_run_matches_straight_run_on_every_passing_case(
    straight: list[CaseResult], qtt_dir: Path
) -> None:
    _check_resumed(straight, qtt_dir, None)


def test_sql_scripts_pass_count_meets_the_floor(sql_dir: Path) -> None:
    results = run_scripts([sql_dir], _options())
    _print(results)
    passed = sum(r.status is Status.PASS for r in results)
    assert passed >= FLOOR["sql"]["passed"], (
        f"{passed} KsqlTester tests pass, the floor is {FLOOR['sql']['passed']}"
    )


@pytest.mark.parametrize("http", [False, True], ids=["engine-api", "http"])
def test_rqtt_pass_count_meets_the_floor(rqtt_dir: Path, http: bool) -> None:
    results = run_rqtt([rqtt_dir], _options(), http=http)
    _print(results)
    key = "rqtt_http" if http else "rqtt"
    passed = sum(r.status is Status.PASS for r in results)
    assert passed >= FLOOR[key]["passed"], (
        f"{passed} RQTT cases pass ({key}), the floor is {FLOOR[key]['passed']}"
    )
    skipped = [r for r in results if r.status is Status.SKIP]
    assert all(r.reason.startswith(("needs ", "disabled in its test file")) for r in skipped)

"""The worker pool: results in input order, crashes and hangs contained, workers recycled."""

from __future__ import annotations

from pathlib import Path

import pytest

from headwater.conformance import pool
from headwater.conformance.results import CaseResult, Status


@pytest.fixture
def helpers(monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    import pool_helpers

    return pool_helpers


def test_in_process_run_keeps_order(helpers: object) -> None:
    cases = [("ok", 0.0), ("sleep", 2.0), ("ok", 0.0)]
    results = pool.run_cases(cases, helpers.run, helpers.describe, jobs=1, timeout=1.0)  # type: ignore[attr-defined]
    assert [r.test for r in results] == ["ok", "sleep", "ok"]
    assert results[1].status is Status.ERROR and "timed out after 1 s" in results[1].reason


def test_parallel_run_contains_crashes_and_hangs(helpers: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pool, "_GRACE_SECONDS", 3.0)
    cases = [("ok", 0.0), ("die", 0.0), ("ok", 0.0), ("hang", 30.0), ("sleep", 0.1), ("ok", 0.0)]
    seen: list[CaseResult] = []
    results = pool.run_cases(
        cases,
        helpers.run,  # type: ignore[attr-defined]
        helpers.describe,  # type: ignore[attr-defined]
        jobs=2,
        timeout=1.0,
        on_result=seen.append,
        max_cases_per_worker=2,
    )
    assert [r.test for r in results] == [c[0] for c in cases]
    assert sorted(r.name for r in seen) == sorted(r.name for r in results)
    statuses = {r.test: (r.status, r.reason) for r in results}
    assert statuses["die"] == (Status.ERROR, "worker process died (exit code 3)")
    assert statuses["hang"][0] is Status.ERROR and "did not respond and was killed" in statuses["hang"][1]
    assert statuses["sleep"][0] is Status.PASS
    pids = {r.reason for r in results if r.status is Status.PASS}
    assert len(pids) >= 2  # more than one worker served the cases (recycling and replacement)

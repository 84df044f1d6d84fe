"""ksqlDB's stateless QTT cases against the engine: the pass rate of the slice, and resumed runs (engine
closed and reopened half-way through the input) that leave exactly what a straight run leaves.

The slice is defined in ``stateless_subset.py`` (no GROUP BY, window or join; JSON, DELIMITED, KAFKA and
NONE formats). The whole slice runs in the slow variant; the default variant runs a fixed sample.
"""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from stateless_subset import CORPUS, stateless_cases

from headwater.conformance.results import CaseResult, Status
from headwater.conformance.runner import RunOptions, default_jobs, default_work_dir, run_qtt

PASS_RATE_FLOOR = 0.95
SAMPLE = 8


def _run(names: list[str], mode: str, jobs: int) -> dict[str, CaseResult]:
    pattern = "^(?:" + "|".join(re.escape(n) for n in names) + ")$"
    options = RunOptions(mode=mode, jobs=jobs, timeout=120.0, work_dir=default_work_dir())
    return {r.name: r for r in run_qtt([CORPUS], options, pattern=pattern)}


def _same_when_resumed(straight: dict[str, CaseResult], resumed: dict[str, CaseResult]) -> list[str]:
    """Cases that pass straight but end differently when resumed (status or the topics' contents)."""
    differ = []
    for name, result in straight.items():
        if result.status is not Status.PASS:
            continue
        other = resumed.get(name)
        if other is None or other.status is not Status.PASS or other.digest != result.digest:
            differ.append(f"{name}: {other.reason if other is not None else 'missing'}"[:300])
    return differ


def test_sample_of_the_slice_passes_and_resumes_identically() -> None:
    cases = stateless_cases()
    names = sorted(random.Random(20261127).sample([c.name for c in cases], SAMPLE))
    straight = _run(names, "straight", jobs=1)
    resumed = _run(names, "resumed", jobs=1)
    passed = [n for n, r in straight.items() if r.status is Status.PASS]
    assert len(passed) >= int(PASS_RATE_FLOOR * len(names)), {
        n: r.reason[:200] for n, r in straight.items() if r.status is not Status.PASS
    }
    assert _same_when_resumed(straight, resumed) == []


@pytest.mark.slow
def test_whole_slice_pass_rate_and_resumed_runs() -> None:
    names = [c.name for c in stateless_cases()]
    straight = _run(names, "straight", jobs=default_jobs())
    resumed = _run(names, "resumed", jobs=default_jobs())
    passed = sum(r.status is Status.PASS for r in straight.values())
    failures = {
        n: r.reason.split("\n", 1)[0][:160] for n, r in straight.items() if r.status is not Status.PASS
    }
    assert passed / len(names) >= PASS_RATE_FLOOR, failures
    assert _same_when_resumed(straight, resumed) == []

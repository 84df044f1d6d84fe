"""Module-level case functions for the pool tests (worker processes import them by name)."""

from __future__ import annotations

import os
import time

from headwater.conformance.pool import CaseTimeout, time_limit
from headwater.conformance.results import CaseResult, Status


def describe(case: tuple[str, float]) -> tuple[str, str, str]:
    return ("pool.json", case[0], f"pool - {case[0]}")


def run(case: tuple[str, float]) -> CaseResult:
    """Cases are (action, seconds): "ok" answers, "sleep" sleeps under a 1 s alarm, "die" kills the
    worker, "hang" ignores the alarm (it blocks signals' effect by catching the timeout and sleeping)."""
    action, seconds = case
    file, test, name = describe(case)
    if action == "die":
        os._exit(3)
    try:
        with time_limit(1.0):
            if action in ("sleep", "hang"):
                time.sleep(seconds)
    except CaseTimeout as e:
        if action == "hang":
            time.sleep(seconds)
        return CaseResult(file, test, name, Status.ERROR, str(e))
    return CaseResult(file, test, name, Status.PASS, f"pid {os.getpid()}")

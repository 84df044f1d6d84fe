"""Running a selection of the corpus: load, filter, run in parallel, summarise.

:func:`run_qtt` and :func:`run_rqtt` are what ``python -m headwater.conformance`` and the floor tests
call. They load every QTT (RQTT) file under the given paths, keeps the cases whose expanded name matches ``--filter`` (a regular
expression searched in the name, as ksqlDB's ``ksql.functional.test.regex``), runs them on worker
processes and returns the results in corpus order. A file that fails to load becomes one ``error``
result named after the file, so a broken file is visible in the totals instead of silently missing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from headwater.conformance.case_files import LoadResult
from headwater.conformance.executor import Mode, run_case
from headwater.conformance.loader import load_paths
from headwater.conformance.model import TestCase
from headwater.conformance.pool import run_cases
from headwater.conformance.rest_model import RestTestCase
from headwater.conformance.results import CaseResult, Status

CaseT = TypeVar("CaseT", TestCase, RestTestCase)

__all__ = [
    "DEFAULT_TIMEOUT_SECONDS",
    "RunOptions",
    "default_jobs",
    "default_work_dir",
    "run_qtt",
    "run_rqtt",
    "select_cases",
]

DEFAULT_TIMEOUT_SECONDS = 60.0


def default_jobs() -> int:
    """Worker processes by default: one per CPU this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def default_work_dir() -> Path | None:
    """Where cases make their data directories: ``/dev/shm`` when it is a writable directory, else the
    system's temporary directory (None).

    Every case's engine commits a checkpoint, with fsync, after each input record (one record per batch
    is what ksqlDB's tests assume); on a disk that dominates the run, on tmpfs it costs nothing. The data
    directories are deleted when each case ends, so a memory-backed file system holds one small
    directory per worker at a time.
    """
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK):
        return shm
    return None


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How to run: straight or resumed, worker count, per-case time budget, where temp dirs go."""

    mode: Mode = "straight"
    jobs: int = 1
    timeout: float | None = DEFAULT_TIMEOUT_SECONDS
    work_dir: Path | None = None


@dataclass(frozen=True, slots=True)
class _Job:
    case: TestCase
    options: RunOptions


def _run_job(job: _Job) -> CaseResult:
    return run_case(
        job.case, mode=job.options.mode, timeout=job.options.timeout, work_dir=job.options.work_dir
    )


def _describe_job(job: _Job) -> tuple[str, str, str]:
    return job.case.file, job.case.test, job.case.name


def select_cases(cases: Iterable[CaseT], pattern: str | None) -> list[CaseT]:
    """The cases whose expanded name contains a match of ``pattern`` (all when None)."""
    if not pattern:
        return list(cases)
    regex = re.compile(pattern)
    return [c for c in cases if regex.search(c.name)]


def run_qtt(
    paths: Sequence[Path | str],
    options: RunOptions,
    *,
    pattern: str | None = None,
    on_result: Callable[[CaseResult], None] | None = None,
    loaded: LoadResult[TestCase] | None = None,
) -> list[CaseResult]:
    """Run the QTT cases under ``paths`` and return one result per expanded case, in corpus order.

    ``loaded`` is the files under ``paths`` when the caller has loaded them already.

    Raises:
        TestFileError: a path does not exist.
    """
    loaded = loaded if loaded is not None else load_paths(paths)
    cases = select_cases(loaded.cases, pattern)
    jobs = [_Job(case, options) for case in cases]
    results = run_cases(
        jobs, _run_job, _describe_job, jobs=options.jobs, timeout=options.timeout, on_result=on_result
    )
    for file_name, message in loaded.file_errors.items():
        stem = file_name[: -len(".json")] if file_name.endswith(".json") else file_name
        results.append(CaseResult(file_name, "", stem, Status.ERROR, f"the file does not load\n{message}"))
    return results


@dataclass(frozen=True, slots=True)
class _RestJob:
    case: RestTestCase
    options: RunOptions
    http: bool


def _run_rest_job(job: _RestJob) -> CaseResult:
    from headwater.conformance.rest_executor import run_rest_case
    from headwater.conformance.rest_transports import engine_transport, http_transport

    work_dir = job.options.work_dir
    factory = http_transport(work_dir) if job.http else engine_transport(work_dir)
    return run_rest_case(job.case, factory, timeout=job.options.timeout)


def _describe_rest_job(job: _RestJob) -> tuple[str, str, str]:
    return job.case.file, job.case.test, job.case.name


def run_rqtt(
    paths: Sequence[Path | str],
    options: RunOptions,
    *,
    http: bool = False,
    pattern: str | None = None,
    on_result: Callable[[CaseResult], None] | None = None,
) -> list[CaseResult]:
    """Run the RQTT cases under ``paths`` through the engine's API, or through a real server over HTTP
    (``http``); one result per expanded case, in corpus order.

    Raises:
        TestFileError: a path does not exist.
    """
    from headwater.conformance.rest_loader import load_rest_paths
    from headwater.conformance.rest_transports import close_shared_server

    loaded = load_rest_paths(paths)
    jobs = [_RestJob(case, options, http) for case in select_cases(loaded.cases, pattern)]
    try:
        results = run_cases(
            jobs,
            _run_rest_job,
            _describe_rest_job,
            jobs=options.jobs,
            timeout=options.timeout,
            on_result=on_result,
        )
    finally:
        close_shared_server()  # the one this process started when the cases ran here (jobs=1)
    for file_name, message in loaded.file_errors.items():
        stem = file_name[: -len(".json")] if file_name.endswith(".json") else file_name
        results.append(CaseResult(file_name, "", stem, Status.ERROR, f"the file does not load\n{message}"))
    return results

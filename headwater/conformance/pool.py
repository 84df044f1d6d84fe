"""Running cases in parallel worker processes that survive crashes and hangs.

The corpus must run in a few minutes on two cores, and one bad case must not take the run down. Each
worker is a separate process (started with ``spawn``, so no thread or lock state is inherited) that
receives one case at a time over a pipe and sends back its :class:`~.results.CaseResult`. A case that
overruns its time budget is stopped inside the worker by an alarm signal; if the worker does not answer
within a grace period after that, or dies (a crash in native code, ``os._exit``), the parent records an
error for the case it was running, replaces the worker, and goes on.

With ``jobs=1`` cases run in the calling process, which is simplest to debug (the alarm still applies).
"""

from __future__ import annotations

import multiprocessing
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, TypeVar

from headwater.conformance.results import CaseResult, Status

__all__ = ["CaseTimeout", "run_cases", "time_limit"]

T = TypeVar("T")

_GRACE_SECONDS = 30.0
_READY = "ready"
_POLL_SECONDS = 0.5


class CaseTimeout(Exception):
    """A case ran longer than its time budget."""


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`CaseTimeout` in the main thread if the block runs longer than ``seconds``.

    Uses ``SIGALRM``, so it works only in the main thread of a process (where cases run); elsewhere, or
    with ``seconds`` None, the block runs without a limit.
    """
    if not seconds or not hasattr(signal, "SIGALRM"):
        yield
        return

    def on_alarm(signum: int, frame: Any) -> None:
        raise CaseTimeout(f"timed out after {seconds:g} s")

    try:
        previous = signal.signal(signal.SIGALRM, on_alarm)
    except ValueError:  # not the main thread
        yield
        return
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _worker_main(connection: Connection, run_one: Callable[[Any], CaseResult]) -> None:
    """A worker's loop: say it is ready, then receive a case, run it, send the result; None ends it."""
    try:
        connection.send(_READY)
        while True:
            case = connection.recv()
            if case is None:
                return
            connection.send(run_one(case))
    except (EOFError, KeyboardInterrupt):
        return


@dataclass
class _Worker:
    process: Any
    connection: Connection
    index: int | None = None
    started: float = 0.0
    done: int = 0
    ready: bool = False


def _lost_case(case: Any, describe: Callable[[Any], tuple[str, str, str]], reason: str) -> CaseResult:
    file, test, name = describe(case)
    return CaseResult(file, test, name, Status.ERROR, reason)


def run_cases(
    cases: Sequence[T],
    run_one: Callable[[T], CaseResult],
    describe: Callable[[T], tuple[str, str, str]],
    *,
    jobs: int,
    timeout: float | None,
    on_result: Callable[[CaseResult], None] | None = None,
    max_cases_per_worker: int = 250,
) -> list[CaseResult]:
    """Run ``run_one`` on every case, ``jobs`` at a time, and return the results in the order of ``cases``.

    Args:
        cases: what to run (picklable).
        run_one: a module-level function running one case; it must apply ``timeout`` itself (see
            :func:`time_limit`); the parent only enforces it with a grace period.
        describe: (file, test, name) of a case, for the error result of a case whose worker was lost.
        jobs: worker processes; 1 runs everything in this process.
        timeout: seconds per case, or None.
        on_result: called with each result as it arrives (progress output).
        max_cases_per_worker: a worker is replaced after this many cases, which bounds its memory.
    """
    results: list[CaseResult | None] = [None] * len(cases)
    if jobs <= 1 or len(cases) <= 1:
        for i, case in enumerate(cases):
            results[i] = run_one(case)
            if on_result:
                on_result(results[i])  # type: ignore[arg-type]
        return [r for r in results if r is not None]

    context = multiprocessing.get_context("spawn")

    def start() -> _Worker:
        parent_end, child_end = context.Pipe()
        process = context.Process(target=_worker_main, args=(child_end, run_one), daemon=True)
        process.start()
        child_end.close()
        return _Worker(process, parent_end)

    def stop(worker: _Worker, *, kill: bool) -> None:
        if kill:
            worker.process.kill()
        else:
            try:
                worker.connection.send(None)
            except (BrokenPipeError, OSError):
                worker.process.kill()
        worker.process.join(timeout=5)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
        worker.connection.close()

    pending = list(range(len(cases)))
    pending.reverse()
    workers = [start() for _ in range(min(jobs, len(cases)))]

    def assign(worker: _Worker) -> None:
        if not worker.ready:
            worker.index = None
            return
        if pending:
            worker.index = pending.pop()
            worker.started = time.monotonic()
            worker.connection.send(cases[worker.index])
        else:
            worker.index = None

    def finish(index: int, result: CaseResult) -> None:
        results[index] = result
        if on_result:
            on_result(result)

    def running() -> bool:
        return any(w.index is not None or (not w.ready and pending) for w in workers)

    try:
        while running():
            busy = {w.connection: w for w in workers if w.index is not None or not w.ready}
            for ready in wait(list(busy), timeout=_POLL_SECONDS):
                worker = busy[ready]  # type: ignore[index]
                if not worker.ready:
                    try:
                        worker.connection.recv()
                    except (EOFError, OSError):
                        worker.process.join(timeout=5)
                        raise RuntimeError(
                            f"a worker process failed to start (exit code {worker.process.exitcode})"
                        ) from None
                    worker.ready = True
                    assign(worker)
                    continue
                assert worker.index is not None
                try:
                    result = worker.connection.recv()
                except (EOFError, OSError):
                    worker.process.join(timeout=5)
                    code = worker.process.exitcode
                    finish(
                        worker.index,
                        _lost_case(cases[worker.index], describe, f"worker process died (exit code {code})"),
                    )
                    stop(worker, kill=True)
                    workers[workers.index(worker)] = replacement = start()
                    assign(replacement)
                    continue
                finish(worker.index, result)
                worker.done += 1
                if worker.done >= max_cases_per_worker and pending:
                    stop(worker, kill=False)
                    workers[workers.index(worker)] = worker = start()
                assign(worker)
            if timeout:
                now = time.monotonic()
                for worker in list(workers):
                    if worker.index is not None and now - worker.started > timeout + _GRACE_SECONDS:
                        finish(
                            worker.index,
                            _lost_case(
                                cases[worker.index],
                                describe,
                                f"timed out after {timeout:g} s (the worker did not respond and was killed)",
                            ),
                        )
                        stop(worker, kill=True)
                        workers[workers.index(worker)] = replacement = start()
                        assign(replacement)
    finally:
        for worker in workers:
            stop(worker, kill=worker.index is not None)
    return [r for r in results if r is not None]

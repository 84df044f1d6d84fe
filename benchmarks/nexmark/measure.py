"""Timing, CPU accounting and progress output shared by the Nexmark benchmark's parts.

CPU time is user + system time of processes, from the kernel: :func:`process_cpu_seconds` for this
process (all its threads), :func:`pid_cpu_seconds` for another process (``/proc/<pid>/stat``, all its
threads; used for Flink's JVM, a child of the Flink driver process).
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass

__all__ = [
    "Measurement",
    "Progress",
    "StageTime",
    "Timer",
    "child_pids",
    "note",
    "pid_cpu_seconds",
    "process_cpu_seconds",
    "settle",
]

_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class StageTime:
    """One persistent query of a Headwater pipeline, run to the end of its input.

    Attributes:
        query_id: the persistent query's id (``CTAS_<SINK>_<n>``).
        records: input records it consumed.
        wall_s: elapsed seconds.
        cpu_s: CPU seconds of the process over that time.
    """

    query_id: str
    records: int
    wall_s: float
    cpu_s: float


@dataclass(frozen=True, slots=True)
class Measurement:
    """One timed run of one query on one system.

    Attributes:
        query: the query id (``q0``).
        system: who ran it (``headwater``, ``headwater-discard``, ``duckdb``, ``flink``).
        events: input events the query consumed.
        output_rows: rows the query produced (-1 when the system does not report it).
        wall_s: elapsed seconds.
        cpu_s: user + system CPU seconds of every process involved.
        startup_s: start-up excluded from ``wall_s`` (Flink's job start-up; 0 for the others).
        startup_cpu_s: CPU seconds of that start-up.
        stages: for a Headwater pipeline, each persistent query's share (empty for a single query).
    """

    query: str
    system: str
    events: int
    output_rows: int
    wall_s: float
    cpu_s: float
    startup_s: float = 0.0
    startup_cpu_s: float = 0.0
    stages: tuple[StageTime, ...] = ()

    @property
    def events_per_s(self) -> float:
        return self.events / self.wall_s if self.wall_s > 0 else float("inf")

    @property
    def events_per_cpu_s(self) -> float:
        return self.events / self.cpu_s if self.cpu_s > 0 else float("inf")


def process_cpu_seconds() -> float:
    """User + system CPU seconds of this process so far (every thread)."""
    return time.process_time()


def pid_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (every thread), from ``/proc/<pid>/stat``."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        text = f.read().decode()
    fields = text[text.rindex(")") + 2:].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / _TICKS_PER_SECOND


def child_pids(parent: int) -> list[int]:
    """Pids of the live children of ``parent``."""
    children = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                text = f.read().decode()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()
        if int(fields[1]) == parent:
            children.append(int(entry))
    return children


class Timer:
    """Wall and CPU seconds of a block, for this process plus any extra pids (their CPU is read too).

    Example:
        >>> with Timer() as t:
        ...     _ = sum(range(1000))
        >>> t.wall_s >= 0 and t.cpu_s >= 0
        True
    """

    def __init__(self, extra_pids: tuple[int, ...] = ()) -> None:
        self.extra_pids = extra_pids
        self.wall_s = 0.0
        self.cpu_s = 0.0

    def _cpu(self) -> float:
        return process_cpu_seconds() + sum(pid_cpu_seconds(pid) for pid in self.extra_pids)

    def __enter__(self) -> Timer:
        self._cpu_start = self._cpu()
        self._wall_start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall_s = time.perf_counter() - self._wall_start
        self.cpu_s = self._cpu() - self._cpu_start


def settle() -> None:
    """Write back dirty pages before a timed phase, so no phase pays for the previous one's writes."""
    os.sync()
    time.sleep(0.2)


def note(message: str) -> None:
    """A progress line on stderr."""
    print(message, file=sys.stderr, flush=True)


class Progress:
    """A progress line that rewrites itself on stderr a few times per phase."""

    def __init__(self, label: str, total: int) -> None:
        self.label = label
        self.total = max(total, 1)
        self.start = time.perf_counter()
        self.last_print = 0.0
        self.finished = False

    def update(self, done: int) -> None:
        now = time.perf_counter()
        if self.finished or (done < self.total and now - self.last_print < 0.5):
            return
        self.finished = done >= self.total
        self.last_print = now
        print(f"\r  {self.label}: {done:>12,}/{self.total:,} events  {now - self.start:7.2f} s",
              end="", file=sys.stderr, flush=True)
        if done >= self.total:
            print(file=sys.stderr, flush=True)

"""The outcome of running a case, and how results are summarised and written.

Statuses:

* ``pass``: the case behaved as ksqlDB's harness requires.
* ``fail``: the case ran and the outcome differs: wrong or missing output, a post-condition that does not
  hold, a missing or different expected exception, or a clean refusal by Headwater (a
  :class:`~headwater.errors.HeadwaterError` the case did not expect, e.g. a statement Headwater cannot
  plan yet).
* ``error``: something broke: an exception that is not a ``HeadwaterError`` escaped the engine or the
  runner (a bug), the case ran out of time, or its worker process died.
* ``skip``: the case needs something Headwater deliberately does not have (AVRO, PROTOBUF, PROTOBUF_NOSR,
  JSON_SR, a schema registry), or its file disables it. Nothing else is skipped.

The first line of a ``reason`` is a short summary meant for grouping (``failure_groups``); the lines after
it hold the detail.
"""

from __future__ import annotations

import traceback
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

__all__ = [
    "CaseResult",
    "FileSummary",
    "Status",
    "error_reason",
    "failure_groups",
    "first_line",
    "render_failure_groups",
    "render_summary_table",
    "summarise",
    "to_json_objects",
]


class Status(Enum):
    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    SKIP = "skip"


@dataclass(frozen=True, slots=True)
class CaseResult:
    """One expanded case's outcome.

    Attributes:
        file: the test file's name.
        test: the test's name as written.
        name: the expanded name.
        status: pass, fail, error or skip.
        reason: why (empty for a pass); first line a summary, then details.
        seconds: wall time of the case.
        digest: a fingerprint of every record the run left in the topics (None when the case did not run
            to the end), so two runs of a case can be compared beyond what its expectations check.
    """

    file: str
    test: str
    name: str
    status: Status
    reason: str = ""
    seconds: float = 0.0
    digest: str | None = None

    @property
    def summary(self) -> str:
        """The first line of the reason."""
        return self.reason.split("\n", 1)[0]


@dataclass(frozen=True, slots=True)
class FileSummary:
    """Counts of one file's cases (or of all files, for the totals row)."""

    file: str
    passed: int = 0
    failed: int = 0
    errored: int = 0
    skipped: int = 0

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.errored + self.skipped


def first_line(text: str) -> str:
    """The first line of ``text`` once stripped: a reason's grouping summary."""
    return text.strip().split("\n", 1)[0]


def error_location(error: BaseException) -> str:
    """``file:line in function`` of the innermost frame in the product outside the runner (where a bug
    surfaced), else of the innermost frame."""
    frames = traceback.extract_tb(error.__traceback__)
    for frame in reversed(frames):
        path = frame.filename.replace("\\", "/")
        if "/headwater/" in path and "/conformance/" not in path:
            return f"headwater/{path.split('/headwater/', 1)[-1]}:{frame.lineno} in {frame.name}"
    if frames:
        frame = frames[-1]
        return f"{Path(frame.filename).name}:{frame.lineno} in {frame.name}"
    return "unknown location"


def error_reason(error: BaseException) -> str:
    """The reason of an ``error`` status: the exception's class and first line, where it surfaced, then
    the innermost frames of its traceback."""
    detail = "".join(traceback.format_exception(type(error), error, error.__traceback__, limit=-8))
    return f"{type(error).__name__}: {first_line(str(error))} at {error_location(error)}\n{detail}"


def summarise(results: Iterable[CaseResult]) -> tuple[list[FileSummary], FileSummary]:
    """Per-file counts (files in the order they first appear) and the totals."""
    counts: dict[str, Counter[Status]] = {}
    for result in results:
        counts.setdefault(result.file, Counter())[result.status] += 1

    def summary(name: str, c: Counter[Status]) -> FileSummary:
        return FileSummary(name, c[Status.PASS], c[Status.FAIL], c[Status.ERROR], c[Status.SKIP])

    per_file = [summary(name, c) for name, c in counts.items()]
    total: Counter[Status] = Counter()
    for c in counts.values():
        total.update(c)
    return per_file, summary("TOTAL", total)


def render_summary_table(per_file: Sequence[FileSummary], total: FileSummary) -> str:
    """A fixed-width table: one row per file, then the totals."""
    width = max([len(s.file) for s in per_file] + [len("file"), len(total.file)])
    header = f"{'file':<{width}}  {'passed':>6}  {'failed':>6}  {'errored':>7}  {'skipped':>7}  {'total':>5}"
    rule = "-" * len(header)

    def row(s: FileSummary) -> str:
        return (
            f"{s.file:<{width}}  {s.passed:>6}  {s.failed:>6}  {s.errored:>7}  {s.skipped:>7}  {s.total:>5}"
        )

    return "\n".join([header, rule, *(row(s) for s in per_file), rule, row(total)])


def failure_groups(results: Iterable[CaseResult], statuses: Iterable[Status]) -> list[tuple[str, int]]:
    """(summary line, count) for the results of the given statuses, most frequent first."""
    wanted = set(statuses)
    counter = Counter(r.summary for r in results if r.status in wanted)
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))


def render_failure_groups(title: str, groups: Sequence[tuple[str, int]], limit: int | None = None) -> str:
    """A titled list of ``count  summary`` lines (the first ``limit`` of them)."""
    shown = groups if limit is None else groups[:limit]
    lines = [title]
    lines += [f"{count:>6}  {summary}" for summary, count in shown]
    if limit is not None and len(groups) > limit:
        lines.append(f"        ... and {len(groups) - limit} more")
    return "\n".join(lines)


def to_json_objects(results: Iterable[CaseResult]) -> list[dict[str, Any]]:
    """The ``--json`` array: one object per expanded case with file, test, name, status and reason."""
    return [
        {"file": r.file, "test": r.test, "name": r.name, "status": r.status.value, "reason": r.reason}
        for r in results
    ]

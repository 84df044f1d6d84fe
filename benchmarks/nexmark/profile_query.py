"""Where a Nexmark query's time goes in Headwater: cProfile over the steps a running query takes.

``python -m benchmarks.nexmark.profile_query q1 [--events 2000000] [--rate 10000] [--step 10000] [--top 25]``

Loads the events like the runner, creates the query's statements, then drives each persistent query in
creation order (a pipeline's stages one after another, as the runner runs them) in the main thread
exactly as its background loop does (``PersistentQuery.process(topic, partition, max_records=step)``
until its sources are consumed) under cProfile. It prints:

* wall and CPU time of each stage and of the whole drive, and of the checkpoint commits alone (wall, so
  fsync waits show);
* CPU time by engine component (the package of each function: storage, engine runtime, operators,
  expressions, ...), from the profile's own time per function;
* the top functions by own time.

``--step`` changes the first step's records (the engine's loop starts at 10,000 and grows 4x, up to a
million, while steps come back full), to show the per-step cost.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import shutil
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from benchmarks.nexmark.generator import GeneratorConfig, NexmarkGenerator
from benchmarks.nexmark.loader import declare_streams, load
from benchmarks.nexmark.queries import query
from headwater.engine import Engine

__all__ = ["main"]

_COMPONENTS = (
    ("headwater/storage/", "storage (event log)"),
    ("headwater/engine/runtime/", "engine runtime (steps, checkpoints)"),
    ("headwater/engine/operators/source_scan", "operator: source scan"),
    ("headwater/engine/operators/sink", "operator: sink"),
    ("headwater/engine/operators/", "operators (other)"),
    ("headwater/engine/expressions/", "expressions"),
    ("headwater/engine/casts/", "casts"),
    ("headwater/engine/functions/", "functions"),
    ("headwater/engine/", "engine (other)"),
    ("pyarrow/", "pyarrow (Python layer)"),
)


def _component(filename: str, function: str) -> str:
    for marker, name in _COMPONENTS:
        if marker in filename:
            return name
    if filename == "~":
        return f"built-in: {function.split(' of ')[0].strip('<>{}')[:60]}"
    return "other"


class _CommitClock:
    """Wraps a query's checkpoint store to time its commits (wall clock: includes fsync waits)."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.seconds = 0.0
        self.count = 0

    def commit(self, checkpoint: Any) -> None:
        start = time.perf_counter()
        self.store.commit(checkpoint)
        self.seconds += time.perf_counter() - start
        self.count += 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def _drive(running: Any, first_step: int, max_step: int = 1_000_000) -> int:
    """Consume everything the query's sources hold, the way its background loop does
    (:meth:`PersistentQuery.run`): one partition's records per step, or, with several source partitions
    (a join), one step over all of them in event-time order; steps grow 4x while they come back full."""
    step_size, consumed = first_step, 0
    while True:
        partitions = sorted(running.committed_offsets())
        if len(partitions) > 1:
            progressed = running.process_in_time_order(step_size)
        else:
            progressed = sum(running.process(topic, partition, max_records=step_size)
                             for topic, partition in partitions)
        consumed += progressed
        if progressed == 0:
            return consumed
        if progressed >= step_size:
            step_size = min(max_step, step_size * 4)
        elif progressed < step_size // 4:
            step_size = max(first_step, step_size // 4)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.nexmark.profile_query", description=__doc__)
    parser.add_argument("query", help="q0, q1, q2, ...")
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--rate", type=int, default=10_000, help="events per second of event time (the runner's)")
    parser.add_argument("--step", type=int, default=10_000, help="first step's records (the engine's loop: 10,000)")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    nexmark = query(args.query)
    work = Path(tempfile.mkdtemp(prefix="nexmark-profile-"))
    try:
        engine = Engine(work / "headwater", background=False)
        load(NexmarkGenerator(GeneratorConfig(args.events, events_per_second=args.rate)), work / "files",
             engine.log, parquet=False, arrow=False)
        declare_streams(engine)
        engine.execute(nexmark.headwater_statements("PROFILED"), properties={"auto.offset.reset": "earliest"})
        derived = {c.name for c in nexmark.created("PROFILED") if c.derived}
        stages = [q for q in engine.persistent_queries() if q.sink_name.upper() in derived]
        clocks = []
        for running in stages:
            clock = _CommitClock(running.checkpoints)
            running.checkpoints = clock
            clocks.append(clock)
        profiler = cProfile.Profile()
        wall, cpu = time.perf_counter(), time.process_time()
        for running in stages:
            stage_wall, stage_cpu, stage_consumed = time.perf_counter(), time.process_time(), 0
            profiler.enable()
            stage_consumed = _drive(running, args.step)
            profiler.disable()
            print(f"  stage {running.query_id}: {stage_consumed:,} records, {time.perf_counter() - stage_wall:.2f} s "
                  f"wall, {time.process_time() - stage_cpu:.2f} s CPU")
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        consumed = sum(int(end) for topic in nexmark.sources for end in engine.log.topic(topic).end_offsets().values())
        engine.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{args.query}: {consumed:,} input events in steps of {args.step:,}: {wall:.2f} s wall, {cpu:.2f} s CPU "
          f"({consumed / wall:,.0f} events/s, {consumed / cpu:,.0f} events/CPU-s)")
    commits = sum(c.count for c in clocks)
    seconds = sum(c.seconds for c in clocks)
    print(f"checkpoint commits: {commits:,}, {seconds:.2f} s wall "
          f"({seconds / max(commits, 1) * 1000:.2f} ms each, {seconds / wall:.0%} of the wall time)")
    stats = pstats.Stats(profiler)
    by_component: dict[str, float] = defaultdict(float)
    total = 0.0
    for (filename, _, function), (_, _, own, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        by_component[_component(filename, function)] += own
        total += own
    print("\nprofiled time by component (own time of its functions):")
    for name, seconds in sorted(by_component.items(), key=lambda item: -item[1])[:15]:
        print(f"  {seconds:7.3f} s  {seconds / total:6.1%}  {name}")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(args.top)
    print(out.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
